// Timer, blob and Service Bus queue triggers of the local host, with the embedded adapters,
// and the host's answer to a throwing handler.
import '../../local/core-shim.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LocalHost } from '../../local/host.js';
import { createConsoleLogger } from '../../local/logger.js';
import { FilesystemArtifactStore } from '../../shared/adapters/filesystem-artifact-store.js';
import { SqliteMessageQueue } from '../../shared/adapters/sqlite-message-queue.js';
import { prepareFixtureApp, tempDir, waitFor } from '../support/fixture-app.js';
import { startHostProcess } from '../support/host-process.js';

describe('local host triggers', () => {
  let host: LocalHost;
  let dataDir: string;
  let artifacts: FilesystemArtifactStore;
  let queue: SqliteMessageQueue;
  const markers = () =>
    existsSync(join(dataDir, 'markers.log'))
      ? readFileSync(join(dataDir, 'markers.log'), 'utf8').split('\n').filter(Boolean)
      : [];
  let savedDataDir: string | undefined;

  before(async () => {
    dataDir = tempDir('triggers');
    savedDataDir = process.env.TESSERA_DATA_DIR;
    process.env.TESSERA_DATA_DIR = dataDir;
    const root = join(dataDir, 'artifacts');
    artifacts = new FilesystemArtifactStore({ root, signingKey: randomBytes(32), publicBaseUrl: 'http://127.0.0.1' });
    await artifacts.put('incoming', 'before-start.txt', 'written before the host started');
    queue = SqliteMessageQueue.open(join(dataDir, 'queues.db'));
    await queue.configureQueue('work-items', { maxDeliveryCount: 3 });
    host = await LocalHost.start({
      appRoot: prepareFixtureApp(),
      dataDir,
      port: 0,
      bindAddress: '127.0.0.1',
      logger: createConsoleLogger('critical'),
      artifacts: { store: artifacts, subscribe: (l) => FilesystemArtifactStore.onPut(root, l) },
      queue,
      blobScanIntervalMs: 200,
    });
  });
  after(async () => {
    await host.stop();
    await queue.close();
    if (savedDataDir === undefined) delete process.env.TESSERA_DATA_DIR;
    else process.env.TESSERA_DATA_DIR = savedDataDir;
  });

  it('runs a runOnStartup timer at start', async () => {
    await waitFor('the startup timer', async () => (markers().some((l) => l.startsWith('timer ')) ? true : undefined));
  });

  it('fires a blob trigger for blobs present at start and for new ones, once per version', async () => {
    await waitFor('the pre-existing blob', async () =>
      markers().includes('blob before-start.txt 31') ? true : undefined,
    );
    await artifacts.put('incoming', 'nested/new.bin', Buffer.alloc(1234));
    await waitFor('the new blob', async () => (markers().includes('blob nested/new.bin 1234') ? true : undefined));
    await new Promise((r) => setTimeout(r, 500)); // several scans
    assert.equal(markers().filter((l) => l === 'blob nested/new.bin 1234').length, 1);
    await artifacts.put('incoming', 'nested/new.bin', Buffer.alloc(10));
    await waitFor('the new version', async () => (markers().includes('blob nested/new.bin 10') ? true : undefined));
  });

  it('delivers queue messages, retries failures and dead-letters after max deliveries', async () => {
    await queue.send('work-items', [{ body: { id: 'good' } }, { body: { id: 'bad', fail: true } }]);
    await waitFor('the good message', async () =>
      markers().some((l) => l.startsWith('queue good delivery=1')) ? true : undefined,
    );
    await waitFor('three deliveries of the bad message', async () =>
      markers().filter((l) => l.startsWith('queue bad')).length >= 3 ? true : undefined,
    );
    const dead = await waitFor('the dead-lettered message', async () => {
      const got = await queue.receiveDeadLetters('work-items', { maxMessages: 10 });
      return got.length > 0 ? got : undefined;
    });
    assert.deepEqual(dead[0]?.body, { id: 'bad', fail: true });
    assert.deepEqual(
      markers().filter((l) => l.startsWith('queue bad')),
      ['queue bad delivery=1', 'queue bad delivery=2', 'queue bad delivery=3'],
    );
  });

  it('routes with templates and constraints', async () => {
    const res = await fetch(`${host.origin}/api/items/42/a/b?q=x`);
    assert.deepEqual(await res.json(), { id: '42', rest: 'a/b', q: 'x', method: 'GET', body: null });
    assert.equal((await fetch(`${host.origin}/api/items/not-an-int`)).status, 404);
    const put = await fetch(`${host.origin}/api/items/7`, { method: 'PUT', body: 'payload' });
    assert.deepEqual(await put.json(), { id: '7', rest: null, q: null, method: 'PUT', body: 'payload' });
  });

  it('answers a throwing handler with a 500, a correlation id and no stack trace', async () => {
    const res = await fetch(`${host.origin}/api/throws`);
    assert.equal(res.status, 500);
    const text = await res.text();
    const body = JSON.parse(text) as { error: { code: string; correlationId: string } };
    assert.equal(body.error.code, 'InternalError');
    assert.match(body.error.correlationId, /^[0-9a-f-]{36}$/);
    assert.ok(!text.includes('secret internal detail'));
    assert.ok(!text.includes('at '), 'no stack frames');
  });

  it("calls an HTTP function's direct-lane handler without the invocation pipeline; its failures are 500s without detail", async () => {
    const res = await fetch(`${host.origin}/api/echo/hello`, {
      method: 'POST',
      body: 'payload',
      headers: { 'x-caller': 'test' },
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('x-lane'), 'direct');
    assert.deepEqual(await res.json(), { lane: 'direct', word: 'hello', body: 'payload', caller: 'test' });
    const boom = await fetch(`${host.origin}/api/echo/boom`, { method: 'POST', body: '' });
    assert.equal(boom.status, 500);
    const text = await boom.text();
    assert.match(text, /correlation id/);
    assert.ok(!text.includes('secret internal detail'));
  });

  it('with TESSERA_DIRECT_HTTP=off, the same route goes through the function', async () => {
    // A second app cannot load in this process (its modules are cached): a host process of its own.
    const plain = await startHostProcess({
      dataDir: tempDir('triggers-no-direct'),
      appRoot: prepareFixtureApp(),
      env: { TESSERA_DIRECT_HTTP: 'off' },
    });
    try {
      const res = await fetch(`${plain.origin}/api/echo/hello`, { method: 'POST', body: 'payload' });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { lane: 'function', word: 'hello', body: 'payload' });
    } finally {
      await plain.stop();
    }
  });
});
