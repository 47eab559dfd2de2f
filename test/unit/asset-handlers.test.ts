import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The library is a CommonJS bundle whose classes Node cannot list as named ESM exports.
import azureFunctions from '@azure/functions';
import type { HttpHandler, HttpResponseInit } from '@azure/functions';
import { loadConfig } from '../../shared/config.js';
import { registeredFunctions } from '../../shared/function-catalog.js';
import { closeServicesOf, createServices, setServicesForTesting } from '../../shared/wiring.js';
import type { Services } from '../../shared/wiring.js';
import { compareRouteSpecificity, compileRoute, matchRoute } from '../../local/http/route-template.js';
import { assetArchive } from '../../functions/asset-archive.js';
import { assetGet } from '../../functions/asset-get.js';
import { assetLabelPut } from '../../functions/asset-label-put.js';
import { assetList } from '../../functions/asset-list.js';
import { assetVersionArchive } from '../../functions/asset-version-archive.js';
import { assetVersionCreate } from '../../functions/asset-version-create.js';
import { assetVersionGet } from '../../functions/asset-version-get.js';
import { assetVersionList } from '../../functions/asset-version-list.js';
import { assetVersionPatch } from '../../functions/asset-version-patch.js';
import { assetVersionPut } from '../../functions/asset-version-put.js';
import { computeDelete } from '../../functions/compute-delete.js';
import { computeGet } from '../../functions/compute-get.js';
import { computeList } from '../../functions/compute-list.js';
import { computePut } from '../../functions/compute-put.js';
import { datastoreDelete } from '../../functions/datastore-delete.js';
import { datastoreGet } from '../../functions/datastore-get.js';
import { datastoreList } from '../../functions/datastore-list.js';
import { datastorePut } from '../../functions/datastore-put.js';

const { HttpRequest, InvocationContext } = azureFunctions;

let dataDir: string;
let services: Services;
let adminToken: string;
let teamToken: string;

// Specs from ../shared/conformance/azureml/azureml-examples/cli/{assets,resources}/** as JSON bodies.
const LOCAL_FILE_MODEL = {
  name: 'local-file-example',
  path: 'azureml://datastores/workspaceblobstore/paths/LocalUpload/model.pkl',
  description: 'Model created from local file.',
};
const BLOB_SAS_DATASTORE = {
  name: 'blob_sas_example',
  type: 'azure_blob',
  description: 'Datastore pointing to a blob container using SAS token.',
  account_name: 'mytestblobstore',
  container_name: 'data-container',
  credentials: { sas_token: '?sv=2024-01-01&ss=b&srt=co&sp=rl&sig=SECRET-SAS-SIGNATURE' },
};
const MINIMAL_CLUSTER = { name: 'minimal-example', type: 'amlcompute' };

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tessera-asset-http-'));
  services = await createServices(loadConfig({ TESSERA_DATA_DIR: dataDir, PORT: '7998' }));
  setServicesForTesting(services);
  adminToken = (await services.tokens.create({ workspaces: ['*'] })).token;
  teamToken = (await services.tokens.create({ workspaces: ['team-a'] })).token;
  await services.workspaces.put('team-a', {});
  await services.workspaces.put('team-b', {});
});

after(async () => {
  setServicesForTesting(undefined);
  await closeServicesOf(services);
  await rm(dataDir, { recursive: true, force: true });
});

interface Call {
  method?: string;
  token?: string;
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
}

interface Result {
  status: number;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies are inspected field by field
  raw: HttpResponseInit;
}

async function call(handler: HttpHandler, c: Call = {}): Promise<Result> {
  const headers: Record<string, string> = {};
  if (c.token !== undefined) headers.authorization = `Bearer ${c.token}`;
  const request = new HttpRequest({
    method: c.method ?? 'GET',
    url: 'http://127.0.0.1:7998/api/test',
    headers,
    params: c.params ?? {},
    query: c.query ?? {},
    ...(c.body === undefined ? {} : { body: { string: typeof c.body === 'string' ? c.body : JSON.stringify(c.body) } }),
  });
  const context = new InvocationContext({ invocationId: 'inv-assets', functionName: 'test', logHandler: () => {} });
  const raw = (await handler(request, context)) as HttpResponseInit;
  return { status: raw.status ?? 200, json: raw.jsonBody, raw };
}

const models = (name: string, extra: Record<string, string> = {}) => ({ ws: 'team-a', kind: 'models', name, ...extra });

test('PUT creates a version (201), repeats idempotently (200), and conflicts on other content (409)', async () => {
  const put = (body: unknown) =>
    call(assetVersionPut, {
      method: 'PUT',
      token: teamToken,
      params: models('local-file-example', { version: '1' }),
      body,
    });
  const created = await put(LOCAL_FILE_MODEL);
  assert.equal(created.status, 201, JSON.stringify(created.json));
  assert.equal(created.json.id, 'azureml:local-file-example:1');
  assert.equal(created.json.kind, 'model');
  assert.equal(created.json.spec.type, 'custom_model');
  assert.deepEqual(created.json.labels, ['latest']);
  assert.match(created.json.createdBy, /^tok_/);
  assert.equal((await put(LOCAL_FILE_MODEL)).status, 200);
  const conflict = await put({ ...LOCAL_FILE_MODEL, path: 'azureml://datastores/workspaceblobstore/paths/other.pkl' });
  assert.equal(conflict.status, 409);
  assert.equal(conflict.json.error.code, 'Conflict');
  assert.equal(conflict.json.error.target, 'path');
});

test('POST .../versions picks the next version; GET reads by version and by label', async () => {
  const post = await call(assetVersionCreate, {
    method: 'POST',
    token: teamToken,
    params: models('local-file-example'),
    body: LOCAL_FILE_MODEL,
  });
  assert.equal(post.status, 201, JSON.stringify(post.json));
  assert.equal(post.json.version, '2');
  const byVersion = await call(assetVersionGet, {
    token: teamToken,
    params: models('local-file-example', { version: '1' }),
  });
  assert.equal(byVersion.status, 200);
  assert.equal(byVersion.json.version, '1');
  const latest = await call(assetGet, { token: teamToken, params: models('local-file-example') });
  assert.equal(latest.json.version, '2');
  const label = await call(assetLabelPut, {
    method: 'PUT',
    token: teamToken,
    params: models('local-file-example', { label: 'prod' }),
    body: { version: '1' },
  });
  assert.equal(label.status, 200);
  assert.deepEqual(label.json.labels, ['prod']);
  const prod = await call(assetGet, {
    token: teamToken,
    params: models('local-file-example'),
    query: { label: 'prod' },
  });
  assert.equal(prod.json.version, '1');
  const missing = await call(assetVersionGet, {
    token: teamToken,
    params: models('local-file-example', { version: '7' }),
  });
  assert.equal(missing.status, 404);
  assert.match(missing.json.error.message, /Versions \(newest first\): 2, 1/);
});

test('lists latest versions and versions, with filters and pages', async () => {
  const page = await call(assetList, {
    token: teamToken,
    params: { ws: 'team-a', kind: 'models' },
    query: { limit: '10' },
  });
  assert.equal(page.status, 200);
  assert.deepEqual(
    page.json.value.map((a: { name: string; version: string }) => `${a.name}:${a.version}`),
    ['local-file-example:2'],
  );
  const versions = await call(assetVersionList, {
    token: teamToken,
    params: models('local-file-example'),
    query: { limit: '1' },
  });
  assert.deepEqual(
    versions.json.value.map((a: { version: string }) => a.version),
    ['2'],
  );
  assert.equal(typeof versions.json.continuation, 'string');
  const badTag = await call(assetList, {
    token: teamToken,
    params: { ws: 'team-a', kind: 'models' },
    query: { tag: '=x' },
  });
  assert.equal(badTag.status, 400);
  assert.equal(badTag.json.error.target, 'tag');
  const badArchived = await call(assetList, {
    token: teamToken,
    params: { ws: 'team-a', kind: 'models' },
    query: { archived: 'maybe' },
  });
  assert.equal(badArchived.status, 400);
  assert.equal(badArchived.json.error.target, 'archived');
});

test('400 with the key path for a bad spec, and for a PATCH of an immutable field', async () => {
  const bad = await call(assetVersionPut, {
    method: 'PUT',
    token: teamToken,
    params: models('local-file-example', { version: '9' }),
    body: { ...LOCAL_FILE_MODEL, type: 'pickle' },
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.code, 'ValidationError');
  assert.equal(bad.json.error.target, 'type');
  assert.match(bad.json.error.message, /request body/);

  const notJson = await call(assetVersionPut, {
    method: 'PUT',
    token: teamToken,
    params: models('local-file-example', { version: '9' }),
    body: '{"name":',
  });
  assert.equal(notJson.status, 400);
  assert.equal(notJson.json.error.target, 'body');

  const patch = await call(assetVersionPatch, {
    method: 'PATCH',
    token: teamToken,
    params: models('local-file-example', { version: '1' }),
    body: { path: 'azureml://datastores/workspaceblobstore/paths/x.pkl' },
  });
  assert.equal(patch.status, 400);
  assert.equal(patch.json.error.target, 'path');
  assert.match(patch.json.error.message, /versions are immutable/);

  const ok = await call(assetVersionPatch, {
    method: 'PATCH',
    token: teamToken,
    params: models('local-file-example', { version: '1' }),
    body: { tags: { reviewed: 'yes' } },
  });
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.json.tags, { reviewed: 'yes' });
});

test('archive and restore a version and a name; built-in datastores cannot be archived', async () => {
  const archived = await call(assetVersionArchive, {
    method: 'POST',
    token: teamToken,
    params: models('local-file-example', { version: '2', action: 'archive' }),
  });
  assert.equal(archived.status, 200);
  assert.equal(archived.json.archived, true);
  assert.equal((await call(assetGet, { token: teamToken, params: models('local-file-example') })).json.version, '1');
  const all = await call(assetArchive, {
    method: 'POST',
    token: teamToken,
    params: models('local-file-example', { action: 'restore' }),
  });
  assert.deepEqual(all.json, { kind: 'model', name: 'local-file-example', archived: false, changed: 1 });
  const datastore = await call(assetArchive, {
    method: 'POST',
    token: teamToken,
    params: { ws: 'team-a', kind: 'datastores', name: 'workspaceblobstore', action: 'archive' },
  });
  assert.equal(datastore.status, 400);
  assert.match(datastore.json.error.message, /cannot be archived/);
});

test('datastores: built-ins, masked credentials, delete', async () => {
  const list = await call(datastoreList, { token: teamToken, params: { ws: 'team-a' } });
  assert.equal(list.status, 200);
  assert.deepEqual(
    list.json.value.map((d: { name: string }) => d.name),
    ['workspaceblobstore', 'workspaceartifactstore', 'workspacefilestore', 'workspaceworkingdirectory'],
  );
  const put = await call(datastorePut, {
    method: 'PUT',
    token: teamToken,
    params: { ws: 'team-a', name: 'blob_sas_example' },
    body: BLOB_SAS_DATASTORE,
  });
  assert.equal(put.status, 201, JSON.stringify(put.json));
  assert.deepEqual(put.json.spec.credentials, { sas_token: '***' });
  const get = await call(datastoreGet, { token: teamToken, params: { ws: 'team-a', name: 'blob_sas_example' } });
  assert.equal(get.status, 200);
  const everything = JSON.stringify([
    put.raw,
    get.raw,
    (await call(datastoreList, { token: teamToken, params: { ws: 'team-a' } })).raw,
  ]);
  assert.equal(everything.includes('SECRET-SAS-SIGNATURE'), false);
  const builtinDelete = await call(datastoreDelete, {
    method: 'DELETE',
    token: teamToken,
    params: { ws: 'team-a', name: 'workspaceblobstore' },
  });
  assert.equal(builtinDelete.status, 400);
  const del = await call(datastoreDelete, {
    method: 'DELETE',
    token: teamToken,
    params: { ws: 'team-a', name: 'blob_sas_example' },
  });
  assert.equal(del.status, 204);
  assert.equal(
    (await call(datastoreGet, { token: teamToken, params: { ws: 'team-a', name: 'blob_sas_example' } })).status,
    404,
  );
});

test('computes: create, replace, read, list, delete', async () => {
  const params = { ws: 'team-a', name: 'minimal-example' };
  assert.equal(
    (await call(computePut, { method: 'PUT', token: teamToken, params, body: MINIMAL_CLUSTER })).status,
    201,
  );
  const replaced = await call(computePut, {
    method: 'PUT',
    token: teamToken,
    params,
    body: { ...MINIMAL_CLUSTER, max_instances: 4 },
  });
  assert.equal(replaced.status, 200);
  assert.equal((await call(computeGet, { token: teamToken, params })).json.spec.max_instances, 4);
  const listed = await call(computeList, { token: teamToken, params: { ws: 'team-a' } });
  assert.deepEqual(
    listed.json.value.map((c: { name: string }) => c.name),
    ['minimal-example'],
  );
  assert.equal((await call(computeDelete, { method: 'DELETE', token: teamToken, params })).status, 204);
  assert.equal((await call(computeDelete, { method: 'DELETE', token: teamToken, params })).status, 404);
});

test('archive and restore datastores and computes: 200 with the asset, 400 for a built-in, 404 unknown', async () => {
  const ds = { ws: 'team-a', kind: 'datastores', name: 'blob_archived' };
  const put = await call(datastorePut, {
    method: 'PUT',
    token: teamToken,
    params: { ws: 'team-a', name: 'blob_archived' },
    body: { ...BLOB_SAS_DATASTORE, name: 'blob_archived' },
  });
  assert.equal(put.status, 201, JSON.stringify(put.json));
  const archived = await call(assetArchive, { method: 'POST', token: teamToken, params: { ...ds, action: 'archive' } });
  assert.equal(archived.status, 200, JSON.stringify(archived.json));
  assert.equal(archived.json.name, 'blob_archived');
  assert.equal(archived.json.archived, true);
  assert.deepEqual(archived.json.spec.credentials, { sas_token: '***' });
  const again = await call(assetArchive, { method: 'POST', token: teamToken, params: { ...ds, action: 'archive' } });
  assert.equal(again.status, 200);
  assert.equal(again.json.archived, true);

  const names = async (query?: Record<string, string>) =>
    (
      await call(datastoreList, { token: teamToken, params: { ws: 'team-a' }, ...(query ? { query } : {}) })
    ).json.value.map((d: { name: string }) => d.name);
  assert.equal((await names()).includes('blob_archived'), false);
  assert.deepEqual(await names({ archived: 'true' }), ['blob_archived']);
  assert.equal((await names({ archived: 'all' })).includes('blob_archived'), true);
  const get = await call(datastoreGet, { token: teamToken, params: { ws: 'team-a', name: 'blob_archived' } });
  assert.equal(get.json.archived, true);
  const restored = await call(assetArchive, { method: 'POST', token: teamToken, params: { ...ds, action: 'restore' } });
  assert.equal(restored.status, 200);
  assert.equal(restored.json.archived, false);
  assert.equal((await names()).includes('blob_archived'), true);
  await call(datastoreDelete, { method: 'DELETE', token: teamToken, params: { ws: 'team-a', name: 'blob_archived' } });

  const cp = { ws: 'team-a', name: 'archived-cluster' };
  const computePutResult = await call(computePut, {
    method: 'PUT',
    token: teamToken,
    params: cp,
    body: { ...MINIMAL_CLUSTER, name: cp.name },
  });
  assert.equal(computePutResult.status, 201, JSON.stringify(computePutResult.json));
  const computeArchived = await call(assetArchive, {
    method: 'POST',
    token: teamToken,
    params: { ...cp, kind: 'computes', action: 'archive' },
  });
  assert.equal(computeArchived.status, 200);
  assert.equal(computeArchived.json.archived, true);
  const computes = await call(computeList, { token: teamToken, params: { ws: 'team-a' }, query: { archived: 'true' } });
  assert.deepEqual(
    computes.json.value.map((c: { name: string }) => c.name),
    ['archived-cluster'],
  );
  await call(computeDelete, { method: 'DELETE', token: teamToken, params: cp });

  const builtin = await call(assetArchive, {
    method: 'POST',
    token: teamToken,
    params: { ws: 'team-a', kind: 'datastores', name: 'workspaceblobstore', action: 'archive' },
  });
  assert.equal(builtin.status, 400);
  assert.match(builtin.json.error.message, /'workspaceblobstore'.*built-in datastores always exist/);
  const missing = await call(assetArchive, {
    method: 'POST',
    token: teamToken,
    params: { ws: 'team-a', kind: 'computes', name: 'nope', action: 'restore' },
  });
  assert.equal(missing.status, 404);
});

test('401 without a token, 403 for another workspace, 404 naming a missing workspace', async () => {
  const anonymous = await call(assetList, { params: { ws: 'team-a', kind: 'models' } });
  assert.equal(anonymous.status, 401);
  const other = await call(assetList, { token: teamToken, params: { ws: 'team-b', kind: 'models' } });
  assert.equal(other.status, 403);
  const otherDatastore = await call(datastorePut, {
    method: 'PUT',
    token: teamToken,
    params: { ws: 'team-b', name: 'blob_sas_example' },
    body: BLOB_SAS_DATASTORE,
  });
  assert.equal(otherDatastore.status, 403);
  const ghost = await call(assetList, { token: adminToken, params: { ws: 'ghost-ws', kind: 'models' } });
  assert.equal(ghost.status, 404);
  assert.equal(ghost.json.error.target, 'workspace');
  assert.match(ghost.json.error.message, /Workspace 'ghost-ws' does not exist/);
});

test('routes: every URL reaches the intended trigger under the local host route rules', () => {
  const table = registeredFunctions()
    .filter((f) => f.trigger === 'http' && f.route !== undefined)
    .map((f) => ({ name: f.name, methods: f.methods ?? [], route: compileRoute(f.route ?? '') }))
    .sort((a, b) => compareRouteSpecificity(a.route, b.route));
  const route = (method: string, path: string): string | undefined =>
    table.find((e) => e.methods.includes(method as never) && matchRoute(e.route, path) !== undefined)?.name;
  const cases: [string, string, string | undefined][] = [
    ['PUT', 'workspaces/ws1/data/titanic/versions/1', 'asset-version-put'],
    ['POST', 'workspaces/ws1/models/m/versions', 'asset-version-create'],
    ['GET', 'workspaces/ws1/environments/e/versions/3', 'asset-version-get'],
    ['PATCH', 'workspaces/ws1/components/c/versions/3', 'asset-version-patch'],
    ['GET', 'workspaces/ws1/models/m/versions', 'asset-version-list'],
    ['GET', 'workspaces/ws1/models/m', 'asset-get'],
    ['GET', 'workspaces/ws1/data', 'asset-list'],
    ['POST', 'workspaces/ws1/data/d/versions/2/archive', 'asset-version-archive'],
    ['POST', 'workspaces/ws1/data/d/restore', 'asset-archive'],
    ['POST', 'workspaces/ws1/datastores/workspaceblobstore/archive', 'asset-archive'],
    ['PUT', 'workspaces/ws1/models/m/labels/prod', 'asset-label-put'],
    ['PUT', 'workspaces/ws1/datastores/blob', 'datastore-put'],
    ['GET', 'workspaces/ws1/datastores/blob', 'datastore-get'],
    ['GET', 'workspaces/ws1/datastores', 'datastore-list'],
    ['DELETE', 'workspaces/ws1/datastores/blob', 'datastore-delete'],
    ['PUT', 'workspaces/ws1/computes/cpu', 'compute-put'],
    ['GET', 'workspaces/ws1/computes', 'compute-list'],
    ['GET', 'workspaces/ws1/jobs', undefined],
    ['PUT', 'workspaces/ws1/datastores/blob/versions/1', undefined],
  ];
  for (const [method, path, expected] of cases) assert.equal(route(method, path), expected, `${method} ${path}`);
});
