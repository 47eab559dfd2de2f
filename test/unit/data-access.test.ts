import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FilesystemArtifactStore } from '../../shared/adapters/filesystem-artifact-store.js';
import { ForbiddenError, NotFoundError, TransientError, ValidationError } from '../../shared/errors.js';
import type { DatastoreResolver } from '../../shared/ports/datastore-resolver.js';
import { createDataAccess, redactUrl } from '../../shared/services/data-access.js';

let dir: string;
let store: FilesystemArtifactStore;
let datastores: DatastoreResolver;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-data-access-'));
  store = new FilesystemArtifactStore({
    root: join(dir, 'store'),
    signingKey: randomBytes(32),
    publicBaseUrl: 'http://127.0.0.1:7071',
  });
  datastores = {
    async resolve(workspace, datastore) {
      if (datastore === 'workspaceblobstore') return { store, container: `ws-${workspace}`, prefix: 'blob/' };
      if (datastore === 'rootstore') return { store, container: `ws-${workspace}`, prefix: '' };
      throw new NotFoundError(`No datastore '${datastore}' in workspace '${workspace}'.`);
    },
  };
  for (const p of ['blob/t/a.csv', 'blob/t/b.csv', 'blob/t/sub/c.csv', 'blob/t/sub/d.json', 'blob/u/e.csv']) {
    await store.put('ws-team-a', p, `content of ${p}`);
  }
  await mkdir(join(dir, 'root', 'data', 'sub'), { recursive: true });
  await writeFile(join(dir, 'root', 'data', 'x.csv'), 'x\n');
  await writeFile(join(dir, 'root', 'data', 'sub', 'y.csv'), 'y\n');
  await writeFile(join(dir, 'secret.txt'), 'secret\n');
  await symlink(join(dir, 'secret.txt'), join(dir, 'root', 'data', 'link.txt'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString();
}

test('datastore URIs: open, stat and list under the datastore prefix, with globs', async () => {
  const data = createDataAccess({ datastores });
  const base = 'azureml://datastores/workspaceblobstore/paths/';
  assert.equal(await text(await data.open('team-a', `${base}t/a.csv`)), 'content of blob/t/a.csv');
  assert.equal((await data.stat('team-a', `${base}t/a.csv`))?.size, 'content of blob/t/a.csv'.length);
  assert.equal(await data.stat('team-a', `${base}t/missing.csv`), undefined);
  assert.equal(await data.stat('team-a', `${base}t/`), undefined, 'a folder is not an object');

  assert.deepEqual(await data.list('team-a', `${base}t`), [
    `${base}t/a.csv`,
    `${base}t/b.csv`,
    `${base}t/sub/c.csv`,
    `${base}t/sub/d.json`,
  ]);
  assert.deepEqual(await data.list('team-a', `${base}t/`, { pattern: '*.csv' }), [`${base}t/a.csv`, `${base}t/b.csv`]);
  assert.deepEqual(await data.list('team-a', `${base}t/`, { pattern: '**/*.csv' }), [
    `${base}t/a.csv`,
    `${base}t/b.csv`,
    `${base}t/sub/c.csv`,
  ]);
  assert.deepEqual(await data.list('team-a', `${base}t/`, { pattern: 'sub/?.json' }), [`${base}t/sub/d.json`]);
  assert.deepEqual(await data.list('team-a', `${base}nothing/`), []);
  // A datastore without a prefix lists the whole container.
  assert.equal((await data.list('team-a', 'azureml://datastores/rootstore/paths/')).length, 5);

  await assert.rejects(
    data.open('team-a', `${base}t/missing.csv`),
    (err: unknown) =>
      err instanceof NotFoundError && /does not exist in datastore 'workspaceblobstore'/.test(err.message),
  );
  await assert.rejects(
    data.open('team-a', `${base}t/`),
    (err: unknown) => err instanceof ValidationError && /names a folder/.test(err.message),
  );
  await assert.rejects(data.open('team-a', 'azureml://datastores/nope/paths/x'), NotFoundError);
});

test('a long-form URI must name the workspace of the request', async () => {
  const data = createDataAccess({ datastores });
  const own =
    'azureml://subscriptions/s/resourcegroups/rg/workspaces/team-a/datastores/workspaceblobstore/paths/t/a.csv';
  assert.equal(await text(await data.open('team-a', own)), 'content of blob/t/a.csv');
  assert.deepEqual(
    await data.list('team-a', own.replace('t/a.csv', 'u/')),
    [own.replace('t/a.csv', 'u/e.csv')],
    'listings keep the form they were asked in',
  );
  await assert.rejects(
    data.open('team-b', own),
    (err: unknown) =>
      err instanceof ForbiddenError &&
      /names workspace 'team-a', but this request runs in workspace 'team-b'/.test(err.message),
  );
});

test('storage-account URIs need a registered datastore, and say so', async () => {
  const data = createDataAccess({ datastores });
  for (const uri of [
    'wasbs://data@acct01.blob.core.windows.net/x.csv',
    'abfss://lake@acct01.dfs.core.windows.net/x/',
  ]) {
    await assert.rejects(
      uri.endsWith('/') ? data.list('team-a', uri) : data.open('team-a', uri),
      (err: unknown) =>
        err instanceof ValidationError &&
        /names storage account 'acct01' directly.*register one for account 'acct01'/.test(err.message),
    );
  }
});

test('local paths: none on a server; only under the allowed roots; no escape by .. or a link', async () => {
  const server = createDataAccess({ datastores });
  await assert.rejects(
    server.open('team-a', join(dir, 'root', 'data', 'x.csv')),
    (err: unknown) => err instanceof ForbiddenError && /allows no local folders/.test(err.message),
  );

  const cli = createDataAccess({ datastores, localRoots: [join(dir, 'root')] });
  assert.equal(await text(await cli.open('team-a', 'data/x.csv')), 'x\n', 'relative to the first root');
  assert.equal(await text(await cli.open('team-a', `file://${join(dir, 'root', 'data', 'x.csv')}`)), 'x\n');
  assert.equal((await cli.stat('team-a', 'file:data/sub/y.csv'))?.size, 2);
  assert.deepEqual(await cli.list('team-a', 'data/'), [
    `file://${join(dir, 'root', 'data', 'sub', 'y.csv')}`,
    `file://${join(dir, 'root', 'data', 'x.csv')}`,
  ]);
  assert.deepEqual(await cli.list('team-a', 'data', { pattern: '*.csv' }), [
    `file://${join(dir, 'root', 'data', 'x.csv')}`,
  ]);
  await assert.rejects(
    cli.open('team-a', 'data/../../secret.txt'),
    (err: unknown) => err instanceof ForbiddenError && /outside the folders this process may read/.test(err.message),
  );
  await assert.rejects(
    cli.open('team-a', 'data/link.txt'),
    (err: unknown) => err instanceof ForbiddenError && /symbolic link/.test(err.message),
  );
  await assert.rejects(cli.open('team-a', 'data/missing.csv'), NotFoundError);
});

test('http(s): streamed through fetch; failures name the URL (without its SAS) and the status', async () => {
  const seen: string[] = [];
  const fakeFetch: typeof fetch = async (input, init) => {
    const url = String(input);
    seen.push(`${init?.method ?? 'GET'} ${url}`);
    if (url.includes('/ok.csv')) return new Response('a,b\n1,2\n', { headers: { 'content-length': '8' } });
    if (url.includes('/gone')) return new Response('no', { status: 404, statusText: 'Not Found' });
    if (url.includes('/denied')) return new Response('no', { status: 403, statusText: 'Forbidden' });
    if (url.includes('/busy')) return new Response('later', { status: 503 });
    throw new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND nowhere') });
  };
  const data = createDataAccess({ datastores, fetch: fakeFetch });
  assert.equal(await text(await data.open('team-a', 'https://h.example/ok.csv')), 'a,b\n1,2\n');
  assert.equal((await data.stat('team-a', 'https://h.example/ok.csv'))?.size, 8);
  assert.equal(await data.stat('team-a', 'https://h.example/gone'), undefined);
  assert.deepEqual(seen.slice(0, 3), [
    'GET https://h.example/ok.csv',
    'HEAD https://h.example/ok.csv',
    'HEAD https://h.example/gone',
  ]);

  await assert.rejects(
    data.open('team-a', 'https://acct.blob.core.windows.net/c/gone?sv=2024&sig=SECRET'),
    (err: unknown) =>
      err instanceof NotFoundError &&
      err.message === 'GET https://acct.blob.core.windows.net/c/gone?… failed: HTTP 404 Not Found.' &&
      !err.message.includes('SECRET'),
  );
  await assert.rejects(data.open('team-a', 'https://h.example/denied'), ForbiddenError);
  await assert.rejects(data.open('team-a', 'https://h.example/busy'), TransientError);
  await assert.rejects(
    data.open('team-a', 'https://nowhere.example/x'),
    (err: unknown) => err instanceof TransientError && /getaddrinfo ENOTFOUND nowhere/.test(err.message),
  );
  await assert.rejects(data.list('team-a', 'https://h.example/folder/'), /http servers cannot list folders/);
  assert.equal(redactUrl('https://user:pw@h.example/a?sig=1'), 'https://h.example/a?…');
});
