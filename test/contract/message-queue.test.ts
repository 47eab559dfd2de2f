import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceBusAdministrationClient, ServiceBusClient } from '@azure/service-bus';
import { SqliteMessageQueue } from '../../shared/adapters/sqlite-message-queue.js';
import {
  ServiceBusMessageQueue,
  type ServiceBusAdministrationLike,
  type ServiceBusClientLike,
} from '../../shared/adapters/servicebus-message-queue.js';
import { QUEUE_CONTRACT_LOCK_MS, messageQueueContract } from './message-queue.contract.js';
import { FakeServiceBusNamespace } from '../support/service-bus-fake.js';

// Compile-time proof that the real SDK clients fit the slice the adapter is typed against.
const realClientFits: ServiceBusClient extends ServiceBusClientLike ? true : false = true;
const realAdminFits: ServiceBusAdministrationClient extends ServiceBusAdministrationLike ? true : false = true;
void realClientFits;
void realAdminFits;

messageQueueContract('SqliteMessageQueue (temp file)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-queue-'));
  const queue = SqliteMessageQueue.open(join(dir, 'queue.db'));
  return {
    queue,
    async cleanup() {
      await queue.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

messageQueueContract('ServiceBusMessageQueue (fake of the @azure/service-bus SDK, not a broker)', async () => {
  const ns = new FakeServiceBusNamespace({ lockDurationMs: QUEUE_CONTRACT_LOCK_MS });
  const queue = new ServiceBusMessageQueue({
    client: ns.createClient(),
    admin: ns.createAdministrationClient(),
    minReceiveWaitMs: 20,
  });
  return {
    queue,
    async cleanup() {
      await queue.close();
    },
  };
});

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-queue-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('SqliteMessageQueue specifics', () => {
  it('a waiting receive wakes at once when another instance in this process sends on the same file', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'q.db');
      // Polling is pushed beyond the receive's wait, so only the in-process notifier can deliver
      // the message before the receive gives up empty-handed (no timing assertion needed).
      const receiver = SqliteMessageQueue.open(file, { pollIntervalMs: 600_000 });
      const sender = SqliteMessageQueue.open(join(dir, '.', 'q.db'));
      try {
        const waiting = receiver.receive('jobs', { maxWaitMs: 20_000 });
        await sleep(10);
        await sender.send('jobs', { body: 'go' });
        const [m] = await waiting;
        assert.equal(m?.body, 'go');
      } finally {
        await receiver.close();
        await sender.close();
      }
    });
  });

  it('configureQueue is persisted in the database', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'q.db');
      const a = SqliteMessageQueue.open(file);
      await a.configureQueue('jobs', { maxDeliveryCount: 1 });
      await a.close();
      const b = SqliteMessageQueue.open(file);
      try {
        await b.send('jobs', { body: 1 });
        const [m] = await b.receive('jobs');
        await b.abandon('jobs', m!);
        assert.deepEqual(await b.receive('jobs'), []);
        assert.equal((await b.receiveDeadLetters('jobs'))[0]?.deadLetterReason, 'MaxDeliveryCountExceeded');
      } finally {
        await b.close();
      }
    });
  });

  it('close() ends a pending receive early with no messages', async () => {
    await withTempDir(async (dir) => {
      const q = SqliteMessageQueue.open(join(dir, 'q.db'));
      const t0 = Date.now();
      const waiting = q.receive('jobs', { maxWaitMs: 10_000 });
      await sleep(20);
      await q.close();
      assert.deepEqual(await waiting, []);
      assert.ok(Date.now() - t0 < 2000);
    });
  });

  it('a SIGKILLed process loses nothing it committed; its unsettled lock expires and the message is redelivered', async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'q.db');
      const moduleUrl = pathToFileURL(resolve('dist/shared/adapters/sqlite-message-queue.js')).href;
      const script = `
        const { SqliteMessageQueue } = await import(${JSON.stringify(moduleUrl)});
        const q = SqliteMessageQueue.open(${JSON.stringify(file)});
        await q.send('jobs', [{ body: 'a', messageId: 'a' }, { body: 'b', messageId: 'b' }, { body: 'c', messageId: 'c' }]);
        const [m] = await q.receive('jobs', { lockDurationMs: 300 });
        await q.complete('jobs', (await q.receive('jobs', { lockDurationMs: 300 }))[0]);
        process.stdout.write('ready ' + m.messageId + '\\n');
        setInterval(() => {}, 1000);
      `;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const line = await new Promise<string>((done, fail) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('\n')) done(out.trim());
        });
        child.on('exit', (code) => fail(new Error(`child exited early with ${code}`)));
      });
      assert.equal(line, 'ready a');
      child.kill('SIGKILL');
      await new Promise((done) => child.once('exit', done));
      const q = SqliteMessageQueue.open(file);
      try {
        // 'b' was completed; 'c' is waiting; 'a' is locked by the dead process until its lock expires.
        const now = await q.receive('jobs', { maxMessages: 10 });
        assert.deepEqual(
          now.map((m) => m.messageId),
          ['c'],
        );
        const later = await q.receive('jobs', { maxMessages: 10, maxWaitMs: 3000 });
        assert.deepEqual(
          later.map((m) => [m.messageId, m.deliveryCount]),
          [['a', 2]],
        );
      } finally {
        await q.close();
      }
    });
  });
});

describe('ServiceBusMessageQueue specifics', () => {
  it('reports deliveryCount 1 on first delivery although the SDK reports 0 (the AMQP count of earlier deliveries)', async () => {
    const ns = new FakeServiceBusNamespace();
    const client = ns.createClient();
    const q = new ServiceBusMessageQueue({ client, minReceiveWaitMs: 0 });
    await client.createSender('raw').sendMessages([{ body: 'x' }]);
    const sdkView = await ns
      .createClient()
      .createReceiver('raw', { receiveMode: 'peekLock' })
      .receiveMessages(1, { maxWaitTimeInMs: 0 });
    assert.equal(sdkView[0]?.deliveryCount, 0);
    await sleep(0);
    await q.send('jobs', { body: 'y' });
    const [m] = await q.receive('jobs');
    assert.equal(m?.deliveryCount, 1);
    await q.close();
  });

  it('configureQueue without an administration client is Unsupported, with the reason', async () => {
    const q = new ServiceBusMessageQueue({ client: new FakeServiceBusNamespace().createClient() });
    await assert.rejects(q.configureQueue('jobs', { maxDeliveryCount: 3 }), /administration client/);
    await q.close();
  });

  it('concurrent receives on one queue are serialised (the SDK allows one receiveMessages per receiver)', async () => {
    const ns = new FakeServiceBusNamespace({ lockDurationMs: 5000 });
    const q = new ServiceBusMessageQueue({ client: ns.createClient(), minReceiveWaitMs: 0 });
    await q.send('jobs', [{ body: 1 }, { body: 2 }]);
    const [a, b] = await Promise.all([q.receive('jobs', { maxWaitMs: 200 }), q.receive('jobs', { maxWaitMs: 200 })]);
    assert.deepEqual([...(a ?? []), ...(b ?? [])].map((m) => m.body).sort(), [1, 2]);
    await q.close();
  });
});
