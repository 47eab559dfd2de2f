import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The library is a CommonJS bundle whose classes Node cannot list as named ESM exports.
import functionsLib from '@azure/functions';
import type { HttpHandler, HttpResponseInit } from '@azure/functions';
import { loadConfig } from '../../shared/config.js';
import { registeredFunctions } from '../../shared/function-catalog.js';
import { closeServicesOf, createServices, setServicesForTesting } from '../../shared/wiring.js';
import type { Services } from '../../shared/wiring.js';
import { mlflowExperimentCreate } from '../../functions/mlflow-experiment-create.js';
import { mlflowExperimentGetByName } from '../../functions/mlflow-experiment-get-by-name.js';
import { mlflowRunCreate } from '../../functions/mlflow-run-create.js';
import { mlflowRunGet } from '../../functions/mlflow-run-get.js';
import { mlflowRunLogBatch } from '../../functions/mlflow-run-log-batch.js';
import { mlflowRunLogParameter } from '../../functions/mlflow-run-log-parameter.js';
import { mlflowRunSearch } from '../../functions/mlflow-run-search.js';
import { mlflowMetricGetHistory } from '../../functions/mlflow-metric-get-history.js';

const { HttpRequest, InvocationContext } = functionsLib;

let dataDir: string;
let services: Services;
let token: string;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tessera-mlflow-'));
  services = await createServices(loadConfig({ TESSERA_DATA_DIR: dataDir, PORT: '7999' }));
  setServicesForTesting(services);
  token = (await services.tokens.create({ workspaces: ['team-a'] })).token;
  await services.workspaces.put('team-a', { description: 'A' });
});

after(async () => {
  setServicesForTesting(undefined);
  await closeServicesOf(services);
  await rm(dataDir, { recursive: true, force: true });
});

interface Result {
  status: number;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies are inspected field by field
}

async function call(
  handler: HttpHandler,
  c: { method?: 'GET' | 'POST'; body?: unknown; query?: Record<string, string>; ws?: string; auth?: boolean },
): Promise<Result> {
  const request = new HttpRequest({
    method: c.method ?? 'POST',
    url: 'http://127.0.0.1:7999/api/workspaces/team-a/mlflow/api/2.0/mlflow/x',
    headers: c.auth === false ? {} : { authorization: `Bearer ${token}` },
    params: { ws: c.ws ?? 'team-a' },
    query: c.query ?? {},
    ...(c.body === undefined ? {} : { body: { string: JSON.stringify(c.body) } }),
  });
  const context = new InvocationContext({
    invocationId: 'inv-mlflow',
    functionName: 'test',
    logHandler: () => undefined,
  });
  const raw = (await handler(request, context)) as HttpResponseInit;
  return { status: raw.status ?? 200, json: raw.jsonBody };
}

test('the endpoints are registered under the workspace tracking URI', () => {
  const routes = registeredFunctions()
    .filter((f) => f.name.startsWith('mlflow-'))
    .map((f) => `${f.methods?.join(',')} ${f.route}`);
  assert.ok(routes.includes('POST workspaces/{ws}/mlflow/api/2.0/mlflow/runs/log-parameter'));
  assert.ok(routes.includes('GET workspaces/{ws}/mlflow/api/2.0/mlflow/metrics/get-history'));
});

test('experiments and runs through the handlers, with MLflow error bodies', async () => {
  const created = await call(mlflowExperimentCreate, { body: { name: 'exp' } });
  assert.equal(created.status, 200);
  assert.deepEqual(created.json, { experiment_id: '1' });

  const again = await call(mlflowExperimentCreate, { body: { name: 'exp' } });
  assert.equal(again.status, 400);
  assert.deepEqual(again.json, { error_code: 'RESOURCE_ALREADY_EXISTS', message: "Experiment 'exp' already exists." });

  const byName = await call(mlflowExperimentGetByName, { method: 'GET', query: { experiment_name: 'exp' } });
  assert.equal(byName.json.experiment.experiment_id, '1');
  const missing = await call(mlflowExperimentGetByName, { method: 'GET', query: { experiment_name: 'nope' } });
  assert.equal(missing.status, 404);
  assert.equal(missing.json.error_code, 'RESOURCE_DOES_NOT_EXIST');

  const run = await call(mlflowRunCreate, { body: { experiment_id: '1', start_time: '1700000000000', run_name: 'r' } });
  assert.equal(run.status, 200);
  const runId: string = run.json.run.info.run_id;
  assert.equal(run.json.run.info.start_time, 1700000000000);

  const batch = await call(mlflowRunLogBatch, {
    body: {
      run_id: runId,
      metrics: [
        { key: 'acc', value: 0.8, timestamp: 1, step: 0 },
        { key: 'acc', value: 0.9, timestamp: 2, step: 1 },
      ],
      params: [{ key: 'lr', value: '0.1' }],
    },
  });
  assert.equal(batch.status, 200);
  assert.deepEqual(batch.json, {});

  const changed = await call(mlflowRunLogParameter, { body: { run_id: runId, key: 'lr', value: '0.2' } });
  assert.equal(changed.status, 400);
  assert.equal(changed.json.error_code, 'INVALID_PARAMETER_VALUE');
  assert.match(changed.json.message, /Changing param values is not allowed/);

  const got = await call(mlflowRunGet, { method: 'GET', query: { run_id: runId } });
  assert.deepEqual(got.json.run.data.metrics, [{ key: 'acc', value: 0.9, timestamp: 2, step: 1 }]);

  const found = await call(mlflowRunSearch, {
    body: { experiment_ids: ['1'], filter: 'metrics.acc > 0.85', order_by: ['metrics.acc DESC'], max_results: 10 },
  });
  assert.deepEqual(
    found.json.runs.map((r: { info: { run_id: string } }) => r.info.run_id),
    [runId],
  );
  const badFilter = await call(mlflowRunSearch, { body: { experiment_ids: ['1'], filter: 'metrics.acc >' } });
  assert.equal(badFilter.status, 400);
  assert.equal(badFilter.json.error_code, 'INVALID_PARAMETER_VALUE');
  assert.match(badFilter.json.message, /expected a number to compare 'metrics.acc' with, found the end/);

  const history = await call(mlflowMetricGetHistory, {
    method: 'GET',
    query: { run_id: runId, metric_key: 'acc', max_results: '1' },
  });
  assert.equal(history.json.metrics.length, 1);
  assert.ok(history.json.next_page_token);
  const rest = await call(mlflowMetricGetHistory, {
    method: 'GET',
    query: { run_id: runId, metric_key: 'acc', page_token: history.json.next_page_token },
  });
  assert.deepEqual(rest.json, { metrics: [{ key: 'acc', value: 0.9, timestamp: 2, step: 1 }] });

  const badBody = await call(mlflowRunLogBatch, { body: { run_id: runId, metrics: [{ key: 'a', value: 'x' }] } });
  assert.equal(badBody.status, 400);
  assert.equal(badBody.json.error_code, 'INVALID_PARAMETER_VALUE');
});

test('authentication errors use MLflow codes too', async () => {
  const res = await call(mlflowRunGet, { method: 'GET', query: { run_id: 'x' }, auth: false });
  assert.equal(res.status, 401);
  assert.equal(res.json.error_code, 'UNAUTHENTICATED');
  const unknownWs = await services.tokens.create({ workspaces: ['*'] });
  token = unknownWs.token;
  const noWs = await call(mlflowRunGet, { method: 'GET', query: { run_id: 'x' }, ws: 'ghost' });
  assert.equal(noWs.status, 404);
  assert.equal(noWs.json.error_code, 'RESOURCE_DOES_NOT_EXIST');
});
