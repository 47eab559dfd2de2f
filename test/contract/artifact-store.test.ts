import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { FilesystemArtifactStore } from '../../shared/adapters/filesystem-artifact-store.js';
import { BlobArtifactStore } from '../../shared/adapters/blob-artifact-store.js';
import { parseSignedArtifactUrl, verifyArtifactSignature } from '../../shared/domain/signed-url.js';
import type { ArtifactInfo } from '../../shared/ports/artifact-store.js';
import { isAppError } from '../../shared/errors.js';
import { artifactStoreContract } from './artifact-store.contract.js';
import { startAzurite } from '../support/azurite.js';

const PUBLIC_BASE_URL = 'http://127.0.0.1:7071';

async function makeFilesystem(): Promise<{
  store: FilesystemArtifactStore;
  root: string;
  key: Buffer;
  cleanup(): Promise<void>;
}> {
  const root = await mkdtemp(join(tmpdir(), 'tessera-artifacts-'));
  const key = randomBytes(32);
  const store = new FilesystemArtifactStore({ root, signingKey: key, publicBaseUrl: PUBLIC_BASE_URL });
  return {
    store,
    root,
    key,
    async cleanup() {
      await store.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

artifactStoreContract('FilesystemArtifactStore (temp dir)', async () => {
  const fs = await makeFilesystem();
  return {
    store: fs.store,
    cleanup: fs.cleanup,
    // Plays the signed-read HTTP function: verify with shared/domain/signed-url.ts, then read.
    async fetchSigned(url) {
      assert.ok(url.startsWith(`${PUBLIC_BASE_URL}/api/artifacts/signed/`), url);
      const parsed = parseSignedArtifactUrl(url);
      if (
        parsed === undefined ||
        !verifyArtifactSignature(fs.key, parsed.container, parsed.path, parsed.se, parsed.sig, Date.now())
      ) {
        return { status: 403, body: Buffer.alloc(0) };
      }
      return { status: 200, body: await fs.store.get(parsed.container, parsed.path) };
    },
  };
});

artifactStoreContract('BlobArtifactStore (Azurite)', async () => {
  const azurite = await startAzurite();
  const store = BlobArtifactStore.fromConnectionString(azurite.connectionString);
  return {
    store,
    async fetchSigned(url) {
      assert.ok(url.startsWith(azurite.blobEndpoint), url);
      const res = await fetch(url);
      const body = Buffer.from(await res.arrayBuffer());
      return { status: res.status, body };
    },
    async cleanup() {
      await store.close();
      await azurite.stop();
    },
  };
});

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(relative(dir, p));
    }
  };
  await walk(dir);
  return out.sort();
}

describe('FilesystemArtifactStore specifics', () => {
  it('objects are plain files under root/<container>/<path>, sidecars under root/.meta, nothing left in .tmp', async () => {
    const fs = await makeFilesystem();
    try {
      await fs.store.put('models', 'm/v1/model.onnx', 'bytes');
      assert.deepEqual(await listFiles(fs.root), [
        join('.meta', 'models', 'm', 'v1', 'model.onnx'),
        join('models', 'm', 'v1', 'model.onnx'),
      ]);
    } finally {
      await fs.cleanup();
    }
  });

  it('onPut notifies every listener on the same root (however spelled) after a put, until unsubscribed', async () => {
    const fs = await makeFilesystem();
    try {
      const other = new FilesystemArtifactStore({
        root: join(fs.root, 'x', '..'),
        signingKey: fs.key,
        publicBaseUrl: PUBLIC_BASE_URL,
      });
      const seen: ArtifactInfo[] = [];
      const elsewhere: ArtifactInfo[] = [];
      const stop = FilesystemArtifactStore.onPut(relative(process.cwd(), fs.root), (info) => seen.push(info));
      const stopElsewhere = FilesystemArtifactStore.onPut(join(fs.root, 'not-the-root'), (info) =>
        elsewhere.push(info),
      );
      await fs.store.put('inputs', 'batch/1.csv', 'a,b\n');
      await other.put('inputs', 'batch/2.csv', 'c,d\n');
      await assert.rejects(fs.store.put('inputs', 'batch/1.csv', 'x', { ifNoneMatch: '*' }));
      assert.deepEqual(
        seen.map((i) => [i.container, i.path, i.size]),
        [
          ['inputs', 'batch/1.csv', 4],
          ['inputs', 'batch/2.csv', 4],
        ],
      );
      assert.equal(seen[0]?.contentHash, createHash('sha256').update('a,b\n').digest('hex'));
      stop();
      await fs.store.put('inputs', 'batch/3.csv', 'e');
      assert.equal(seen.length, 2);
      assert.equal(elsewhere.length, 0);
      stopElsewhere();
    } finally {
      await fs.cleanup();
    }
  });

  it('a stream that fails half-way leaves the previous version and no temporary file', async () => {
    const fs = await makeFilesystem();
    try {
      await fs.store.put('data', 'a.bin', 'version one');
      async function* failing(): AsyncGenerator<Buffer> {
        yield Buffer.alloc(100_000, 1);
        throw new Error('network dropped');
      }
      await assert.rejects(fs.store.put('data', 'a.bin', Readable.from(failing())), /network dropped/);
      assert.equal((await fs.store.get('data', 'a.bin')).toString(), 'version one');
      assert.deepEqual(await listFiles(join(fs.root, '.tmp')), []);
    } finally {
      await fs.cleanup();
    }
  });

  it('a data file replaced behind the sidecar (crash between the renames, or a hand copy) gets a correct hash', async () => {
    const fs = await makeFilesystem();
    try {
      const v1 = await fs.store.put('data', 'd/a.txt', 'old', { contentType: 'text/plain' });
      // Swap the data file for new bytes without touching the sidecar, as a crash after the data rename would.
      const tmp = join(fs.root, 'new-bytes');
      await writeFile(tmp, 'brand new');
      await rename(tmp, join(fs.root, 'data', 'd', 'a.txt'));
      const st = await fs.store.stat('data', 'd/a.txt');
      assert.equal(st?.contentHash, createHash('sha256').update('brand new').digest('hex'));
      assert.equal(st?.size, 9);
      assert.notEqual(st?.etag, v1.etag);
      // A file copied in by hand is an object too.
      await mkdir(join(fs.root, 'data', 'manual'), { recursive: true });
      await writeFile(join(fs.root, 'data', 'manual', 'x.csv'), '1,2');
      assert.equal(
        (await fs.store.stat('data', 'manual/x.csv'))?.contentHash,
        createHash('sha256').update('1,2').digest('hex'),
      );
      assert.deepEqual(
        (await fs.store.list('data')).items.map((i) => i.path),
        ['d/a.txt', 'manual/x.csv'],
      );
    } finally {
      await fs.cleanup();
    }
  });

  it("a path cannot be both an object and a folder ('a' and 'a/b'): Conflict", async () => {
    const fs = await makeFilesystem();
    try {
      await fs.store.put('data', 'a', 'file');
      await assert.rejects(
        fs.store.put('data', 'a/b', 'x'),
        (err: unknown) => isAppError(err) && err.code === 'Conflict',
      );
      await fs.store.put('data', 'dir/b', 'x');
      await assert.rejects(
        fs.store.put('data', 'dir', 'x'),
        (err: unknown) => isAppError(err) && err.code === 'Conflict',
      );
      assert.equal((await fs.store.get('data', 'a')).toString(), 'file');
    } finally {
      await fs.cleanup();
    }
  });

  it('a symbolic link placed in the folder cannot be used to read outside it', async () => {
    const fs = await makeFilesystem();
    const outside = await mkdtemp(join(tmpdir(), 'tessera-outside-'));
    try {
      await writeFile(join(outside, 'secret.txt'), 'do not serve');
      await fs.store.put('data', 'ok.txt', 'fine');
      await symlink(outside, join(fs.root, 'data', 'linked'));
      await symlink(join(outside, 'secret.txt'), join(fs.root, 'data', 'file-link'));
      for (const p of ['linked/secret.txt', 'file-link']) {
        await assert.rejects(fs.store.get('data', p), (err: unknown) => isAppError(err) && err.code === 'Forbidden');
        await assert.rejects(fs.store.stream('data', p), (err: unknown) => isAppError(err) && err.code === 'Forbidden');
      }
      assert.equal((await fs.store.get('data', 'ok.txt')).toString(), 'fine');
    } finally {
      await fs.cleanup();
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('concurrent conditional puts of one new object: exactly one wins', async () => {
    const fs = await makeFilesystem();
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => fs.store.put('data', 'once.txt', `writer ${i}`, { ifNoneMatch: '*' })),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      assert.ok(
        results.every((r) => r.status === 'fulfilled' || (isAppError(r.reason) && r.reason.code === 'Conflict')),
      );
    } finally {
      await fs.cleanup();
    }
  });
});
