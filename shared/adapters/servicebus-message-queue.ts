import { ServiceBusAdministrationClient, ServiceBusClient } from '@azure/service-bus';
import type { TokenCredential } from '@azure/identity';
import { AppError, TransientError, ValidationError } from '../errors.js';
import type {
  MessageQueue,
  OutgoingMessage,
  QueueOptions,
  ReceivedMessage,
  ReceiveOptions,
} from '../ports/message-queue.js';
import { DEAD_LETTER_QUEUE_SUFFIX, checkQueueOptions, checkReceive, lockLost } from '../domain/queue-delivery.js';
import { checkDeadLetterReason, checkOutgoing, type CheckedMessage } from '../domain/queue-messages.js';
import { assertQueueName } from '../domain/queue-names.js';

// The slice of @azure/service-bus this adapter uses. The real ServiceBusClient and
// ServiceBusAdministrationClient satisfy these interfaces (checked at compile time in
// test/contract/message-queue.test.ts), and so does the fake in test/support/service-bus-fake.ts.

export interface ServiceBusMessageLike {
  body: unknown;
  messageId?: string;
  correlationId?: string;
  subject?: string;
  contentType?: string;
  applicationProperties?: Record<string, string | number | boolean>;
}

export interface ServiceBusReceivedMessageLike {
  body: unknown;
  messageId?: string | number | Buffer;
  correlationId?: string | number | Buffer;
  subject?: string;
  applicationProperties?: { [key: string]: number | boolean | string | Date | null };
  /** As the JS SDK reports it: deliveries before this one (0 on first delivery). */
  deliveryCount?: number;
  enqueuedTimeUtc?: Date;
  lockToken?: string;
  lockedUntilUtc?: Date;
  deadLetterReason?: string;
  deadLetterErrorDescription?: string;
}

export interface ServiceBusSenderLike {
  sendMessages(messages: ServiceBusMessageLike[]): Promise<void>;
  scheduleMessages(messages: ServiceBusMessageLike[], scheduledEnqueueTimeUtc: Date): Promise<unknown>;
  close(): Promise<void>;
}

export interface ServiceBusReceiverLike {
  receiveMessages(
    maxMessageCount: number,
    options?: { maxWaitTimeInMs?: number },
  ): Promise<ServiceBusReceivedMessageLike[]>;
  completeMessage(message: ServiceBusReceivedMessageLike): Promise<void>;
  abandonMessage(message: ServiceBusReceivedMessageLike): Promise<void>;
  deadLetterMessage(
    message: ServiceBusReceivedMessageLike,
    options?: { deadLetterReason: string; deadLetterErrorDescription: string },
  ): Promise<void>;
  close(): Promise<void>;
}

export interface ServiceBusClientLike {
  createSender(queueName: string): ServiceBusSenderLike;
  createReceiver(
    queueName: string,
    options: { receiveMode: 'peekLock'; subQueueType?: 'deadLetter' },
  ): ServiceBusReceiverLike;
  close(): Promise<void>;
}

export interface ServiceBusQueuePropertiesLike {
  maxDeliveryCount: number;
}

export interface ServiceBusAdministrationLike {
  getQueue(queueName: string): Promise<ServiceBusQueuePropertiesLike>;
  updateQueue(queue: ServiceBusQueuePropertiesLike): Promise<unknown>;
}

export interface ServiceBusMessageQueueOptions {
  client: ServiceBusClientLike;
  /** Needed only by configureQueue (MaxDeliveryCount is a queue property on Service Bus). */
  admin?: ServiceBusAdministrationLike;
  /**
   * Shortest wait passed to receiveMessages (default 1000 ms). Over AMQP a receive must grant link
   * credit and wait for the broker, so a zero wait can come back empty even when messages exist.
   */
  minReceiveWaitMs?: number;
}

type SubQueue = 'active' | 'deadLetter';

interface Held {
  queue: string;
  sub: SubQueue;
  message: ServiceBusReceivedMessageLike;
  receiver: ServiceBusReceiverLike;
  lockedUntilMs: number;
}

/** Service Bus puts these on dead-lettered messages' application properties; the port has dedicated fields. */
const DEAD_LETTER_PROPERTIES = new Set(['DeadLetterReason', 'DeadLetterErrorDescription']);
/** Settlement records of messages whose lock expired this long ago are forgotten. */
const FORGET_AFTER_MS = 60_000;
const TRANSIENT_CODES = new Set(['ServiceBusy', 'ServiceTimeout', 'ServiceCommunicationProblem']);

function codeOf(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

function toSdkMessage(m: CheckedMessage): ServiceBusMessageLike {
  return {
    body: JSON.parse(m.bodyJson) as unknown,
    messageId: m.messageId,
    contentType: 'application/json',
    ...(m.correlationId === undefined ? {} : { correlationId: m.correlationId }),
    ...(m.subject === undefined ? {} : { subject: m.subject }),
    ...(Object.keys(m.applicationProperties).length === 0 ? {} : { applicationProperties: m.applicationProperties }),
  };
}

function fromSdkMessage(m: ServiceBusReceivedMessageLike): ReceivedMessage {
  const props: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(m.applicationProperties ?? {})) {
    if (DEAD_LETTER_PROPERTIES.has(k) || v === null) continue;
    props[k] = v instanceof Date ? v.getTime() : v;
  }
  const out: ReceivedMessage = {
    messageId:
      m.messageId === undefined
        ? ''
        : Buffer.isBuffer(m.messageId)
          ? m.messageId.toString('utf8')
          : String(m.messageId),
    body: m.body,
    applicationProperties: props,
    // The JS SDK reports the AMQP delivery-count (earlier deliveries); the port counts this one too.
    deliveryCount: (m.deliveryCount ?? 0) + 1,
    enqueuedTimeMs: m.enqueuedTimeUtc?.getTime() ?? 0,
    lockToken: m.lockToken ?? '',
    lockedUntilMs: m.lockedUntilUtc?.getTime() ?? 0,
  };
  if (m.correlationId !== undefined)
    out.correlationId = Buffer.isBuffer(m.correlationId) ? m.correlationId.toString('utf8') : String(m.correlationId);
  if (m.subject !== undefined) out.subject = m.subject;
  if (m.deadLetterReason !== undefined) out.deadLetterReason = m.deadLetterReason;
  if (m.deadLetterErrorDescription !== undefined) out.deadLetterErrorDescription = m.deadLetterErrorDescription;
  return out;
}

/**
 * MessageQueue on Azure Service Bus queues (peek-lock). Received SDK messages are kept by lock
 * token, because Service Bus settles a message through the receiver that received it. Lock
 * duration, MaxDeliveryCount and duplicate detection are queue properties on Service Bus, so
 * `lockDurationMs` in receive options is ignored and configureQueue goes through the
 * administration client.
 */
export class ServiceBusMessageQueue implements MessageQueue {
  readonly kind = 'servicebus';
  private readonly client: ServiceBusClientLike;
  private readonly admin: ServiceBusAdministrationLike | undefined;
  private readonly minReceiveWaitMs: number;
  private readonly senders = new Map<string, ServiceBusSenderLike>();
  private readonly receivers = new Map<string, { receiver: ServiceBusReceiverLike; busy: Promise<unknown> }>();
  private readonly held = new Map<string, Held>();
  private ownsClient = false;

  constructor(options: ServiceBusMessageQueueOptions) {
    this.client = options.client;
    this.admin = options.admin;
    const min = options.minReceiveWaitMs ?? 1000;
    if (!Number.isInteger(min) || min < 0)
      throw new ValidationError('minReceiveWaitMs must be a non-negative integer.', { target: 'minReceiveWaitMs' });
    this.minReceiveWaitMs = min;
  }

  static fromConnectionString(connectionString: string): ServiceBusMessageQueue {
    const q = new ServiceBusMessageQueue({
      client: new ServiceBusClient(connectionString),
      admin: new ServiceBusAdministrationClient(connectionString),
    });
    q.ownsClient = true;
    return q;
  }

  /** Identity-based access to `<namespace>.servicebus.windows.net`. */
  static fromNamespace(fullyQualifiedNamespace: string, credential: TokenCredential): ServiceBusMessageQueue {
    const q = new ServiceBusMessageQueue({
      client: new ServiceBusClient(fullyQualifiedNamespace, credential),
      admin: new ServiceBusAdministrationClient(fullyQualifiedNamespace, credential),
    });
    q.ownsClient = true;
    return q;
  }

  private sender(queue: string): ServiceBusSenderLike {
    let s = this.senders.get(queue);
    if (s === undefined) {
      s = this.client.createSender(queue);
      this.senders.set(queue, s);
    }
    return s;
  }

  private receiverFor(queue: string, sub: SubQueue): { receiver: ServiceBusReceiverLike; busy: Promise<unknown> } {
    const key = `${sub}\0${queue}`;
    let r = this.receivers.get(key);
    if (r === undefined) {
      const receiver = this.client.createReceiver(
        queue,
        sub === 'deadLetter' ? { receiveMode: 'peekLock', subQueueType: 'deadLetter' } : { receiveMode: 'peekLock' },
      );
      r = { receiver, busy: Promise.resolve() };
      this.receivers.set(key, r);
    }
    return r;
  }

  async send(queue: string, messages: OutgoingMessage | readonly OutgoingMessage[]): Promise<void> {
    assertQueueName(queue);
    const checked = checkOutgoing(messages);
    const now = Date.now();
    const immediate = checked.filter((m) => m.scheduledEnqueueTimeMs === undefined || m.scheduledEnqueueTimeMs <= now);
    const scheduled = new Map<number, ServiceBusMessageLike[]>();
    for (const m of checked) {
      if (m.scheduledEnqueueTimeMs === undefined || m.scheduledEnqueueTimeMs <= now) continue;
      const at = Math.ceil(m.scheduledEnqueueTimeMs);
      scheduled.set(at, [...(scheduled.get(at) ?? []), toSdkMessage(m)]);
    }
    const sender = this.sender(queue);
    try {
      if (immediate.length > 0) await sender.sendMessages(immediate.map(toSdkMessage));
      for (const [at, list] of scheduled) await sender.scheduleMessages(list, new Date(at));
    } catch (err) {
      throw this.mapError(err, `send to ${queue}`);
    }
  }

  async receive(queue: string, options?: ReceiveOptions): Promise<ReceivedMessage[]> {
    assertQueueName(queue);
    return this.receiveFrom(queue, 'active', options);
  }

  async receiveDeadLetters(queue: string, options?: ReceiveOptions): Promise<ReceivedMessage[]> {
    assertQueueName(queue);
    return this.receiveFrom(queue, 'deadLetter', options);
  }

  private async receiveFrom(
    queue: string,
    sub: SubQueue,
    options: ReceiveOptions | undefined,
  ): Promise<ReceivedMessage[]> {
    const o = checkReceive(options);
    const slot = this.receiverFor(queue, sub);
    // The SDK refuses a second receiveMessages on a receiver while one is running: queue them.
    const run = slot.busy.then(async () => {
      try {
        return await slot.receiver.receiveMessages(o.maxMessages, {
          maxWaitTimeInMs: Math.max(o.maxWaitMs, this.minReceiveWaitMs),
        });
      } catch (err) {
        throw this.mapError(err, `receive from ${queue}`);
      }
    });
    slot.busy = run.catch(() => undefined);
    const got = await run;
    this.forgetExpired();
    return got.map((m) => {
      const received = fromSdkMessage(m);
      if (received.lockToken !== '') {
        this.held.set(received.lockToken, {
          queue,
          sub,
          message: m,
          receiver: slot.receiver,
          lockedUntilMs: received.lockedUntilMs,
        });
      }
      return received;
    });
  }

  private forgetExpired(): void {
    const cutoff = Date.now() - FORGET_AFTER_MS;
    for (const [token, h] of this.held) if (h.lockedUntilMs < cutoff) this.held.delete(token);
  }

  /** Settles through the receiver that received the message; unknown or lost locks become lock-lost errors. */
  private async settle(
    queue: string,
    sub: SubQueue,
    message: ReceivedMessage,
    action: (h: Held) => Promise<void>,
  ): Promise<void> {
    assertQueueName(queue);
    const suffix = sub === 'deadLetter' ? DEAD_LETTER_QUEUE_SUFFIX : '';
    const token = typeof message?.lockToken === 'string' ? message.lockToken : '';
    const h = this.held.get(token);
    if (h === undefined || h.queue !== queue || h.sub !== sub) throw lockLost(queue, message, suffix);
    try {
      await action(h);
      this.held.delete(token);
    } catch (err) {
      const code = codeOf(err);
      if (code === 'MessageLockLost' || code === 'MessageNotFound') {
        this.held.delete(token);
        throw lockLost(queue, message, suffix);
      }
      throw this.mapError(err, `settle a message of ${queue}${suffix}`);
    }
  }

  async complete(queue: string, message: ReceivedMessage): Promise<void> {
    await this.settle(queue, 'active', message, (h) => h.receiver.completeMessage(h.message));
  }

  async abandon(queue: string, message: ReceivedMessage): Promise<void> {
    await this.settle(queue, 'active', message, (h) => h.receiver.abandonMessage(h.message));
  }

  async deadLetter(queue: string, message: ReceivedMessage, reason: string, description?: string): Promise<void> {
    checkDeadLetterReason(reason);
    await this.settle(queue, 'active', message, (h) =>
      h.receiver.deadLetterMessage(h.message, {
        deadLetterReason: reason,
        deadLetterErrorDescription: description ?? '',
      }),
    );
  }

  async completeDeadLetter(queue: string, message: ReceivedMessage): Promise<void> {
    await this.settle(queue, 'deadLetter', message, (h) => h.receiver.completeMessage(h.message));
  }

  async configureQueue(queue: string, options: QueueOptions): Promise<void> {
    assertQueueName(queue);
    checkQueueOptions(options);
    if (options.maxDeliveryCount === undefined) return;
    if (this.admin === undefined) {
      throw new AppError(
        'Unsupported',
        `configureQueue(${queue}) needs a Service Bus administration client; otherwise set MaxDeliveryCount on the queue in infra.`,
        { target: 'admin' },
      );
    }
    try {
      const props = await this.admin.getQueue(queue);
      if (props.maxDeliveryCount === options.maxDeliveryCount) return;
      props.maxDeliveryCount = options.maxDeliveryCount;
      await this.admin.updateQueue(props);
    } catch (err) {
      throw this.mapError(err, `configure queue ${queue}`);
    }
  }

  private mapError(err: unknown, what: string): unknown {
    if (err instanceof AppError) return err;
    const code = codeOf(err);
    if (code !== undefined && TRANSIENT_CODES.has(code)) {
      return new TransientError(`Service Bus could not ${what} (${code}); retry later.`, { cause: err });
    }
    if (code === 'MessagingEntityNotFound') {
      return new AppError('NotFound', `Service Bus could not ${what}: the queue does not exist (create it in infra).`, {
        cause: err,
      });
    }
    return err;
  }

  async close(): Promise<void> {
    const closing: Promise<unknown>[] = [];
    for (const r of this.receivers.values()) closing.push(r.receiver.close());
    for (const s of this.senders.values()) closing.push(s.close());
    this.receivers.clear();
    this.senders.clear();
    this.held.clear();
    await Promise.allSettled(closing);
    if (this.ownsClient) await this.client.close();
  }
}
