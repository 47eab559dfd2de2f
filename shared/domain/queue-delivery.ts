import { PreconditionFailedError, ValidationError } from '../errors.js';
import type { QueueOptions, ReceivedMessage, ReceiveOptions } from '../ports/message-queue.js';
import { MAX_MESSAGE_BATCH } from './queue-messages.js';

/**
 * Peek-lock delivery rules of every MessageQueue adapter, as Service Bus has them: receive options,
 * lock duration, delivery counts and dead-lettering, and what a lost lock looks like.
 */

export const DEFAULT_LOCK_DURATION_MS = 30_000;
export const DEFAULT_MAX_DELIVERY_COUNT = 10;
export const MAX_DELIVERY_COUNT_REASON = 'MaxDeliveryCountExceeded';
/** How a dead-letter sub-queue is named after its queue, in messages (Service Bus' own spelling). */
export const DEAD_LETTER_QUEUE_SUFFIX = '/$deadletterqueue';

export interface CheckedReceive {
  maxMessages: number;
  lockDurationMs: number;
  maxWaitMs: number;
}

export function checkReceive(options: ReceiveOptions = {}): CheckedReceive {
  const int = (v: number | undefined, name: string, min: number, max: number, dflt: number): number => {
    if (v === undefined) return dflt;
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new ValidationError(`${name} must be an integer from ${min} to ${max}, got ${String(v)}.`, {
        target: name,
      });
    }
    return v;
  };
  return {
    maxMessages: int(options.maxMessages, 'maxMessages', 1, MAX_MESSAGE_BATCH, 1),
    lockDurationMs: int(options.lockDurationMs, 'lockDurationMs', 1, 3_600_000, DEFAULT_LOCK_DURATION_MS),
    maxWaitMs: int(options.maxWaitMs, 'maxWaitMs', 0, 3_600_000, 0),
  };
}

export function checkQueueOptions(options: QueueOptions): void {
  const n = options.maxDeliveryCount;
  if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > 2000)) {
    throw new ValidationError(`maxDeliveryCount must be an integer from 1 to 2000, got ${String(n)}.`, {
      target: 'maxDeliveryCount',
    });
  }
}

/** The error for settling a message whose lock is gone, like Service Bus MessageLockLost. */
export function lockLost(queue: string, message: ReceivedMessage, subQueue = ''): PreconditionFailedError {
  return new PreconditionFailedError(
    `The lock on message ${JSON.stringify(message.messageId)} of queue ${queue}${subQueue} was lost: it expired, or the message ` +
      'was already settled or received again (like Service Bus MessageLockLost). It will be, or was, delivered again.',
    { target: 'lockToken' },
  );
}
