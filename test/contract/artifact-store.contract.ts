import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { NotFoundError, ValidationError, isAppError } from '../../shared/errors.js';
import type { ArtifactStore } from '../../shared/ports/artifact-store.js';

/**
 * The ArtifactStore contract: every adapter must pass it unchanged. `fetchSigned` GETs a signed
 * URL the way an anonymous client would (for the filesystem adapter, the harness plays the HTTP
 * function: it verifies the signature and reads the object).
 */
export interface ArtifactStoreHarness {
  store: ArtifactStore;
  fetchSigned(url: string): Promise<{ status: number; body: Buffer }>;
  cleanup(): Promise<void>;
}

async function rejectsWith(p: Promise<unknown>, code: string, pattern?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isAppError(err), `expected an AppError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** `size` deterministic pseudo-random bytes as a stream of 64 KiB chunks, produced lazily. */
function bytesStream(size: number, seed: number): { stream: Readable; expected: () => Buffer } {
  const chunk = 64 * 1024;
  const make = (i: number): Buffer => {
    const len = Math.min(chunk, size - i * chunk);
    const b = Buffer.alloc(len);
    let x = (seed * 2654435761 + i * 40503) >>> 0;
    for (let k = 0; k < len; k++) {
      x = (x * 1103515245 + 12345) >>> 0;
      b[k] = x >>> 24;
    }
    return b;
  };
  const count = Math.ceil(size / chunk);
  function* gen(): Generator<Buffer> {
    for (let i = 0; i < count; i++) yield make(i);
  }
  return { stream: Readable.from(gen()), expected: () => Buffer.concat([...gen()]) };
}

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

let counter = 0;
function containerName(): string {
  counter += 1;
  return `c-${randomBytes(4).toString('hex')}-${counter}`;
}

export function artifactStoreContract(
  adapterName: string,
  make: () => Promise<ArtifactStoreHarness>,
  skips: Readonly<Record<string, string>> = {},
): void {
  describe(`ArtifactStore contract: ${adapterName}`, () => {
    let harness: ArtifactStoreHarness;
    let store: ArtifactStore;
    const test = (name: string, fn: () => Promise<void>): void => {
      const reason = skips[name];
      if (reason !== undefined) it(name, { skip: reason }, () => undefined);
      else it(name, fn);
    };

    before(async () => {
      harness = await make();
      store = harness.store;
    });
    after(async () => {
      await harness?.cleanup();
    });

    test('put a buffer, get it back; stat reports size, sha256, content type, metadata, etag, time', async () => {
      const c = containerName();
      const data = randomBytes(1000);
      const before = Date.now();
      const info = await store.put(c, 'models/m1/model.onnx', data, {
        contentType: 'application/octet-stream',
        metadata: { run_id: 'r-1', stage: 'dev' },
      });
      assert.equal(info.container, c);
      assert.equal(info.path, 'models/m1/model.onnx');
      assert.equal(info.size, 1000);
      assert.equal(info.contentHash, sha256(data));
      assert.ok(info.etag.length > 0);
      assert.deepEqual(await store.get(c, 'models/m1/model.onnx'), data);
      const st = await store.stat(c, 'models/m1/model.onnx');
      assert.ok(st);
      assert.equal(st.size, 1000);
      assert.equal(st.contentHash, sha256(data));
      assert.equal(st.contentType, 'application/octet-stream');
      assert.equal(st.etag, info.etag);
      assert.deepEqual(st.metadata, { run_id: 'r-1', stage: 'dev' });
      assert.ok(
        Math.abs(st.lastModified - before) < 5000,
        `lastModified ${st.lastModified} should be epoch ms near ${before}`,
      );
      assert.equal(await store.exists(c, 'models/m1/model.onnx'), true);
    });

    test('a string is stored as UTF-8 with its content type; an empty object works', async () => {
      const c = containerName();
      const info = await store.put(c, 'logs/std out.txt', 'héllo\n', { contentType: 'text/plain; charset=utf-8' });
      assert.equal(info.size, Buffer.byteLength('héllo\n'));
      assert.equal((await store.get(c, 'logs/std out.txt')).toString('utf8'), 'héllo\n');
      assert.equal((await store.stat(c, 'logs/std out.txt'))?.contentType, 'text/plain; charset=utf-8');
      const empty = await store.put(c, 'empty', Buffer.alloc(0));
      assert.equal(empty.size, 0);
      assert.equal(empty.contentHash, sha256(Buffer.alloc(0)));
      assert.equal((await store.get(c, 'empty')).length, 0);
    });

    test('a 5 MiB object put from a stream reads back identically by get and by stream', async () => {
      const c = containerName();
      const size = 5 * 1024 * 1024 + 123;
      const { stream, expected } = bytesStream(size, 7);
      const info = await store.put(c, 'data/big.bin', stream, { contentType: 'application/x-test' });
      const want = expected();
      assert.equal(info.size, size);
      assert.equal(info.contentHash, sha256(want));
      const streamed = await readAll(await store.stream(c, 'data/big.bin'));
      assert.equal(streamed.length, size);
      assert.ok(streamed.equals(want), 'streamed bytes differ');
      assert.ok((await store.get(c, 'data/big.bin')).equals(want), 'got bytes differ');
      const st = await store.stat(c, 'data/big.bin');
      assert.equal(st?.contentHash, sha256(want));
      assert.equal(st?.size, size);
    });

    test('missing objects: stat undefined, exists false, get and stream NotFound, delete false', async () => {
      const c = containerName();
      assert.equal(await store.stat(c, 'nope.txt'), undefined);
      assert.equal(await store.exists(c, 'nope.txt'), false);
      await rejectsWith(store.get(c, 'nope.txt'), 'NotFound');
      await rejectsWith(store.stream(c, 'nope.txt'), 'NotFound');
      assert.equal(await store.delete(c, 'nope.txt'), false);
      await store.put(c, 'present.txt', 'x');
      await rejectsWith(store.get(c, 'nope.txt'), 'NotFound');
    });

    test('overwrite changes the etag; ifMatch and ifNoneMatch conditions', async () => {
      const c = containerName();
      const v1 = await store.put(c, 'a.txt', 'one');
      const v2 = await store.put(c, 'a.txt', 'two');
      assert.notEqual(v2.etag, v1.etag);
      assert.equal((await store.get(c, 'a.txt')).toString(), 'two');
      await rejectsWith(store.put(c, 'a.txt', 'three', { ifMatch: v1.etag }), 'PreconditionFailed');
      assert.equal((await store.get(c, 'a.txt')).toString(), 'two');
      const v3 = await store.put(c, 'a.txt', 'three', { ifMatch: v2.etag });
      assert.equal((await store.get(c, 'a.txt')).toString(), 'three');
      assert.equal((await store.stat(c, 'a.txt'))?.etag, v3.etag);
      await rejectsWith(store.put(c, 'a.txt', 'four', { ifNoneMatch: '*' }), 'Conflict');
      assert.equal((await store.get(c, 'a.txt')).toString(), 'three');
      await store.put(c, 'b.txt', 'new', { ifNoneMatch: '*' });
      await rejectsWith(store.put(c, 'never.txt', 'x', { ifMatch: v3.etag }), 'PreconditionFailed');
      assert.equal(await store.exists(c, 'never.txt'), false);
      // A conditional put from a stream that loses leaves the object as it was.
      await rejectsWith(store.put(c, 'a.txt', bytesStream(300_000, 1).stream, { ifNoneMatch: '*' }), 'Conflict');
      assert.equal((await store.get(c, 'a.txt')).toString(), 'three');
    });

    test('list: path order, prefix, paging with continuation, no duplicates or gaps', async () => {
      const c = containerName();
      const names: string[] = [];
      for (let i = 0; i < 25; i++) names.push(`runs/a/f${String(i).padStart(2, '0')}.json`);
      const others = ['runs/b/x.json', 'runs/a-b.json', 'runsx.json', 'zzz/last.txt', 'aaa.txt'];
      await Promise.all(
        [...names, ...others].map((n, i) => store.put(c, n, `{"i":${i}}`, { contentType: 'application/json' })),
      );
      const pages: string[][] = [];
      let continuation: string | undefined;
      do {
        const page = await store.list(c, {
          prefix: 'runs/a/',
          limit: 10,
          ...(continuation === undefined ? {} : { continuation }),
        });
        pages.push(page.items.map((i) => i.path));
        for (const item of page.items) {
          assert.equal(item.container, c);
          assert.equal(item.contentType, 'application/json');
          assert.equal(item.size, Buffer.byteLength(`{"i":${names.indexOf(item.path)}}`));
        }
        continuation = page.continuation;
      } while (continuation !== undefined && pages.length < 10);
      assert.deepEqual(
        pages.map((p) => p.length),
        [10, 10, 5],
      );
      assert.deepEqual(pages.flat(), names);
      const everything = (await store.list(c)).items.map((i) => i.path);
      assert.deepEqual(
        everything,
        [...names, ...others].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
      );
      assert.deepEqual(
        (await store.list(c, { prefix: 'runs/a' })).items.map((i) => i.path),
        ['runs/a-b.json', ...names],
      );
      assert.deepEqual((await store.list(c, { prefix: 'nothing/' })).items, []);
      assert.deepEqual((await store.list(containerName())).items, []);
    });

    test('append creates the object, then appends; readRange reads any slice; a put replaces it', async () => {
      const c = containerName();
      assert.equal(await store.append(c, 'logs/std_log.txt', 'line 1\n', { contentType: 'text/plain' }), 7);
      assert.equal(await store.append(c, 'logs/std_log.txt', Buffer.from('line 2\n')), 14);
      assert.equal((await store.get(c, 'logs/std_log.txt')).toString(), 'line 1\nline 2\n');
      const info = await store.stat(c, 'logs/std_log.txt');
      assert.equal(info?.size, 14);
      assert.equal(info?.contentType, 'text/plain');
      assert.equal((await store.readRange(c, 'logs/std_log.txt', 7, 100)).toString(), 'line 2\n');
      assert.equal((await store.readRange(c, 'logs/std_log.txt', 2, 3)).toString(), 'ne ');
      assert.equal((await store.readRange(c, 'logs/std_log.txt', 14, 10)).byteLength, 0);
      assert.equal((await store.readRange(c, 'logs/std_log.txt', 99, 10)).byteLength, 0);
      await assert.rejects(store.readRange(c, 'missing.txt', 0, 10), (err: unknown) => err instanceof NotFoundError);
      await assert.rejects(
        store.readRange(c, 'logs/std_log.txt', -1, 10),
        (err: unknown) => err instanceof ValidationError,
      );
      await assert.rejects(store.append(c, '../escape', 'x'), (err: unknown) => err instanceof ValidationError);
      await store.put(c, 'logs/std_log.txt', 'fresh');
      assert.equal((await store.get(c, 'logs/std_log.txt')).toString(), 'fresh');
    });

    test('delete removes the object and its listing', async () => {
      const c = containerName();
      await store.put(c, 'dir/sub/a.txt', 'a');
      await store.put(c, 'dir/b.txt', 'b');
      assert.equal(await store.delete(c, 'dir/sub/a.txt'), true);
      assert.equal(await store.delete(c, 'dir/sub/a.txt'), false);
      assert.equal(await store.exists(c, 'dir/sub/a.txt'), false);
      await rejectsWith(store.get(c, 'dir/sub/a.txt'), 'NotFound');
      assert.deepEqual(
        (await store.list(c)).items.map((i) => i.path),
        ['dir/b.txt'],
      );
      // The path can be used again afterwards, as an object or as a folder.
      await store.put(c, 'dir/sub', 'now a file');
      assert.equal((await store.get(c, 'dir/sub')).toString(), 'now a file');
    });

    test('paths are normalised; traversal, absolute paths, backslashes and NUL are rejected naming the path', async () => {
      const c = containerName();
      const info = await store.put(c, 'x//y/./z.txt', 'z');
      assert.equal(info.path, 'x/y/z.txt');
      assert.equal((await store.get(c, 'x/y/z.txt')).toString(), 'z');
      for (const bad of [
        '../escape.txt',
        'a/../../escape.txt',
        'a/..',
        '/etc/passwd',
        'C:/windows/x',
        'a\\b.txt',
        'a\u0000b',
        'a\nb',
        '',
        'folder/',
      ]) {
        await rejectsWith(store.put(c, bad, 'x'), 'ValidationError', new RegExp(escapeRegExp(JSON.stringify(bad))));
        await rejectsWith(store.get(c, bad), 'ValidationError');
      }
      await rejectsWith(store.put('Bad_Container', 'a.txt', 'x'), 'ValidationError', /Bad_Container/);
      await rejectsWith(store.put('ab', 'a.txt', 'x'), 'ValidationError', /"ab"/);
      await rejectsWith(store.put(c, 'a.txt', 'x', { metadata: { 'Bad-Key': 'v' } }), 'ValidationError', /Bad-Key/);
      await rejectsWith(store.list(c, { prefix: '../' }), 'ValidationError');
    });

    test('a signed URL reads the object without other credentials; a tampered one is refused', async () => {
      const c = containerName();
      const data = randomBytes(2048);
      const path = 'shared/a file ü+%.bin';
      await store.put(c, path, data);
      const url = await store.signedReadUrl(c, path, { expiresInSeconds: 600 });
      const ok = await harness.fetchSigned(url);
      assert.equal(ok.status, 200);
      assert.ok(ok.body.equals(data), 'signed URL returned different bytes');
      const u = new URL(url);
      const sig = u.searchParams.get('sig') ?? '';
      assert.ok(sig.length > 10, 'the URL carries a signature in sig');
      // Change a character in the middle (full data bits, unlike the last one of base64).
      const flipped = sig.slice(0, 5) + (sig[5] === 'A' ? 'Q' : 'A') + sig.slice(6);
      const tampered = new URL(url);
      tampered.searchParams.set('sig', flipped);
      assert.equal((await harness.fetchSigned(tampered.toString())).status, 403);
      await store.put(c, 'shared/other.bin', 'secret');
      const otherPath = new URL(url);
      otherPath.pathname = otherPath.pathname.replace(/\/[^/]*$/, '/other.bin');
      assert.notEqual(otherPath.pathname, u.pathname, 'the test must change the path');
      assert.equal((await harness.fetchSigned(otherPath.toString())).status, 403);
      await rejectsWith(store.signedReadUrl(c, '../x'), 'ValidationError');
    });

    test('a signed URL stops working when it expires', async () => {
      const c = containerName();
      await store.put(c, 'soon.txt', 'gone soon');
      const url = await store.signedReadUrl(c, 'soon.txt', { expiresInSeconds: 1 });
      const se = new URL(url).searchParams.get('se');
      assert.ok(se, 'the URL carries its expiry');
      const expiresAt = /^\d+$/.test(se) ? Number(se) * 1000 : Date.parse(se);
      assert.ok(expiresAt - Date.now() <= 1500, 'expiry is about a second away');
      await sleep(Math.max(0, expiresAt - Date.now()) + 1100);
      assert.equal((await harness.fetchSigned(url)).status, 403);
    });
  });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
