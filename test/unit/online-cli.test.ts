import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The library is a CommonJS bundle whose classes Node cannot list as named ESM exports.
import azureFunctions from '@azure/functions';
import type { HttpHandler, HttpResponseInit } from '@azure/functions';
import { runCli } from '../../cli/tessera.js';
import { compileRoute, matchRoute } from '../../local/http/route-template.js';
import { loadConfig } from '../../shared/config.js';
import { deploymentProvisionInputSchema } from '../../shared/contracts/endpoint.js';
import type { EndpointKeys, OnlineDeployment, OnlineEndpoint } from '../../shared/contracts/endpoint.js';
import { isAppError } from '../../shared/errors.js';
import { closeServicesOf, createServices, setServicesForTesting } from '../../shared/wiring.js';
import type { Services } from '../../shared/wiring.js';
import { artifactUploadPut } from '../../functions/artifact-upload-put.js';
import { datastorePathGet } from '../../functions/datastore-path-get.js';
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

// `tessera online-endpoint ...` and `tessera online-deployment ...` against the real HTTP functions
// and services, in process: `io.fetch` routes each request to its handler. Starting the
// provisioning orchestration runs its activity at once (a fake Durable client endpoint), with a
// provisioner that fails deployments named `broken`. The scoring route is the data plane's; a
// stand-in here checks the caller through the endpoint directory and echoes the request.

const { HttpRequest } = azureFunctions;

const ROUTES: [string, string, HttpHandler][] = [
  ['PUT', 'workspaces/{ws}/onlineEndpoints/{name}', onlineEndpointPut],
  ['GET', 'workspaces/{ws}/onlineEndpoints/{name}', onlineEndpointGet],
  ['PATCH', 'workspaces/{ws}/onlineEndpoints/{name}', onlineEndpointPatch],
  ['DELETE', 'workspaces/{ws}/onlineEndpoints/{name}', onlineEndpointDelete],
  ['GET', 'workspaces/{ws}/onlineEndpoints', onlineEndpointList],
  ['POST', 'workspaces/{ws}/onlineEndpoints/{name}/listKeys', onlineEndpointListKeys],
  ['POST', 'workspaces/{ws}/onlineEndpoints/{name}/regenerateKeys', onlineEndpointRegenerateKeys],
  ['POST', 'workspaces/{ws}/onlineEndpoints/{name}/token', onlineEndpointToken],
  ['PUT', 'workspaces/{ws}/onlineEndpoints/{name}/deployments/{deployment}', onlineDeploymentPut],
  ['GET', 'workspaces/{ws}/onlineEndpoints/{name}/deployments/{deployment}', onlineDeploymentGet],
  ['DELETE', 'workspaces/{ws}/onlineEndpoints/{name}/deployments/{deployment}', onlineDeploymentDelete],
  ['GET', 'workspaces/{ws}/onlineEndpoints/{name}/deployments', onlineDeploymentList],
  ['GET', 'workspaces/{ws}/onlineEndpoints/{name}/deployments/{deployment}/logs', onlineDeploymentLogsGet],
  ['PUT', 'workspaces/{ws}/datastores/{datastore}/paths/{*path}', artifactUploadPut],
  ['HEAD', 'workspaces/{ws}/datastores/{datastore}/paths/{*path}', artifactUploadPut],
  ['GET', 'workspaces/{ws}/datastores/{datastore}/paths/{*path}', datastorePathGet],
];
const COMPILED = ROUTES.map(([method, template, handler]) => ({ method, route: compileRoute(template), handler }));

let dir: string;
let dataDir: string;
let services: Services;
let token: string;
let durable: Server;
let origin: string;
const scored: { authorization: string | null; deployment: string | null; body: string }[] = [];

/** The durable client's start call: runs the provisioning activity before answering. */
async function startDurable(): Promise<void> {
  durable = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      void services.endpoints.provisionDeployment(deploymentProvisionInputSchema.parse(JSON.parse(text))).then(() => {
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
  });
  await new Promise<void>((resolve) => durable.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(durable.address() as AddressInfo).port}`;
}

function durableContext() {
  return contextWithDurableClient({ origin, invocationId: 'inv-online-cli' });
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** Routes a request of the CLI to the HTTP function that serves it. */
const hostFetch: typeof fetch = async (input, init = {}) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const method = init.method ?? 'GET';
  const headers = new Headers(init.headers);
  const body =
    init.body === undefined || init.body === null
      ? undefined
      : Buffer.from(await new Response(init.body as ConstructorParameters<typeof Response>[0]).arrayBuffer());
  const path = url.pathname.replace(/^\/api\//, '');
  const score = /^endpoints\/([^/]+)\/score$/.exec(path);
  if (score !== null && method === 'POST') {
    try {
      await services.endpointDirectory.verifyCaller(score[1] ?? '', headers.get('authorization'));
    } catch (err) {
      if (isAppError(err)) return json(err.status, { error: { code: err.code, message: err.message } });
      throw err;
    }
    scored.push({
      authorization: headers.get('authorization'),
      deployment: headers.get('azureml-model-deployment'),
      body: body?.toString() ?? '',
    });
    return json(200, [1, 0]);
  }
  for (const r of COMPILED) {
    if (r.method !== method) continue;
    const params = matchRoute(r.route, path);
    if (params === undefined) continue;
    const request = new HttpRequest({
      method,
      url: url.toString(),
      headers: Object.fromEntries(headers.entries()),
      params,
      query: Object.fromEntries(url.searchParams.entries()),
      ...(body === undefined ? {} : { body: { bytes: body } }),
    });
    const res = (await r.handler(request, durableContext())) as HttpResponseInit;
    const out =
      res.jsonBody !== undefined
        ? JSON.stringify(res.jsonBody)
        : typeof res.body === 'string' || Buffer.isBuffer(res.body)
          ? res.body
          : null;
    const resHeaders = new Headers(res.headers as Record<string, string> | undefined);
    if (res.jsonBody !== undefined) resHeaders.set('content-type', 'application/json');
    const status = res.status ?? 200;
    return new Response(status === 204 || method === 'HEAD' ? null : out, { status, headers: resHeaders });
  }
  return json(404, { error: { code: 'NotFound', message: `no route for ${method} ${path}` } });
};

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(
    [...argv, '--endpoint', 'http://127.0.0.1:7996', '--token', token, '--workspace', 'team-a'],
    {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      env: {},
      fetch: hostFetch,
      pollMs: 5,
    },
  );
  return { code, stdout: out.join(''), stderr: err.join('') };
}

before(async () => {
  await startDurable();
  dir = await mkdtemp(join(tmpdir(), 'tessera-online-cli-'));
  dataDir = join(dir, 'data');
  services = await createServices(loadConfig({ TESSERA_DATA_DIR: dataDir, PORT: '7996' }), {
    deploymentProvisioner: {
      provision: (d) =>
        Promise.resolve(
          d.name === 'broken'
            ? {
                ok: false as const,
                reason: 'init() failed: model.onnx not found',
                logs: 'Traceback: model.onnx not found\n',
              }
            : { ok: true as const },
        ),
    },
  });
  setServicesForTesting(services);
  token = (await services.tokens.create({ workspaces: ['team-a'] })).token;
  await services.workspaces.put('team-a', {});

  // An endpoint and deployments laid out as azureml-examples/cli/endpoints/online/managed/sample.
  await mkdir(join(dir, 'model-1', 'model'), { recursive: true });
  await mkdir(join(dir, 'model-1', 'onlinescoring'), { recursive: true });
  await writeFile(join(dir, 'model-1', 'model', 'model.onnx'), 'not really onnx');
  await writeFile(join(dir, 'model-1', 'onlinescoring', 'score.py'), 'def init():\n    pass\n');
  await writeFile(
    join(dir, 'endpoint.yml'),
    [
      '$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json',
      'name: my-endpoint',
      'auth_mode: key',
      '',
    ].join('\n'),
  );
  const deployment = (name: string, code: boolean) =>
    [
      '$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json',
      `name: ${name}`,
      'endpoint_name: my-endpoint',
      'model:',
      '  path: model-1/model/',
      ...(code ? ['code_configuration:', '  code: model-1/onlinescoring/', '  scoring_script: score.py'] : []),
      'instance_type: Standard_DS3_v2',
      'instance_count: 1',
      '',
    ].join('\n');
  await writeFile(join(dir, 'blue.yml'), deployment('blue', true));
  await writeFile(join(dir, 'green.yml'), deployment('green', false));
  await writeFile(join(dir, 'broken.yml'), deployment('broken', false));
  await writeFile(join(dir, 'request.json'), '{"data": [[1, 2, 3, 4]]}');
});

after(async () => {
  setServicesForTesting(undefined);
  await closeServicesOf(services);
  await rm(dir, { recursive: true, force: true });
  await new Promise<void>((resolve) => durable.close(() => resolve()));
});

test('online-endpoint create --file, show, list; online-deployment create uploads and waits for Succeeded', async () => {
  const created = await cli('online-endpoint', 'create', '--file', join(dir, 'endpoint.yml'));
  assert.equal(created.code, 0, created.stderr);
  const endpoint = JSON.parse(created.stdout) as OnlineEndpoint;
  assert.equal(endpoint.name, 'my-endpoint');
  assert.equal(endpoint.auth_mode, 'key');
  assert.equal((await cli('online-endpoint', 'show', '-n', 'my-endpoint', '-o', 'table')).code, 0);
  const listed = await cli('online-endpoint', 'list', '-o', 'table');
  assert.match(listed.stdout, /my-endpoint\s+key/);

  const blue = await cli('online-deployment', 'create', '--file', join(dir, 'blue.yml'), '--all-traffic');
  assert.equal(blue.code, 0, blue.stderr);
  const deployed = JSON.parse(blue.stdout) as OnlineDeployment;
  assert.equal(deployed.provisioning_state, 'Succeeded');
  assert.equal(deployed.kind, 'python');
  assert.match(
    deployed.model?.uri ?? '',
    /^azureml:\/\/datastores\/workspaceblobstore\/paths\/LocalUpload\/[0-9a-f]{64}\//,
  );
  assert.match(deployed.code?.uri ?? '', /^azureml:\/\/datastores\/workspaceblobstore\/paths\/LocalUpload\//);
  assert.match(blue.stderr, /All the live traffic of my-endpoint now goes to blue/);
  const shown = JSON.parse((await cli('online-endpoint', 'show', '-n', 'my-endpoint')).stdout) as OnlineEndpoint;
  assert.deepEqual(shown.traffic, { blue: 100 });

  const green = await cli('online-deployment', 'create', '--file', join(dir, 'green.yml'));
  assert.equal(green.code, 0, green.stderr);
  assert.equal((JSON.parse(green.stdout) as OnlineDeployment).kind, 'onnx');
  const deployments = await cli('online-deployment', 'list', '--endpoint-name', 'my-endpoint', '-o', 'table');
  assert.match(deployments.stdout, /blue\s+my-endpoint\s+python\s+Succeeded/);
  assert.match(deployments.stdout, /green\s+my-endpoint\s+onnx\s+Succeeded/);
});

test('online-endpoint update --traffic / --mirror-traffic, and the 400 of traffic that does not add up', async () => {
  const split = await cli('online-endpoint', 'update', '-n', 'my-endpoint', '--traffic', 'blue=90 green=10');
  assert.equal(split.code, 0, split.stderr);
  assert.deepEqual((JSON.parse(split.stdout) as OnlineEndpoint).traffic, { blue: 90, green: 10 });
  const mirror = await cli('online-endpoint', 'update', '-n', 'my-endpoint', '--mirror-traffic', 'green=20');
  assert.equal(mirror.code, 0, mirror.stderr);
  assert.deepEqual((JSON.parse(mirror.stdout) as OnlineEndpoint).mirror_traffic, { green: 20 });
  const bad = await cli('online-endpoint', 'update', '-n', 'my-endpoint', '--traffic', 'blue=80 green=10');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /ValidationError \(traffic\): traffic: the percents add up to 90/);
  const malformed = await cli('online-endpoint', 'update', '-n', 'my-endpoint', '--traffic', 'blue:100');
  assert.equal(malformed.code, 1);
  assert.match(malformed.stderr, /name=percent/);
  assert.equal((await cli('online-endpoint', 'update', '-n', 'my-endpoint', '--mirror-traffic', 'green=0')).code, 0);
});

test('get-credentials, regenerate-keys and invoke with the key and the deployment header', async () => {
  const before = JSON.parse(
    (await cli('online-endpoint', 'get-credentials', '-n', 'my-endpoint')).stdout,
  ) as EndpointKeys;
  assert.match(before.primaryKey, /^[A-Za-z0-9_-]{43}$/);
  const invoked = await cli(
    'online-endpoint',
    'invoke',
    '-n',
    'my-endpoint',
    '--request-file',
    join(dir, 'request.json'),
    '--deployment-name',
    'green',
  );
  assert.equal(invoked.code, 0, invoked.stderr);
  assert.equal(invoked.stdout, '[1,0]\n');
  assert.deepEqual(scored.at(-1), {
    authorization: `Bearer ${before.primaryKey}`,
    deployment: 'green',
    body: '{"data": [[1, 2, 3, 4]]}',
  });
  const regen = await cli('online-endpoint', 'regenerate-keys', '-n', 'my-endpoint', '--key-type', 'primary');
  assert.equal(regen.code, 0, regen.stderr);
  const after = JSON.parse(
    (await cli('online-endpoint', 'get-credentials', '-n', 'my-endpoint')).stdout,
  ) as EndpointKeys;
  assert.notEqual(after.primaryKey, before.primaryKey);
  assert.equal(after.secondaryKey, before.secondaryKey);
  await assert.rejects(
    services.endpointDirectory.verifyCaller('my-endpoint', `Bearer ${before.primaryKey}`),
    /not valid/,
  );
  assert.equal(
    (await cli('online-endpoint', 'regenerate-keys', '-n', 'my-endpoint', '--key-type', 'tertiary')).code,
    2,
  );
});

test('a failing deployment exits 1 with its reason and logs, and leaves the others serving', async () => {
  const broken = await cli('online-deployment', 'create', '--file', join(dir, 'broken.yml'));
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /my-endpoint\/broken Failed: init\(\) failed: model.onnx not found/);
  assert.match(broken.stderr, /Traceback: model.onnx not found/);
  const logs = await cli(
    'online-deployment',
    'get-logs',
    '-n',
    'broken',
    '--endpoint-name',
    'my-endpoint',
    '--lines',
    '1',
  );
  assert.equal(logs.code, 0);
  assert.match(logs.stdout, /^\S+ Failed: init\(\) failed/);
  const blue = JSON.parse(
    (await cli('online-deployment', 'show', '-n', 'blue', '-e', 'my-endpoint')).stdout,
  ) as OnlineDeployment;
  assert.equal(blue.provisioning_state, 'Succeeded');
  const endpoint = JSON.parse((await cli('online-endpoint', 'show', '-n', 'my-endpoint')).stdout) as OnlineEndpoint;
  assert.deepEqual(endpoint.traffic, { blue: 90, green: 10 });
});

test('online-deployment delete is refused while it has traffic; online-endpoint delete removes everything', async () => {
  const refused = await cli('online-deployment', 'delete', '-n', 'green', '-e', 'my-endpoint');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /Conflict/);
  assert.equal((await cli('online-endpoint', 'update', '-n', 'my-endpoint', '-r', 'blue=100 green=0')).code, 0);
  assert.equal((await cli('online-deployment', 'delete', '-n', 'green', '-e', 'my-endpoint')).code, 0);
  assert.equal((await cli('online-endpoint', 'delete', '-n', 'my-endpoint')).code, 0);
  const gone = await cli('online-endpoint', 'show', '-n', 'my-endpoint');
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /NotFound/);
});

test('online-endpoint create --name --auth-mode aml_token; get-credentials gives a token; usage errors exit 2', async () => {
  const created = await cli('online-endpoint', 'create', '--name', 'tok-endpoint', '--auth-mode', 'aml_token');
  assert.equal(created.code, 0, created.stderr);
  const credentials = JSON.parse((await cli('online-endpoint', 'get-credentials', '-n', 'tok-endpoint')).stdout) as {
    accessToken: string;
    tokenType: string;
  };
  assert.equal(credentials.tokenType, 'Bearer');
  await services.endpointDirectory.verifyCaller('tok-endpoint', `Bearer ${credentials.accessToken}`);
  assert.equal((await cli('online-endpoint', 'create')).code, 2);
  assert.equal((await cli('online-deployment', 'create')).code, 2);
  assert.equal((await cli('online-deployment', 'show', '-n', 'x')).code, 2);
  assert.equal((await cli('online-endpoint', 'frobnicate')).code, 2);
});
