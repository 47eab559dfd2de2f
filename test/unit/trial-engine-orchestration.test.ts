// The trial engine (trialSweep, and automlJob — the same orchestrator) run by the local host's
// durable engine with scripted proposals and the real commandJob orchestration for its trials
// (test/fixtures/command-job-app): batches, cancel, the timeout path that still runs the closing
// round (AutoML's ensembles and explanation) before finalizing as timed out, a closing round the
// timeout passes during, and a sweep's early
// termination policy evaluated on a timer while its trials run.
import '../../local/core-shim.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LocalHost } from '../../local/host.js';
import { createConsoleLogger } from '../../local/logger.js';
import {
  AUTOML_JOB_ORCHESTRATION,
  JOB_CANCEL_EVENT,
  JOB_FINISHED_EVENT,
  TRIAL_SWEEP_ORCHESTRATION,
} from '../../shared/contracts/job.js';
import type { JobFinishedMessage } from '../../shared/contracts/job.js';
import { commandJobFakes } from '../support/command-job-fakes.js';
import { durableApi, tempDir, waitFor } from '../support/fixture-app.js';
import { trialEngineFakes } from '../support/trial-engine-fakes.js';

const WS = 'ws';
const instanceId = (job: string): string => `job:${WS}:${job}`;

function prepareApp(): string {
  const root = resolve('dist/test/fixtures/command-job-app');
  mkdirSync(root, { recursive: true });
  writeFileSync(
    join(root, 'package.json'),
    JSON.stringify({ name: 'command-job-fixture', type: 'module', main: 'functions/*.js' }),
  );
  writeFileSync(join(root, 'host.json'), JSON.stringify({ version: '2.0' }));
  return root;
}

const succeeded = (job: string): JobFinishedMessage => ({
  kind: 'finished',
  workspace: WS,
  job,
  attempt: 1,
  outcome: 'succeeded',
  exitCode: 0,
  at: Date.now(),
});

describe('trial engine orchestration (local durable engine, scripted proposals)', () => {
  let host: LocalHost;
  let api: ReturnType<typeof durableApi>;

  before(async () => {
    host = await LocalHost.start({
      appRoot: prepareApp(),
      dataDir: tempDir('trial-engine-orchestration'),
      port: 0,
      bindAddress: '127.0.0.1',
      logger: createConsoleLogger('warning'),
    });
    api = durableApi(host.origin, host.systemKey);
  });
  after(async () => host.stop());

  const started = (job: string): Promise<true> =>
    waitFor(`${job} to start`, () =>
      Promise.resolve(commandJobFakes.callsOf(job).some((c) => c.activity === 'start') ? true : undefined),
    );
  const finalized = (job: string): string | undefined => {
    const call = commandJobFakes.callsOf(job).find((c) => c.activity === 'finalize');
    return call?.activity === 'finalize' ? call.input.outcome : undefined;
  };
  /**
   * The closing round `<parent>_vote` outlives the 1 s timeout, then succeeds; the job completes
   * after the proposals `rounds` ([round, timedOut]) and is finalized with `outcome`.
   */
  const closingOutlivesTimeout = async (
    parent: string,
    rounds: [number, boolean][],
    outcome: 'completed' | 'timeout',
  ): Promise<void> => {
    await started(`${parent}_vote`);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(finalized(`${parent}_vote`), undefined, 'the closing round is not canceled by the timeout');
    assert.equal(await api.raise(instanceId(`${parent}_vote`), JOB_FINISHED_EVENT, succeeded(`${parent}_vote`)), 202);
    const status = await api.waitDone(instanceId(parent));
    assert.equal(status.runtimeStatus, 'Completed');
    assert.equal(finalized(`${parent}_vote`), 'succeeded');
    assert.deepEqual(
      trialEngineFakes.proposals.filter((p) => p.name === parent).map((p) => [p.round, p.timedOut]),
      rounds,
    );
    assert.deepEqual(
      trialEngineFakes.finals.filter((f) => f.name === parent),
      [{ name: parent, outcome }],
    );
  };

  it('runs batch after batch until the proposer is done, then finalizes as completed', async () => {
    const parent = 'sweep-batches';
    trialEngineFakes.scripts.set(parent, (round) =>
      round < 2
        ? { trials: [`${parent}_${2 * round}`, `${parent}_${2 * round + 1}`], done: false }
        : { trials: [], done: true },
    );
    await api.start(TRIAL_SWEEP_ORCHESTRATION, { workspace: WS, name: parent }, instanceId(parent));
    for (const batch of [
      [0, 1],
      [2, 3],
    ]) {
      for (const i of batch) await started(`${parent}_${i}`);
      // The next batch waits for the whole of this one.
      assert.equal(commandJobFakes.callsOf(`${parent}_${(batch[1] as number) + 1}`).length, 0);
      for (const i of batch)
        assert.equal(
          await api.raise(instanceId(`${parent}_${i}`), JOB_FINISHED_EVENT, succeeded(`${parent}_${i}`)),
          202,
        );
    }
    const status = await api.waitDone(instanceId(parent));
    assert.equal(status.output, 'Completed');
    assert.deepEqual(
      trialEngineFakes.proposals.filter((p) => p.name === parent).map((p) => [p.round, p.timedOut]),
      [
        [0, false],
        [1, false],
        [2, false],
      ],
    );
    assert.deepEqual(
      trialEngineFakes.finals.filter((f) => f.name === parent),
      [{ name: parent, outcome: 'completed' }],
    );
    // Without a policy (AutoML, sweeps without early_termination) nothing is evaluated.
    assert.equal(trialEngineFakes.evaluations.filter((e) => e.name === parent).length, 0);
  });

  it('with a policy evaluates it on a timer while trials run; a stopped trial ends canceled and the sweep goes on', async () => {
    const parent = 'sweep-policy';
    trialEngineFakes.scripts.set(parent, (round) =>
      round === 0
        ? { trials: [`${parent}_0`, `${parent}_1`], done: false, evaluateSeconds: 0.2 }
        : { trials: [], done: true },
    );
    trialEngineFakes.stops.set(parent, (n, trials) =>
      n === 2 && trials.includes(`${parent}_1`) ? [`${parent}_1`] : [],
    );
    await api.start(TRIAL_SWEEP_ORCHESTRATION, { workspace: WS, name: parent }, instanceId(parent));
    await started(`${parent}_0`);
    await started(`${parent}_1`);
    const stop = await waitFor('the policy to stop a trial', () =>
      Promise.resolve(trialEngineFakes.cancels.find((c) => c.name === parent)),
    );
    assert.deepEqual(stop.trials, [`${parent}_1`]);
    // The queue delivers the cancel to the stopped trial; the other runs on, still evaluated.
    assert.equal(await api.raise(instanceId(`${parent}_1`), JOB_CANCEL_EVENT, {}), 202);
    await waitFor('the stopped trial to end', () => Promise.resolve(finalized(`${parent}_1`)));
    assert.equal(finalized(`${parent}_1`), 'canceled');
    const seen = trialEngineFakes.evaluations.filter((e) => e.name === parent).length;
    await waitFor('more evaluations while the other trial runs', () =>
      Promise.resolve(
        trialEngineFakes.evaluations.filter((e) => e.name === parent).length >= seen + 2 ? true : undefined,
      ),
    );
    assert.equal(finalized(`${parent}_0`), undefined);
    assert.equal(await api.raise(instanceId(`${parent}_0`), JOB_FINISHED_EVENT, succeeded(`${parent}_0`)), 202);
    const status = await api.waitDone(instanceId(parent));
    assert.equal(status.output, 'Completed');
    assert.equal(finalized(`${parent}_0`), 'succeeded');
    for (const e of trialEngineFakes.evaluations.filter((x) => x.name === parent)) {
      assert.deepEqual(e.trials, [`${parent}_0`, `${parent}_1`]);
    }
    assert.deepEqual(
      trialEngineFakes.proposals.filter((p) => p.name === parent).map((p) => p.round),
      [0, 1],
    );
    assert.deepEqual(
      trialEngineFakes.finals.filter((f) => f.name === parent),
      [{ name: parent, outcome: 'completed' }],
    );
  });

  it('at the timeout cancels the running trials, runs the closing round the proposer offers, then finalizes as timed out', async () => {
    const parent = 'automl-timeout';
    trialEngineFakes.scripts.set(parent, (round, timedOut) => {
      if (!timedOut) return { trials: [`${parent}_0`, `${parent}_1`], done: false, timeoutSeconds: 1 };
      return round === 1 ? { trials: [`${parent}_vote`], done: false, timeoutSeconds: 1 } : { trials: [], done: true };
    });
    await api.start(AUTOML_JOB_ORCHESTRATION, { workspace: WS, name: parent }, instanceId(parent));
    await started(`${parent}_0`);
    await started(`${parent}_1`);
    // Nobody finishes the trials: the 1 s timeout asks them to cancel (the queue would deliver JobCancel).
    const cancel = await waitFor('the trials to be asked to cancel', () =>
      Promise.resolve(trialEngineFakes.cancels.find((c) => c.name === parent)),
    );
    assert.deepEqual(cancel.trials, [`${parent}_0`, `${parent}_1`]);
    assert.match(cancel.reason, /timeout/);
    for (const trial of cancel.trials) assert.equal(await api.raise(instanceId(trial), JOB_CANCEL_EVENT, {}), 202);
    // The closing round runs although the timeout has passed, and is not cut short by it.
    await closingOutlivesTimeout(
      parent,
      [
        [0, false],
        [1, true],
        [2, true],
      ],
      'timeout',
    );
    assert.equal(finalized(`${parent}_0`), 'canceled');
    assert.equal(trialEngineFakes.cancels.filter((c) => c.name === parent).length, 1);
  });

  it('a closing round started just before the timeout is not cut short when the timeout passes', async () => {
    const parent = 'automl-closing-before-timeout';
    trialEngineFakes.scripts.set(parent, (round) => {
      if (round === 0) return { trials: [`${parent}_0`], done: false, timeoutSeconds: 1 };
      if (round === 1) return { trials: [`${parent}_vote`], done: false, closing: true, timeoutSeconds: 1 };
      return { trials: [], done: true };
    });
    await api.start(AUTOML_JOB_ORCHESTRATION, { workspace: WS, name: parent }, instanceId(parent));
    await started(`${parent}_0`);
    assert.equal(await api.raise(instanceId(`${parent}_0`), JOB_FINISHED_EVENT, succeeded(`${parent}_0`)), 202);
    // The search ended before the timeout; the ensembles start, and the timeout passes while they run.
    await closingOutlivesTimeout(
      parent,
      [
        [0, false],
        [1, false],
        [2, false],
      ],
      'completed',
    );
    assert.equal(trialEngineFakes.cancels.filter((c) => c.name === parent).length, 0);
  });

  it('on cancel asks the running trials to cancel and finalizes as canceled without proposing again', async () => {
    const parent = 'sweep-canceled';
    trialEngineFakes.scripts.set(parent, () => ({ trials: [`${parent}_0`], done: false }));
    await api.start(TRIAL_SWEEP_ORCHESTRATION, { workspace: WS, name: parent }, instanceId(parent));
    await started(`${parent}_0`);
    assert.equal(await api.raise(instanceId(parent), JOB_CANCEL_EVENT, {}), 202);
    const cancel = await waitFor('the trial to be asked to cancel', () =>
      Promise.resolve(trialEngineFakes.cancels.find((c) => c.name === parent)),
    );
    assert.match(cancel.reason, /canceled/);
    assert.equal(await api.raise(instanceId(`${parent}_0`), JOB_CANCEL_EVENT, {}), 202);
    const status = await api.waitDone(instanceId(parent));
    assert.equal(status.output, 'Canceled');
    assert.equal(trialEngineFakes.proposals.filter((p) => p.name === parent).length, 1);
    assert.deepEqual(
      trialEngineFakes.finals.filter((f) => f.name === parent),
      [{ name: parent, outcome: 'canceled' }],
    );
  });
});
