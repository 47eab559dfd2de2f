import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
// The library is a CommonJS bundle whose classes Node cannot list as named ESM exports.
import functionsLib from '@azure/functions';
import type { HttpHandler, HttpResponseInit } from '@azure/functions';
import { loadConfig } from '../../shared/config.js';
import { registeredFunctions } from '../../shared/function-catalog.js';
import { MLFLOW_ARTIFACT_DATASTORE, runArtifactsPath } from '../../shared/domain/mlflow-artifacts.js';
import { closeServicesOf, createServices, setServicesForTesting } from '../../shared/wiring.js';
import type { Services } from '../../shared/wiring.js';
import { mlflowArtifactList } from '../../functions/mlflow-artifact-list.js';
import { mlflowExperimentCreate } from '../../functions/mlflow-experiment-create.js';
import { mlflowExperimentDelete } from '../../functions/mlflow-experiment-delete.js';
import { mlflowLoggedModelCreate } from '../../functions/mlflow-logged-model-create.js';
import { mlflowLoggedModelDelete } from '../../functions/mlflow-logged-model-delete.js';
import { mlflowLoggedModelDeleteTag } from '../../functions/mlflow-logged-model-delete-tag.js';
import { mlflowLoggedModelFinalize } from '../../functions/mlflow-logged-model-finalize.js';
import { mlflowLoggedModelGet } from '../../functions/mlflow-logged-model-get.js';
import { mlflowLoggedModelLogParams } from '../../functions/mlflow-logged-model-log-params.js';
import { mlflowLoggedModelSearch } from '../../functions/mlflow-logged-model-search.js';
import { mlflowLoggedModelSetTags } from '../../functions/mlflow-logged-model-set-tags.js';
import { mlflowProxiedArtifactDelete } from '../../functions/mlflow-proxied-artifact-delete.js';
import { mlflowProxiedArtifactGet } from '../../functions/mlflow-proxied-artifact-get.js';
import { mlflowProxiedArtifactList } from '../../functions/mlflow-proxied-artifact-list.js';
import { mlflowProxiedArtifactPut } from '../../functions/mlflow-proxied-artifact-put.js';
import { mlflowRunCreate } from '../../functions/mlflow-run-create.js';
import { mlflowRunDelete } from '../../functions/mlflow-run-delete.js';
import { mlflowRunGet } from '../../functions/mlflow-run-get.js';
import { mlflowRunLogInputs } from '../../functions/mlflow-run-log-inputs.js';
import { mlflowRunLogModel } from '../../functions/mlflow-run-log-model.js';
import { mlflowRunLogOutputs } from '../../functions/mlflow-run-log-outputs.js';
import { mlflowRunSearch } from '../../functions/mlflow-run-search.js';

const { HttpRequest, InvocationContext } = functionsLib;

let dataDir: string;
let services: Services;
let token: string;
let now = 1_700_000_000_000;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tessera-mlflow-artifacts-'));
  // A clock that moves one millisecond per reading: creation order is observable and stable.
  services = await createServices(loadConfig({ TESSERA_DATA_DIR: dataDir, PORT: '7997' }), {
    clock: { now: () => now++ },
  });
  setServicesForTesting(services);
  token = (await services.tokens.create({ workspaces: ['team-a'] })).token;
  await services.workspaces.put('team-a', { description: 'A' });
  await services.workspaces.put('team-b', { description: 'B' });
});

after(async () => {
  setServicesForTesting(undefined);
  await closeServicesOf(services);
  await rm(dataDir, { recursive: true, force: true });
});

interface Result {
  status: number;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies are inspected field by field
  bytes: Buffer | undefined;
  headers: Record<string, string>;
}

interface Call {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** JSON body. */
  body?: unknown;
  /** Raw body (artifact uploads). */
  raw?: Uint8Array;
  query?: Record<string, string>;
  /** Route parameters besides ws. */
  params?: Record<string, string>;
  headers?: Record<string, string>;
  ws?: string;
}

async function call(handler: HttpHandler, c: Call): Promise<Result> {
  const ws = c.ws ?? 'team-a';
  const request = new HttpRequest({
    method: c.method ?? 'POST',
    url: `http://127.0.0.1:7997/api/workspaces/${ws}/mlflow/api/2.0/x`,
    headers: { authorization: `Bearer ${token}`, ...(c.headers ?? {}) },
    params: { ws, ...(c.params ?? {}) },
    query: c.query ?? {},
    ...(c.raw !== undefined
      ? { body: { bytes: c.raw } }
      : c.body === undefined
        ? {}
        : { body: { string: JSON.stringify(c.body) } }),
  });
  const context = new InvocationContext({
    invocationId: 'inv-artifacts',
    functionName: 'test',
    logHandler: () => undefined,
  });
  const raw = (await handler(request, context)) as HttpResponseInit;
  let bytes: Buffer | undefined;
  const body = raw.body as unknown;
  if (body !== undefined && body !== null && typeof (body as Readable).pipe === 'function') {
    const chunks: Buffer[] = [];
    for await (const chunk of body as Readable) chunks.push(Buffer.from(chunk as Uint8Array));
    bytes = Buffer.concat(chunks);
  }
  return {
    status: raw.status ?? 200,
    json: raw.jsonBody,
    bytes,
    headers: (raw.headers ?? {}) as Record<string, string>,
  };
}

async function newRun(experimentId = '0'): Promise<{ runId: string; root: string; artifactUri: string }> {
  const res = await call(mlflowRunCreate, { body: { experiment_id: experimentId, run_name: 'r' } });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const runId: string = res.json.run.info.run_id;
  const artifactUri: string = res.json.run.info.artifact_uri;
  return { runId, artifactUri, root: artifactUri.replace(/^mlflow-artifacts:\//, '') };
}

const put = (path: string, content: string, ws?: string) =>
  call(mlflowProxiedArtifactPut, {
    method: 'PUT',
    params: { path },
    raw: Buffer.from(content),
    headers: { 'content-type': 'text/plain' },
    ...(ws === undefined ? {} : { ws }),
  });
const get = (path: string) => call(mlflowProxiedArtifactGet, { method: 'GET', params: { path } });
const list = (path: string) => call(mlflowProxiedArtifactList, { method: 'GET', query: { path } });

test('the artifact and logged model endpoints are registered under the workspace tracking URI', () => {
  const routes = registeredFunctions().map((f) => `${f.methods?.join(',')} ${f.route}`);
  const base = 'workspaces/{ws}/mlflow/api/2.0';
  for (const expected of [
    `GET ${base}/mlflow/artifacts/list`,
    `GET ${base}/mlflow-artifacts/artifacts`,
    `GET ${base}/mlflow-artifacts/artifacts/{*path}`,
    `PUT ${base}/mlflow-artifacts/artifacts/{*path}`,
    `DELETE ${base}/mlflow-artifacts/artifacts/{*path}`,
    `POST ${base}/mlflow/runs/log-model`,
    `POST ${base}/mlflow/runs/log-inputs`,
    `POST ${base}/mlflow/runs/outputs`,
    `POST ${base}/mlflow/logged-models`,
    `GET ${base}/mlflow/logged-models/{model_id}`,
    `PATCH ${base}/mlflow/logged-models/{model_id}`,
    `DELETE ${base}/mlflow/logged-models/{model_id}`,
    `POST ${base}/mlflow/logged-models/search`,
    `PATCH ${base}/mlflow/logged-models/{model_id}/tags`,
    `POST ${base}/mlflow/logged-models/{model_id}/params`,
    `DELETE ${base}/mlflow/logged-models/{model_id}/tags/{*tag_key}`,
  ]) {
    assert.ok(routes.includes(expected), expected);
  }
});

test('upload, list and download a run artifact tree through the proxied API', async () => {
  const { runId, root, artifactUri } = await newRun();
  assert.equal(artifactUri, `mlflow-artifacts:/workspaces/team-a/experiments/0/${runId}/artifacts`);

  for (const [path, content] of [
    ['metrics.txt', 'acc=0.9'],
    ['model/MLmodel', 'flavors: {}'],
    ['model/model.pkl', 'PICKLE'],
    ['model/sub/deep.bin', 'deep'],
  ] as const) {
    const res = await put(`${root}/${path}`, content);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(res.json, {});
  }

  // One level, named relative to the folder listed, folders without a size.
  assert.deepEqual((await list(root)).json, {
    files: [
      { path: 'metrics.txt', is_dir: false, file_size: 7 },
      { path: 'model', is_dir: true },
    ],
  });
  assert.deepEqual((await list(`${root}/model/`)).json, {
    files: [
      { path: 'MLmodel', is_dir: false, file_size: 11 },
      { path: 'model.pkl', is_dir: false, file_size: 6 },
      { path: 'sub', is_dir: true },
    ],
  });
  // A file or a path with nothing below lists as empty, as in MLflow (clients tell files from folders so).
  assert.deepEqual((await list(`${root}/metrics.txt`)).json, { files: [] });
  assert.deepEqual((await list(`${root}/nothing-here`)).json, { files: [] });

  const got = await get(`${root}/model/model.pkl`);
  assert.equal(got.status, 200);
  assert.equal(got.bytes?.toString(), 'PICKLE');
  assert.equal(got.headers['content-length'], '6');
  assert.equal(got.headers['content-type'], 'text/plain');

  // Replacing a file.
  await put(`${root}/metrics.txt`, 'acc=0.95');
  assert.equal((await get(`${root}/metrics.txt`)).bytes?.toString(), 'acc=0.95');

  // The bytes are in the workspace artifact store at the run's datastore folder.
  const { store, container, prefix } = await services.datastores.resolve('team-a', MLFLOW_ARTIFACT_DATASTORE);
  assert.ok(await store.exists(container, `${prefix}${runArtifactsPath('0', runId)}model/sub/deep.bin`));

  // The tracking API's artifacts/list: paths relative to the run's artifact root.
  const top = await call(mlflowArtifactList, { method: 'GET', query: { run_id: runId } });
  assert.deepEqual(top.json, {
    root_uri: artifactUri,
    files: [
      { path: 'metrics.txt', is_dir: false, file_size: 8 },
      { path: 'model', is_dir: true },
    ],
  });
  const inner = await call(mlflowArtifactList, { method: 'GET', query: { run_id: runId, path: 'model/sub' } });
  assert.deepEqual(inner.json.files, [{ path: 'model/sub/deep.bin', is_dir: false, file_size: 4 }]);
  const escape = await call(mlflowArtifactList, { method: 'GET', query: { run_id: runId, path: '../x' } });
  assert.equal(escape.status, 400);
  assert.equal(escape.json.error_code, 'INVALID_PARAMETER_VALUE');
  const noRun = await call(mlflowArtifactList, { method: 'GET', query: { run_id: 'nope' } });
  assert.equal(noRun.status, 404);
  assert.equal(noRun.json.error_code, 'RESOURCE_DOES_NOT_EXIST');
  const badToken = await call(mlflowArtifactList, { method: 'GET', query: { run_id: runId, page_token: 'xx' } });
  assert.equal(badToken.status, 400);

  // Deleting a folder deletes everything in it.
  const deleted = await call(mlflowProxiedArtifactDelete, { method: 'DELETE', params: { path: `${root}/model` } });
  assert.equal(deleted.status, 200);
  assert.deepEqual(
    (await list(root)).json.files.map((f: { path: string }) => f.path),
    ['metrics.txt'],
  );
  const again = await call(mlflowProxiedArtifactDelete, { method: 'DELETE', params: { path: `${root}/model` } });
  assert.equal(again.status, 404);
  assert.equal(again.json.error_code, 'RESOURCE_DOES_NOT_EXIST');
});

test('missing artifacts are 404 RESOURCE_DOES_NOT_EXIST in MLflow shape', async () => {
  const { root } = await newRun();
  const missing = await get(`${root}/absent.txt`);
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.json, {
    error_code: 'RESOURCE_DOES_NOT_EXIST',
    message: `Artifact '${root}/absent.txt' does not exist.`,
  });
  await put(`${root}/dir/file.txt`, 'x');
  const folder = await get(`${root}/dir`);
  assert.equal(folder.status, 404);
  assert.match(folder.json.message, /is a folder/);
  const noPath = await call(mlflowProxiedArtifactList, { method: 'GET' });
  assert.equal(noPath.status, 400);
  assert.equal(noPath.json.error_code, 'INVALID_PARAMETER_VALUE');
});

test('another workspace, traversal and odd paths are refused', async () => {
  const { runId } = await newRun();
  const other = await put(`workspaces/team-b/experiments/0/${runId}/artifacts/x.txt`, 'x');
  assert.equal(other.status, 400);
  assert.equal(other.json.error_code, 'INVALID_PARAMETER_VALUE');
  assert.match(other.json.message, /belongs to workspace 'team-b', not to 'team-a'/);
  for (const path of [
    `workspaces/team-a/experiments/0/${runId}/../../../../team-b/experiments/0/x`,
    `/workspaces/team-a/experiments/0/${runId}/artifacts/x`,
    `workspaces/team-a/experiments/0/${runId}//x`,
    `workspaces/team-a/experiments/0/${runId}/a\\b`,
    `workspaces/team-a/experiments/0/${runId}/a\u0000b`,
    'workspaces/team-a/datastores/workspaceblobstore/x',
    '',
  ]) {
    for (const res of [await put(path, 'x'), await get(path), await list(path)]) {
      assert.equal(res.status, 400, `${JSON.stringify(path)}: ${JSON.stringify(res.json)}`);
      assert.equal(res.json.error_code, 'INVALID_PARAMETER_VALUE');
    }
  }
  // A token for team-a cannot reach team-b's artifacts at all.
  const forbidden = await put(`workspaces/team-b/experiments/0/${runId}/artifacts/x.txt`, 'x', 'team-b');
  assert.equal(forbidden.status, 403);
  assert.equal(forbidden.json.error_code, 'PERMISSION_DENIED');
});

test('MLflow 2 log-model appends to the mlflow.log-model.history tag', async () => {
  const { runId } = await newRun();
  const modelJson = (n: number) =>
    JSON.stringify({
      run_id: runId,
      artifact_path: `model-${n}`,
      utc_time_created: `2025-01-01 00:00:0${n}.000000`,
      flavors: { sklearn: { pickled_model: 'model.pkl', config: { x: 1 } } },
      signature: { inputs: '[]' },
      model_uuid: `uuid-${n}`,
    });
  for (const n of [1, 2]) {
    const res = await call(mlflowRunLogModel, { body: { run_id: runId, model_json: modelJson(n) } });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(res.json, {});
  }
  const run = await call(mlflowRunGet, { method: 'GET', query: { run_id: runId } });
  const tag = run.json.run.data.tags.find((t: { key: string }) => t.key === 'mlflow.log-model.history');
  assert.deepEqual(JSON.parse(tag.value), [
    {
      run_id: runId,
      artifact_path: 'model-1',
      utc_time_created: '2025-01-01 00:00:01.000000',
      model_uuid: 'uuid-1',
      flavors: { sklearn: { pickled_model: 'model.pkl' } },
    },
    {
      run_id: runId,
      artifact_path: 'model-2',
      utc_time_created: '2025-01-01 00:00:02.000000',
      model_uuid: 'uuid-2',
      flavors: { sklearn: { pickled_model: 'model.pkl' } },
    },
  ]);

  const missing = await call(mlflowRunLogModel, {
    body: { run_id: runId, model_json: JSON.stringify({ artifact_path: 'm' }) },
  });
  assert.equal(missing.status, 400);
  assert.match(missing.json.message, /missing mandatory fields/);
  const malformed = await call(mlflowRunLogModel, { body: { run_id: runId, model_json: '{' } });
  assert.equal(malformed.status, 400);
  const noRun = await call(mlflowRunLogModel, { body: { run_id: 'nope', model_json: modelJson(3) } });
  assert.equal(noRun.status, 404);
});

test('log-inputs: datasets are validated, stored once, and shown by runs/get and runs/search', async () => {
  const { runId } = await newRun();
  const dataset = {
    name: 'iris',
    digest: 'abc123',
    source_type: 'local',
    source: '{"uri": "/data/iris.csv"}',
    schema: '{"mlflow_colspec": []}',
    profile: '{"num_rows": 150}',
  };
  const logged = await call(mlflowRunLogInputs, {
    body: { run_id: runId, datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'training' }], dataset }] },
  });
  assert.equal(logged.status, 200, JSON.stringify(logged.json));
  // The same dataset again (another context) is not a second input, as in MLflow.
  await call(mlflowRunLogInputs, {
    body: { run_id: runId, datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'eval' }], dataset }] },
  });
  await call(mlflowRunLogInputs, {
    body: { run_id: runId, datasets: [{ dataset: { ...dataset, name: 'iris-test', schema: undefined } }] },
  });
  const expected = [
    { tags: [{ key: 'mlflow.data.context', value: 'training' }], dataset },
    {
      tags: [],
      dataset: {
        name: 'iris-test',
        digest: 'abc123',
        source_type: 'local',
        source: dataset.source,
        profile: dataset.profile,
      },
    },
  ];
  const got = await call(mlflowRunGet, { method: 'GET', query: { run_id: runId } });
  assert.deepEqual(got.json.run.inputs, { dataset_inputs: expected });
  assert.equal(got.json.run.outputs, undefined);

  const searched = await call(mlflowRunSearch, {
    body: { experiment_ids: ['0'], filter: `attributes.run_id = '${runId}'` },
  });
  assert.deepEqual(searched.json.runs[0].inputs, { dataset_inputs: expected });

  const invalid = await call(mlflowRunLogInputs, {
    body: { run_id: runId, datasets: [{ dataset: { name: 'x', source_type: 'local', source: '' } }] },
  });
  assert.equal(invalid.status, 400);
  assert.equal(invalid.json.error_code, 'INVALID_PARAMETER_VALUE');
  assert.match(invalid.json.message, /digest/);
  const longDigest = await call(mlflowRunLogInputs, {
    body: { run_id: runId, datasets: [{ dataset: { ...dataset, digest: 'x'.repeat(37) } }] },
  });
  assert.equal(longDigest.status, 400);

  // A deleted run takes no inputs.
  await call(mlflowRunDelete, { body: { run_id: runId } });
  const deleted = await call(mlflowRunLogInputs, { body: { run_id: runId, datasets: [{ dataset }] } });
  assert.equal(deleted.status, 400);
  assert.match(deleted.json.message, /must be in the 'active' state/);
});

test('MLflow 3 logged models: create, upload, finalize, get, search, tags, delete', async () => {
  const exp = await call(mlflowExperimentCreate, { body: { name: 'models-exp' } });
  const experimentId: string = exp.json.experiment_id;
  const { runId } = await newRun(experimentId);

  const created = await call(mlflowLoggedModelCreate, {
    body: {
      experiment_id: experimentId,
      name: 'model',
      model_type: 'Classifier',
      source_run_id: runId,
      params: [{ key: 'alpha', value: '0.5' }],
      tags: [{ key: 'mlflow.source.type', value: 'LOCAL' }],
    },
  });
  assert.equal(created.status, 200, JSON.stringify(created.json));
  const info = created.json.model.info;
  const modelId: string = info.model_id;
  assert.match(modelId, /^m-[0-9a-f]{32}$/);
  assert.deepEqual(
    { ...info, creation_timestamp_ms: 0, last_updated_timestamp_ms: 0 },
    {
      model_id: modelId,
      experiment_id: experimentId,
      name: 'model',
      creation_timestamp_ms: 0,
      last_updated_timestamp_ms: 0,
      artifact_uri: `mlflow-artifacts:/workspaces/team-a/experiments/${experimentId}/models/${modelId}/artifacts`,
      status: 'LOGGED_MODEL_PENDING',
      model_type: 'Classifier',
      source_run_id: runId,
      tags: [{ key: 'mlflow.source.type', value: 'LOCAL' }],
      registrations: [],
    },
  );
  assert.deepEqual(created.json.model.data, { params: [{ key: 'alpha', value: '0.5' }], metrics: [] });

  // The model's artifacts go through the proxied API to its own folder.
  const modelRoot = `workspaces/team-a/experiments/${experimentId}/models/${modelId}/artifacts`;
  assert.equal((await put(`${modelRoot}/MLmodel`, 'flavors: {}')).status, 200);
  assert.deepEqual((await list(modelRoot)).json, { files: [{ path: 'MLmodel', is_dir: false, file_size: 11 }] });
  const { store, container, prefix } = await services.datastores.resolve('team-a', MLFLOW_ARTIFACT_DATASTORE);
  assert.ok(
    await store.exists(container, `${prefix}mlflow/experiments/${experimentId}/models/${modelId}/artifacts/MLmodel`),
  );

  const ready = await call(mlflowLoggedModelFinalize, {
    method: 'PATCH',
    params: { model_id: modelId },
    body: { model_id: modelId, status: 'LOGGED_MODEL_READY' },
  });
  assert.equal(ready.status, 200, JSON.stringify(ready.json));
  assert.equal(ready.json.model.info.status, 'LOGGED_MODEL_READY');
  assert.ok(ready.json.model.info.last_updated_timestamp_ms > info.creation_timestamp_ms);
  const badStatus = await call(mlflowLoggedModelFinalize, {
    method: 'PATCH',
    params: { model_id: modelId },
    body: { status: 'LOGGED_MODEL_PENDING' },
  });
  assert.equal(badStatus.status, 400);
  assert.match(badStatus.json.message, /LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED/);

  const got = await call(mlflowLoggedModelGet, { method: 'GET', params: { model_id: modelId } });
  assert.equal(got.json.model.info.status, 'LOGGED_MODEL_READY');
  const unknown = await call(mlflowLoggedModelGet, { method: 'GET', params: { model_id: 'm-nope' } });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json.error_code, 'RESOURCE_DOES_NOT_EXIST');

  // A second model of the run, failed by proto enum number; a third with a generated name.
  const second = await call(mlflowLoggedModelCreate, {
    body: { experiment_id: experimentId, name: 'other', source_run_id: runId },
  });
  const secondId: string = second.json.model.info.model_id;
  const failed = await call(mlflowLoggedModelFinalize, {
    method: 'PATCH',
    params: { model_id: secondId },
    body: { status: 3 },
  });
  assert.equal(failed.json.model.info.status, 'LOGGED_MODEL_UPLOAD_FAILED');
  const third = await call(mlflowLoggedModelCreate, { body: { experiment_id: experimentId } });
  const thirdId: string = third.json.model.info.model_id;
  assert.match(third.json.model.info.name, /^model-[0-9a-f]{8}$/);

  const search = (body: object) => call(mlflowLoggedModelSearch, { body: { experiment_ids: [experimentId], ...body } });
  const ids = (res: Result) => res.json.models.map((m: { info: { model_id: string } }) => m.info.model_id);
  // Newest first by default.
  assert.deepEqual(ids(await search({})), [thirdId, secondId, modelId]);
  assert.deepEqual(ids(await search({ order_by: [{ field_name: 'creation_timestamp', ascending: true }] })), [
    modelId,
    secondId,
    thirdId,
  ]);
  // What MLflow's runs:/<run>/<name> resolution sends, and the usual source_run_id lookup.
  assert.deepEqual(ids(await search({ filter: "name = 'model'" })), [modelId]);
  assert.deepEqual(ids(await search({ filter: `source_run_id = '${runId}'` })), [secondId, modelId]);
  assert.deepEqual(ids(await search({ filter: "status = 'LOGGED_MODEL_READY'" })), [modelId]);
  assert.deepEqual(ids(await search({ filter: "params.alpha = '0.5' AND tags.`mlflow.source.type` = 'LOCAL'" })), [
    modelId,
  ]);
  assert.deepEqual(ids(await search({ experiment_ids: ['0'] })), []);
  const metrics = await search({ filter: 'metrics.accuracy > 0.9' });
  assert.equal(metrics.status, 400);
  assert.equal(metrics.json.error_code, 'INVALID_PARAMETER_VALUE');
  assert.match(metrics.json.message, /cannot be filtered by metrics/);

  // Paging, one at a time, with a filter applied after the store query (LIKE).
  const seen: string[] = [];
  let pageToken: string | undefined;
  for (let pages = 0; pages < 10; pages++) {
    const page = await search({
      max_results: 1,
      filter: "name LIKE '%o%'",
      ...(pageToken === undefined ? {} : { page_token: pageToken }),
    });
    assert.equal(page.status, 200, JSON.stringify(page.json));
    seen.push(...ids(page));
    pageToken = page.json.next_page_token;
    if (pageToken === undefined) break;
  }
  assert.deepEqual(seen, [thirdId, secondId, modelId]);
  const foreignToken = await search({ filter: "name = 'model'", page_token: 'eyJiIjoieCJ9' });
  assert.equal(foreignToken.status, 400);

  // Tags: set (merged, last value wins), delete, delete again.
  const tagged = await call(mlflowLoggedModelSetTags, {
    method: 'PATCH',
    params: { model_id: modelId },
    body: {
      tags: [
        { key: 'stage', value: 'dev' },
        { key: 'path/like', value: '1' },
        { key: 'stage', value: 'prod' },
      ],
    },
  });
  assert.equal(tagged.status, 200, JSON.stringify(tagged.json));
  assert.deepEqual(tagged.json.model.info.tags, [
    { key: 'mlflow.source.type', value: 'LOCAL' },
    { key: 'stage', value: 'prod' },
    { key: 'path/like', value: '1' },
  ]);
  const untag = (key: string) =>
    call(mlflowLoggedModelDeleteTag, { method: 'DELETE', params: { model_id: modelId, tag_key: key } });
  assert.equal((await untag('path/like')).status, 200);
  assert.deepEqual((await untag('stage')).json, {});
  const untagAgain = await untag('stage');
  assert.equal(untagAgain.status, 404);
  assert.equal(untagAgain.json.error_code, 'RESOURCE_DOES_NOT_EXIST');
  const afterTags = await call(mlflowLoggedModelGet, { method: 'GET', params: { model_id: modelId } });
  assert.deepEqual(afterTags.json.model.info.tags, [{ key: 'mlflow.source.type', value: 'LOCAL' }]);

  // Params past the first batch of a create come separately; a logged value does not change.
  const moreParams = await call(mlflowLoggedModelLogParams, {
    params: { model_id: modelId },
    body: {
      model_id: modelId,
      params: [
        { key: 'alpha', value: '0.5' },
        { key: 'beta', value: '2' },
      ],
    },
  });
  assert.equal(moreParams.status, 200, JSON.stringify(moreParams.json));
  const withParams = await call(mlflowLoggedModelGet, { method: 'GET', params: { model_id: modelId } });
  assert.deepEqual(withParams.json.model.data.params, [
    { key: 'alpha', value: '0.5' },
    { key: 'beta', value: '2' },
  ]);
  const changedParam = await call(mlflowLoggedModelLogParams, {
    params: { model_id: modelId },
    body: { params: [{ key: 'alpha', value: '0.7' }] },
  });
  assert.equal(changedParam.status, 400);
  assert.match(changedParam.json.message, /Changing param values is not allowed/);

  // Delete: no longer found nor searched.
  const removed = await call(mlflowLoggedModelDelete, {
    method: 'DELETE',
    params: { model_id: secondId },
    body: { model_id: secondId },
  });
  assert.equal(removed.status, 200);
  assert.deepEqual(removed.json, {});
  assert.equal((await call(mlflowLoggedModelGet, { method: 'GET', params: { model_id: secondId } })).status, 404);
  assert.deepEqual(ids(await search({})), [thirdId, modelId]);
  const removedAgain = await call(mlflowLoggedModelDelete, { method: 'DELETE', params: { model_id: secondId } });
  assert.equal(removedAgain.status, 404);
});

test('logged models: bad names, unknown experiments and runs, deleted experiments are refused', async () => {
  const bad = await call(mlflowLoggedModelCreate, { body: { experiment_id: '0', name: 'a/b' } });
  assert.equal(bad.status, 400);
  assert.match(bad.json.message, /cannot contain/);
  const noExp = await call(mlflowLoggedModelCreate, { body: { experiment_id: '999' } });
  assert.equal(noExp.status, 404);
  assert.equal(noExp.json.error_code, 'RESOURCE_DOES_NOT_EXIST');
  const noRun = await call(mlflowLoggedModelCreate, { body: { experiment_id: '0', source_run_id: 'nope' } });
  assert.equal(noRun.status, 404);
  const exp = await call(mlflowExperimentCreate, { body: { name: 'doomed' } });
  await call(mlflowExperimentDelete, { body: { experiment_id: exp.json.experiment_id } });
  const inactive = await call(mlflowLoggedModelCreate, { body: { experiment_id: exp.json.experiment_id } });
  assert.equal(inactive.status, 400);
  assert.match(inactive.json.message, /must be in the 'active' state/);
  const noBody = await call(mlflowLoggedModelCreate, {});
  assert.equal(noBody.status, 400);
});

test('MLflow 3 log_model links the model to its run as an output', async () => {
  const { runId } = await newRun();
  const created = await call(mlflowLoggedModelCreate, {
    body: { experiment_id: '0', name: 'model', source_run_id: runId },
  });
  const modelId: string = created.json.model.info.model_id;
  // MLflow sends proto JSON; int64 may come as a string.
  const linked = await call(mlflowRunLogOutputs, {
    body: { run_id: runId, models: [{ model_id: modelId, step: '0' }] },
  });
  assert.equal(linked.status, 200, JSON.stringify(linked.json));
  await call(mlflowRunLogOutputs, { body: { run_id: runId, models: [{ model_id: modelId, step: 0 }] } });
  await call(mlflowRunLogInputs, { body: { run_id: runId, models: [{ model_id: modelId }] } });
  const got = await call(mlflowRunGet, { method: 'GET', query: { run_id: runId } });
  assert.deepEqual(got.json.run.outputs, { model_outputs: [{ model_id: modelId, step: 0 }] });
  assert.deepEqual(got.json.run.inputs, { model_inputs: [{ model_id: modelId }] });
  const noRun = await call(mlflowRunLogOutputs, { body: { run_id: 'nope', models: [] } });
  assert.equal(noRun.status, 404);
});
