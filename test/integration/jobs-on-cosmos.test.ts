// The job service's queries and status machine on the Cosmos DB adapter with the composite indexes
// the wiring declares (COSMOS_ORDERINGS), against @vercel/cosmosdb-server started in-process: the
// lists, cancel, archive, trainer progress, the watchdog and finalize. The compute is a fake of the
// port; the clock is the test's.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { CosmosMetadataStore } from '../../shared/adapters/cosmos-metadata-store.js';
import { CosmosTrackingStore } from '../../shared/adapters/cosmos-tracking-store.js';
import { FilesystemArtifactStore } from '../../shared/adapters/filesystem-artifact-store.js';
import { QUEUE_SETTINGS_NOTICE } from '../../shared/contracts/azureml/common.js';
import { JOBS_CONTAINER, JOB_EVENTS_QUEUE } from '../../shared/contracts/job.js';
import type { Job, JobProgressMessage, JobStatus } from '../../shared/contracts/job.js';
import { TransientError, ValidationError } from '../../shared/errors.js';
import type { Compute, ExecutionStatus, TrainerLaunch } from '../../shared/ports/compute.js';
import type { MessageQueue, OutgoingMessage } from '../../shared/ports/message-queue.js';
import type { SecretStore } from '../../shared/ports/secret-store.js';
import { createAssetService } from '../../shared/services/asset-service.js';
import { createJobService, jobTokenSecretName } from '../../shared/services/job-service.js';
import type { JobDocument, JobService } from '../../shared/services/job-service.js';
import { createTokenService } from '../../shared/services/token-service.js';
import type { TokenService } from '../../shared/services/token-service.js';
import { createTrackingService } from '../../shared/services/tracking-service.js';
import type { TrackingService } from '../../shared/services/tracking-service.js';
import { createWorkspaceService } from '../../shared/services/workspace-service.js';
import { COSMOS_ORDERINGS } from '../../shared/wiring.js';
import { startCosmosEmulator } from '../support/cosmos-emulator.js';
import type { CosmosEmulator } from '../support/cosmos-emulator.js';
import { tempDir } from '../support/fixture-app.js';

/** The compute port, scripted: executions are `ws/job/attempt`, their state is set by the test. */
class FakeCompute implements Compute {
  readonly kind = 'fake';
  readonly submitted: TrainerLaunch[] = [];
  readonly stopped: string[] = [];
  readonly states = new Map<string, ExecutionStatus>();
  submit(launch: TrainerLaunch): Promise<string> {
    this.submitted.push(launch);
    const id = `${launch.workspace}/${launch.job}/${launch.attempt}`;
    if (!this.states.has(id)) this.states.set(id, { state: 'running' });
    return Promise.resolve(id);
  }
  status(id: string): Promise<ExecutionStatus> {
    return Promise.resolve(this.states.get(id) ?? { state: 'lost', detail: `no execution ${id}` });
  }
  stop(id: string): Promise<void> {
    this.stopped.push(id);
    this.states.set(id, { state: 'ended' });
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Only `send` is used by the job service (the watchdog's reports). */
class RecordingQueue implements MessageQueue {
  readonly kind = 'recording';
  readonly sent: { queue: string; message: OutgoingMessage }[] = [];
  send(queue: string, messages: OutgoingMessage | readonly OutgoingMessage[]): Promise<void> {
    for (const message of Array.isArray(messages) ? messages : [messages]) this.sent.push({ queue, message });
    return Promise.resolve();
  }
  private unused(): Promise<never> {
    return Promise.reject(new Error('not used by the job service'));
  }
  receive = () => this.unused();
  complete = () => this.unused();
  abandon = () => this.unused();
  deadLetter = () => this.unused();
  receiveDeadLetters = () => this.unused();
  completeDeadLetter = () => this.unused();
  configureQueue = () => this.unused();
  close(): Promise<void> {
    return Promise.resolve();
  }
}

class MemorySecretStore implements SecretStore {
  readonly kind = 'memory';
  readonly values = new Map<string, string>();
  put(name: string, value: string): Promise<void> {
    this.values.set(name, value);
    return Promise.resolve();
  }
  get(name: string): Promise<string | undefined> {
    return Promise.resolve(this.values.get(name));
  }
  delete(name: string): Promise<void> {
    this.values.delete(name);
    return Promise.resolve();
  }
}

const names = (jobs: { value: Job[] }): string[] => jobs.value.map((j) => j.name);

describe('job service on the Cosmos DB adapter', () => {
  let emulator: CosmosEmulator;
  let store: CosmosMetadataStore;
  let trackingStore: CosmosTrackingStore;
  let artifacts: FilesystemArtifactStore;
  let artifactsDir: string;
  let now = Date.parse('2026-03-01T00:00:00Z');
  const clock = { now: () => now };
  const tick = (ms = 1000): number => (now += ms);
  let jobs: JobService;
  let tracking: TrackingService;
  let tokens: TokenService;
  const compute = new FakeCompute();
  const queue = new RecordingQueue();
  const secrets = new MemorySecretStore();
  const workspaceNames = ['lists', 'cancel', 'progress', 'watch', 'final', 'tiers'];
  /** Makes the next MLflow run status update fail, as a throttled tracking store would. */
  let failNextRunStatus = false;

  before(async () => {
    emulator = await startCosmosEmulator();
    store = new CosmosMetadataStore({ client: emulator.client(), database: 'jobs', orderings: COSMOS_ORDERINGS });
    trackingStore = new CosmosTrackingStore({
      client: emulator.client(),
      database: 'jobs',
      orderings: COSMOS_ORDERINGS,
    });
    artifactsDir = tempDir('jobs-cosmos-artifacts');
    artifacts = new FilesystemArtifactStore({
      root: artifactsDir,
      signingKey: randomBytes(32),
      publicBaseUrl: 'http://127.0.0.1:7071',
    });
    const workspaces = createWorkspaceService({ store, clock });
    for (const ws of workspaceNames) await workspaces.put(ws, {});
    tokens = createTokenService({ store, clock, defaultTtlDays: 90 });
    tracking = createTrackingService({ store: trackingStore, clock, requireWorkspace: (ws) => workspaces.get(ws) });
    const assets = createAssetService({ store, clock, secrets, workspaces, artifacts });
    jobs = createJobService({
      store,
      clock,
      workspaces,
      assets,
      tracking: {
        ...tracking,
        setJobRunStatus: (...args: Parameters<TrackingService['setJobRunStatus']>) => {
          if (!failNextRunStatus) return tracking.setJobRunStatus(...args);
          failNextRunStatus = false;
          return Promise.reject(new TransientError('the tracking store is throttled'));
        },
      },
      tokens,
      secrets,
      datastores: { resolve: assets.resolveDatastore, resolveStorageLocation: assets.resolveStorageLocation },
      queue,
      compute: () => Promise.resolve(compute),
      publicUrl: 'http://127.0.0.1:7071',
      localMaxInstances: 2,
      runsImages: true,
    });
  });
  after(async () => {
    await artifacts.close();
    await trackingStore.close();
    await store.close();
    await emulator.stop();
    await rm(artifactsDir, { recursive: true, force: true });
  });

  async function createJob(ws: string, name: string, extra: Record<string, unknown> = {}): Promise<Job> {
    tick();
    return jobs.create(ws, {
      type: 'command',
      name,
      command: 'echo hello',
      environment: { image: 'python:3.11' },
      ...extra,
    });
  }

  async function rawDoc(ws: string, name: string): Promise<JobDocument & { _etag: string }> {
    const doc = await (await store.container(JOBS_CONTAINER)).read<JobDocument>(ws, name);
    assert.ok(doc, `${ws}/${name} is stored`);
    return doc as JobDocument & { _etag: string };
  }

  const progress = (ws: string, job: string, status: JobProgressMessage['status'], attempt = 1) =>
    jobs.applyProgress({ kind: 'progress', workspace: ws, job, attempt, status, at: tick() });

  it('lists a workspace’s jobs newest first, by experiment, status and archived, page by page', async () => {
    const ws = 'lists';
    for (const [name, experiment] of [
      ['j1', 'exp-a'],
      ['j2', 'exp-b'],
      ['j3', 'exp-a'],
      ['j4', 'exp-a'],
      ['j5', 'exp-b'],
    ] as const) {
      await createJob(ws, name, { experiment_name: experiment });
    }
    await createJob('cancel', 'elsewhere', { experiment_name: 'exp-a' }); // another workspace's

    const pages: string[][] = [];
    let continuation: string | undefined;
    do {
      const page = await jobs.list(ws, { limit: '2', ...(continuation === undefined ? {} : { continuation }) });
      pages.push(names(page));
      continuation = page.continuation;
    } while (continuation !== undefined && pages.length < 10);
    assert.deepEqual(pages.flat(), ['j5', 'j4', 'j3', 'j2', 'j1']);
    assert.deepEqual(pages[0], ['j5', 'j4']);
    assert.deepEqual(pages[1], ['j3', 'j2']);

    const expA = await jobs.list(ws, { experiment: 'exp-a', limit: '2' });
    assert.deepEqual(names(expA), ['j4', 'j3']);
    assert.ok(expA.continuation);
    assert.deepEqual(names(await jobs.list(ws, { experiment: 'exp-a', limit: '2', continuation: expA.continuation })), [
      'j1',
    ]);

    await progress(ws, 'j3', 'Running');
    assert.deepEqual(names(await jobs.list(ws, { status: 'Running' })), ['j3']);
    assert.deepEqual(names(await jobs.list(ws, { status: 'Queued' })), ['j5', 'j4', 'j2', 'j1']);
    assert.deepEqual(names(await jobs.list(ws, { status: 'Queued', experiment: 'exp-b' })), ['j5', 'j2']);

    const archived = await jobs.setArchived(ws, 'j4', true);
    assert.equal(archived.archived, true);
    assert.deepEqual(names(await jobs.list(ws, {})), ['j5', 'j3', 'j2', 'j1']);
    assert.deepEqual(names(await jobs.list(ws, { archived: 'true' })), ['j4']);
    assert.deepEqual(names(await jobs.list(ws, { archived: 'all', experiment: 'exp-a' })), ['j4', 'j3', 'j1']);
    assert.deepEqual(names(await jobs.list(ws, { archived: 'true', status: 'Running' })), []);

    await assert.rejects(jobs.list(ws, { status: 'Sleeping' }), ValidationError);
  });

  it('archives and unarchives without writing when nothing changes', async () => {
    const ws = 'lists';
    await createJob(ws, 'arch');
    await jobs.setArchived(ws, 'arch', true);
    const etag = (await rawDoc(ws, 'arch'))._etag;
    assert.equal((await jobs.setArchived(ws, 'arch', true)).archived, true);
    assert.equal((await rawDoc(ws, 'arch'))._etag, etag, 'a no-op archive does not write');
    assert.equal((await jobs.setArchived(ws, 'arch', false)).archived, false);
    assert.notEqual((await rawDoc(ws, 'arch'))._etag, etag);
  });

  it('a job with queue_settings gets a notice that nothing here reads them', async () => {
    const ws = 'tiers';
    const tiered = await createJob(ws, 'tiered', { queue_settings: { job_tier: 'spot', priority: 'high' } });
    assert.ok(tiered.notices?.includes(QUEUE_SETTINGS_NOTICE), JSON.stringify(tiered.notices));
    const plain = await createJob(ws, 'untiered');
    assert.ok(!plain.notices?.includes(QUEUE_SETTINGS_NOTICE));
  });

  it('records a cancel request once; the next start then finalizes the job as Canceled', async () => {
    const ws = 'cancel';
    await createJob(ws, 'c1');
    const job = await jobs.requestCancel(ws, 'c1');
    assert.equal(job.status, 'Queued'); // the orchestration does the rest
    const doc = await rawDoc(ws, 'c1');
    assert.equal(doc.cancelRequested, true);
    await jobs.requestCancel(ws, 'c1');
    assert.equal((await rawDoc(ws, 'c1'))._etag, doc._etag, 'a second request does not write');

    assert.deepEqual(await jobs.start(ws, 'c1', 1), { state: 'ended' });
    assert.equal(compute.submitted.filter((l) => l.job === 'c1').length, 0, 'a canceled job never reaches the compute');
    const canceled = await jobs.get(ws, 'c1');
    assert.equal(canceled.status, 'Canceled');
    assert.equal(canceled.endedAt, now);
    assert.equal((await tracking.getRun(ws, 'c1')).run.info.status, 'KILLED');

    // A finished job takes no cancel request.
    await jobs.requestCancel(ws, 'c1');
    assert.equal((await rawDoc(ws, 'c1')).cancelRequested, true);
    await createJob(ws, 'c2');
    await jobs.finalize({ workspace: ws, name: 'c2', attempt: 1, outcome: 'succeeded' });
    await jobs.requestCancel(ws, 'c2');
    assert.equal((await rawDoc(ws, 'c2')).cancelRequested, undefined);
  });

  it('applies trainer progress in order only: stale, repeated or out-of-order reports change nothing', async () => {
    const ws = 'progress';
    await createJob(ws, 'p1');
    const statuses = async (): Promise<JobStatus[]> => (await jobs.get(ws, 'p1')).statusHistory.map((s) => s.status);

    await progress(ws, 'p1', 'Preparing');
    await progress(ws, 'p1', 'Running');
    const runningAt = now; // the report's time (progress() stamps it with the clock)
    const running = await jobs.get(ws, 'p1');
    assert.equal(running.status, 'Running');
    assert.equal(running.startedAt, runningAt);
    assert.equal((await tracking.getRun(ws, 'p1')).run.info.status, 'RUNNING');

    await progress(ws, 'p1', 'Preparing'); // out of order
    await progress(ws, 'p1', 'Running'); // repeated
    await progress(ws, 'p1', 'Finalizing', 2); // an attempt that is not the job's
    assert.deepEqual(await statuses(), ['Queued', 'Preparing', 'Running']);
    assert.equal((await jobs.get(ws, 'p1')).startedAt, runningAt);

    await jobs.applyProgress({
      kind: 'progress',
      workspace: ws,
      job: 'p1',
      attempt: 1,
      status: 'Finalizing',
      at: tick(),
      notices: ['uploading outputs'],
    });
    assert.deepEqual(await statuses(), ['Queued', 'Preparing', 'Running', 'Finalizing']);
    assert.deepEqual((await jobs.get(ws, 'p1')).notices, ['uploading outputs']);

    await jobs.finalize({ workspace: ws, name: 'p1', attempt: 1, outcome: 'succeeded', exitCode: 0 });
    await progress(ws, 'p1', 'Finalizing');
    await progress(ws, 'p1', 'Running');
    assert.deepEqual(await statuses(), ['Queued', 'Preparing', 'Running', 'Finalizing', 'Completed']);

    // A report for a job that does not exist (deleted) is dropped.
    await progress(ws, 'never-created', 'Running');
  });

  it('watch() finds Queued jobs no orchestration took after a minute, and attempts whose trainer is lost', async () => {
    const ws = 'watch';
    const mine = <T extends { workspace: string }>(list: T[]): T[] => list.filter((x) => x.workspace === ws);

    await createJob(ws, 'orphan');
    await createJob(ws, 'taken');
    await jobs.start(ws, 'taken', 1); // the orchestration took it
    await createJob(ws, 'gone');
    await jobs.start(ws, 'gone', 1);
    await progress(ws, 'gone', 'Running');
    await createJob(ws, 'fine');
    await jobs.start(ws, 'fine', 1);
    await progress(ws, 'fine', 'Preparing');
    await createJob(ws, 'done');
    await jobs.start(ws, 'done', 1);
    await jobs.finalize({ workspace: ws, name: 'done', attempt: 1, outcome: 'succeeded' });
    compute.states.set(`${ws}/gone/1`, { state: 'lost', detail: 'the trainer of gone was killed by SIGKILL' });
    compute.states.set(`${ws}/done/1`, { state: 'lost', detail: 'long gone' });

    const early = await jobs.watch();
    assert.deepEqual(mine(early.orphans), [], 'not yet a minute old');
    assert.deepEqual(
      mine(early.lost).map((m) => m.job),
      ['gone'],
    );

    tick(61_000);
    const late = await jobs.watch();
    assert.deepEqual(mine(late.orphans), [{ workspace: ws, name: 'orphan', type: 'command' }]);
    const lost = mine(late.lost);
    assert.deepEqual(lost, [
      {
        kind: 'finished',
        workspace: ws,
        job: 'gone',
        attempt: 1,
        outcome: 'infrastructure',
        reason: 'the trainer of gone was killed by SIGKILL',
        at: now,
      },
    ]);

    await jobs.reportLost(lost);
    assert.deepEqual(
      queue.sent.map((s) => [s.queue, s.message.messageId]),
      [[JOB_EVENTS_QUEUE, `lost-${ws}-gone-1`]],
    );
    await jobs.reportLost([]);
    assert.equal(queue.sent.length, 1);
  });

  it('starts an attempt once however often the activity is retried', async () => {
    const ws = 'final';
    await createJob(ws, 'twice', { limits: { timeout: 120 } });
    const first = await jobs.start(ws, 'twice', 1);
    assert.deepEqual(first, { state: 'started', executionId: `${ws}/twice/1`, timeoutSeconds: 120 });
    assert.deepEqual(await jobs.start(ws, 'twice', 1), first);
    assert.equal(compute.submitted.filter((l) => l.job === 'twice').length, 1);
    const second = await jobs.start(ws, 'twice', 2);
    assert.deepEqual(second, { state: 'started', executionId: `${ws}/twice/2`, timeoutSeconds: 120 });
    assert.equal((await jobs.get(ws, 'twice')).attempt, 2);
  });

  it('finalizes once: a second finalize changes nothing and answers the stored status', async () => {
    const ws = 'final';
    await createJob(ws, 'f1');
    await jobs.start(ws, 'f1', 1);
    const token = secrets.values.get(jobTokenSecretName(ws, 'f1'));
    assert.ok(token);
    assert.ok(await tokens.verify(token), 'the trainer token works while the job runs');
    await progress(ws, 'f1', 'Running');

    tick();
    const endedAt = now;
    assert.equal(
      await jobs.finalize({ workspace: ws, name: 'f1', attempt: 1, outcome: 'succeeded', exitCode: 0 }),
      'Completed',
    );
    const completed = await rawDoc(ws, 'f1');
    assert.equal(completed.status, 'Completed');
    assert.equal(completed.endedAt, endedAt);
    assert.equal(completed.exitCode, 0);
    assert.equal(await tokens.verify(token), undefined, 'the token is revoked');
    assert.equal(secrets.values.has(jobTokenSecretName(ws, 'f1')), false);
    assert.equal((await tracking.getRun(ws, 'f1')).run.info.status, 'FINISHED');

    tick();
    for (const outcome of ['succeeded', 'failed', 'canceled', 'infrastructure', 'timeout'] as const) {
      assert.equal(await jobs.finalize({ workspace: ws, name: 'f1', attempt: 1, outcome, exitCode: 9 }), 'Completed');
    }
    const after = await rawDoc(ws, 'f1');
    assert.equal(after._etag, completed._etag, 'nothing written');
    assert.deepEqual(
      after.statusHistory.map((s) => s.status),
      ['Queued', 'Running', 'Completed'],
    );
    assert.deepEqual(await jobs.start(ws, 'f1', 2), { state: 'ended' });
  });

  it('a finalize retried after a later step failed still closes the run and revokes the token', async () => {
    const ws = 'final';
    await createJob(ws, 'retried');
    await jobs.start(ws, 'retried', 1);
    await progress(ws, 'retried', 'Running');
    const token = secrets.values.get(jobTokenSecretName(ws, 'retried'));
    assert.ok(token);
    const input = { workspace: ws, name: 'retried', attempt: 1, outcome: 'succeeded', exitCode: 0 } as const;
    failNextRunStatus = true;
    await assert.rejects(jobs.finalize(input), /throttled/);
    assert.equal((await jobs.get(ws, 'retried')).status, 'Completed', 'the status was stored before the failure');
    const endedAt = (await jobs.get(ws, 'retried')).endedAt;

    tick();
    assert.equal(await jobs.finalize(input), 'Completed'); // the activity's retry
    const run = (await tracking.getRun(ws, 'retried')).run.info;
    assert.equal(run.status, 'FINISHED');
    assert.equal(Number(run.end_time), endedAt);
    assert.equal(await tokens.verify(token), undefined, 'the trainer token is revoked');
    assert.equal(secrets.values.has(jobTokenSecretName(ws, 'retried')), false);
  });

  it('finalizes each outcome to its status and error', async () => {
    const ws = 'final';
    const cases = [
      ['o-failed', 'failed', 'Failed', 'UserError'],
      ['o-infra', 'infrastructure', 'Failed', 'InfrastructureError'],
      ['o-timeout', 'timeout', 'Failed', 'JobTimeout'],
      ['o-canceled', 'canceled', 'Canceled', undefined],
    ] as const;
    for (const [name, outcome, status, code] of cases) {
      await createJob(ws, name, { limits: { timeout: 5 } });
      assert.equal(
        await jobs.finalize({ workspace: ws, name, attempt: 3, outcome, exitCode: 2, reason: 'why' }),
        status,
      );
      const job = await jobs.get(ws, name);
      assert.equal(job.status, status);
      assert.equal(job.error?.code, code);
    }
    assert.match((await jobs.get(ws, 'o-infra')).error?.message ?? '', /^why \(after 3 of 3 attempts\)$/);
    assert.match((await jobs.get(ws, 'o-timeout')).error?.message ?? '', /limits\.timeout \(5 s\)/);
    assert.match((await jobs.get(ws, 'o-failed')).error?.message ?? '', /^why/);
  });
});
