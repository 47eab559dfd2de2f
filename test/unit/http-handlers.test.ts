import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
// The library is a CommonJS bundle whose classes Node cannot list as named ESM exports.
import azureFunctions from '@azure/functions';
import type { HttpHandler, HttpResponseInit } from '@azure/functions';
import { loadConfig } from '../../shared/config.js';
import { parseSignedArtifactUrl } from '../../shared/domain/signed-url.js';
import { registeredFunctions } from '../../shared/function-catalog.js';
import { closeServicesOf, createServices, getServices, setServicesForTesting } from '../../shared/wiring.js';
import type { Services } from '../../shared/wiring.js';
import { healthGet } from '../../functions/health-get.js';
import { workspaceGet } from '../../functions/workspace-get.js';
import { workspaceList } from '../../functions/workspace-list.js';
import { workspacePut } from '../../functions/workspace-put.js';
import { tokenCreate } from '../../functions/token-create.js';
import { tokenList } from '../../functions/token-list.js';
import { tokenDelete } from '../../functions/token-delete.js';
import { artifactSignedGet } from '../../functions/artifact-signed-get.js';
import '../../functions/housekeeping-timer.js';
import '../../orchestrations/housekeeping.js';
import { deleteExpiredTokens } from '../../orchestrations/activities/housekeeping-delete-expired-tokens.js';
import { deleteExpiredUploadSessions } from '../../orchestrations/activities/housekeeping-delete-expired-upload-sessions.js';
import { UPLOAD_SESSIONS_CONTAINER } from '../../shared/contracts/housekeeping.js';

const { HttpRequest, InvocationContext } = azureFunctions;

let dataDir: string;
let services: Services;
let adminToken: string;
let teamAToken: string;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tessera-http-'));
  services = await createServices(loadConfig({ TESSERA_DATA_DIR: dataDir, PORT: '7999' }));
  setServicesForTesting(services);
  adminToken = (await services.tokens.create({ workspaces: ['*'] })).token;
  teamAToken = (await services.tokens.create({ workspaces: ['team-a'] })).token;
  await services.workspaces.put('team-a', { description: 'A' });
  await services.workspaces.put('team-b', { description: 'B' });
});

after(async () => {
  setServicesForTesting(undefined);
  await closeServicesOf(services);
  await rm(dataDir, { recursive: true, force: true });
});

interface Call {
  method?: string;
  url?: string;
  token?: string;
  params?: Record<string, string>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
}

interface Result {
  status: number;
  headers: Headers;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies are inspected field by field
  raw: HttpResponseInit;
  logs: string[];
}

async function call(handler: HttpHandler, c: Call = {}, invocationId = 'inv-test'): Promise<Result> {
  const headers: Record<string, string> = { ...(c.headers ?? {}) };
  if (c.token !== undefined) headers.authorization = `Bearer ${c.token}`;
  const request = new HttpRequest({
    method: c.method ?? 'GET',
    url: c.url ?? 'http://127.0.0.1:7999/api/test',
    headers,
    params: c.params ?? {},
    query: c.query ?? {},
    ...(c.body === undefined ? {} : { body: { string: c.body } }),
  });
  const logs: string[] = [];
  const context = new InvocationContext({
    invocationId,
    functionName: 'test',
    logHandler: (level, ...args) =>
      logs.push(`${level}: ${args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : String(a))).join(' ')}`),
  });
  const raw = (await handler(request, context)) as HttpResponseInit;
  return {
    status: raw.status ?? 200,
    headers: new Headers(raw.headers as Record<string, string>),
    json: raw.jsonBody,
    raw,
    logs,
  };
}

test('health is public and reports the stores and the registered functions', async () => {
  const res = await call(healthGet);
  assert.equal(res.status, 200);
  assert.equal(res.json.status, 'ok');
  assert.match(res.json.version, /^\d+\.\d+\.\d+/);
  assert.deepEqual(res.json.stores, { metadata: 'sqlite', artifacts: 'filesystem', queue: services.queue.kind });
  assert.equal(res.json.functions, registeredFunctions().length);
  assert.ok(res.json.functions >= 12, 'every function imported by this test is counted');
  const names = registeredFunctions().map((f) => f.name);
  assert.equal(new Set(names).size, names.length);
  assert.deepEqual(
    registeredFunctions().find((f) => f.name === 'workspace-get'),
    { name: 'workspace-get', trigger: 'http', route: 'workspaces/{name}', methods: ['GET'] },
  );
});

test('401 without a token, with WWW-Authenticate', async () => {
  const res = await call(workspaceGet, { params: { name: 'team-a' } });
  assert.equal(res.status, 401);
  assert.equal(res.json.error.code, 'Unauthorized');
  assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="tessera"');
});

test('401 with an invalid token says invalid_token', async () => {
  const res = await call(workspaceGet, { params: { name: 'team-a' }, token: `tsr_${'x'.repeat(43)}` });
  assert.equal(res.status, 401);
  assert.match(
    res.headers.get('www-authenticate') ?? '',
    /^Bearer realm="tessera", error="invalid_token", error_description="/,
  );
});

test('403 for a token lacking the workspace or the admin scope', async () => {
  const other = await call(workspaceGet, { params: { name: 'team-b' }, token: teamAToken });
  assert.equal(other.status, 403);
  assert.equal(other.json.error.code, 'Forbidden');

  const own = await call(workspaceGet, { params: { name: 'team-a' }, token: teamAToken });
  assert.equal(own.status, 200);
  assert.equal(own.json.description, 'A');
  assert.equal(own.headers.get('etag'), own.json.etag);

  const put = await call(workspacePut, { method: 'PUT', params: { name: 'team-a' }, token: teamAToken, body: '{}' });
  assert.equal(put.status, 403);
  const mint = await call(tokenCreate, { method: 'POST', token: teamAToken, body: '{"workspaces":["*"]}' });
  assert.equal(mint.status, 403);
});

test('404 for an unknown workspace', async () => {
  const res = await call(workspaceGet, { params: { name: 'no-such-ws' }, token: adminToken });
  assert.equal(res.status, 404);
  assert.equal(res.json.error.code, 'NotFound');
  assert.equal(res.json.error.target, 'name');
});

test('400 with a target for malformed JSON, a bad name and a bad field', async () => {
  const malformed = await call(workspacePut, {
    method: 'PUT',
    params: { name: 'team-c' },
    token: adminToken,
    body: '{"description": ',
  });
  assert.equal(malformed.status, 400);
  assert.equal(malformed.json.error.code, 'ValidationError');
  assert.equal(malformed.json.error.target, 'body');
  assert.match(malformed.json.error.message, /not valid JSON/);

  const badName = await call(workspacePut, { method: 'PUT', params: { name: '-x' }, token: adminToken, body: '{}' });
  assert.equal(badName.status, 400);
  assert.equal(badName.json.error.target, 'name');
  assert.match(badName.json.error.message, /3-33 characters/);

  const badField = await call(workspacePut, {
    method: 'PUT',
    params: { name: 'team-c' },
    token: adminToken,
    body: '{"tags":{"owner":5}}',
  });
  assert.equal(badField.status, 400);
  assert.equal(badField.json.error.target, 'tags.owner');

  const unknownField = await call(workspacePut, {
    method: 'PUT',
    params: { name: 'team-c' },
    token: adminToken,
    body: '{"colour":"red"}',
  });
  assert.equal(unknownField.status, 400);
  assert.equal(unknownField.json.error.target, 'colour');

  const badQuery = await call(workspaceList, { token: adminToken, query: { limit: 'lots' } });
  assert.equal(badQuery.status, 400);
  assert.equal(badQuery.json.error.target, 'limit');

  assert.equal(
    (await call(workspaceGet, { params: { name: 'team-c' }, token: adminToken })).status,
    404,
    'nothing was created',
  );
});

test('PUT creates (201) then updates (200); an empty body is allowed; If-Match is honoured', async () => {
  const created = await call(workspacePut, { method: 'PUT', params: { name: 'team-d' }, token: adminToken });
  assert.equal(created.status, 201);
  assert.equal(created.json.name, 'team-d');
  const updated = await call(workspacePut, {
    method: 'PUT',
    params: { name: 'team-d' },
    token: adminToken,
    headers: { 'if-match': created.json.etag },
    body: '{"description":"D"}',
  });
  assert.equal(updated.status, 200);
  assert.equal(updated.json.description, 'D');
  const stale = await call(workspacePut, {
    method: 'PUT',
    params: { name: 'team-d' },
    token: adminToken,
    headers: { 'if-match': created.json.etag },
    body: '{"description":"E"}',
  });
  assert.equal(stale.status, 412);
});

test('workspace get, put and list return the MLflow tracking URI of the host', async () => {
  assert.equal(services.config.publicUrl, 'http://127.0.0.1:7999');
  const got = await call(workspaceGet, { params: { name: 'team-a' }, token: teamAToken });
  assert.equal(got.status, 200);
  assert.equal(got.json.mlflow_tracking_uri, 'http://127.0.0.1:7999/api/workspaces/team-a/mlflow');
  assert.equal(got.headers.get('etag'), got.json.etag);
  const put = await call(workspacePut, { method: 'PUT', params: { name: 'team-mlflow' }, token: adminToken });
  assert.equal(put.status, 201);
  assert.equal(put.json.mlflow_tracking_uri, 'http://127.0.0.1:7999/api/workspaces/team-mlflow/mlflow');
  const list = await call(workspaceList, { token: adminToken });
  assert.ok(list.json.value.length >= 3);
  for (const w of list.json.value as { name: string; mlflow_tracking_uri: string }[]) {
    assert.equal(w.mlflow_tracking_uri, `http://127.0.0.1:7999/api/workspaces/${w.name}/mlflow`);
  }
});

test('workspace list shows only what the token may use', async () => {
  const scoped = await call(workspaceList, { token: teamAToken });
  assert.equal(scoped.status, 200);
  assert.deepEqual(
    scoped.json.value.map((w: { name: string }) => w.name),
    ['team-a'],
  );
  const all = await call(workspaceList, { token: adminToken });
  assert.ok(all.json.value.length >= 2);
  const paged = await call(workspaceList, { token: adminToken, query: { limit: '1' } });
  assert.equal(paged.json.value.length, 1);
  assert.equal(typeof paged.json.continuation, 'string');
});

test('token create, list and revoke through the API', async () => {
  const created = await call(tokenCreate, {
    method: 'POST',
    token: adminToken,
    body: '{"workspaces":["team-b"],"description":"ci"}',
  });
  assert.equal(created.status, 201);
  assert.equal(created.headers.get('cache-control'), 'no-store');
  const { token, id } = created.json as { token: string; id: string };
  assert.equal((await call(workspaceGet, { params: { name: 'team-b' }, token })).status, 200);

  const listed = await call(tokenList, { token: adminToken });
  assert.equal(listed.status, 200);
  const entry = listed.json.value.find((t: { id: string }) => t.id === id);
  assert.equal(entry.description, 'ci');
  assert.equal(entry.token, undefined);
  assert.ok(!JSON.stringify(listed.json).includes(token));

  const bad = await call(tokenCreate, { method: 'POST', token: adminToken, body: '{"workspaces":["*","team-b"]}' });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.target, 'workspaces');

  const revoked = await call(tokenDelete, { method: 'DELETE', params: { id }, token: adminToken });
  assert.equal(revoked.status, 200);
  assert.equal(revoked.json.status, 'revoked');
  assert.equal((await call(workspaceGet, { params: { name: 'team-b' }, token })).status, 401);
  assert.equal(
    (await call(tokenDelete, { method: 'DELETE', params: { id: `tok_${'0'.repeat(32)}` }, token: adminToken })).status,
    404,
  );
});

test('500 with a correlation id and no stack when a service throws', async () => {
  const broken: Services = {
    ...services,
    workspaces: {
      ...services.workspaces,
      get: async () => {
        throw new Error('disk on fire at /var/secret/path');
      },
    },
  };
  setServicesForTesting(broken);
  try {
    const res = await call(workspaceGet, { params: { name: 'team-a' }, token: adminToken }, 'inv-500');
    assert.equal(res.status, 500);
    assert.equal(res.json.error.code, 'InternalError');
    assert.match(res.json.error.message, /correlation id inv-500/);
    assert.equal(res.headers.get('x-correlation-id'), 'inv-500');
    const text = JSON.stringify(res.json);
    assert.doesNotMatch(text, /disk on fire|secret|\bat \w|\.js:\d+/);
    assert.ok(
      res.logs.some((line) => line.startsWith('error:') && line.includes('inv-500') && line.includes('disk on fire')),
      res.logs.join('\n'),
    );
  } finally {
    setServicesForTesting(services);
  }
});

test('a context without an invocation id still gets a usable correlation id', async () => {
  const broken: Services = {
    ...services,
    workspaces: { ...services.workspaces, list: () => Promise.reject(new TypeError('boom')) },
  };
  setServicesForTesting(broken);
  try {
    const request = new HttpRequest({
      method: 'GET',
      url: 'http://127.0.0.1/api/workspaces',
      headers: { authorization: `Bearer ${adminToken}` },
    });
    const res = (await workspaceList(request, new InvocationContext({ logHandler: () => {} }))) as HttpResponseInit;
    assert.equal(res.status, 500);
    const id = new Headers(res.headers as Record<string, string>).get('x-correlation-id') ?? '';
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.match((res.jsonBody as { error: { message: string } }).error.message, new RegExp(id));
  } finally {
    setServicesForTesting(services);
  }
});

async function readAll(body: unknown): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body as Readable) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

test('signed artifact URLs stream the artifact; a bad or expired signature is 403', async () => {
  await services.artifacts.put('snapshots', 'run 1/model.json', '{"w":[1,2]}', { contentType: 'application/json' });
  const url = await services.artifacts.signedReadUrl('snapshots', 'run 1/model.json', { expiresInSeconds: 60 });
  assert.ok(url.startsWith('http://127.0.0.1:7999/api/artifacts/signed/'), url);
  const parts = parseSignedArtifactUrl(url);
  assert.ok(parts);
  const params = { container: parts.container, path: parts.path };

  const ok = await call(artifactSignedGet, { params, query: { se: parts.se, sig: parts.sig } });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('content-type'), 'application/json');
  assert.equal((await readAll(ok.raw.body)).toString(), '{"w":[1,2]}');

  const tampered = await call(artifactSignedGet, {
    params: { ...params, path: 'run 1/other.json' },
    query: { se: parts.se, sig: parts.sig },
  });
  assert.equal(tampered.status, 403);
  const noSig = await call(artifactSignedGet, { params, query: { se: parts.se } });
  assert.equal(noSig.status, 403);

  const realNow = services.clock.now();
  setServicesForTesting({ ...services, clock: { now: () => realNow + 120_000 } });
  try {
    const expired = await call(artifactSignedGet, { params, query: { se: parts.se, sig: parts.sig } });
    assert.equal(expired.status, 403);
  } finally {
    setServicesForTesting(services);
  }
});

test('the signing key and data files are created in the data folder, the key owner-only', async () => {
  const key = await stat(join(dataDir, 'keys', 'artifact-signing.key'));
  assert.equal(key.size, 32);
  if (process.platform !== 'win32') assert.equal(key.mode & 0o777, 0o600);
  await stat(join(dataDir, 'metadata.db'));
  await stat(join(dataDir, 'queues.db'));
  assert.equal(await getServices(), services);
});

test('housekeeping activities delete what expired before the cut-off', async () => {
  const now = services.clock.now();
  await services.tokens.create({ workspaces: ['team-a'], expiresInDays: 1 });
  const sessions = await services.store.container(UPLOAD_SESSIONS_CONTAINER);
  await sessions.create({ id: 's1', pk: 'team-a', expiresAt: now - 1 });
  await sessions.create({ id: 's2', pk: 'team-b', expiresAt: now - 1 });
  await sessions.create({ id: 's3', pk: 'team-a', expiresAt: now + 3_600_000 });

  const context = new InvocationContext({ logHandler: () => {} });
  assert.equal(await deleteExpiredUploadSessions({ nowMs: now }, context), 2);
  assert.ok(await sessions.read('team-a', 's3'));
  assert.equal(await deleteExpiredTokens({ nowMs: now + 2 * 86_400_000 }, context), 1);
  await assert.rejects(deleteExpiredTokens({ nowMs: 'soon' }, context));
});
