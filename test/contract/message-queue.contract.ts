import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAppError } from '../../shared/errors.js';
import type { MessageQueue } from '../../shared/ports/message-queue.js';

/**
 * The MessageQueue contract: every adapter must pass it unchanged. Receives ask for locks of
 * QUEUE_CONTRACT_LOCK_MS; where the lock duration is a queue property (Service Bus), the harness
 * must configure its queues with that duration.
 */
export const QUEUE_CONTRACT_LOCK_MS = 200;

export interface MessageQueueHarness {
  queue: MessageQueue;
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

let counter = 0;
function queueName(): string {
  counter += 1;
  return `q-${randomBytes(4).toString('hex')}-${counter}`;
}

const LOCK = { lockDurationMs: QUEUE_CONTRACT_LOCK_MS };

export function messageQueueContract(
  adapterName: string,
  make: () => Promise<MessageQueueHarness>,
  skips: Readonly<Record<string, string>> = {},
): void {
  describe(`MessageQueue contract: ${adapterName}`, () => {
    let harness: MessageQueueHarness;
    let mq: MessageQueue;
    const test = (name: string, fn: () => Promise<void>): void => {
      const reason = skips[name];
      if (reason !== undefined) it(name, { skip: reason }, () => undefined);
      else it(name, fn);
    };

    before(async () => {
      harness = await make();
      mq = harness.queue;
    });
    after(async () => {
      await harness?.cleanup();
    });

    test('send, receive with all fields, complete; the queue is then empty', async () => {
      const q = queueName();
      const before = Date.now();
      await mq.send(q, {
        body: { job: 'train-1', n: [1, 2] },
        messageId: 'm-1',
        correlationId: 'corr-1',
        subject: 'JobSubmitted',
        applicationProperties: { workspace: 'ws1', attempt: 2, urgent: true },
      });
      const [m, ...rest] = await mq.receive(q, LOCK);
      assert.equal(rest.length, 0);
      assert.ok(m);
      assert.deepEqual(m.body, { job: 'train-1', n: [1, 2] });
      assert.equal(m.messageId, 'm-1');
      assert.equal(m.correlationId, 'corr-1');
      assert.equal(m.subject, 'JobSubmitted');
      assert.deepEqual(m.applicationProperties, { workspace: 'ws1', attempt: 2, urgent: true });
      assert.equal(m.deliveryCount, 1);
      assert.ok(Math.abs(m.enqueuedTimeMs - before) < 5000);
      assert.ok(m.lockToken.length > 0);
      assert.ok(m.lockedUntilMs > Date.now() - 50);
      assert.equal(m.deadLetterReason, undefined);
      await mq.complete(q, m);
      assert.deepEqual(await mq.receive(q, LOCK), []);
      await sleep(QUEUE_CONTRACT_LOCK_MS + 50);
      assert.deepEqual(await mq.receive(q, LOCK), [], 'a completed message never comes back');
    });

    test('a message without messageId gets one; maxMessages bounds a receive; order is first in, first out', async () => {
      const q = queueName();
      await mq.send(
        q,
        [1, 2, 3, 4, 5].map((n) => ({ body: n })),
      );
      const first = await mq.receive(q, { ...LOCK, maxMessages: 3 });
      assert.deepEqual(
        first.map((m) => m.body),
        [1, 2, 3],
      );
      assert.ok(first.every((m) => typeof m.messageId === 'string' && m.messageId.length > 0));
      assert.equal(new Set(first.map((m) => m.messageId)).size, 3);
      const second = await mq.receive(q, { ...LOCK, maxMessages: 10 });
      assert.deepEqual(
        second.map((m) => m.body),
        [4, 5],
      );
      for (const m of [...first, ...second]) await mq.complete(q, m);
    });

    test('a locked message is hidden from a second receive', async () => {
      const q = queueName();
      await mq.send(q, { body: 'only', messageId: 'only' });
      const [m] = await mq.receive(q, LOCK);
      assert.ok(m);
      assert.deepEqual(await mq.receive(q, LOCK), []);
      await mq.complete(q, m);
    });

    test('when the lock expires the message is delivered again with deliveryCount 2; the stale lock is rejected', async () => {
      const q = queueName();
      await mq.send(q, { body: 'retry me', messageId: 'r-1' });
      const [first] = await mq.receive(q, LOCK);
      assert.ok(first);
      await sleep(QUEUE_CONTRACT_LOCK_MS + 100);
      const [second] = await mq.receive(q, LOCK);
      assert.ok(second, 'redelivered after the lock expired');
      assert.equal(second.messageId, 'r-1');
      assert.equal(second.deliveryCount, 2);
      assert.notEqual(second.lockToken, first.lockToken);
      await rejectsWith(mq.complete(q, first), 'PreconditionFailed', /lock/i);
      await rejectsWith(mq.abandon(q, first), 'PreconditionFailed');
      await rejectsWith(mq.deadLetter(q, first, 'x'), 'PreconditionFailed');
      await mq.complete(q, second);
      await rejectsWith(mq.complete(q, second), 'PreconditionFailed', /lock/i);
    });

    test('settling with an expired lock is rejected even if nobody received the message again', async () => {
      const q = queueName();
      await mq.send(q, { body: 'slow' });
      const [m] = await mq.receive(q, LOCK);
      assert.ok(m);
      await sleep(QUEUE_CONTRACT_LOCK_MS + 100);
      await rejectsWith(mq.complete(q, m), 'PreconditionFailed');
      const [again] = await mq.receive(q, LOCK);
      assert.equal(again?.deliveryCount, 2);
      await mq.complete(q, again!);
    });

    test('abandon releases the lock at once and the delivery counts', async () => {
      const q = queueName();
      await mq.send(q, { body: 'a', messageId: 'ab-1' });
      const [m] = await mq.receive(q, { lockDurationMs: 60_000 });
      assert.ok(m);
      await mq.abandon(q, m);
      const [again] = await mq.receive(q, LOCK);
      assert.ok(again, 'available again right after abandon');
      assert.equal(again.messageId, 'ab-1');
      assert.equal(again.deliveryCount, 2);
      await mq.complete(q, again);
    });

    test('explicit dead-lettering keeps the reason; the dead-letter queue is received and completed', async () => {
      const q = queueName();
      await mq.send(q, { body: { bad: true }, messageId: 'dl-1', applicationProperties: { k: 'v' } });
      const [m] = await mq.receive(q, LOCK);
      assert.ok(m);
      await mq.deadLetter(q, m, 'InvalidSpec', 'field x is missing');
      assert.deepEqual(await mq.receive(q, LOCK), []);
      const [d] = await mq.receiveDeadLetters(q, LOCK);
      assert.ok(d);
      assert.equal(d.messageId, 'dl-1');
      assert.deepEqual(d.body, { bad: true });
      assert.equal(d.deadLetterReason, 'InvalidSpec');
      assert.equal(d.deadLetterErrorDescription, 'field x is missing');
      assert.deepEqual(d.applicationProperties, { k: 'v' });
      assert.deepEqual(await mq.receiveDeadLetters(q, LOCK), [], 'locked in the dead-letter queue too');
      await mq.completeDeadLetter(q, d);
      await sleep(QUEUE_CONTRACT_LOCK_MS + 50);
      assert.deepEqual(await mq.receiveDeadLetters(q, LOCK), []);
      await rejectsWith(mq.completeDeadLetter(q, d), 'PreconditionFailed');
    });

    test('after maxDeliveryCount deliveries the message moves to the dead-letter queue (MaxDeliveryCountExceeded)', async () => {
      const q = queueName();
      await mq.configureQueue(q, { maxDeliveryCount: 2 });
      await mq.send(q, { body: 'poison', messageId: 'p-1' });
      const [m1] = await mq.receive(q, LOCK);
      assert.equal(m1?.deliveryCount, 1);
      await mq.abandon(q, m1!);
      const [m2] = await mq.receive(q, LOCK);
      assert.equal(m2?.deliveryCount, 2);
      await mq.abandon(q, m2!);
      assert.deepEqual(await mq.receive(q, LOCK), [], 'not delivered a third time');
      const [d] = await mq.receiveDeadLetters(q, LOCK);
      assert.ok(d, 'dead-lettered');
      assert.equal(d.messageId, 'p-1');
      assert.equal(d.body, 'poison');
      assert.equal(d.deadLetterReason, 'MaxDeliveryCountExceeded');
      await mq.completeDeadLetter(q, d);
    });

    test('the default maxDeliveryCount is 10, and lock expiry counts as a delivery', async () => {
      const q = queueName();
      await mq.send(q, { body: 'ten', messageId: 't-1' });
      for (let i = 1; i <= 9; i++) {
        const [m] = await mq.receive(q, LOCK);
        assert.equal(m?.deliveryCount, i);
        await mq.abandon(q, m!);
      }
      const [tenth] = await mq.receive(q, LOCK);
      assert.equal(tenth?.deliveryCount, 10);
      await sleep(QUEUE_CONTRACT_LOCK_MS + 100);
      assert.deepEqual(await mq.receive(q, LOCK), []);
      const [d] = await mq.receiveDeadLetters(q, LOCK);
      assert.equal(d?.deadLetterReason, 'MaxDeliveryCountExceeded');
      await mq.completeDeadLetter(q, d!);
    });

    test('a duplicate messageId is ignored while the first is still in the queue', async () => {
      const q = queueName();
      await mq.send(q, { body: 'first', messageId: 'job-42' });
      await mq.send(q, { body: 'second', messageId: 'job-42' });
      await mq.send(q, [
        { body: 'third', messageId: 'job-42' },
        { body: 'other', messageId: 'job-43' },
      ]);
      const got = await mq.receive(q, { ...LOCK, maxMessages: 10 });
      assert.deepEqual(
        got.map((m) => [m.messageId, m.body]),
        [
          ['job-42', 'first'],
          ['job-43', 'other'],
        ],
      );
      for (const m of got) await mq.complete(q, m);
    });

    test('a scheduled message is not visible before its time, then is delivered', async () => {
      const q = queueName();
      const at = Date.now() + 500;
      await mq.send(q, { body: 'later', scheduledEnqueueTimeMs: at });
      assert.deepEqual(await mq.receive(q, LOCK), []);
      const [m] = await mq.receive(q, { ...LOCK, maxWaitMs: 3000 });
      assert.ok(m, 'delivered once due');
      assert.ok(Date.now() >= at - 5, 'not before its time');
      assert.equal(m.body, 'later');
      await mq.complete(q, m);
    });

    test('receive with maxWaitMs wakes up when a message is sent', async () => {
      const q = queueName();
      const started = Date.now();
      const waiting = mq.receive(q, { ...LOCK, maxWaitMs: 5000 });
      await sleep(100);
      await mq.send(q, { body: 'wake' });
      const [m] = await waiting;
      assert.equal(m?.body, 'wake');
      assert.ok(Date.now() - started < 2000, `woke after ${Date.now() - started} ms`);
      await mq.complete(q, m!);
      const t0 = Date.now();
      assert.deepEqual(await mq.receive(q, { ...LOCK, maxWaitMs: 300 }), []);
      assert.ok(Date.now() - t0 >= 280, 'an empty receive waits for maxWaitMs');
    });

    test('settling on another queue or with a made-up lock token is rejected; bad names are ValidationErrors', async () => {
      const q = queueName();
      await mq.send(q, { body: 1 });
      const [m] = await mq.receive(q, LOCK);
      assert.ok(m);
      await rejectsWith(mq.complete(queueName(), m), 'PreconditionFailed');
      await rejectsWith(
        mq.complete(q, { ...m, lockToken: '00000000-0000-0000-0000-000000000000' }),
        'PreconditionFailed',
      );
      await mq.complete(q, m);
      await rejectsWith(mq.send('bad queue!', { body: 1 }), 'ValidationError', /bad queue!/);
      await rejectsWith(mq.receive(q, { maxMessages: 0 }), 'ValidationError', /maxMessages/);
      await rejectsWith(mq.send(q, { body: undefined }), 'ValidationError', /body/);
    });
  });
}
