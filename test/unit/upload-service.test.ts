import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FilesystemArtifactStore } from '../../shared/adapters/filesystem-artifact-store.js';
import { parseDataUri } from '../../shared/domain/data-uri.js';
import { NotFoundError, ValidationError } from '../../shared/errors.js';
import type { DatastoreResolver } from '../../shared/ports/datastore-resolver.js';
import { createDataAccess } from '../../shared/services/data-access.js';
import {
  CONTENT_INDEX_FOLDER,
  createDatastoreObjects,
  hashLocalPath,
  uploadLocalPath,
} from '../../shared/services/upload-service.js';

let dir: string;
let store: FilesystemArtifactStore;
let datastores: DatastoreResolver;

/** Each workspace is a container; each datastore a prefix in it (as the embedded store lays them out). */
function folderResolver(s: FilesystemArtifactStore): DatastoreResolver {
  return {
    async resolve(workspace, datastore) {
      if (!['workspaceblobstore', 'other'].includes(datastore)) {
        throw new NotFoundError(`Datastore '${datastore}' does not exist in workspace '${workspace}'.`);
      }
      return { store: s, container: `ws-${workspace}`, prefix: `${datastore}/` };
    },
  };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-upload-'));
  store = new FilesystemArtifactStore({
    root: join(dir, 'store'),
    signingKey: randomBytes(32),
    publicBaseUrl: 'http://127.0.0.1:7071',
  });
  datastores = folderResolver(store);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function makeTree(root: string): Promise<Record<string, Buffer>> {
  const files: Record<string, Buffer> = {
    'a.csv': Buffer.from('x,y\n1,2\n3,4\n'),
    'sub/b.txt': Buffer.from('hello\n'),
    // Large enough to arrive in several chunks, so progress is reported while it streams.
    'sub/deep/c.bin': randomBytes(1024 * 1024 + 17),
  };
  for (const [rel, bytes] of Object.entries(files)) {
    await mkdir(join(root, ...rel.split('/').slice(0, -1)), { recursive: true });
    await writeFile(join(root, ...rel.split('/')), bytes);
  }
  return files;
}

function pathOf(uri: string): string {
  const u = parseDataUri(uri);
  assert.equal(u.scheme, 'azureml-datastore');
  return u.scheme === 'azureml-datastore' ? u.path : '';
}

test('a folder uploads to LocalUpload/<hash>/<name>/; again, nothing is sent; one changed file is the only one sent', async () => {
  const local = join(dir, 'w1', 'data');
  const files = await makeTree(local);
  const total = Object.values(files).reduce((n, b) => n + b.byteLength, 0);
  const calls: [number, number][] = [];

  const first = await uploadLocalPath({
    datastores,
    workspace: 'team-a',
    localPath: local,
    onProgress: (done, all) => calls.push([done, all]),
  });
  assert.match(first.uri, /^azureml:\/\/datastores\/workspaceblobstore\/paths\/LocalUpload\/[0-9a-f]{64}\/data\/$/);
  assert.deepEqual(
    { files: first.files, bytes: first.bytes, uploaded: first.uploaded, copied: first.copied, skipped: first.skipped },
    { files: 3, bytes: total, uploaded: 3, copied: 0, skipped: 0 },
  );
  for (const [rel, bytes] of Object.entries(files)) {
    const stored = await store.get('ws-team-a', `workspaceblobstore/${pathOf(first.uri)}${rel}`);
    assert.ok(stored.equals(bytes), rel);
  }

  // Progress: from (0, total) to (total, total), never backwards, with steps inside the large file.
  assert.deepEqual(calls[0], [0, total]);
  assert.deepEqual(calls[calls.length - 1], [total, total]);
  for (let i = 1; i < calls.length; i++) assert.ok((calls[i]?.[0] ?? 0) >= (calls[i - 1]?.[0] ?? 0));
  assert.ok(calls.every(([, all]) => all === total));
  assert.ok(calls.length > 5, `only ${calls.length} progress calls`);

  const again = await uploadLocalPath({ datastores, workspace: 'team-a', localPath: local });
  assert.equal(again.uri, first.uri);
  assert.deepEqual([again.uploaded, again.copied, again.skipped], [0, 0, 3]);

  await writeFile(join(local, 'sub', 'b.txt'), 'changed\n');
  const changed = await uploadLocalPath({ datastores, workspace: 'team-a', localPath: local });
  assert.notEqual(changed.uri, first.uri, 'new content, new folder: the old URI keeps meaning the old data');
  assert.deepEqual([changed.uploaded, changed.copied, changed.skipped], [1, 2, 0]);
  assert.equal(
    (await store.get('ws-team-a', `workspaceblobstore/${pathOf(changed.uri)}sub/b.txt`)).toString(),
    'changed\n',
  );
  assert.ok(
    (await store.get('ws-team-a', `workspaceblobstore/${pathOf(changed.uri)}sub/deep/c.bin`)).equals(
      files['sub/deep/c.bin'] ?? Buffer.alloc(0),
    ),
  );
  // The first upload is untouched.
  assert.equal(
    (await store.get('ws-team-a', `workspaceblobstore/${pathOf(first.uri)}sub/b.txt`)).toString(),
    'hello\n',
  );
});

test('the hash depends on relative paths and contents, not on where the folder is', async () => {
  const a = join(dir, 'w2', 'one', 'data');
  await makeTree(a);
  const b = join(dir, 'w2', 'two', 'data');
  await cp(a, b, { recursive: true });
  assert.equal((await hashLocalPath(a)).hash, (await hashLocalPath(b)).hash);

  await rm(join(b, 'a.csv'));
  await mkdir(join(b, 'moved'));
  await cp(join(a, 'a.csv'), join(b, 'moved', 'a.csv'));
  assert.notEqual((await hashLocalPath(a)).hash, (await hashLocalPath(b)).hash, 'a moved file changes the hash');
});

test('a single file uploads to LocalUpload/<hash>/<file name> and reads back through DataAccess', async () => {
  const file = join(dir, 'w3', 'iris.csv');
  await mkdir(join(dir, 'w3'), { recursive: true });
  await writeFile(file, 'a,b\n1,2\n');
  const result = await uploadLocalPath({ datastores, workspace: 'team-a', localPath: file, datastore: 'other' });
  assert.match(result.uri, /^azureml:\/\/datastores\/other\/paths\/LocalUpload\/[0-9a-f]{64}\/iris\.csv$/);
  assert.deepEqual([result.files, result.uploaded], [1, 1]);

  const data = createDataAccess({ datastores });
  const chunks: Buffer[] = [];
  for await (const chunk of await data.open('team-a', result.uri)) chunks.push(chunk as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), 'a,b\n1,2\n');
  const info = await data.stat('team-a', result.uri);
  assert.equal(info?.size, 8);
  assert.match(info?.contentHash ?? '', /^[0-9a-f]{64}$/);
});

test('uploading nothing is an error that says so', async () => {
  await mkdir(join(dir, 'w4', 'empty'), { recursive: true });
  await assert.rejects(
    uploadLocalPath({ datastores, workspace: 'team-a', localPath: join(dir, 'w4', 'empty') }),
    (err: unknown) => err instanceof ValidationError && /holds no files/.test(err.message),
  );
  await assert.rejects(
    uploadLocalPath({ datastores, workspace: 'team-a', localPath: join(dir, 'w4', 'missing') }),
    (err: unknown) => err instanceof NotFoundError && /does not exist/.test(err.message),
  );
});

test('put refuses content whose sha256 or size differ from what was announced, and stores nothing', async () => {
  const objects = createDatastoreObjects({ datastores });
  await assert.rejects(
    objects.put('team-b', 'workspaceblobstore', 'x/y.txt', Readable.from([Buffer.from('abc')]), {
      sha256: '0'.repeat(64),
    }),
    (err: unknown) => err instanceof ValidationError && /sha256 [0-9a-f]{64}, not the 0{64}/.test(err.message),
  );
  assert.equal(await objects.stat('team-b', 'workspaceblobstore', 'x/y.txt'), undefined);

  await assert.rejects(
    objects.put('team-b', 'workspaceblobstore', 'x/y.txt', Readable.from([Buffer.from('abc')]), { size: 4 }),
    (err: unknown) => err instanceof ValidationError && /has 3 bytes, not the 4 announced/.test(err.message),
  );
  assert.equal(await objects.stat('team-b', 'workspaceblobstore', 'x/y.txt'), undefined);

  await assert.rejects(
    objects.put('team-b', 'workspaceblobstore', 'x/y.txt', Readable.from([Buffer.from('abc')]), { sha256: 'ABC' }),
    (err: unknown) => err instanceof ValidationError && /64 lowercase hex/.test(err.message),
  );
  await assert.rejects(
    objects.put('team-b', 'workspaceblobstore', '../escape', Readable.from([Buffer.from('abc')])),
    ValidationError,
  );
});

test('copyByHash trusts the stored content, not the index entry', async () => {
  const objects = createDatastoreObjects({ datastores });
  const put = await objects.put('team-c', 'workspaceblobstore', 'src/a.txt', Readable.from([Buffer.from('same')]));
  const copied = await objects.copyByHash('team-c', 'workspaceblobstore', 'dst/a.txt', put.contentHash);
  assert.equal(copied?.contentHash, put.contentHash);
  assert.equal((await store.get('ws-team-c', 'workspaceblobstore/dst/a.txt')).toString(), 'same');

  const indexed = (
    await store.get('ws-team-c', `workspaceblobstore/${CONTENT_INDEX_FOLDER}/${put.contentHash}`)
  ).toString();
  assert.equal(indexed, 'dst/a.txt', 'the latest write of the content is indexed');

  // The indexed object changes behind the index's back, then disappears: no copy either time.
  await store.put('ws-team-c', 'workspaceblobstore/dst/a.txt', 'different');
  assert.equal(await objects.copyByHash('team-c', 'workspaceblobstore', 'dst2/a.txt', put.contentHash), undefined);
  await store.delete('ws-team-c', 'workspaceblobstore/dst/a.txt');
  assert.equal(await objects.copyByHash('team-c', 'workspaceblobstore', 'dst2/a.txt', put.contentHash), undefined);
  assert.equal(await objects.copyByHash('team-c', 'workspaceblobstore', 'dst2/a.txt', 'f'.repeat(64)), undefined);
  assert.equal(await objects.stat('team-c', 'workspaceblobstore', 'dst2/a.txt'), undefined);
});

test('an unknown datastore is the resolver’s NotFoundError', async () => {
  await assert.rejects(
    uploadLocalPath({ datastores, workspace: 'team-a', localPath: join(dir, 'w3', 'iris.csv'), datastore: 'nope' }),
    (err: unknown) => err instanceof NotFoundError && /'nope'/.test(err.message),
  );
  assert.ok((await readFile(join(dir, 'w3', 'iris.csv'))).length > 0);
});
