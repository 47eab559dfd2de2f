// The commandJob orchestration run by the local host's durable engine (the real durable-functions
// library, in-process) with scripted activities: test/fixtures/command-job-app registers the real
// orchestrator and the fakes of test/support/command-job-fakes.ts; the test raises the trainer's
// JobFinished and the user's JobCancel events through the durable management API.
import '../../local/core-shim.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LocalHost } from '../../local/host.js';
import { createConsoleLogger } from '../../local/logger.js';
import {
  COMMAND_JOB_ORCHESTRATION,
  JOB_CANCEL_EVENT,
  JOB_FINISHED_EVENT,
  MAX_JOB_ATTEMPTS,
} from '../../shared/contracts/job.js';
import type { JobFinishedMessage, JobOutcome, JobStartResult } from '../../shared/contracts/job.js';
import { commandJobFakes } from '../support/command-job-fakes.js';
import type { FakeActivityCall } from '../support/command-job-fakes.js';
import { durableApi, tempDir, waitFor } from '../support/fixture-app.js';

const WS = 'ws';

function prepareCommandJobApp(): string {
  const root = resolve('dist/test/fixtures/command-job-app');
  mkdirSync(root, { recursive: true });
  writeFileSync(
    join(root, 'package.json'),
    JSON.stringify({ name: 'command-job-fixture', type: 'module', main: 'functions/*.js' }),
  );
  writeFileSync(join(root, 'host.json'), JSON.stringify({ version: '2.0' }));
  return root;
}

const finished = (
  job: string,
  attempt: number,
  outcome: JobOutcome,
  extra: { exitCode?: number; reason?: string } = {},
): JobFinishedMessage => ({ kind: 'finished', workspace: WS, job, attempt, outcome, at: Date.now(), ...extra });

/** `start#1`, `stop#1`, `finalize#2`: the activity calls of a job. */
const summary = (job: string): string[] => commandJobFakes.callsOf(job).map((c) => `${c.activity}#${c.input.attempt}`);

function lastCall(job: string, activity: FakeActivityCall['activity']): FakeActivityCall['input'] | undefined {
  return commandJobFakes
    .callsOf(job)
    .filter((c) => c.activity === activity)
    .at(-1)?.input;
}

describe('commandJob orchestration (local durable engine, scripted activities)', () => {
  let host: LocalHost;
  let api: ReturnType<typeof durableApi>;

  before(async () => {
    host = await LocalHost.start({
      appRoot: prepareCommandJobApp(),
      dataDir: tempDir('command-job-orchestration'),
      port: 0,
      bindAddress: '127.0.0.1',
      logger: createConsoleLogger('warning'),
    });
    api = durableApi(host.origin, host.systemKey);
  });
  after(async () => host.stop());

  const instanceId = (job: string): string => `job:${WS}:${job}`;

  async function startJob(job: string, startResults?: JobStartResult[]): Promise<string> {
    if (startResults !== undefined) commandJobFakes.startResults.set(job, startResults);
    return api.start(COMMAND_JOB_ORCHESTRATION, { workspace: WS, name: job }, instanceId(job));
  }

  /** Waits until the job's activity calls start with `expected`. */
  async function waitCalls(job: string, ...expected: string[]): Promise<void> {
    await waitFor(`${job} to call ${expected.join(', ')}`, () => {
      const calls = summary(job);
      return Promise.resolve(calls.length >= expected.length ? calls : undefined);
    });
    assert.deepEqual(summary(job).slice(0, expected.length), expected);
  }

  async function raise(job: string, event: string, data: unknown): Promise<void> {
    assert.equal(await api.raise(instanceId(job), event, data), 202);
  }

  async function outcome(job: string): Promise<unknown> {
    const s = await api.waitDone(instanceId(job));
    assert.equal(s.runtimeStatus, 'Completed', JSON.stringify(s));
    return s.output;
  }

  it('starts attempt 1 and finalizes the outcome the trainer reports', async () => {
    const job = 'succeeds';
    const id = await startJob(job);
    assert.equal(id, instanceId(job));
    await waitCalls(job, 'start#1');
    await raise(job, JOB_FINISHED_EVENT, finished(job, 1, 'succeeded', { exitCode: 0 }));
    assert.equal(await outcome(job), 'Completed');
    assert.deepEqual(summary(job), ['start#1', 'finalize#1']);
    assert.deepEqual(lastCall(job, 'finalize'), {
      workspace: WS,
      name: job,
      attempt: 1,
      outcome: 'succeeded',
      exitCode: 0,
    });
  });

  it('retries an attempt the infrastructure failed, ignoring a late report of the earlier attempt', async () => {
    const job = 'lost-once';
    await startJob(job);
    await waitCalls(job, 'start#1');
    await raise(job, JOB_FINISHED_EVENT, finished(job, 1, 'infrastructure', { reason: 'the trainer is gone' }));
    await waitCalls(job, 'start#1', 'start#2');
    // Attempt 1 speaks again (a duplicate report, or the watchdog's): attempt 2 is what counts.
    await raise(job, JOB_FINISHED_EVENT, finished(job, 1, 'succeeded', { exitCode: 0 }));
    await raise(job, JOB_FINISHED_EVENT, finished(job, 2, 'failed', { exitCode: 3, reason: 'exit 3' }));
    assert.equal(await outcome(job), 'Failed');
    assert.deepEqual(summary(job), ['start#1', 'start#2', 'finalize#2']);
    assert.deepEqual(lastCall(job, 'finalize'), {
      workspace: WS,
      name: job,
      attempt: 2,
      outcome: 'failed',
      exitCode: 3,
      reason: 'exit 3',
    });
  });

  it('does not retry a command that failed', async () => {
    const job = 'fails';
    await startJob(job);
    await waitCalls(job, 'start#1');
    await raise(
      job,
      JOB_FINISHED_EVENT,
      finished(job, 1, 'failed', { exitCode: 2, reason: 'The command exited with code 2.' }),
    );
    assert.equal(await outcome(job), 'Failed');
    assert.deepEqual(summary(job), ['start#1', 'finalize#1']);
    assert.deepEqual(lastCall(job, 'finalize'), {
      workspace: WS,
      name: job,
      attempt: 1,
      outcome: 'failed',
      exitCode: 2,
      reason: 'The command exited with code 2.',
    });
  });

  it(`gives up after ${MAX_JOB_ATTEMPTS} attempts the infrastructure failed`, async () => {
    const job = 'always-lost';
    await startJob(job);
    const expected: string[] = [];
    for (let attempt = 1; attempt <= MAX_JOB_ATTEMPTS; attempt++) {
      expected.push(`start#${attempt}`);
      await waitCalls(job, ...expected);
      await raise(job, JOB_FINISHED_EVENT, finished(job, attempt, 'infrastructure', { reason: `lost ${attempt}` }));
    }
    assert.equal(await outcome(job), 'Failed');
    assert.deepEqual(summary(job), [...expected, `finalize#${MAX_JOB_ATTEMPTS}`]);
    assert.deepEqual(lastCall(job, 'finalize'), {
      workspace: WS,
      name: job,
      attempt: MAX_JOB_ATTEMPTS,
      outcome: 'infrastructure',
      reason: `lost ${MAX_JOB_ATTEMPTS}`,
    });
  });

  it('on cancel, stops the running attempt, then finalizes it as canceled', async () => {
    const job = 'canceled';
    await startJob(job, [{ state: 'started', executionId: 'exec-canceled' }]);
    await waitCalls(job, 'start#1');
    await raise(job, JOB_CANCEL_EVENT, { reason: 'user' });
    assert.equal(await outcome(job), 'Canceled');
    assert.deepEqual(summary(job), ['start#1', 'stop#1', 'finalize#1']);
    assert.deepEqual(lastCall(job, 'stop'), { workspace: WS, name: job, attempt: 1, executionId: 'exec-canceled' });
    assert.deepEqual(lastCall(job, 'finalize'), { workspace: WS, name: job, attempt: 1, outcome: 'canceled' });
  });

  it('on cancel during a retry, stops the current attempt', async () => {
    const job = 'canceled-on-retry';
    await startJob(job, [
      { state: 'started', executionId: 'exec-1' },
      { state: 'started', executionId: 'exec-2' },
    ]);
    await waitCalls(job, 'start#1');
    await raise(job, JOB_FINISHED_EVENT, finished(job, 1, 'infrastructure'));
    await waitCalls(job, 'start#1', 'start#2');
    await raise(job, JOB_CANCEL_EVENT, {});
    assert.equal(await outcome(job), 'Canceled');
    assert.deepEqual(summary(job), ['start#1', 'start#2', 'stop#2', 'finalize#2']);
    assert.deepEqual(lastCall(job, 'stop'), { workspace: WS, name: job, attempt: 2, executionId: 'exec-2' });
  });

  it('on timeout, stops the attempt, then finalizes it as timed out', async () => {
    const job = 'too-slow';
    await startJob(job, [{ state: 'started', executionId: 'exec-slow', timeoutSeconds: 0.5 }]);
    assert.equal(await outcome(job), 'Failed');
    assert.deepEqual(summary(job), ['start#1', 'stop#1', 'finalize#1']);
    assert.deepEqual(lastCall(job, 'stop'), { workspace: WS, name: job, attempt: 1, executionId: 'exec-slow' });
    assert.deepEqual(lastCall(job, 'finalize'), { workspace: WS, name: job, attempt: 1, outcome: 'timeout' });
  });

  it('waits on a durable timer while the compute is full, then starts the same attempt again', async () => {
    const job = 'waits';
    const full: JobStartResult = { state: 'waiting', retryAfterSeconds: 0.1, reason: 'cpu-cluster is full' };
    await startJob(job, [full, full, { state: 'started', executionId: 'exec-waited' }]);
    await waitCalls(job, 'start#1', 'start#1', 'start#1');
    await raise(job, JOB_FINISHED_EVENT, finished(job, 1, 'succeeded', { exitCode: 0 }));
    assert.equal(await outcome(job), 'Completed');
    assert.deepEqual(summary(job), ['start#1', 'start#1', 'start#1', 'finalize#1']);
    const history = (await api.status(instanceId(job), '&showHistory=true'))?.historyEvents ?? [];
    const events = history.map((e) => e.EventType);
    assert.equal(events.filter((e) => e === 'TimerCreated').length, 2, events.join(', '));
    assert.equal(events.filter((e) => e === 'TimerFired').length, 2, events.join(', '));
  });

  it('finalizes as canceled, without waiting or stopping, when the start says the job has ended', async () => {
    const job = 'ended-before-start';
    await startJob(job, [{ state: 'ended' }]);
    assert.equal(await outcome(job), 'Canceled');
    assert.deepEqual(summary(job), ['start#1', 'finalize#1']);
    assert.deepEqual(lastCall(job, 'finalize'), { workspace: WS, name: job, attempt: 1, outcome: 'canceled' });
  });
});
