import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type {
  MessageQueue,
  OutgoingMessage,
  QueueOptions,
  ReceivedMessage,
  ReceiveOptions,
} from '../ports/message-queue.js';
import {
  DEAD_LETTER_QUEUE_SUFFIX,
  DEFAULT_MAX_DELIVERY_COUNT,
  MAX_DELIVERY_COUNT_REASON,
  checkQueueOptions,
  checkReceive,
  lockLost,
  type CheckedReceive,
} from '../domain/queue-delivery.js';
import { checkDeadLetterReason, checkOutgoing } from '../domain/queue-messages.js';
import { assertQueueName } from '../domain/queue-names.js';
import { openSqlite, type SqliteDatabase } from './sqlite-database.js';

// ---------------------------------------------------------------------------------------------
// In-process wake-ups: receivers waiting on a queue of a database file are woken by sends from any
// SqliteMessageQueue in this process on the same file; other processes are seen by polling.
// ---------------------------------------------------------------------------------------------

const POLL_INTERVAL_MS = 250;
const waiters = new Map<string, Set<() => void>>();
const memoryKeys = new WeakMap<SqliteDatabase, string>();

function databaseKey(db: SqliteDatabase): string {
  const name = db.name;
  if (name === '' || name === ':memory:' || db.memory) {
    let key = memoryKeys.get(db);
    if (key === undefined) {
      key = `memory:${randomUUID()}`;
      memoryKeys.set(db, key);
    }
    return key;
  }
  return resolve(name);
}

function wake(key: string): void {
  const set = waiters.get(key);
  if (set === undefined) return;
  for (const w of [...set]) w();
}

/** Resolves after `ms`, or earlier when `key` is woken or `signal` aborts. */
function waitFor(key: string, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    let set = waiters.get(key);
    if (set === undefined) {
      set = new Set();
      waiters.set(key, set);
    }
    const finish = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      const s = waiters.get(key);
      s?.delete(finish);
      if (s?.size === 0) waiters.delete(key);
      done();
    };
    const timer = setTimeout(finish, Math.max(0, ms));
    set.add(finish);
    signal.addEventListener('abort', finish, { once: true });
  });
}

// ---------------------------------------------------------------------------------------------
// SQLite adapter
// ---------------------------------------------------------------------------------------------

type SubQueue = 'active' | 'deadletter';

interface MessageRow {
  seq: number;
  message_id: string;
  body: string;
  correlation_id: string | null;
  subject: string | null;
  app_props: string;
  enqueued_at: number;
  delivery_count: number;
  lock_token: string;
  locked_until: number;
  dead_letter_reason: string | null;
  dead_letter_description: string | null;
}

function toReceived(r: MessageRow): ReceivedMessage {
  const m: ReceivedMessage = {
    messageId: r.message_id,
    body: JSON.parse(r.body) as unknown,
    applicationProperties: JSON.parse(r.app_props) as Record<string, string | number | boolean>,
    deliveryCount: r.delivery_count,
    enqueuedTimeMs: r.enqueued_at,
    lockToken: r.lock_token,
    lockedUntilMs: r.locked_until,
  };
  if (r.correlation_id !== null) m.correlationId = r.correlation_id;
  if (r.subject !== null) m.subject = r.subject;
  if (r.dead_letter_reason !== null) m.deadLetterReason = r.dead_letter_reason;
  if (r.dead_letter_description !== null) m.deadLetterErrorDescription = r.dead_letter_description;
  return m;
}

/**
 * MessageQueue on SQLite with Service Bus semantics: peek-lock with expiring lock tokens, delivery
 * counts, dead-lettering after maxDeliveryCount (checked when a message would be delivered once
 * more), duplicate messageIds ignored while the first is still in the queue (active or dead-letter),
 * scheduled messages. Every state change is one transaction, so a killed process loses nothing
 * it had committed; an unsettled lock simply expires.
 */
export class SqliteMessageQueue implements MessageQueue {
  readonly kind = 'sqlite';
  private readonly key: string;
  private readonly closing = new AbortController();
  private ownsDb = false;

  /**
   * @param pollIntervalMs how often a waiting receive looks for messages sent by other processes
   *   (sends in this process wake it at once).
   */
  constructor(
    private readonly db: SqliteDatabase,
    private readonly pollIntervalMs = POLL_INTERVAL_MS,
  ) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS queue_messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        queue TEXT NOT NULL,
        sub TEXT NOT NULL CHECK (sub IN ('active', 'deadletter')),
        message_id TEXT NOT NULL,
        body TEXT NOT NULL,
        correlation_id TEXT,
        subject TEXT,
        app_props TEXT NOT NULL,
        enqueued_at INTEGER NOT NULL,
        visible_at INTEGER NOT NULL,
        delivery_count INTEGER NOT NULL DEFAULT 0,
        lock_token TEXT,
        locked_until INTEGER,
        dead_letter_reason TEXT,
        dead_letter_description TEXT
      );
      CREATE UNIQUE INDEX IF NOT EXISTS queue_messages_by_message_id ON queue_messages (queue, message_id);
      CREATE INDEX IF NOT EXISTS queue_messages_ready ON queue_messages (queue, sub, visible_at, seq);
      CREATE INDEX IF NOT EXISTS queue_messages_by_lock ON queue_messages (lock_token) WHERE lock_token IS NOT NULL;
      CREATE TABLE IF NOT EXISTS queue_settings (
        queue TEXT PRIMARY KEY,
        max_delivery_count INTEGER NOT NULL
      );
    `);
    this.key = databaseKey(db);
  }

  /** Opens (creating if needed) the database file; `close()` then closes it. */
  static open(file: string, options: { pollIntervalMs?: number } = {}): SqliteMessageQueue {
    const q = new SqliteMessageQueue(openSqlite(file), options.pollIntervalMs);
    q.ownsDb = true;
    return q;
  }

  private wakeKey(queue: string, sub: SubQueue): string {
    return `${this.key}\0${queue}\0${sub}`;
  }

  async send(queue: string, messages: OutgoingMessage | readonly OutgoingMessage[]): Promise<void> {
    assertQueueName(queue);
    const checked = checkOutgoing(messages);
    if (checked.length === 0) return;
    const insert = this.db.prepare(
      `INSERT INTO queue_messages (queue, sub, message_id, body, correlation_id, subject, app_props, enqueued_at, visible_at)
       VALUES (?, 'active', ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (queue, message_id) DO NOTHING`,
    );
    const run = this.db.transaction(() => {
      const now = Date.now();
      for (const m of checked) {
        const visibleAt = Math.max(now, Math.ceil(m.scheduledEnqueueTimeMs ?? now));
        insert.run(
          queue,
          m.messageId,
          m.bodyJson,
          m.correlationId ?? null,
          m.subject ?? null,
          JSON.stringify(m.applicationProperties),
          visibleAt,
          visibleAt,
        );
      }
    });
    run.immediate();
    wake(this.wakeKey(queue, 'active'));
  }

  async receive(queue: string, options?: ReceiveOptions): Promise<ReceivedMessage[]> {
    assertQueueName(queue);
    return this.receiveFrom(queue, 'active', checkReceive(options));
  }

  async receiveDeadLetters(queue: string, options?: ReceiveOptions): Promise<ReceivedMessage[]> {
    assertQueueName(queue);
    return this.receiveFrom(queue, 'deadletter', checkReceive(options));
  }

  private async receiveFrom(queue: string, sub: SubQueue, o: CheckedReceive): Promise<ReceivedMessage[]> {
    const deadline = Date.now() + o.maxWaitMs;
    const wakeKey = this.wakeKey(queue, sub);
    for (;;) {
      if (this.closing.signal.aborted) return [];
      const got = this.tryReceive(queue, sub, o);
      const now = Date.now();
      if (got.length > 0 || now >= deadline) return got;
      const next = this.db
        .prepare('SELECT MIN(visible_at) AS next FROM queue_messages WHERE queue = ? AND sub = ?')
        .get(queue, sub) as { next: number | null };
      const until = Math.min(
        deadline,
        now + this.pollIntervalMs,
        next.next === null ? Infinity : Math.max(next.next, now + 1),
      );
      await waitFor(wakeKey, until - now, this.closing.signal);
    }
  }

  private tryReceive(queue: string, sub: SubQueue, o: CheckedReceive): ReceivedMessage[] {
    const run = this.db.transaction((): MessageRow[] => {
      const now = Date.now();
      if (sub === 'active') this.deadLetterExhausted(queue, now);
      const candidates = this.db
        .prepare('SELECT seq FROM queue_messages WHERE queue = ? AND sub = ? AND visible_at <= ? ORDER BY seq LIMIT ?')
        .all(queue, sub, now, o.maxMessages) as { seq: number }[];
      const lock = this.db.prepare(
        `UPDATE queue_messages SET delivery_count = delivery_count + 1, lock_token = ?, locked_until = ?, visible_at = ?
         WHERE seq = ? RETURNING seq, message_id, body, correlation_id, subject, app_props, enqueued_at, delivery_count,
           lock_token, locked_until, dead_letter_reason, dead_letter_description`,
      );
      const lockedUntil = now + o.lockDurationMs;
      return candidates.map((c) => lock.get(randomUUID(), lockedUntil, lockedUntil, c.seq) as MessageRow);
    });
    return run.immediate().map(toReceived);
  }

  /** Moves messages that were delivered maxDeliveryCount times and are visible again to the dead-letter sub-queue. */
  private deadLetterExhausted(queue: string, now: number): void {
    const max = this.maxDeliveryCount(queue);
    const moved = this.db
      .prepare(
        `UPDATE queue_messages SET sub = 'deadletter', lock_token = NULL, locked_until = NULL, visible_at = ?,
           dead_letter_reason = ?, dead_letter_description = ?
         WHERE queue = ? AND sub = 'active' AND visible_at <= ? AND delivery_count >= ?`,
      )
      .run(
        now,
        MAX_DELIVERY_COUNT_REASON,
        `Message could not be consumed after ${max} delivery attempts.`,
        queue,
        now,
        max,
      );
    if (moved.changes > 0) queueMicrotask(() => wake(this.wakeKey(queue, 'deadletter')));
  }

  private maxDeliveryCount(queue: string): number {
    const row = this.db.prepare('SELECT max_delivery_count AS n FROM queue_settings WHERE queue = ?').get(queue) as
      { n: number } | undefined;
    return row?.n ?? DEFAULT_MAX_DELIVERY_COUNT;
  }

  /** Runs `sql` on the row locked by `message`'s token, or throws lock-lost. */
  private settle(queue: string, sub: SubQueue, message: ReceivedMessage, sql: string, params: unknown[]): void {
    const suffix = sub === 'deadletter' ? DEAD_LETTER_QUEUE_SUFFIX : '';
    if (typeof message?.lockToken !== 'string') throw lockLost(queue, message, suffix);
    const r = this.db
      .prepare(`${sql} WHERE queue = ? AND sub = ? AND lock_token = ? AND locked_until > ?`)
      .run(...params, queue, sub, message.lockToken, Date.now());
    if (r.changes === 0) throw lockLost(queue, message, suffix);
  }

  async complete(queue: string, message: ReceivedMessage): Promise<void> {
    assertQueueName(queue);
    this.settle(queue, 'active', message, 'DELETE FROM queue_messages', []);
  }

  async abandon(queue: string, message: ReceivedMessage): Promise<void> {
    assertQueueName(queue);
    this.settle(
      queue,
      'active',
      message,
      'UPDATE queue_messages SET lock_token = NULL, locked_until = NULL, visible_at = ?',
      [Date.now()],
    );
    wake(this.wakeKey(queue, 'active'));
  }

  async deadLetter(queue: string, message: ReceivedMessage, reason: string, description?: string): Promise<void> {
    assertQueueName(queue);
    checkDeadLetterReason(reason);
    this.settle(
      queue,
      'active',
      message,
      `UPDATE queue_messages SET sub = 'deadletter', lock_token = NULL, locked_until = NULL, visible_at = ?,
         dead_letter_reason = ?, dead_letter_description = ?`,
      [Date.now(), reason, description ?? null],
    );
    wake(this.wakeKey(queue, 'deadletter'));
  }

  async completeDeadLetter(queue: string, message: ReceivedMessage): Promise<void> {
    assertQueueName(queue);
    this.settle(queue, 'deadletter', message, 'DELETE FROM queue_messages', []);
  }

  async configureQueue(queue: string, options: QueueOptions): Promise<void> {
    assertQueueName(queue);
    checkQueueOptions(options);
    if (options.maxDeliveryCount === undefined) return;
    this.db
      .prepare(
        `INSERT INTO queue_settings (queue, max_delivery_count) VALUES (?, ?)
         ON CONFLICT (queue) DO UPDATE SET max_delivery_count = excluded.max_delivery_count`,
      )
      .run(queue, options.maxDeliveryCount);
  }

  async close(): Promise<void> {
    this.closing.abort();
    if (this.ownsDb && this.db.open) this.db.close();
  }
}
