/**
 * Service Bus-like queues: at-least-once delivery with peek-lock. A received message is
 * invisible to other receivers until its lock expires or it is completed, abandoned or
 * dead-lettered; after `maxDeliveryCount` deliveries it moves to the dead-letter queue.
 */
export interface OutgoingMessage {
  body: unknown;
  /** Idempotency key; a duplicate id within the queue is ignored (like duplicate detection). */
  messageId?: string;
  correlationId?: string;
  subject?: string;
  applicationProperties?: Record<string, string | number | boolean>;
  /** Deliver no earlier than this (epoch ms). */
  scheduledEnqueueTimeMs?: number;
}

export interface ReceivedMessage {
  messageId: string;
  body: unknown;
  correlationId?: string;
  subject?: string;
  applicationProperties: Record<string, string | number | boolean>;
  /** 1 on first delivery. */
  deliveryCount: number;
  enqueuedTimeMs: number;
  lockToken: string;
  lockedUntilMs: number;
  deadLetterReason?: string;
  deadLetterErrorDescription?: string;
}

export interface ReceiveOptions {
  maxMessages?: number;
  /** How long the lock lasts (default 30 s). */
  lockDurationMs?: number;
  /** Wait up to this long for a first message (default 0: return at once). */
  maxWaitMs?: number;
}

export interface QueueOptions {
  /** Deliveries before a message is dead-lettered (Service Bus default 10). */
  maxDeliveryCount?: number;
}

export interface MessageQueue {
  readonly kind: string;
  send(queue: string, messages: OutgoingMessage | readonly OutgoingMessage[]): Promise<void>;
  receive(queue: string, options?: ReceiveOptions): Promise<ReceivedMessage[]>;
  complete(queue: string, message: ReceivedMessage): Promise<void>;
  /** Release the lock at once; the delivery still counts. */
  abandon(queue: string, message: ReceivedMessage): Promise<void>;
  deadLetter(queue: string, message: ReceivedMessage, reason: string, description?: string): Promise<void>;
  /** Read messages from the queue's dead-letter sub-queue (peek-lock, like `queue/$deadletterqueue`). */
  receiveDeadLetters(queue: string, options?: ReceiveOptions): Promise<ReceivedMessage[]>;
  /** Settle a message received from the dead-letter sub-queue. */
  completeDeadLetter(queue: string, message: ReceivedMessage): Promise<void>;
  configureQueue(queue: string, options: QueueOptions): Promise<void>;
  close(): Promise<void>;
}
