// The sweep service's trial-engine activities with real stores (SQLite metadata and tracking) and a
// scripted job service: a bayesian round's points are stored before its trials are created, so a
// retried round creates the same trials even when the results changed in between; the early
// termination policy's evaluation records, notes and cancels the trials it stops, once; and a
// stopped trial keeps its last value on the leaderboard.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SqliteMetadataStore } from '../../shared/adapters/sqlite-metadata-store.js';
import { JOBS_CONTAINER } from '../../shared/contracts/job.js';
import type { Job, JobStatus, TrialSummary } from '../../shared/contracts/job.js';
import { TransientError } from '../../shared/errors.js';
import type { OutgoingMessage } from '../../shared/ports/message-queue.js';
import type { JobService } from '../../shared/services/job-service.js';
import { POLICY_EVALUATION_SECONDS, createSweepService } from '../../shared/services/sweep-service.js';
import type { SweepService } from '../../shared/services/sweep-service.js';
import type { TrackingService } from '../../shared/services/tracking-service.js';
import { openServiceStores, scriptedGet } from '../support/service-stores.js';
import type { ServiceStores } from '../support/service-stores.js';
import { QUEUE_SETTINGS_NOTICE } from '../../shared/contracts/azureml/common.js';

const WS = 'ws';

interface FakeJob {
  status: JobStatus;
  notices: string[];
  inputs: Record<string, unknown>;
}

describe('sweep service (trial-engine activities)', () => {
  let stores: ServiceStores;
  let metadata: SqliteMetadataStore;
  let tracking: TrackingService;
  let sweeps: SweepService;
  const jobs = new Map<string, FakeJob>();
  const creates: { name: string; inputs: Record<string, unknown> }[] = [];
  const sent: OutgoingMessage[] = [];
  let failNextCreate = false;
  /** Reads of each trial job, by name. */
  const reads = new Map<string, number>();

  before(async () => {
    stores = await openServiceStores('tessera-sweeps-');
    ({ metadata, tracking } = stores);
    const { clock } = stores;
    const fakeJobs = {
      validate: () => Promise.resolve(),
      async create(ws: string, spec: Record<string, unknown>) {
        const name = spec['name'] as string;
        const inputs = spec['inputs'] as Record<string, unknown>;
        creates.push({ name, inputs });
        if (failNextCreate) {
          failNextCreate = false;
          throw new TransientError('the store is busy');
        }
        jobs.set(name, { status: 'Running', notices: [], inputs });
        await stores.startRun(ws, name, 'sweeps');
        return { name } as Job;
      },
      get: scriptedGet(jobs, reads, 'sweep', (_name, job) => ({ status: job.status, notices: job.notices })),
      requestCancel(_ws: string, name: string, notice?: string) {
        const job = jobs.get(name) as FakeJob;
        if (notice !== undefined && !job.notices.includes(notice)) job.notices.push(notice);
        return Promise.resolve({ name, status: job.status, notices: job.notices } as unknown as Job);
      },
    } as unknown as JobService;
    const queue = {
      send: (_q: string, messages: OutgoingMessage | readonly OutgoingMessage[]) => {
        sent.push(...(Array.isArray(messages) ? messages : [messages as OutgoingMessage]));
        return Promise.resolve();
      },
    } as unknown as Parameters<typeof createSweepService>[0]['queue'];
    sweeps = createSweepService({ store: metadata, clock, jobs: fakeJobs, tracking, queue, publicUrl: 'http://x' });
  });
  after(() => stores.close());

  const spec = (name: string, extra: Record<string, unknown>) => ({
    type: 'sweep',
    name,
    trial: { command: 'python train.py ${{search_space.lr}}', environment: { image: 'python:3.11' } },
    search_space: {
      lr: { type: 'uniform', min_value: 0, max_value: 1 },
      depth: { type: 'choice', values: [1, 2] },
    },
    objective: { goal: 'maximize', primary_metric: 'score' },
    experiment_name: 'sweeps',
    ...extra,
  });
  const log = async (trial: string, values: number[]) => {
    for (const [step, value] of values.entries()) {
      await tracking.logMetric(WS, { run_id: trial, key: 'score', value, timestamp: stores.clock.now(), step });
    }
  };
  const finish = async (trials: string[]) => {
    for (const t of trials) {
      const job = jobs.get(t) as FakeJob;
      await log(t, [1 - ((job.inputs['lr'] as number) - 0.3) ** 2]);
      job.status = 'Completed';
    }
  };
  const parent = async (name: string) => {
    const doc = await (
      await metadata.container(JOBS_CONTAINER)
    ).read<{
      id: string;
      pk: string;
      sweep: { points: unknown[]; units?: number[][]; stopped?: unknown[] };
      trials: TrialSummary;
      notices: string[];
    }>(WS, name);
    assert.ok(doc);
    return doc;
  };

  it('a sweep with queue_settings gets a notice that nothing here reads them', async () => {
    const random = { sampling_algorithm: 'random', limits: { max_total_trials: 2 } };
    await sweeps.create(WS, spec('tiered', { ...random, queue_settings: { job_tier: 'spot' } }));
    assert.deepEqual((await parent('tiered')).notices, [QUEUE_SETTINGS_NOTICE]);
    await sweeps.create(WS, spec('untiered', random));
    assert.deepEqual((await parent('untiered')).notices, []);
  });

  it('bayesian: a retried round returns the same trials, with the points stored before the failure', async () => {
    const name = 'bayes';
    await sweeps.create(
      WS,
      spec(name, { sampling_algorithm: 'bayesian', limits: { max_total_trials: 9, max_concurrent_trials: 3 } }),
    );
    const first = await sweeps.propose(WS, name, 0);
    assert.deepEqual(first.trials, ['bayes_0', 'bayes_1', 'bayes_2']);
    assert.equal(first.evaluateSeconds, undefined, 'no policy, no evaluation');
    assert.deepEqual((await sweeps.propose(WS, name, 0)).trials, first.trials);
    assert.equal(creates.filter((c) => c.name.startsWith('bayes_')).length, 3, 'a retried round creates nothing twice');
    await finish(first.trials);
    const second = await sweeps.propose(WS, name, 1);
    await finish(second.trials);
    // Round 2 comes from the model (past the 5 Sobol points). Its first create fails; meanwhile a
    // trial's result changes; the retried round still creates the points chosen the first time.
    failNextCreate = true;
    await assert.rejects(sweeps.propose(WS, name, 2), TransientError);
    const planned = creates.at(-1);
    assert.equal(planned?.name, 'bayes_6');
    assert.equal((await parent(name)).sweep.points.length, 9, 'the round stored its points before creating trials');
    await log('bayes_0', [5]);
    const third = await sweeps.propose(WS, name, 2);
    assert.deepEqual(third.trials, ['bayes_6', 'bayes_7', 'bayes_8']);
    assert.deepEqual(jobs.get('bayes_6')?.inputs, planned?.inputs);
    const doc = await parent(name);
    assert.equal(doc.sweep.units?.length, 9);
    assert.equal(new Set(doc.sweep.units?.map((u) => u.join())).size, 9);
    assert.equal((await sweeps.propose(WS, name, 3)).done, true);
  });

  /** A random sweep of `total` trials, 2 at a time, created and its first round proposed. */
  const randomSweep = async (name: string, total: number) => {
    await sweeps.create(
      WS,
      spec(name, { sampling_algorithm: 'random', limits: { max_total_trials: total, max_concurrent_trials: 2 } }),
    );
    return sweeps.propose(WS, name, 0);
  };

  it('a round reads only the trials still running; what the ended ones counted with is kept', async () => {
    const name = 'kept';
    const first = await randomSweep(name, 6);
    await finish(first.trials);
    const second = await sweeps.propose(WS, name, 1);
    const before = new Map(reads);
    await finish(second.trials);
    await sweeps.propose(WS, name, 2);
    for (const trial of first.trials)
      assert.equal(reads.get(trial), before.get(trial), `${trial} ended before round 1`);
    for (const trial of second.trials) assert.equal(reads.get(trial), (before.get(trial) ?? 0) + 1, trial);
    const doc = await parent(name);
    assert.deepEqual(
      doc.trials.leaderboard.map((e) => e.name).sort(),
      [...first.trials, ...second.trials].sort(),
      'the kept trials are on the leaderboard',
    );
  });

  it('a cancel the proposer saw first (it ended the rounds as completed) still ends the sweep Canceled', async () => {
    const name = 'canceled';
    const plan = await randomSweep(name, 4);
    await finish(plan.trials);
    const container = await metadata.container(JOBS_CONTAINER);
    const doc = await container.read<{ id: string; pk: string; cancelRequested?: boolean }>(WS, name);
    assert.ok(doc);
    await container.replace({ ...doc, cancelRequested: true });
    assert.equal((await sweeps.propose(WS, name, 1)).done, true);
    assert.equal(await sweeps.finalize(WS, name, 'completed'), 'Canceled');
  });

  it('a policy evaluation records, notes and cancels the trials it stops, once; a stopped trial keeps its last value', async () => {
    const name = 'bandit';
    await sweeps.create(
      WS,
      spec(name, {
        sampling_algorithm: 'random',
        limits: { max_total_trials: 3, max_concurrent_trials: 3 },
        early_termination: { type: 'bandit', slack_factor: 0.1, delay_evaluation: 2 },
      }),
    );
    const plan = await sweeps.propose(WS, name, 0);
    assert.equal(plan.evaluateSeconds, POLICY_EVALUATION_SECONDS);
    await log('bandit_0', [0.5]);
    await log('bandit_1', [0.4]);
    assert.deepEqual(await sweeps.evaluate(WS, name, plan.trials), { stopped: [] }, 'delay_evaluation: 2');
    await log('bandit_0', [0.9]);
    await log('bandit_1', [0.5]);
    await log('bandit_2', [0.45, 0.85]);
    assert.deepEqual(await sweeps.evaluate(WS, name, plan.trials), { stopped: ['bandit_1'] });
    const notice = jobs.get('bandit_1')?.notices ?? [];
    assert.equal(notice.length, 1);
    assert.match(
      notice[0] ?? '',
      /^stopped by the bandit policy at interval 2: its best score 0\.5 is below 0\.818182, the best trial's \(bandit_0\) 0\.9/,
    );
    assert.deepEqual(sent.at(-1)?.body, { kind: 'cancel', workspace: WS, job: 'bandit_1', reason: notice[0] });
    // Until the trial ends, a later evaluation asks again (the same message id), and records nothing new.
    assert.deepEqual(await sweeps.evaluate(WS, name, plan.trials), { stopped: ['bandit_1'] });
    assert.equal(sent.at(-1)?.messageId, sent.at(-2)?.messageId);
    let doc = await parent(name);
    assert.equal(doc.sweep.stopped?.length, 1);
    assert.deepEqual(
      doc.trials.stopped?.map((s) => [s.name, s.policy, s.interval]),
      [['bandit_1', 'bandit', 2]],
    );
    (jobs.get('bandit_1') as FakeJob).status = 'Canceled';
    (jobs.get('bandit_0') as FakeJob).status = 'Completed';
    (jobs.get('bandit_2') as FakeJob).status = 'Completed';
    assert.deepEqual(await sweeps.evaluate(WS, name, plan.trials), { stopped: [] });
    assert.equal(await sweeps.finalize(WS, name, 'completed'), 'Completed');
    doc = await parent(name);
    assert.deepEqual(
      doc.trials.leaderboard.map((e) => [e.name, e.value]),
      [
        ['bandit_0', 0.9],
        ['bandit_2', 0.85],
        ['bandit_1', 0.5],
      ],
    );
  });
});
