import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteTrackingStore } from '../../shared/adapters/sqlite-tracking-store.js';
import { ConflictError, NotFoundError, ValidationError } from '../../shared/errors.js';
import { createTrackingService } from '../../shared/services/tracking-service.js';
import type { TrackingService } from '../../shared/services/tracking-service.js';

let dir: string;
let store: SqliteTrackingStore;
let tracking: TrackingService;
let now = 1_700_000_000_000;
const WS = 'team-a';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-tracking-'));
  store = SqliteTrackingStore.open(join(dir, 'tracking.db'));
  tracking = createTrackingService({ store, clock: { now: () => now++ } });
});

after(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

test('every workspace has a Default experiment with id 0', async () => {
  const { experiment } = await tracking.getExperiment(WS, '0');
  assert.equal(experiment.name, 'Default');
  assert.equal(experiment.lifecycle_stage, 'active');
  assert.equal((await tracking.getExperiment('other', '0')).experiment.name, 'Default');
  await assert.rejects(tracking.setExperimentStage(WS, '0', 'deleted'), ValidationError);
});

test('experiments: create, get by id and name, rename, delete, restore, search', async () => {
  const { experiment_id } = await tracking.createExperiment(WS, { name: 'exp-a', tags: [{ key: 'team', value: 'x' }] });
  assert.equal(experiment_id, '1');
  await assert.rejects(tracking.createExperiment(WS, { name: 'exp-a' }), ConflictError);
  // Names are per workspace.
  assert.equal((await tracking.createExperiment('other', { name: 'exp-a' })).experiment_id, '1');
  const byName = await tracking.getExperimentByName(WS, 'exp-a');
  assert.equal(byName.experiment.experiment_id, '1');
  assert.deepEqual(byName.experiment.tags, [{ key: 'team', value: 'x' }]);
  assert.match(byName.experiment.artifact_location, /team-a.*\/1$/);
  await assert.rejects(tracking.getExperimentByName(WS, 'nope'), NotFoundError);
  await assert.rejects(tracking.getExperiment(WS, '99'), NotFoundError);

  await tracking.createExperiment(WS, { name: 'exp-b' });
  await tracking.renameExperiment(WS, '2', 'exp-b2');
  await assert.rejects(tracking.renameExperiment(WS, '2', 'exp-a'), ConflictError);
  await tracking.setExperimentStage(WS, '2', 'deleted');

  const active = await tracking.searchExperiments(WS, {});
  assert.deepEqual(active.experiments.map((e) => e.name).sort(), ['Default', 'exp-a']);
  const deleted = await tracking.searchExperiments(WS, { view_type: 'DELETED_ONLY' });
  assert.deepEqual(
    deleted.experiments.map((e) => e.name),
    ['exp-b2'],
  );
  const tagged = await tracking.searchExperiments(WS, { filter: "tags.team = 'x' and name LIKE 'exp%'" });
  assert.deepEqual(
    tagged.experiments.map((e) => e.name),
    ['exp-a'],
  );
  const paged = await tracking.searchExperiments(WS, { view_type: 'ALL', max_results: 2, order_by: ['name ASC'] });
  assert.deepEqual(
    paged.experiments.map((e) => e.name),
    ['Default', 'exp-a'],
  );
  assert.ok(paged.next_page_token);
  const rest = await tracking.searchExperiments(WS, {
    view_type: 'ALL',
    max_results: 2,
    order_by: ['name ASC'],
    page_token: paged.next_page_token,
  });
  assert.deepEqual(
    rest.experiments.map((e) => e.name),
    ['exp-b2'],
  );
  assert.equal(rest.next_page_token, undefined);
  await tracking.setExperimentStage(WS, '2', 'active');
  assert.equal((await tracking.getExperiment(WS, '2')).experiment.lifecycle_stage, 'active');
});

test('runs: create, update, tags, delete and restore', async () => {
  const { run } = await tracking.createRun(WS, { experiment_id: '1', run_name: 'first', start_time: 10 });
  assert.equal(run.info.status, 'RUNNING');
  assert.equal(run.info.run_name, 'first');
  assert.equal(run.info.run_id, run.info.run_uuid);
  assert.match(run.info.artifact_uri, new RegExp(`/1/${run.info.run_id}/artifacts$`));
  assert.deepEqual(run.data.tags, [{ key: 'mlflow.runName', value: 'first' }]);
  const runId = run.info.run_id;

  const { run_info } = await tracking.updateRun(WS, {
    run_id: runId,
    status: 'FINISHED',
    end_time: 20,
    run_name: 'renamed',
  });
  assert.equal(run_info.status, 'FINISHED');
  assert.equal(run_info.end_time, 20);
  assert.equal(run_info.run_name, 'renamed');

  await tracking.setTag(WS, { run_id: runId, key: 'k', value: 'v' });
  await tracking.setTag(WS, { run_id: runId, key: 'mlflow.runName', value: 'via-tag' });
  let got = (await tracking.getRun(WS, runId)).run;
  assert.equal(got.info.run_name, 'via-tag');
  assert.deepEqual(got.data.tags, [
    { key: 'k', value: 'v' },
    { key: 'mlflow.runName', value: 'via-tag' },
  ]);
  await tracking.deleteTag(WS, { run_id: runId, key: 'k' });
  await assert.rejects(tracking.deleteTag(WS, { run_id: runId, key: 'k' }), NotFoundError);

  await tracking.setRunStage(WS, runId, 'deleted');
  got = (await tracking.getRun(WS, runId)).run;
  assert.equal(got.info.lifecycle_stage, 'deleted');
  await assert.rejects(tracking.setTag(WS, { run_id: runId, key: 'a', value: 'b' }), /must be in the 'active' state/);
  await tracking.setRunStage(WS, runId, 'active');
  assert.equal((await tracking.getRun(WS, runId)).run.info.lifecycle_stage, 'active');

  await assert.rejects(tracking.getRun(WS, 'nope'), NotFoundError);
  // A run is visible only in its own workspace.
  await assert.rejects(tracking.getRun('other', runId), NotFoundError);
  await assert.rejects(tracking.createRun(WS, { experiment_id: '42' }), NotFoundError);
});

test('batch logging, limits, latest metric and param immutability', async () => {
  const runId = (await tracking.createRun(WS, { experiment_id: '0' })).run.info.run_id;
  await tracking.logBatch(WS, {
    run_id: runId,
    metrics: [
      { key: 'acc', value: 0.5, timestamp: 1, step: 0 },
      { key: 'acc', value: 0.9, timestamp: 2, step: 2 },
      { key: 'acc', value: 0.7, timestamp: 3, step: 1 },
      { key: 'loss', value: NaN, timestamp: 1, step: 0 },
    ],
    params: [
      { key: 'lr', value: '0.1' },
      { key: 'lr', value: '0.1' },
    ],
    tags: [{ key: 't', value: '1' }],
  });
  const { run } = await tracking.getRun(WS, runId);
  // The latest value is the one of the highest step, not the last logged.
  assert.deepEqual(run.data.metrics, [
    { key: 'acc', value: 0.9, timestamp: 2, step: 2 },
    { key: 'loss', value: 'NaN', timestamp: 1, step: 0 },
  ]);
  assert.deepEqual(run.data.params, [{ key: 'lr', value: '0.1' }]);

  // Re-logging the same value is fine; a different one is rejected and the whole batch is not written.
  await tracking.logParam(WS, { run_id: runId, key: 'lr', value: '0.1' });
  await assert.rejects(
    tracking.logBatch(WS, {
      run_id: runId,
      params: [{ key: 'lr', value: '0.2' }],
      metrics: [{ key: 'other', value: 1, timestamp: 1, step: 0 }],
    }),
    (err: unknown) => err instanceof ValidationError && /Changing param values is not allowed/.test(err.message),
  );
  assert.equal((await tracking.getRun(WS, runId)).run.data.metrics.length, 2);
  await assert.rejects(
    tracking.logBatch(WS, {
      run_id: runId,
      params: [
        { key: 'x', value: '1' },
        { key: 'x', value: '2' },
      ],
    }),
    /Duplicate parameter keys/,
  );

  const tooMany = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: 'v' }));
  await assert.rejects(tracking.logBatch(WS, { run_id: runId, params: tooMany(101) }), /at most 100 params/);
  await assert.rejects(tracking.logBatch(WS, { run_id: runId, tags: tooMany(101) }), /at most 100 tags/);
  await assert.rejects(
    tracking.logBatch(WS, {
      run_id: runId,
      metrics: Array.from({ length: 1001 }, (_, i) => ({ key: 'm', value: i, timestamp: i, step: i })),
    }),
    /at most 1000 metrics/,
  );
  await assert.rejects(tracking.logParam(WS, { run_id: runId, key: 'long', value: 'x'.repeat(6001) }), /limit is 6000/);
});

test('metric history pages in logging order', async () => {
  const runId = (await tracking.createRun(WS, { experiment_id: '0' })).run.info.run_id;
  for (let b = 0; b < 3; b++) {
    await tracking.logBatch(WS, {
      run_id: runId,
      metrics: Array.from({ length: 1000 }, (_, i) => ({
        key: 'h',
        value: b * 1000 + i,
        timestamp: i,
        step: b * 1000 + i,
      })),
    });
  }
  await tracking.logMetric(WS, { run_id: runId, key: 'other', value: 1, timestamp: 1, step: 0 });
  const values: number[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await tracking.metricHistory(WS, {
      run_id: runId,
      metric_key: 'h',
      max_results: 700,
      ...(token === undefined ? {} : { page_token: token }),
    });
    values.push(...page.metrics.map((m) => m.value as number));
    token = page.next_page_token;
    pages++;
  } while (token !== undefined);
  assert.equal(pages, 5);
  assert.deepEqual(
    values,
    Array.from({ length: 3000 }, (_, i) => i),
  );
  await assert.rejects(
    tracking.metricHistory(WS, { run_id: runId, metric_key: 'h', page_token: 'garbage' }),
    /Invalid page token/,
  );
});

test('runs/search: filters, order and paging', async () => {
  const { experiment_id } = await tracking.createExperiment(WS, { name: 'search' });
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) {
    const { run } = await tracking.createRun(WS, {
      experiment_id,
      run_name: i % 2 === 0 ? `a-${i}` : `b-${i}`,
      start_time: 1000 + i,
    });
    ids.push(run.info.run_id);
    await tracking.logBatch(WS, {
      run_id: run.info.run_id,
      metrics: i === 19 ? [] : [{ key: 'acc', value: i / 20, timestamp: 1, step: 0 }],
      params: [{ key: 'lr', value: i < 10 ? '0.1' : '0.01' }],
    });
    if (i % 4 === 0) await tracking.updateRun(WS, { run_id: run.info.run_id, status: 'FINISHED' });
  }
  const search = (req: Parameters<TrackingService['searchRuns']>[1]) =>
    tracking.searchRuns(WS, { experiment_ids: [experiment_id], ...req });

  const byMetric = await search({ filter: 'metrics.acc > 0.5', order_by: ['metrics.acc DESC'] });
  assert.deepEqual(
    byMetric.runs.map((r) => r.info.run_name),
    ['a-18', 'b-17', 'a-16', 'b-15', 'a-14', 'b-13', 'a-12', 'b-11'],
  );

  const combined = await search({
    filter:
      "metrics.acc >= 0 and params.lr = '0.1' and tags.mlflow.runName LIKE 'a%' and attributes.status = 'FINISHED'",
  });
  assert.deepEqual(combined.runs.map((r) => r.info.run_name).sort(), ['a-0', 'a-4', 'a-8']);
  // LIKE is case-sensitive, ILIKE is not.
  assert.equal((await search({ filter: "attributes.run_name LIKE 'A%'" })).runs.length, 0);
  assert.equal((await search({ filter: "attributes.run_name ILIKE 'A%'" })).runs.length, 10);
  assert.equal((await search({ filter: `attributes.run_id IN ('${ids[0]}', '${ids[1]}')` })).runs.length, 2);

  // Ordering by a metric puts runs without it last; default order is newest first.
  const ordered = await search({ order_by: ['metrics.acc ASC'] });
  assert.equal(ordered.runs[0]?.info.run_name, 'a-0');
  assert.equal(ordered.runs.at(-1)?.info.run_name, 'b-19');
  assert.equal((await search({})).runs[0]?.info.run_name, 'b-19');
  assert.equal((await search({ order_by: ['attributes.start_time ASC'] })).runs[0]?.info.run_name, 'a-0');

  const seen: string[] = [];
  let token: string | undefined;
  do {
    const page = await search({
      max_results: 6,
      order_by: ['metrics.acc DESC'],
      ...(token ? { page_token: token } : {}),
    });
    seen.push(...page.runs.map((r) => r.info.run_id));
    token = page.next_page_token;
  } while (token !== undefined);
  assert.equal(seen.length, 20);
  assert.equal(new Set(seen).size, 20);

  await tracking.setRunStage(WS, ids[0] ?? '', 'deleted');
  assert.equal((await search({})).runs.length, 19);
  assert.equal((await search({ run_view_type: 'DELETED_ONLY' })).runs.length, 1);
  assert.equal((await search({ run_view_type: 'ALL' })).runs.length, 20);

  await assert.rejects(search({ filter: 'metrics.acc >> 1' }), /Invalid filter/);
  await assert.rejects(search({ order_by: ['metrics.acc SIDEWAYS'] }), /Invalid order_by/);
});
