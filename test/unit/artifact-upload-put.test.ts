import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The library is a CommonJS bundle whose classes Node cannot list as named ESM exports.
import azureFunctions from '@azure/functions';
import type { HttpResponseInit } from '@azure/functions';
import { loadConfig } from '../../shared/config.js';
import { closeServicesOf, createServices, setServicesForTesting } from '../../shared/wiring.js';
import type { Services } from '../../shared/wiring.js';
import { artifactUploadPut } from '../../functions/artifact-upload-put.js';
import { createHttpUploadTarget } from '../../cli/sdk/upload-target.js';
import { MLClientError } from '../../cli/sdk/ml-client.js';
import { createDataAccess } from '../../shared/services/data-access.js';
import { uploadLocalPath } from '../../shared/services/upload-service.js';

const { HttpRequest, InvocationContext } = azureFunctions;

let dataDir: string;
let services: Services;
let teamA: string;
let teamB: string;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tessera-upload-route-'));
  services = await createServices(loadConfig({ TESSERA_DATA_DIR: join(dataDir, 'host'), PORT: '7998' }));
  setServicesForTesting(services);
  teamA = (await services.tokens.create({ workspaces: ['team-a'] })).token;
  teamB = (await services.tokens.create({ workspaces: ['team-b'] })).token;
  await services.workspaces.put('team-a', {});
  await services.workspaces.put('team-b', {});
});

after(async () => {
  setServicesForTesting(undefined);
  await closeServicesOf(services);
  await rm(dataDir, { recursive: true, force: true });
});

const ROUTE = /^\/api\/workspaces\/([^/]+)\/datastores\/([^/]+)\/paths\/(.+)$/;

/** Drives the handler with a real HttpRequest, as the Functions host would, and answers with a fetch Response. */
async function invoke(
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: Uint8Array,
): Promise<Response> {
  const u = new URL(url);
  const m = ROUTE.exec(u.pathname);
  if (m === null) return new Response('no route', { status: 404 });
  const request = new HttpRequest({
    method,
    url,
    headers,
    params: {
      ws: decodeURIComponent(m[1] ?? ''),
      datastore: decodeURIComponent(m[2] ?? ''),
      path: (m[3] ?? '').split('/').map(decodeURIComponent).join('/'),
    },
    ...(body === undefined || body.byteLength === 0 ? {} : { body: { bytes: body } }),
  });
  const context = new InvocationContext({ invocationId: 'inv-upload', functionName: 'artifact-upload-put' });
  const raw = (await artifactUploadPut(request, context)) as HttpResponseInit;
  const payload = method === 'HEAD' || raw.jsonBody === undefined ? null : JSON.stringify(raw.jsonBody);
  return new Response(payload, { status: raw.status ?? 200, headers: raw.headers as Record<string, string> });
}

/** A fetch that sends every request to the handler (what the CLI's fetch reaches through the host). */
const handlerFetch: typeof fetch = async (input, init) => {
  const request = new Request(input, init);
  const body = request.body === null ? undefined : new Uint8Array(await request.arrayBuffer());
  return invoke(request.method, request.url, Object.fromEntries(request.headers.entries()), body);
};

const URL_BASE = 'http://127.0.0.1:7998/api/workspaces';
const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

test('PUT streams the body in and HEAD reports its sha256', async () => {
  const url = `${URL_BASE}/team-a/datastores/workspaceblobstore/paths/raw/a%20b.csv`;
  const put = await invoke(
    'PUT',
    url,
    { authorization: `Bearer ${teamA}`, 'x-content-sha256': sha('x,y\n1,2\n'), 'content-type': 'text/csv' },
    Buffer.from('x,y\n1,2\n'),
  );
  assert.equal(put.status, 201);
  const json = (await put.json()) as { uri: string; sha256: string; size: number; path: string };
  assert.equal(json.sha256, sha('x,y\n1,2\n'));
  assert.equal(json.size, 8);
  assert.equal(json.path, 'raw/a b.csv');
  assert.equal(json.uri, 'azureml://datastores/workspaceblobstore/paths/raw/a%20b.csv');

  const head = await invoke('HEAD', url, { authorization: `Bearer ${teamA}` });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('x-content-sha256'), sha('x,y\n1,2\n'));
  assert.equal(head.headers.get('content-length'), '8');

  // The object is where the datastore resolver says: readable through DataAccess.
  const data = createDataAccess({ datastores: services.datastores });
  const chunks: Buffer[] = [];
  for await (const c of await data.open('team-a', json.uri)) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), 'x,y\n1,2\n');
});

test('a body whose sha256 differs is a 400 and nothing is stored', async () => {
  const url = `${URL_BASE}/team-a/datastores/workspaceblobstore/paths/raw/bad.csv`;
  const put = await invoke(
    'PUT',
    url,
    { authorization: `Bearer ${teamA}`, 'x-content-sha256': sha('something else') },
    Buffer.from('x,y\n'),
  );
  assert.equal(put.status, 400);
  const body = (await put.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'ValidationError');
  assert.match(body.error.message, /nothing was stored/);
  assert.equal((await invoke('HEAD', url, { authorization: `Bearer ${teamA}` })).status, 404);
});

test('credentials: none is 401, another workspace is 403', async () => {
  const url = `${URL_BASE}/team-a/datastores/workspaceblobstore/paths/raw/x.csv`;
  assert.equal((await invoke('PUT', url, {}, Buffer.from('x'))).status, 401);
  assert.equal((await invoke('PUT', url, { authorization: `Bearer ${teamB}` }, Buffer.from('x'))).status, 403);
  assert.equal((await invoke('HEAD', url, { authorization: `Bearer ${teamB}` })).status, 403);
});

test("paths with '..' and unknown datastores are refused", async () => {
  const bad = await invoke(
    'PUT',
    `${URL_BASE}/team-a/datastores/workspaceblobstore/paths/a/..%2F..%2Fescape`,
    { authorization: `Bearer ${teamA}` },
    Buffer.from('x'),
  );
  assert.equal(bad.status, 400);
  const unknown = await invoke(
    'PUT',
    `${URL_BASE}/team-a/datastores/nosuchstore/paths/x`,
    { authorization: `Bearer ${teamA}` },
    Buffer.from('x'),
  );
  assert.equal(unknown.status, 404);
});

test('a copy by hash copies known content and is a 404 for unknown content', async () => {
  const content = 'copy me\n';
  await invoke(
    'PUT',
    `${URL_BASE}/team-a/datastores/workspaceblobstore/paths/src/c.txt`,
    { authorization: `Bearer ${teamA}` },
    Buffer.from(content),
  );
  const copy = await invoke('PUT', `${URL_BASE}/team-a/datastores/workspaceblobstore/paths/dst/c.txt`, {
    authorization: `Bearer ${teamA}`,
    'x-content-sha256': sha(content),
    'x-tessera-copy': 'by-hash',
  });
  assert.equal(copy.status, 201);
  const head = await invoke('HEAD', `${URL_BASE}/team-a/datastores/workspaceblobstore/paths/dst/c.txt`, {
    authorization: `Bearer ${teamA}`,
  });
  assert.equal(head.headers.get('x-content-sha256'), sha(content));

  const missing = await invoke('PUT', `${URL_BASE}/team-a/datastores/workspaceblobstore/paths/dst/d.txt`, {
    authorization: `Bearer ${teamA}`,
    'x-content-sha256': sha('never stored'),
    'x-tessera-copy': 'by-hash',
  });
  assert.equal(missing.status, 404);
});

test('the CLI uploads a folder through the route: unchanged files are not sent twice', async () => {
  const local = join(dataDir, 'cli', 'dataset');
  await mkdir(join(local, 'part'), { recursive: true });
  await writeFile(join(local, 'a.csv'), 'a\n1\n');
  await writeFile(join(local, 'part', 'b.csv'), 'b\n2\n');
  const target = createHttpUploadTarget({
    endpoint: 'http://127.0.0.1:7998',
    token: teamA,
    workspace: 'team-a',
    fetch: handlerFetch,
  });

  const first = await uploadLocalPath({ target, localPath: local });
  assert.match(first.uri, /^azureml:\/\/datastores\/workspaceblobstore\/paths\/LocalUpload\/[0-9a-f]{64}\/dataset\/$/);
  assert.deepEqual([first.uploaded, first.copied, first.skipped], [2, 0, 0]);

  const second = await uploadLocalPath({ target, localPath: local });
  assert.equal(second.uri, first.uri);
  assert.deepEqual([second.uploaded, second.copied, second.skipped], [0, 0, 2]);

  await writeFile(join(local, 'a.csv'), 'a\n3\n');
  const third = await uploadLocalPath({ target, localPath: local });
  assert.deepEqual([third.uploaded, third.copied, third.skipped], [1, 1, 0]);

  const data = createDataAccess({ datastores: services.datastores });
  const listed = await data.list('team-a', third.uri);
  assert.deepEqual(
    listed.map((u) => u.slice(third.uri.length)),
    ['a.csv', 'part/b.csv'],
  );

  const denied = createHttpUploadTarget({
    endpoint: 'http://127.0.0.1:7998',
    token: teamB,
    workspace: 'team-a',
    fetch: handlerFetch,
  });
  await assert.rejects(
    uploadLocalPath({ target: denied, localPath: local }),
    (err: unknown) => err instanceof MLClientError && err.status === 403,
  );
});
