import { ValidationError } from '../errors.js';

/** Service Bus entity naming: letters, digits, '.', '-', '_', '/'; starts and ends with a letter or digit. */
const QUEUE_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._/-]{0,258}[A-Za-z0-9])?$/;

/** Every MessageQueue adapter accepts the queue names Service Bus accepts, and only those. */
export function assertQueueName(queue: unknown): asserts queue is string {
  if (typeof queue !== 'string' || !QUEUE_NAME.test(queue) || queue.includes('//')) {
    throw new ValidationError(
      `Invalid queue name ${JSON.stringify(queue)}: use 1-260 letters, digits, '.', '-', '_' or '/', starting and ending with a letter or digit.`,
      { target: 'queue' },
    );
  }
}
