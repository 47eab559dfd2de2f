import { randomUUID } from 'node:crypto';
import { ServiceBusError } from '@azure/service-bus';
import type {
  ServiceBusAdministrationLike,
  ServiceBusClientLike,
  ServiceBusMessageLike,
  ServiceBusQueuePropertiesLike,
  ServiceBusReceivedMessageLike,
  ServiceBusReceiverLike,
  ServiceBusSenderLike,
} from '../../shared/adapters/servicebus-message-queue.js';

/**
 * An in-memory fake of the part of @azure/service-bus that ServiceBusMessageQueue uses, following
 * Service Bus semantics as documented:
 *  - peek-lock: a received message is locked for the queue's LockDuration; completing, abandoning
 *    or dead-lettering needs a live lock, otherwise ServiceBusError code 'MessageLockLost';
 *  - the delivery count rises when a lock expires or the message is abandoned; when it reaches
 *    MaxDeliveryCount the message moves to the dead-letter sub-queue with reason
 *    'MaxDeliveryCountExceeded';
 *  - received messages report `deliveryCount` as the JS SDK does (the AMQP delivery-count: earlier
 *    deliveries, 0 on first delivery), dead-lettered ones carry DeadLetterReason /
 *    DeadLetterErrorDescription in their application properties and as fields;
 *  - duplicate detection drops a messageId seen within the detection window;
 *  - scheduled messages stay invisible until their time; one receiveMessages at a time per receiver.
 * What it cannot show: AMQP link credit and prefetch, network faults and reconnects, sessions,
 * partitioning, message size limits, TTL expiry, and the broker's exact timing.
 */

export interface FakeQueueProperties extends ServiceBusQueuePropertiesLike {
  name: string;
  maxDeliveryCount: number;
  lockDurationInMs: number;
  requiresDuplicateDetection: boolean;
  duplicateDetectionHistoryTimeWindowInMs: number;
}

export interface FakeNamespaceOptions {
  /** Service Bus default: 60 s. */
  lockDurationMs?: number;
  /** Service Bus default: 10. */
  maxDeliveryCount?: number;
  /** Service Bus default window: 10 minutes. */
  duplicateDetectionWindowMs?: number;
  /** Queues spring into existence on first use, as if declared in infra (default true). */
  autoCreateQueues?: boolean;
}

interface StoredMessage {
  sequenceNumber: number;
  messageId: string;
  body: string;
  correlationId: string | undefined;
  subject: string | undefined;
  applicationProperties: Record<string, string | number | boolean>;
  enqueuedAt: number;
  scheduledAt: number;
  deliveryCount: number;
  lockToken: string | undefined;
  lockedUntil: number;
  deadLetterReason: string | undefined;
  deadLetterErrorDescription: string | undefined;
}

class FakeQueue {
  readonly active: StoredMessage[] = [];
  readonly deadLetter: StoredMessage[] = [];
  readonly seenIds = new Map<string, number>();
  private readonly wakers = new Set<() => void>();

  constructor(public properties: FakeQueueProperties) {}

  wake(): void {
    for (const w of [...this.wakers]) w();
  }

  waitForChange(ms: number): Promise<void> {
    return new Promise((done) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.wakers.delete(finish);
        done();
      };
      const timer = setTimeout(finish, Math.max(0, ms));
      this.wakers.add(finish);
    });
  }

  /** Applies lock expiries: the delivery counts and, past MaxDeliveryCount, dead-lettering. */
  expireLocks(now: number): void {
    for (const m of [...this.active]) {
      if (m.lockToken !== undefined && m.lockedUntil <= now) {
        m.lockToken = undefined;
        m.deliveryCount += 1;
        this.maybeDeadLetter(m, now);
      }
    }
    for (const m of this.deadLetter) {
      if (m.lockToken !== undefined && m.lockedUntil <= now) m.lockToken = undefined;
    }
  }

  maybeDeadLetter(m: StoredMessage, now: number): void {
    if (m.deliveryCount < this.properties.maxDeliveryCount) return;
    this.moveToDeadLetter(
      m,
      'MaxDeliveryCountExceeded',
      `Message could not be consumed after ${m.deliveryCount} delivery attempts.`,
      now,
    );
  }

  moveToDeadLetter(m: StoredMessage, reason: string, description: string, now: number): void {
    const i = this.active.indexOf(m);
    if (i >= 0) this.active.splice(i, 1);
    m.lockToken = undefined;
    m.deadLetterReason = reason;
    m.deadLetterErrorDescription = description;
    m.applicationProperties = {
      ...m.applicationProperties,
      DeadLetterReason: reason,
      DeadLetterErrorDescription: description,
    };
    m.scheduledAt = now;
    this.deadLetter.push(m);
  }

  /** Earliest future moment something becomes receivable (a schedule or a lock expiry). */
  nextChange(sub: 'active' | 'deadLetter', now: number): number {
    let next = Infinity;
    for (const m of sub === 'active' ? this.active : this.deadLetter) {
      if (m.lockToken !== undefined) next = Math.min(next, m.lockedUntil);
      else if (m.scheduledAt > now) next = Math.min(next, m.scheduledAt);
    }
    return next;
  }
}

export class FakeServiceBusNamespace {
  private readonly queues = new Map<string, FakeQueue>();
  private sequence = 0;
  readonly defaults: Required<FakeNamespaceOptions>;

  constructor(options: FakeNamespaceOptions = {}) {
    this.defaults = {
      lockDurationMs: options.lockDurationMs ?? 60_000,
      maxDeliveryCount: options.maxDeliveryCount ?? 10,
      duplicateDetectionWindowMs: options.duplicateDetectionWindowMs ?? 10 * 60_000,
      autoCreateQueues: options.autoCreateQueues ?? true,
    };
  }

  createClient(): FakeServiceBusClient {
    return new FakeServiceBusClient(this);
  }

  createAdministrationClient(): FakeServiceBusAdministrationClient {
    return new FakeServiceBusAdministrationClient(this);
  }

  createQueue(name: string, properties: Partial<Omit<FakeQueueProperties, 'name'>> = {}): FakeQueueProperties {
    if (this.queues.has(name))
      throw new ServiceBusError(`Queue ${name} already exists.`, 'MessagingEntityAlreadyExists');
    const q = new FakeQueue({
      name,
      maxDeliveryCount: properties.maxDeliveryCount ?? this.defaults.maxDeliveryCount,
      lockDurationInMs: properties.lockDurationInMs ?? this.defaults.lockDurationMs,
      requiresDuplicateDetection: properties.requiresDuplicateDetection ?? true,
      duplicateDetectionHistoryTimeWindowInMs:
        properties.duplicateDetectionHistoryTimeWindowInMs ?? this.defaults.duplicateDetectionWindowMs,
    });
    this.queues.set(name, q);
    return { ...q.properties };
  }

  /** @internal */
  queue(name: string): FakeQueue {
    let q = this.queues.get(name);
    if (q === undefined) {
      if (!this.defaults.autoCreateQueues) {
        throw new ServiceBusError(`The messaging entity '${name}' could not be found.`, 'MessagingEntityNotFound');
      }
      this.createQueue(name);
      q = this.queues.get(name)!;
    }
    return q;
  }

  /** @internal */
  nextSequenceNumber(): number {
    this.sequence += 1;
    return this.sequence;
  }
}

function serialiseBody(body: unknown): string {
  const json = JSON.stringify(body);
  if (json === undefined) throw new TypeError('The message body cannot be undefined.');
  return json;
}

class FakeServiceBusSender implements ServiceBusSenderLike {
  private closed = false;

  constructor(
    private readonly ns: FakeServiceBusNamespace,
    private readonly queueName: string,
  ) {}

  private enqueue(
    messages: ServiceBusMessageLike | ServiceBusMessageLike[],
    scheduledAt: number | undefined,
  ): number[] {
    if (this.closed) throw new ServiceBusError('The sender has been closed and can no longer be used.', 'GeneralError');
    const q = this.ns.queue(this.queueName);
    const now = Date.now();
    const list = Array.isArray(messages) ? messages : [messages];
    const numbers: number[] = [];
    for (const m of list) {
      const messageId = m.messageId ?? randomUUID();
      const body = serialiseBody(m.body);
      const seq = this.ns.nextSequenceNumber();
      numbers.push(seq);
      if (q.properties.requiresDuplicateDetection) {
        const seen = q.seenIds.get(messageId);
        if (seen !== undefined && now - seen < q.properties.duplicateDetectionHistoryTimeWindowInMs) continue;
        q.seenIds.set(messageId, now);
      }
      const at = scheduledAt ?? now;
      q.active.push({
        sequenceNumber: seq,
        messageId,
        body,
        correlationId: m.correlationId,
        subject: m.subject,
        applicationProperties: { ...(m.applicationProperties ?? {}) },
        enqueuedAt: Math.max(now, at),
        scheduledAt: at,
        deliveryCount: 0,
        lockToken: undefined,
        lockedUntil: 0,
        deadLetterReason: undefined,
        deadLetterErrorDescription: undefined,
      });
    }
    q.wake();
    return numbers;
  }

  async sendMessages(messages: ServiceBusMessageLike | ServiceBusMessageLike[]): Promise<void> {
    this.enqueue(messages, undefined);
  }

  async scheduleMessages(
    messages: ServiceBusMessageLike | ServiceBusMessageLike[],
    scheduledEnqueueTimeUtc: Date,
  ): Promise<number[]> {
    return this.enqueue(messages, scheduledEnqueueTimeUtc.getTime());
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

class FakeServiceBusReceiver implements ServiceBusReceiverLike {
  private closed = false;
  private receiving = false;

  constructor(
    private readonly ns: FakeServiceBusNamespace,
    private readonly queueName: string,
    private readonly sub: 'active' | 'deadLetter',
  ) {}

  private get entityPath(): string {
    return this.sub === 'deadLetter' ? `${this.queueName}/$DeadLetterQueue` : this.queueName;
  }

  async receiveMessages(
    maxMessageCount: number,
    options: { maxWaitTimeInMs?: number } = {},
  ): Promise<ServiceBusReceivedMessageLike[]> {
    if (this.closed)
      throw new ServiceBusError('The receiver has been closed and can no longer be used.', 'GeneralError');
    if (!Number.isInteger(maxMessageCount) || maxMessageCount < 1)
      throw new TypeError("'maxMessageCount' must be a number greater than 0.");
    if (this.receiving) throw new Error(`The receiver for "${this.entityPath}" is already receiving messages.`);
    this.receiving = true;
    try {
      const deadline = Date.now() + (options.maxWaitTimeInMs ?? 60_000);
      for (;;) {
        const q = this.ns.queue(this.queueName);
        const now = Date.now();
        q.expireLocks(now);
        const list = this.sub === 'active' ? q.active : q.deadLetter;
        const ready = list.filter((m) => m.lockToken === undefined && m.scheduledAt <= now).slice(0, maxMessageCount);
        if (ready.length > 0) {
          return ready.map((m) => {
            m.lockToken = randomUUID();
            m.lockedUntil = now + q.properties.lockDurationInMs;
            return this.toReceived(m);
          });
        }
        if (now >= deadline || this.closed) return [];
        await q.waitForChange(Math.min(deadline, q.nextChange(this.sub, now)) - now);
      }
    } finally {
      this.receiving = false;
    }
  }

  private toReceived(m: StoredMessage): ServiceBusReceivedMessageLike & { state: 'active'; sequenceNumber: number } {
    const out: ServiceBusReceivedMessageLike & { state: 'active'; sequenceNumber: number } = {
      // Over the wire the body is serialised; hand back a fresh copy as the SDK would.
      body: JSON.parse(m.body) as unknown,
      messageId: m.messageId,
      applicationProperties: { ...m.applicationProperties },
      deliveryCount: m.deliveryCount,
      enqueuedTimeUtc: new Date(m.enqueuedAt),
      lockToken: m.lockToken!,
      lockedUntilUtc: new Date(m.lockedUntil),
      state: 'active',
      sequenceNumber: m.sequenceNumber,
    };
    if (m.correlationId !== undefined) out.correlationId = m.correlationId;
    if (m.subject !== undefined) out.subject = m.subject;
    if (m.deadLetterReason !== undefined) out.deadLetterReason = m.deadLetterReason;
    if (m.deadLetterErrorDescription !== undefined) out.deadLetterErrorDescription = m.deadLetterErrorDescription;
    return out;
  }

  /** The stored message this receiver holds a live lock on, or MessageLockLost. */
  private locked(message: ServiceBusReceivedMessageLike): { q: FakeQueue; m: StoredMessage } {
    if (this.closed)
      throw new ServiceBusError('The receiver has been closed and can no longer be used.', 'GeneralError');
    if (!message.lockToken) throw new Error('Failed to settle message: peeked messages cannot be settled.');
    const q = this.ns.queue(this.queueName);
    const now = Date.now();
    q.expireLocks(now);
    const list = this.sub === 'active' ? q.active : q.deadLetter;
    const m = list.find((x) => x.lockToken === message.lockToken);
    if (m === undefined || m.lockedUntil <= now) {
      throw new ServiceBusError(
        'The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.',
        'MessageLockLost',
      );
    }
    return { q, m };
  }

  async completeMessage(message: ServiceBusReceivedMessageLike): Promise<void> {
    const { q, m } = this.locked(message);
    const list = this.sub === 'active' ? q.active : q.deadLetter;
    list.splice(list.indexOf(m), 1);
  }

  async abandonMessage(message: ServiceBusReceivedMessageLike): Promise<void> {
    const { q, m } = this.locked(message);
    m.lockToken = undefined;
    if (this.sub === 'active') {
      m.deliveryCount += 1;
      q.maybeDeadLetter(m, Date.now());
    }
    q.wake();
  }

  async deadLetterMessage(
    message: ServiceBusReceivedMessageLike,
    options?: { deadLetterReason: string; deadLetterErrorDescription: string },
  ): Promise<void> {
    if (this.sub === 'deadLetter')
      throw new ServiceBusError('Cannot dead-letter a message from the dead-letter queue.', 'GeneralError');
    const { q, m } = this.locked(message);
    q.moveToDeadLetter(m, options?.deadLetterReason ?? '', options?.deadLetterErrorDescription ?? '', Date.now());
    q.wake();
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export class FakeServiceBusClient implements ServiceBusClientLike {
  private readonly opened: { close(): Promise<void> }[] = [];

  constructor(private readonly ns: FakeServiceBusNamespace) {}

  createSender(queueName: string): FakeServiceBusSender {
    const s = new FakeServiceBusSender(this.ns, queueName);
    this.opened.push(s);
    return s;
  }

  createReceiver(
    queueName: string,
    options: { receiveMode: 'peekLock'; subQueueType?: 'deadLetter' },
  ): FakeServiceBusReceiver {
    if (options.receiveMode !== 'peekLock') throw new Error('The fake supports peekLock receivers only.');
    const r = new FakeServiceBusReceiver(
      this.ns,
      queueName,
      options.subQueueType === 'deadLetter' ? 'deadLetter' : 'active',
    );
    this.opened.push(r);
    return r;
  }

  async close(): Promise<void> {
    await Promise.all(this.opened.map((o) => o.close()));
  }
}

export class FakeServiceBusAdministrationClient implements ServiceBusAdministrationLike {
  constructor(private readonly ns: FakeServiceBusNamespace) {}

  async getQueue(queueName: string): Promise<FakeQueueProperties> {
    return { ...this.ns.queue(queueName).properties };
  }

  async updateQueue(queue: ServiceBusQueuePropertiesLike): Promise<FakeQueueProperties> {
    const props = queue as FakeQueueProperties;
    const q = this.ns.queue(props.name);
    q.properties = { ...q.properties, ...props };
    return { ...q.properties };
  }
}
