import { randomUUID } from 'node:crypto';
import { ValidationError } from '../errors.js';
import type { OutgoingMessage } from '../ports/message-queue.js';

/** What every MessageQueue adapter accepts as a message to send or a reason to dead-letter one. */

/** Most messages one send (and one receive) may carry. */
export const MAX_MESSAGE_BATCH = 1000;
const MAX_DEAD_LETTER_REASON_LENGTH = 4096;

export interface CheckedMessage {
  messageId: string;
  bodyJson: string;
  correlationId: string | undefined;
  subject: string | undefined;
  applicationProperties: Record<string, string | number | boolean>;
  scheduledEnqueueTimeMs: number | undefined;
}

function checkId(value: unknown, target: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 128) {
    throw new ValidationError(
      `${target} must be a non-empty string of at most 128 characters, got ${JSON.stringify(value)}.`,
      { target },
    );
  }
  return value;
}

/** Validates outgoing messages; a message without messageId gets a random one. */
export function checkOutgoing(messages: OutgoingMessage | readonly OutgoingMessage[]): CheckedMessage[] {
  const list: readonly OutgoingMessage[] = Array.isArray(messages) ? messages : [messages as OutgoingMessage];
  if (list.length > MAX_MESSAGE_BATCH)
    throw new ValidationError(`At most ${MAX_MESSAGE_BATCH} messages can be sent at once.`, { target: 'messages' });
  return list.map((m, i) => {
    const at = `messages[${i}]`;
    if (m === null || typeof m !== 'object')
      throw new ValidationError(`${at} must be an object with a body.`, { target: at });
    const bodyJson = JSON.stringify(m.body);
    if (bodyJson === undefined) {
      throw new ValidationError(`${at}.body must be JSON-serialisable (not undefined or a function).`, {
        target: `${at}.body`,
      });
    }
    const props: Record<string, string | number | boolean> = {};
    for (const [k, v] of Object.entries(m.applicationProperties ?? {})) {
      if (typeof v !== 'string' && typeof v !== 'boolean' && !(typeof v === 'number' && Number.isFinite(v))) {
        throw new ValidationError(`${at}.applicationProperties.${k} must be a string, finite number or boolean.`, {
          target: `${at}.applicationProperties.${k}`,
        });
      }
      props[k] = v;
    }
    if (m.subject !== undefined && typeof m.subject !== 'string') {
      throw new ValidationError(`${at}.subject must be a string.`, { target: `${at}.subject` });
    }
    if (m.scheduledEnqueueTimeMs !== undefined && !Number.isFinite(m.scheduledEnqueueTimeMs)) {
      throw new ValidationError(`${at}.scheduledEnqueueTimeMs must be epoch milliseconds.`, {
        target: `${at}.scheduledEnqueueTimeMs`,
      });
    }
    return {
      messageId: checkId(m.messageId, `${at}.messageId`) ?? randomUUID(),
      bodyJson,
      correlationId: checkId(m.correlationId, `${at}.correlationId`),
      subject: m.subject,
      applicationProperties: props,
      scheduledEnqueueTimeMs: m.scheduledEnqueueTimeMs,
    };
  });
}

/** The reason given to `deadLetter`: a non-empty string of at most 4096 characters. */
export function checkDeadLetterReason(reason: unknown): asserts reason is string {
  if (typeof reason !== 'string' || reason.length === 0 || reason.length > MAX_DEAD_LETTER_REASON_LENGTH) {
    throw new ValidationError(
      `reason must be a non-empty string (at most ${MAX_DEAD_LETTER_REASON_LENGTH} characters).`,
      { target: 'reason' },
    );
  }
}
