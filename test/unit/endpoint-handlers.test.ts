import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The library is a CommonJS bundle whose classes Node cannot list as named ESM exports.
import azureFunctions from '@azure/functions';
import type { HttpHandler, HttpResponseInit } from '@azure/functions';
import { loadConfig } from '../../shared/config.js';
import { deploymentProvisionInputSchema } from '../../shared/contracts/endpoint.js';
import { registeredFunctions } from '../../shared/function-catalog.js';
import { closeServicesOf, createServices, setServicesForTesting } from '../../shared/wiring.js';
import type { Services } from '../../shared/wiring.js';
import { onlineDeploymentDelete } from '../../functions/online-deployment-delete.js';
import { onlineDeploymentGet } from '../../functions/online-deployment-get.js';
import { onlineDeploymentList } from '../../functions/online-deployment-list.js';
import { onlineDeploymentLogsGet } from '../../functions/online-deployment-logs-get.js';
import { onlineDeploymentPut } from '../../functions/online-deployment-put.js';
import { onlineEndpointDelete } from '../../functions/online-endpoint-delete.js';
import { onlineEndpointGet } from '../../functions/online-endpoint-get.js';
import { onlineEndpointList } from '../../functions/online-endpoint-list.js';
import { onlineEndpointListKeys } from '../../functions/online-endpoint-list-keys.js';
import { onlineEndpointPatch } from '../../functions/online-endpoint-patch.js';
import { onlineEndpointPut } from '../../functions/online-endpoint-put.js';
import { onlineEndpointRegenerateKeys } from '../../functions/online-endpoint-regenerate-keys.js';
import { onlineEndpointToken } from '../../functions/online-endpoint-token.js';
import { contextWithDurableClient } from '../support/durable-client-context.js';

const { HttpRequest } = azureFunctions;

let dataDir: string;
let services: Services;
let teamToken: string;
/** Answers the DurableClient's start call and records the orchestrations started. */
let server: Server;
let origin: string;
const started: { name: string; id: string; input: unknown }[] = [];

before(async () => {
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/durabletask\//, '');
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const [kind, name = '', id = ''] = path.split('/');
      if (req.method === 'POST' && kind === 'orchestrators') {
        started.push({ name, id: decodeURIComponent(id), input: JSON.parse(text) as unknown });
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id }));
        return;
      }
      res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  dataDir = await mkdtemp(join(tmpdir(), 'tessera-endpoint-http-'));
  // The management plane under test, with a provisioner that accepts every deployment: loading
  // real scorers is the data plane's (test/unit/serving-*.test.ts, test/e2e/online-endpoints.test.ts).
  services = await createServices(loadConfig({ TESSERA_DATA_DIR: dataDir, PORT: '7997' }), {
    deploymentProvisioner: { provision: () => Promise.resolve({ ok: true }) },
  });
  setServicesForTesting(services);
  teamToken = (await services.tokens.create({ workspaces: ['team-a'] })).token;
  await services.workspaces.put('team-a', {});
  await services.workspaces.put('team-b', {});
  await services.assets.putVersion('team-a', 'model', 'iris-onnx', '1', {
    name: 'iris-onnx',
    path: 'azureml://datastores/workspaceblobstore/paths/models/iris',
  });
});

after(async () => {
  setServicesForTesting(undefined);
  await closeServicesOf(services);
  await rm(dataDir, { recursive: true, force: true });
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

interface Call {
  method?: string;
  token?: string;
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
}

async function call(handler: HttpHandler, c: Call = {}) {
  const headers: Record<string, string> = {};
  if (c.token !== undefined) headers.authorization = `Bearer ${c.token}`;
  const request = new HttpRequest({
    method: c.method ?? 'GET',
    url: 'http://127.0.0.1:7997/api/test',
    headers,
    params: c.params ?? {},
    query: c.query ?? {},
    ...(c.body === undefined ? {} : { body: { string: JSON.stringify(c.body) } }),
  });
  const context = contextWithDurableClient({ origin, invocationId: 'inv-endpoints' });
  const raw = (await handler(request, context)) as HttpResponseInit;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are inspected field by field
  return { status: raw.status ?? 200, json: raw.jsonBody as any, raw };
}

const ep = (name: string, extra: Record<string, string> = {}) => ({ ws: 'team-a', name, ...extra });

test('the routes are registered under workspaces/{ws}/onlineEndpoints', () => {
  const routes = registeredFunctions()
    .filter((f) => f.name.startsWith('online-'))
    .map((f) => `${f.methods?.join(',') ?? ''} ${f.route ?? ''}`)
    .sort();
  assert.deepEqual(routes, [
    'DELETE workspaces/{ws}/onlineEndpoints/{name}',
    'DELETE workspaces/{ws}/onlineEndpoints/{name}/deployments/{deployment}',
    'GET workspaces/{ws}/onlineEndpoints',
    'GET workspaces/{ws}/onlineEndpoints/{name}',
    'GET workspaces/{ws}/onlineEndpoints/{name}/deployments',
    'GET workspaces/{ws}/onlineEndpoints/{name}/deployments/{deployment}',
    'GET workspaces/{ws}/onlineEndpoints/{name}/deployments/{deployment}/logs',
    'PATCH workspaces/{ws}/onlineEndpoints/{name}',
    'POST workspaces/{ws}/onlineEndpoints/{name}/listKeys',
    'POST workspaces/{ws}/onlineEndpoints/{name}/regenerateKeys',
    'POST workspaces/{ws}/onlineEndpoints/{name}/token',
    'PUT workspaces/{ws}/onlineEndpoints/{name}',
    'PUT workspaces/{ws}/onlineEndpoints/{name}/deployments/{deployment}',
  ]);
});

test('an endpoint and a deployment through the API: create, provision, traffic, keys, logs, delete', async () => {
  const put = await call(onlineEndpointPut, {
    method: 'PUT',
    token: teamToken,
    params: ep('http-ep'),
    body: { name: 'http-ep', auth_mode: 'key' },
  });
  assert.equal(put.status, 201, JSON.stringify(put.json));
  assert.equal(put.json.scoring_uri, 'http://127.0.0.1:7997/api/endpoints/http-ep/score');
  assert.equal((await call(onlineEndpointGet, { token: teamToken, params: ep('http-ep') })).json.auth_mode, 'key');
  const list = await call(onlineEndpointList, { token: teamToken, params: { ws: 'team-a' } });
  assert.deepEqual(
    list.json.value.map((e: { name: string }) => e.name),
    ['http-ep'],
  );
  // A token of team-a cannot reach team-b.
  assert.equal((await call(onlineEndpointList, { token: teamToken, params: { ws: 'team-b' } })).status, 403);
  assert.equal((await call(onlineEndpointList, { params: { ws: 'team-a' } })).status, 401);

  const deployment = await call(onlineDeploymentPut, {
    method: 'PUT',
    token: teamToken,
    params: ep('http-ep', { deployment: 'blue' }),
    body: { name: 'blue', endpoint_name: 'http-ep', model: 'azureml:iris-onnx:1', instance_type: 'Standard_DS3_v2' },
  });
  assert.equal(deployment.status, 201, JSON.stringify(deployment.json));
  assert.equal(deployment.json.provisioning_state, 'Creating');
  assert.deepEqual(started.at(-1), {
    name: 'deploymentProvision',
    id: 'deployment:team-a:http-ep:blue:1',
    input: { workspace: 'team-a', endpoint: 'http-ep', deployment: 'blue', generation: 1 },
  });
  // What the orchestration's activity does.
  await services.endpoints.provisionDeployment(deploymentProvisionInputSchema.parse(started.at(-1)?.input));
  const shown = await call(onlineDeploymentGet, { token: teamToken, params: ep('http-ep', { deployment: 'blue' }) });
  assert.equal(shown.json.provisioning_state, 'Succeeded');
  const deployments = await call(onlineDeploymentList, { token: teamToken, params: ep('http-ep') });
  assert.deepEqual(
    deployments.json.value.map((d: { name: string }) => d.name),
    ['blue'],
  );

  const traffic = await call(onlineEndpointPatch, {
    method: 'PATCH',
    token: teamToken,
    params: ep('http-ep'),
    body: { traffic: { blue: 100 } },
  });
  assert.equal(traffic.status, 200, JSON.stringify(traffic.json));
  assert.deepEqual(traffic.json.traffic, { blue: 100 });
  const bad = await call(onlineEndpointPatch, {
    method: 'PATCH',
    token: teamToken,
    params: ep('http-ep'),
    body: { traffic: { blue: 90 } },
  });
  assert.equal(bad.status, 400);
  assert.match(bad.json.error.message, /add up to 90/);

  const keys = await call(onlineEndpointListKeys, { method: 'POST', token: teamToken, params: ep('http-ep') });
  assert.equal(keys.status, 200);
  const regenerated = await call(onlineEndpointRegenerateKeys, {
    method: 'POST',
    token: teamToken,
    params: ep('http-ep'),
    body: { keyType: 'Secondary' },
  });
  assert.equal(regenerated.status, 200);
  assert.equal(regenerated.json.primaryKey, keys.json.primaryKey);
  assert.notEqual(regenerated.json.secondaryKey, keys.json.secondaryKey);
  const token = await call(onlineEndpointToken, { method: 'POST', token: teamToken, params: ep('http-ep') });
  assert.equal(token.status, 400);

  const logs = await call(onlineDeploymentLogsGet, {
    token: teamToken,
    params: ep('http-ep', { deployment: 'blue' }),
    query: { lines: '5' },
  });
  assert.equal(logs.status, 200);
  assert.match(String(logs.raw.body), /Succeeded/);

  const refused = await call(onlineDeploymentDelete, {
    method: 'DELETE',
    token: teamToken,
    params: ep('http-ep', { deployment: 'blue' }),
  });
  assert.equal(refused.status, 409);
  assert.equal(
    (await call(onlineEndpointDelete, { method: 'DELETE', token: teamToken, params: ep('http-ep') })).status,
    204,
  );
  assert.equal((await call(onlineEndpointGet, { token: teamToken, params: ep('http-ep') })).status, 404);
});

test('Kubernetes endpoints and deployments are refused with a 400 that says so; a bad spec names its key', async () => {
  const k8s = await call(onlineEndpointPut, {
    method: 'PUT',
    token: teamToken,
    params: ep('k8s-ep'),
    body: { name: 'k8s-ep', compute: 'azureml:inferencecompute', auth_mode: 'key' },
  });
  assert.equal(k8s.status, 400);
  assert.equal(
    k8s.json.error.message,
    'Kubernetes online endpoints are not supported by Tessera yet; use a managed online endpoint',
  );
  const typo = await call(onlineEndpointPut, {
    method: 'PUT',
    token: teamToken,
    params: ep('typo-ep'),
    body: { name: 'typo-ep', auth_mod: 'key' },
  });
  assert.equal(typo.status, 400);
  assert.match(typo.json.error.message, /auth_mod/);
  const token = await call(onlineEndpointPut, {
    method: 'PUT',
    token: teamToken,
    params: ep('tok-ep'),
    body: { name: 'tok-ep', auth_mode: 'aml_token' },
  });
  assert.equal(token.status, 201);
  const issued = await call(onlineEndpointToken, { method: 'POST', token: teamToken, params: ep('tok-ep') });
  assert.equal(issued.status, 200);
  assert.equal(issued.json.tokenType, 'Bearer');
  await services.endpointDirectory.verifyCaller('tok-ep', `Bearer ${String(issued.json.accessToken)}`);
});
