// The AutoML service's trial-engine activities with real stores (SQLite metadata and tracking) and a
// scripted job service: a round reads only the children still running; a child that ended is read
// once and its outcome kept in the job, so a job of many trials does not read every child each
// round; and the leaderboard and the round's log lines come out the same from what was kept.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SqliteMetadataStore } from '../../shared/adapters/sqlite-metadata-store.js';
import { JOBS_CONTAINER } from '../../shared/contracts/job.js';
import type { Job, JobStatus, TrialSummary } from '../../shared/contracts/job.js';
import { createAutomlService } from '../../shared/services/automl-service.js';
import type { AutomlService } from '../../shared/services/automl-service.js';
import type { JobService } from '../../shared/services/job-service.js';
import type { SweepService } from '../../shared/services/sweep-service.js';
import type { TrackingService } from '../../shared/services/tracking-service.js';
import { openServiceStores, scriptedGet } from '../support/service-stores.js';
import type { ServiceStores } from '../support/service-stores.js';

const WS = 'ws';
const PARENT = 'aml1';

describe('AutoML service (trial-engine activities)', () => {
  let stores: ServiceStores;
  let metadata: SqliteMetadataStore;
  let tracking: TrackingService;
  let automl: AutomlService;
  const jobs = new Map<string, { status: JobStatus; error?: string }>();
  /** Reads of each child job, by name. */
  const reads = new Map<string, number>();
  /** Every job's log lines, by job name (without their timestamps). */
  const logs = new Map<string, string[]>();

  before(async () => {
    stores = await openServiceStores('tessera-automl-service-');
    ({ metadata, tracking } = stores);
    const { clock } = stores;
    const fakeJobs = {
      validate: () => Promise.resolve(),
      async create(ws: string, spec: Record<string, unknown>) {
        const name = spec['name'] as string;
        jobs.set(name, { status: 'Running' });
        await stores.startRun(ws, name, 'automl');
        return { name } as Job;
      },
      get: scriptedGet(jobs, reads, 'automl', (_name, job) => ({
        status: job.status,
        notices: [],
        ...(job.error === undefined ? {} : { error: { code: 'UserError', message: job.error } }),
      })),
      appendLog(_ws: string, name: string, text: string) {
        const line = text.slice(text.indexOf(' ') + 1).trim();
        logs.set(name, [...(logs.get(name) ?? []), line]);
        return Promise.resolve();
      },
      readOutputFile: () => Promise.resolve(undefined),
    } as unknown as JobService;
    automl = createAutomlService({
      store: metadata,
      clock,
      jobs: fakeJobs,
      sweeps: {} as SweepService,
      tracking,
      publicUrl: 'http://x',
    });
  });
  after(() => stores.close());

  const end = async (name: string, status: JobStatus, metrics: Record<string, number> = {}, error?: string) => {
    await tracking.logBatch(WS, {
      run_id: name,
      metrics: Object.entries(metrics).map(([key, value]) => ({ key, value, timestamp: stores.clock.now(), step: 0 })),
      params: [],
      tags: [],
    });
    jobs.set(name, { status, ...(error === undefined ? {} : { error }) });
  };

  /** A classification job of `maxTrials` trials, two at a time, without ensembles. */
  const createJob = (parent: string, maxTrials: number, training: Record<string, unknown> = {}) =>
    automl.create(WS, {
      type: 'automl',
      name: parent,
      task: 'classification',
      target_column_name: 'y',
      primary_metric: 'accuracy',
      training_data: { type: 'mltable', path: 'azureml:train:1' },
      limits: { max_trials: maxTrials, max_concurrent_trials: 2 },
      training: { enable_vote_ensemble: false, enable_stack_ensemble: false, ...training },
    });

  it('reads a child until it ends, then keeps its outcome instead of reading it again', async () => {
    await createJob(PARENT, 6);
    assert.deepEqual((await automl.propose(WS, PARENT, 0)).trials, [`${PARENT}_setup`]);
    await end(`${PARENT}_setup`, 'Completed', { rows: 500, features: 4, classes: 2, folds: 3 });

    const first = await automl.propose(WS, PARENT, 1);
    assert.deepEqual(first.trials, [`${PARENT}_0`, `${PARENT}_1`]);
    await end(`${PARENT}_0`, 'Completed', { accuracy: 0.8, fit_seconds: 1 });
    await end(`${PARENT}_1`, 'Failed', {}, 'out of memory\nstack');

    const second = await automl.propose(WS, PARENT, 2);
    assert.deepEqual(second.trials, [`${PARENT}_2`, `${PARENT}_3`]);
    const afterSecond = new Map(reads);
    await end(`${PARENT}_2`, 'Completed', { accuracy: 0.9, fit_seconds: 1 });

    // Round 3: _0 and _1 ended before round 2 and are not read again; _2 ended now; _3 still runs
    // (as a trial whose cancel has not landed yet does).
    const third = await automl.propose(WS, PARENT, 3);
    assert.deepEqual(third.trials, [`${PARENT}_4`, `${PARENT}_5`]);
    assert.equal(reads.get(`${PARENT}_0`), afterSecond.get(`${PARENT}_0`));
    assert.equal(reads.get(`${PARENT}_1`), afterSecond.get(`${PARENT}_1`));
    assert.equal(reads.get(`${PARENT}_2`), (afterSecond.get(`${PARENT}_2`) ?? 0) + 1);
    assert.equal(reads.get(`${PARENT}_3`), (afterSecond.get(`${PARENT}_3`) ?? 0) + 1);
    const again = new Map(reads);
    await automl.propose(WS, PARENT, 4);
    assert.equal(reads.get(`${PARENT}_2`), again.get(`${PARENT}_2`), 'ended in round 3, kept since');
    assert.equal(reads.get(`${PARENT}_3`), (again.get(`${PARENT}_3`) ?? 0) + 1, 'still running, read again');

    // The leaderboard and the log come out of the kept outcomes as they did from the reads.
    const jobsContainer = await metadata.container(JOBS_CONTAINER);
    const job = await jobsContainer.read<{ id: string; pk: string; trials?: TrialSummary }>(WS, PARENT);
    assert.deepEqual(
      job?.trials?.leaderboard.map((e) => [e.name, e.value]),
      [
        [`${PARENT}_2`, 0.9],
        [`${PARENT}_0`, 0.8],
      ],
    );
    assert.ok(
      (logs.get(PARENT) ?? []).some((l) => l.startsWith(`${PARENT}_1 `) && l.endsWith('Failed: out of memory')),
      (logs.get(PARENT) ?? []).join('\n'),
    );
  });

  // A search of two trials without ensembles: once they end, the next round is the explanation.
  const closeSearch = async (parent: string, training: Record<string, unknown>) => {
    await createJob(parent, 2, training);
    await automl.propose(WS, parent, 0);
    await end(`${parent}_setup`, 'Completed', { rows: 500, features: 4, classes: 2, folds: 3 });
    assert.deepEqual((await automl.propose(WS, parent, 1)).trials, [`${parent}_0`, `${parent}_1`]);
    await end(`${parent}_0`, 'Completed', { accuracy: 0.8, fit_seconds: 1 });
    await end(`${parent}_1`, 'Completed', { accuracy: 0.9, fit_seconds: 1 });
    return automl.propose(WS, parent, 2);
  };

  it('explains the best model unless training.enable_model_explainability is false', async () => {
    const explained = await closeSearch('aml2', {});
    assert.deepEqual(explained.trials, ['aml2_explain']);
    assert.equal(explained.done, false);

    const unexplained = await closeSearch('aml3', { enable_model_explainability: false });
    assert.deepEqual(unexplained.trials, []);
    assert.equal(unexplained.done, true);
    assert.equal(jobs.has('aml3_explain'), false, 'no explanation job was created');
    assert.ok(
      (logs.get('aml3') ?? []).includes('aml3_1 is not explained: training.enable_model_explainability is false'),
    );
    // The job ends on that proposal: its end does not list the last round's trials a second time.
    await automl.finalize(WS, 'aml3', 'completed');
    const lines = logs.get('aml3') ?? [];
    for (const trial of ['aml3_0', 'aml3_1']) {
      assert.equal(lines.filter((l) => l.startsWith(`${trial}  `)).length, 1, lines.join('\n'));
    }
  });
});
