/**
 * Persistence of the embedded durable engine: one SQLite database (WAL) holding each
 * instance, its history, its inbox (new events, timers as rows that become visible later)
 * and the activity work items. Every episode commits in one transaction, so a killed host
 * resumes from the last committed episode.
 */
import type { SqliteDatabase } from '../../shared/adapters/sqlite-database.js';
import type { HistoryEvent, RetryOptions } from './history.js';

export type RuntimeStatus =
  'Pending' | 'Running' | 'Completed' | 'Failed' | 'Terminated' | 'ContinuedAsNew' | 'Suspended';
export const TERMINAL: ReadonlySet<RuntimeStatus> = new Set(['Completed', 'Failed', 'Terminated']);

export interface InstanceRow {
  instanceId: string;
  name: string;
  executionId: string;
  status: RuntimeStatus;
  input: string | null;
  output: string | null;
  customStatus: string | null;
  parentInstanceId: string | null;
  parentTaskId: number | null;
  parentExecutionId: string | null;
  createdAt: number;
  updatedAt: number;
  nextSeq: number;
  actionsSeen: number;
  historyLength: number;
}

/** Host-side facts carried with an inbox event, stripped before it enters history. */
export interface InboxMeta {
  retry?: {
    kind: 'activity' | 'orchestration';
    name: string;
    input: string;
    options: RetryOptions;
    attempt: number;
    instanceId?: string;
  };
}

export interface InboxRow {
  id: number;
  instanceId: string;
  executionId: string | null;
  event: HistoryEvent;
  meta: InboxMeta;
  visibleAt: number;
}

export interface WorkRow {
  id: number;
  instanceId: string;
  executionId: string;
  taskId: number;
  name: string;
  input: string;
  meta: InboxMeta;
}

export interface NewInbox {
  instanceId: string;
  executionId: string | null;
  event: HistoryEvent;
  meta?: InboxMeta;
  visibleAt: number;
}

export interface NewWork {
  instanceId: string;
  executionId: string;
  taskId: number;
  name: string;
  input: string;
  meta?: InboxMeta;
}

export interface ListFilter {
  runtimeStatus?: RuntimeStatus[];
  createdFrom?: number;
  createdTo?: number;
  instanceIdPrefix?: string;
  limit: number;
  /** Opaque: last (createdAt, instanceId) seen. */
  after?: { createdAt: number; instanceId: string };
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS instances (
  instance_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  status TEXT NOT NULL,
  input TEXT,
  output TEXT,
  custom_status TEXT,
  parent_instance_id TEXT,
  parent_task_id INTEGER,
  parent_execution_id TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  next_seq INTEGER NOT NULL DEFAULT 0,
  actions_seen INTEGER NOT NULL DEFAULT 0,
  history_length INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS instances_created ON instances(created_at, instance_id);
CREATE INDEX IF NOT EXISTS instances_status ON instances(status, updated_at);
CREATE TABLE IF NOT EXISTS history (
  instance_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  event TEXT NOT NULL,
  PRIMARY KEY (instance_id, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS inbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  instance_id TEXT NOT NULL,
  execution_id TEXT,
  event TEXT NOT NULL,
  meta TEXT,
  visible_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS inbox_instance ON inbox(instance_id, visible_at);
CREATE INDEX IF NOT EXISTS inbox_visible ON inbox(visible_at);
CREATE TABLE IF NOT EXISTS work (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  instance_id TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  task_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  input TEXT NOT NULL,
  meta TEXT
);
CREATE INDEX IF NOT EXISTS work_instance ON work(instance_id);
CREATE TABLE IF NOT EXISTS host_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

interface InstanceDbRow {
  instance_id: string;
  name: string;
  execution_id: string;
  status: RuntimeStatus;
  input: string | null;
  output: string | null;
  custom_status: string | null;
  parent_instance_id: string | null;
  parent_task_id: number | null;
  parent_execution_id: string | null;
  created_at: number;
  updated_at: number;
  next_seq: number;
  actions_seen: number;
  history_length: number;
}

function toInstance(r: InstanceDbRow): InstanceRow {
  return {
    instanceId: r.instance_id,
    name: r.name,
    executionId: r.execution_id,
    status: r.status,
    input: r.input,
    output: r.output,
    customStatus: r.custom_status,
    parentInstanceId: r.parent_instance_id,
    parentTaskId: r.parent_task_id,
    parentExecutionId: r.parent_execution_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    nextSeq: r.next_seq,
    actionsSeen: r.actions_seen,
    historyLength: r.history_length,
  };
}

export class DurableStore {
  private readonly stmts;

  constructor(readonly db: SqliteDatabase) {
    db.exec(SCHEMA);
    this.stmts = {
      getInstance: db.prepare<[string], InstanceDbRow>('SELECT * FROM instances WHERE instance_id = ?'),
      upsertInstance: db.prepare(
        `INSERT INTO instances (instance_id, name, execution_id, status, input, output, custom_status, parent_instance_id,
           parent_task_id, parent_execution_id, created_at, updated_at, next_seq, actions_seen, history_length)
         VALUES (@instanceId, @name, @executionId, @status, @input, @output, @customStatus, @parentInstanceId,
           @parentTaskId, @parentExecutionId, @createdAt, @updatedAt, @nextSeq, @actionsSeen, @historyLength)
         ON CONFLICT(instance_id) DO UPDATE SET name=excluded.name, execution_id=excluded.execution_id,
           status=excluded.status, input=excluded.input, output=excluded.output, custom_status=excluded.custom_status,
           parent_instance_id=excluded.parent_instance_id, parent_task_id=excluded.parent_task_id,
           parent_execution_id=excluded.parent_execution_id, created_at=excluded.created_at,
           updated_at=excluded.updated_at, next_seq=excluded.next_seq, actions_seen=excluded.actions_seen,
           history_length=excluded.history_length`,
      ),
      history: db.prepare<[string], { event: string }>('SELECT event FROM history WHERE instance_id = ? ORDER BY idx'),
      insertHistory: db.prepare('INSERT INTO history (instance_id, idx, event) VALUES (?, ?, ?)'),
      deleteHistory: db.prepare('DELETE FROM history WHERE instance_id = ?'),
      visibleInbox: db.prepare<
        [string, number],
        {
          id: number;
          instance_id: string;
          execution_id: string | null;
          event: string;
          meta: string | null;
          visible_at: number;
        }
      >('SELECT * FROM inbox WHERE instance_id = ? AND visible_at <= ? ORDER BY visible_at, id'),
      insertInbox: db.prepare(
        'INSERT INTO inbox (instance_id, execution_id, event, meta, visible_at) VALUES (?, ?, ?, ?, ?)',
      ),
      deleteInbox: db.prepare('DELETE FROM inbox WHERE id = ?'),
      deleteInboxOfInstance: db.prepare('DELETE FROM inbox WHERE instance_id = ?'),
      deleteTimersOfInstance: db.prepare('DELETE FROM inbox WHERE instance_id = ? AND visible_at > ?'),
      dueInstances: db.prepare<[number], { instance_id: string }>(
        'SELECT DISTINCT instance_id FROM inbox WHERE visible_at <= ?',
      ),
      nextDue: db.prepare<[number], { t: number | null }>(
        'SELECT MIN(visible_at) AS t FROM inbox WHERE visible_at > ?',
      ),
      insertWork: db.prepare(
        'INSERT INTO work (instance_id, execution_id, task_id, name, input, meta) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      deleteWork: db.prepare('DELETE FROM work WHERE id = ?'),
      deleteWorkOfInstance: db.prepare('DELETE FROM work WHERE instance_id = ?'),
      allWork: db.prepare<
        [],
        {
          id: number;
          instance_id: string;
          execution_id: string;
          task_id: number;
          name: string;
          input: string;
          meta: string | null;
        }
      >('SELECT * FROM work ORDER BY id'),
      deleteInstance: db.prepare('DELETE FROM instances WHERE instance_id = ?'),
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM host_meta WHERE key = ?'),
      setMeta: db.prepare(
        'INSERT INTO host_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      ),
    };
  }

  getInstance(instanceId: string): InstanceRow | undefined {
    const row = this.stmts.getInstance.get(instanceId);
    return row ? toInstance(row) : undefined;
  }

  saveInstance(row: InstanceRow): void {
    this.stmts.upsertInstance.run(row);
  }

  loadHistory(instanceId: string): HistoryEvent[] {
    return this.stmts.history.all(instanceId).map((r) => {
      const e = JSON.parse(r.event) as HistoryEvent;
      e.IsPlayed = true;
      return e;
    });
  }

  appendHistory(instanceId: string, startIndex: number, events: readonly HistoryEvent[]): void {
    for (let i = 0; i < events.length; i++) {
      const e = events[i] as HistoryEvent;
      const { IsPlayed: _played, ...rest } = e;
      this.stmts.insertHistory.run(instanceId, startIndex + i, JSON.stringify(rest));
    }
  }

  clearHistory(instanceId: string): void {
    this.stmts.deleteHistory.run(instanceId);
  }

  visibleInbox(instanceId: string, now: number): InboxRow[] {
    return this.stmts.visibleInbox.all(instanceId, now).map((r) => ({
      id: r.id,
      instanceId: r.instance_id,
      executionId: r.execution_id,
      event: JSON.parse(r.event) as HistoryEvent,
      meta: r.meta ? (JSON.parse(r.meta) as InboxMeta) : {},
      visibleAt: r.visible_at,
    }));
  }

  addInbox(items: readonly NewInbox[]): void {
    for (const m of items) {
      this.stmts.insertInbox.run(
        m.instanceId,
        m.executionId,
        JSON.stringify(m.event),
        m.meta ? JSON.stringify(m.meta) : null,
        m.visibleAt,
      );
    }
  }

  deleteInbox(ids: readonly number[]): void {
    for (const id of ids) this.stmts.deleteInbox.run(id);
  }

  clearPending(instanceId: string): void {
    this.stmts.deleteInboxOfInstance.run(instanceId);
    this.stmts.deleteWorkOfInstance.run(instanceId);
  }

  clearFutureTimers(instanceId: string, now: number): void {
    this.stmts.deleteTimersOfInstance.run(instanceId, now);
  }

  dueInstances(now: number): string[] {
    return this.stmts.dueInstances.all(now).map((r) => r.instance_id);
  }

  nextDueAt(now: number): number | undefined {
    return this.stmts.nextDue.get(now)?.t ?? undefined;
  }

  addWork(items: readonly NewWork[]): number[] {
    return items.map((w) =>
      Number(
        this.stmts.insertWork.run(
          w.instanceId,
          w.executionId,
          w.taskId,
          w.name,
          w.input,
          w.meta ? JSON.stringify(w.meta) : null,
        ).lastInsertRowid,
      ),
    );
  }

  deleteWork(id: number): void {
    this.stmts.deleteWork.run(id);
  }

  allWork(): WorkRow[] {
    return this.stmts.allWork.all().map((r) => ({
      id: r.id,
      instanceId: r.instance_id,
      executionId: r.execution_id,
      taskId: r.task_id,
      name: r.name,
      input: r.input,
      meta: r.meta ? (JSON.parse(r.meta) as InboxMeta) : {},
    }));
  }

  listInstances(filter: ListFilter): InstanceRow[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.runtimeStatus && filter.runtimeStatus.length > 0) {
      where.push(`status IN (${filter.runtimeStatus.map(() => '?').join(',')})`);
      params.push(...filter.runtimeStatus);
    }
    if (filter.createdFrom !== undefined) {
      where.push('created_at >= ?');
      params.push(filter.createdFrom);
    }
    if (filter.createdTo !== undefined) {
      where.push('created_at <= ?');
      params.push(filter.createdTo);
    }
    if (filter.instanceIdPrefix) {
      where.push('instance_id >= ? AND instance_id < ?');
      params.push(filter.instanceIdPrefix, filter.instanceIdPrefix + '\uffff');
    }
    if (filter.after) {
      where.push('(created_at > ? OR (created_at = ? AND instance_id > ?))');
      params.push(filter.after.createdAt, filter.after.createdAt, filter.after.instanceId);
    }
    const sql = `SELECT * FROM instances ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at, instance_id LIMIT ?`;
    params.push(filter.limit);
    return (this.db.prepare(sql).all(...params) as InstanceDbRow[]).map(toInstance);
  }

  purge(instanceId: string): boolean {
    const existed = this.stmts.deleteInstance.run(instanceId).changes > 0;
    this.stmts.deleteHistory.run(instanceId);
    this.clearPending(instanceId);
    return existed;
  }

  getMeta(key: string): string | undefined {
    return this.stmts.getMeta.get(key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.stmts.setMeta.run(key, value);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}
