import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertInvalid } from './app-error-assertions.js';
import { assertQueueName } from '../../shared/domain/queue-names.js';
import { checkDeadLetterReason, checkOutgoing, MAX_MESSAGE_BATCH } from '../../shared/domain/queue-messages.js';
import {
  checkQueueOptions,
  checkReceive,
  DEAD_LETTER_QUEUE_SUFFIX,
  DEFAULT_LOCK_DURATION_MS,
  lockLost,
} from '../../shared/domain/queue-delivery.js';
import type { OutgoingMessage, ReceivedMessage } from '../../shared/ports/message-queue.js';

describe('assertQueueName', () => {
  for (const ok of ['jobs', 'a', 'Jobs.v2-run_1', 'ns/jobs', 'x'.repeat(260)]) {
    it(`accepts ${JSON.stringify(ok).slice(0, 40)}`, () => assert.doesNotThrow(() => assertQueueName(ok)));
  }
  for (const bad of ['', '-jobs', 'jobs.', 'a//b', 'a b', 'x'.repeat(261), undefined]) {
    it(`refuses ${JSON.stringify(bad)?.slice(0, 40)}`, () => assertInvalid(() => assertQueueName(bad), 'queue'));
  }
});

describe('checkOutgoing', () => {
  it('serialises the body and gives a message without an id a random one', () => {
    const [a, b] = checkOutgoing([{ body: { n: 1 } }, { body: 'x', messageId: 'm2', correlationId: 'c' }]);
    assert.equal(a?.bodyJson, '{"n":1}');
    assert.match(a?.messageId ?? '', /^[0-9a-f-]{36}$/);
    assert.deepEqual(b, {
      messageId: 'm2',
      bodyJson: '"x"',
      correlationId: 'c',
      subject: undefined,
      applicationProperties: {},
      scheduledEnqueueTimeMs: undefined,
    });
  });

  it('takes one message or a list', () => {
    assert.equal(checkOutgoing({ body: 1 }).length, 1);
    assert.equal(checkOutgoing([]).length, 0);
  });

  const refused: { name: string; messages: unknown; target: string }[] = [
    {
      name: 'more than the batch limit',
      messages: Array.from({ length: MAX_MESSAGE_BATCH + 1 }, () => ({ body: 1 })),
      target: 'messages',
    },
    { name: 'a body that is not JSON', messages: [{ body: undefined }], target: 'messages[0].body' },
    { name: 'an empty messageId', messages: [{ body: 1, messageId: '' }], target: 'messages[0].messageId' },
    {
      name: 'a correlationId over 128 characters',
      messages: [{ body: 1, correlationId: 'c'.repeat(129) }],
      target: 'messages[0].correlationId',
    },
    {
      name: 'an object application property',
      messages: [{ body: 1, applicationProperties: { a: {} } }],
      target: 'messages[0].applicationProperties.a',
    },
    {
      name: 'a schedule that is not a time',
      messages: [{ body: 1, scheduledEnqueueTimeMs: Number.NaN }],
      target: 'messages[0].scheduledEnqueueTimeMs',
    },
  ];
  for (const c of refused) {
    it(`refuses ${c.name}`, () => assertInvalid(() => checkOutgoing(c.messages as OutgoingMessage[]), c.target));
  }
});

describe('checkDeadLetterReason', () => {
  it('accepts up to 4096 characters', () => assert.doesNotThrow(() => checkDeadLetterReason('r'.repeat(4096))));
  for (const bad of ['', 'r'.repeat(4097), 3]) {
    it(`refuses ${JSON.stringify(bad).slice(0, 20)}`, () => assertInvalid(() => checkDeadLetterReason(bad), 'reason'));
  }
});

describe('checkReceive', () => {
  it('applies the defaults', () => {
    assert.deepEqual(checkReceive(), { maxMessages: 1, lockDurationMs: DEFAULT_LOCK_DURATION_MS, maxWaitMs: 0 });
  });
  const refused: [string, Record<string, number>][] = [
    ['maxMessages', { maxMessages: 0 }],
    ['maxMessages', { maxMessages: MAX_MESSAGE_BATCH + 1 }],
    ['lockDurationMs', { lockDurationMs: 0 }],
    ['maxWaitMs', { maxWaitMs: -1 }],
    ['maxWaitMs', { maxWaitMs: 1.5 }],
  ];
  for (const [target, options] of refused) {
    it(`refuses ${JSON.stringify(options)}`, () => assertInvalid(() => checkReceive(options), target));
  }
});

describe('checkQueueOptions', () => {
  it('accepts 1 to 2000 deliveries', () => {
    assert.doesNotThrow(() => checkQueueOptions({}));
    assert.doesNotThrow(() => checkQueueOptions({ maxDeliveryCount: 2000 }));
  });
  for (const bad of [0, 2001, 2.5]) {
    it(`refuses maxDeliveryCount ${bad}`, () =>
      assertInvalid(() => checkQueueOptions({ maxDeliveryCount: bad }), 'maxDeliveryCount'));
  }
});

describe('lockLost', () => {
  it('is a PreconditionFailed naming the message and the (sub-)queue', () => {
    const err = lockLost('jobs', { messageId: 'm1' } as ReceivedMessage, DEAD_LETTER_QUEUE_SUFFIX);
    assert.equal(err.code, 'PreconditionFailed');
    assert.equal(err.target, 'lockToken');
    assert.match(err.message, /"m1" of queue jobs\/\$deadletterqueue was lost/);
  });
});
