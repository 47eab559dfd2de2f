import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import type { FilterClause } from '../domain/mlflow-filter.js';
import type {
  ExperimentRecord,
  ExperimentSearch,
  HistoryPage,
  KeyValue,
  LifecycleStage,
  Metric,
  Page,
  RunInsert,
  RunRecord,
  RunSearch,
  RunStatus,
  RunUpdate,
  TrackingStore,
  ViewType,
} from '../ports/tracking-store.js';
import { openSqlite } from './sqlite-database.js';
import type { SqliteDatabase } from './sqlite-database.js';

/**
 * TrackingStore on SQLite (<dataDir>/tracking.db, WAL). Metric history is append-only in `metrics`
 * (paged by its rowid per run and key); `latest_metrics` keeps each run's latest value per key, so
 * a search filtering or ordering by a metric reads one indexed row per run instead of its history.
 * Every value reaches SQL as a bound parameter; only column names and operators chosen from fixed
 * tables are put into the SQL text.
 */

const SCHEMA = `
CREATE TABLE IF NOT EXISTS experiments (
  ws TEXT NOT NULL, experiment_id INTEGER NOT NULL, name TEXT NOT NULL, artifact_location TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL, creation_time INTEGER NOT NULL, last_update_time INTEGER NOT NULL,
  PRIMARY KEY (ws, experiment_id), UNIQUE (ws, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS experiment_tags (
  ws TEXT NOT NULL, experiment_id INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (ws, experiment_id, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (
  run_uuid TEXT PRIMARY KEY, ws TEXT NOT NULL, experiment_id INTEGER NOT NULL, run_name TEXT NOT NULL,
  user_id TEXT NOT NULL, status TEXT NOT NULL, start_time INTEGER NOT NULL, end_time INTEGER,
  artifact_uri TEXT NOT NULL, lifecycle_stage TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_experiment ON runs (ws, experiment_id, start_time DESC);
CREATE TABLE IF NOT EXISTS params (
  run_uuid TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_uuid, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS params_by_key ON params (key, value);
CREATE TABLE IF NOT EXISTS tags (
  run_uuid TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_uuid, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tags_by_key ON tags (key, value);
CREATE TABLE IF NOT EXISTS metrics (
  id INTEGER PRIMARY KEY, run_uuid TEXT NOT NULL, key TEXT NOT NULL, value REAL, is_nan INTEGER NOT NULL,
  timestamp INTEGER NOT NULL, step INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS metrics_history ON metrics (run_uuid, key, id);
CREATE TABLE IF NOT EXISTS latest_metrics (
  run_uuid TEXT NOT NULL, key TEXT NOT NULL, value REAL, is_nan INTEGER NOT NULL,
  timestamp INTEGER NOT NULL, step INTEGER NOT NULL, ws TEXT NOT NULL, experiment_id INTEGER NOT NULL,
  PRIMARY KEY (run_uuid, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS latest_metrics_by_value ON latest_metrics (ws, experiment_id, key, value);
`;

interface ExperimentRow {
  experiment_id: number;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  creation_time: number;
  last_update_time: number;
}

interface RunRow {
  run_uuid: string;
  experiment_id: number;
  run_name: string;
  user_id: string;
  status: string;
  start_time: number;
  end_time: number | null;
  artifact_uri: string;
  lifecycle_stage: string;
}

interface MetricRow {
  id?: number;
  key: string;
  value: number | null;
  is_nan: number;
  timestamp: number;
  step: number;
}

const RUN_COLUMNS: Record<string, string> = {
  status: 'r.status',
  run_name: 'r.run_name',
  user_id: 'r.user_id',
  artifact_uri: 'r.artifact_uri',
  run_id: 'r.run_uuid',
  start_time: 'r.start_time',
  end_time: 'r.end_time',
};

/** Attributes that may be NULL: ordering by them puts NULL last. The others are NOT NULL. */
const NULLABLE_RUN_COLUMNS = new Set(['end_time']);

const EXPERIMENT_COLUMNS: Record<string, string> = {
  name: 'e.name',
  creation_time: 'e.creation_time',
  last_update_time: 'e.last_update_time',
  experiment_id: 'e.experiment_id',
};

export class SqliteTrackingStore implements TrackingStore {
  private constructor(private readonly db: SqliteDatabase) {}

  /** Opens (creating if needed) the tracking database; `:memory:` for a throwaway store. */
  static open(file: string): SqliteTrackingStore {
    const db = openSqlite(file);
    // MLflow's LIKE is case-sensitive; ILIKE is the case-insensitive one.
    db.pragma('case_sensitive_like = ON');
    db.exec(SCHEMA);
    return new SqliteTrackingStore(db);
  }

  /** The file path, for tools (the bench) that read the same database. */
  get file(): string {
    return this.db.name;
  }

  async ensureDefaultExperiment(ws: string, artifactLocation: string, now: number): Promise<void> {
    this.db
      .prepare(`INSERT OR IGNORE INTO experiments VALUES (?, 0, 'Default', ?, 'active', ?, ?)`)
      .run(ws, artifactLocation, now, now);
  }

  async createExperiment(
    ws: string,
    name: string,
    artifactLocation: (id: string) => string,
    tags: KeyValue[],
    now: number,
  ): Promise<string> {
    return this.db.transaction(() => {
      if (this.db.prepare('SELECT 1 FROM experiments WHERE ws = ? AND name = ?').get(ws, name) !== undefined) {
        throw new ConflictError(`Experiment '${name}' already exists.`, { target: 'name' });
      }
      const row = this.db
        .prepare('SELECT COALESCE(MAX(experiment_id), 0) + 1 AS id FROM experiments WHERE ws = ?')
        .get(ws) as { id: number };
      const id = String(row.id);
      this.db
        .prepare(`INSERT INTO experiments VALUES (?, ?, ?, ?, 'active', ?, ?)`)
        .run(ws, row.id, name, artifactLocation(id), now, now);
      const tag = this.db.prepare('INSERT OR REPLACE INTO experiment_tags VALUES (?, ?, ?, ?)');
      for (const t of tags) tag.run(ws, row.id, t.key, t.value);
      return id;
    })();
  }

  async getExperiment(ws: string, experimentId: string): Promise<ExperimentRecord | undefined> {
    const id = toInt(experimentId);
    if (id === undefined) return undefined;
    const row = this.db.prepare('SELECT * FROM experiments WHERE ws = ? AND experiment_id = ?').get(ws, id);
    return row === undefined ? undefined : this.toExperiment(ws, row as ExperimentRow);
  }

  async getExperimentByName(ws: string, name: string): Promise<ExperimentRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM experiments WHERE ws = ? AND name = ?').get(ws, name);
    return row === undefined ? undefined : this.toExperiment(ws, row as ExperimentRow);
  }

  async searchExperiments(ws: string, search: ExperimentSearch): Promise<Page<ExperimentRecord>> {
    const joins: string[] = [];
    const joinArgs: unknown[] = [];
    const where: string[] = ['e.ws = ?'];
    const whereArgs: unknown[] = [ws];
    const stage = stageCondition('e.lifecycle_stage', search.viewType);
    if (stage !== undefined) where.push(stage);
    search.filter.forEach((c, i) => {
      if (c.entity === 'tag') {
        const t = `t${i}`;
        joins.push(
          `JOIN experiment_tags ${t} ON ${t}.ws = e.ws AND ${t}.experiment_id = e.experiment_id AND ${t}.key = ?`,
        );
        joinArgs.push(c.key);
        where.push(comparison(`${t}.value`, c, whereArgs));
      } else {
        where.push(comparison(column(EXPERIMENT_COLUMNS, c.key), c, whereArgs));
      }
    });
    const order = search.orderBy.map((o) => `${column(EXPERIMENT_COLUMNS, o.key)} ${o.ascending ? 'ASC' : 'DESC'}`);
    order.push('e.creation_time DESC', 'e.experiment_id ASC');
    const sql = `SELECT e.* FROM experiments e ${joins.join(' ')} WHERE ${where.join(' AND ')} ORDER BY ${order.join(', ')} LIMIT ? OFFSET ?`;
    const rows = this.db
      .prepare(sql)
      .all(...joinArgs, ...whereArgs, search.maxResults + 1, search.offset) as ExperimentRow[];
    const more = rows.length > search.maxResults;
    return { items: rows.slice(0, search.maxResults).map((r) => this.toExperiment(ws, r)), more };
  }

  async updateExperiment(
    ws: string,
    experimentId: string,
    change: { name?: string; lifecycleStage?: LifecycleStage },
    now: number,
  ): Promise<boolean> {
    const id = toInt(experimentId);
    if (id === undefined) return false;
    return this.db.transaction(() => {
      if (change.name !== undefined) {
        const clash = this.db
          .prepare('SELECT experiment_id FROM experiments WHERE ws = ? AND name = ? AND experiment_id != ?')
          .get(ws, change.name, id);
        if (clash !== undefined) throw new ConflictError(`Experiment '${change.name}' already exists.`);
      }
      const result = this.db
        .prepare(
          `UPDATE experiments SET name = COALESCE(?, name), lifecycle_stage = COALESCE(?, lifecycle_stage),
             last_update_time = ? WHERE ws = ? AND experiment_id = ?`,
        )
        .run(change.name ?? null, change.lifecycleStage ?? null, now, ws, id);
      return result.changes > 0;
    })();
  }

  async setExperimentTag(ws: string, experimentId: string, tag: KeyValue, now: number): Promise<void> {
    const id = toInt(experimentId) ?? -1;
    this.db.transaction(() => {
      // No tag without its experiment: an orphan would show up on an experiment created later with that id.
      const touched = this.db
        .prepare('UPDATE experiments SET last_update_time = ? WHERE ws = ? AND experiment_id = ?')
        .run(now, ws, id);
      if (touched.changes === 0) return;
      this.db.prepare('INSERT OR REPLACE INTO experiment_tags VALUES (?, ?, ?, ?)').run(ws, id, tag.key, tag.value);
    })();
  }

  async createRun(ws: string, run: RunInsert): Promise<void> {
    this.db.transaction(() => {
      this.db
        .prepare(`INSERT INTO runs VALUES (?, ?, ?, ?, ?, 'RUNNING', ?, NULL, ?, 'active')`)
        .run(run.runId, ws, toInt(run.experimentId) ?? -1, run.runName, run.userId, run.startTime, run.artifactUri);
      const tag = this.db.prepare('INSERT OR REPLACE INTO tags VALUES (?, ?, ?)');
      for (const t of run.tags) tag.run(run.runId, t.key, t.value);
    })();
  }

  async getRun(ws: string, runId: string): Promise<RunRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM runs r WHERE run_uuid = ? AND ws = ?').get(runId, ws);
    return row === undefined ? undefined : this.toRun(row as RunRow);
  }

  async updateRun(ws: string, runId: string, update: RunUpdate & { lifecycleStage?: LifecycleStage }): Promise<void> {
    this.db
      .prepare(
        `UPDATE runs SET status = COALESCE(?, status), end_time = COALESCE(?, end_time),
           run_name = COALESCE(?, run_name), lifecycle_stage = COALESCE(?, lifecycle_stage)
         WHERE run_uuid = ? AND ws = ?`,
      )
      .run(
        update.status ?? null,
        update.endTime ?? null,
        update.runName ?? null,
        update.lifecycleStage ?? null,
        runId,
        ws,
      );
  }

  async logBatch(
    ws: string,
    runId: string,
    batch: { metrics: Metric[]; params: KeyValue[]; tags: KeyValue[] },
  ): Promise<void> {
    const getParam = this.db.prepare('SELECT value FROM params WHERE run_uuid = ? AND key = ?').pluck();
    const putParam = this.db.prepare('INSERT OR IGNORE INTO params VALUES (?, ?, ?)');
    const putTag = this.db.prepare('INSERT OR REPLACE INTO tags VALUES (?, ?, ?)');
    const putMetric = this.db.prepare(
      'INSERT INTO metrics (run_uuid, key, value, is_nan, timestamp, step) VALUES (?, ?, ?, ?, ?, ?)',
    );
    // MLflow's latest value: the highest step, then the latest timestamp, then the largest value.
    const experimentOf = this.db.prepare('SELECT experiment_id FROM runs WHERE run_uuid = ? AND ws = ?').pluck();
    const putLatest = this.db.prepare(
      `INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step, ws, experiment_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, is_nan = excluded.is_nan,
         timestamp = excluded.timestamp, step = excluded.step
       WHERE (excluded.step, excluded.timestamp, COALESCE(excluded.value, -1e308))
           >= (latest_metrics.step, latest_metrics.timestamp, COALESCE(latest_metrics.value, -1e308))`,
    );
    this.db.transaction(() => {
      const experimentId = experimentOf.get(runId, ws) as number | undefined;
      if (experimentId === undefined) throw new NotFoundError(`Run '${runId}' not found.`);
      for (const p of batch.params) {
        const existing = getParam.get(runId, p.key) as string | undefined;
        if (existing !== undefined && existing !== p.value) {
          throw new ValidationError(
            `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${existing}' for run ID='${runId}'. Attempted logging new value '${p.value}'.`,
            { target: `params.${p.key}` },
          );
        }
        putParam.run(runId, p.key, p.value);
      }
      for (const t of batch.tags) putTag.run(runId, t.key, t.value);
      for (const m of batch.metrics) {
        const nan = Number.isNaN(m.value);
        const args = [runId, m.key, nan ? null : m.value, nan ? 1 : 0, m.timestamp, m.step] as const;
        putMetric.run(...args);
        putLatest.run(...args, ws, experimentId);
      }
    })();
  }

  async deleteTag(ws: string, runId: string, key: string): Promise<boolean> {
    return (
      this.db
        .prepare(
          'DELETE FROM tags WHERE run_uuid = ? AND key = ? AND EXISTS (SELECT 1 FROM runs WHERE run_uuid = ? AND ws = ?)',
        )
        .run(runId, key, runId, ws).changes > 0
    );
  }

  async searchRuns(ws: string, search: RunSearch): Promise<Page<RunRecord>> {
    const { sql, args } = buildRunSearchSql(ws, search);
    const rows = this.db.prepare(sql).all(...args) as RunRow[];
    const more = rows.length > search.maxResults;
    return { items: rows.slice(0, search.maxResults).map((r) => this.toRun(r)), more };
  }

  async metricHistory(ws: string, runId: string, key: string, after: number, limit: number): Promise<HistoryPage> {
    if (this.db.prepare('SELECT 1 FROM runs WHERE run_uuid = ? AND ws = ?').get(runId, ws) === undefined) {
      return { metrics: [], next: undefined };
    }
    const rows = this.db
      .prepare(
        `SELECT m.id, m.key, m.value, m.is_nan, m.timestamp, m.step FROM metrics m
         WHERE m.run_uuid = ? AND m.key = ? AND m.id > ? ORDER BY m.id LIMIT ?`,
      )
      .all(runId, key, after, limit + 1) as MetricRow[];
    const page = rows.slice(0, limit);
    const next = rows.length > limit ? page[page.length - 1]?.id : undefined;
    return { metrics: page.map(toMetric), next };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private toExperiment(ws: string, row: ExperimentRow): ExperimentRecord {
    const tags = this.db
      .prepare('SELECT key, value FROM experiment_tags WHERE ws = ? AND experiment_id = ? ORDER BY key')
      .all(ws, row.experiment_id) as KeyValue[];
    return {
      experimentId: String(row.experiment_id),
      name: row.name,
      artifactLocation: row.artifact_location,
      lifecycleStage: row.lifecycle_stage as LifecycleStage,
      creationTime: row.creation_time,
      lastUpdateTime: row.last_update_time,
      tags,
    };
  }

  private toRun(row: RunRow): RunRecord {
    const id = row.run_uuid;
    const metrics = (
      this.db
        .prepare('SELECT key, value, is_nan, timestamp, step FROM latest_metrics WHERE run_uuid = ? ORDER BY key')
        .all(id) as MetricRow[]
    ).map(toMetric);
    const params = this.db
      .prepare('SELECT key, value FROM params WHERE run_uuid = ? ORDER BY key')
      .all(id) as KeyValue[];
    const tags = this.db.prepare('SELECT key, value FROM tags WHERE run_uuid = ? ORDER BY key').all(id) as KeyValue[];
    return {
      runId: id,
      experimentId: String(row.experiment_id),
      runName: row.run_name,
      userId: row.user_id,
      status: row.status as RunStatus,
      startTime: row.start_time,
      endTime: row.end_time ?? undefined,
      artifactUri: row.artifact_uri,
      lifecycleStage: row.lifecycle_stage as LifecycleStage,
      metrics,
      params,
      tags,
    };
  }
}

/**
 * The runs/search query. Each filter clause on a metric, param or tag is an inner join on its table,
 * attributes are conditions on `runs`. Metric filters are scoped to the workspace and experiments
 * so that `latest_metrics_by_value` (ws, experiment_id, key, value) serves them; when the first
 * order term is a filtered metric, that join drives the query (CROSS JOIN fixes SQLite's join
 * order), so rows come out of the index already ordered and a page stops after `LIMIT` rows.
 */
export function buildRunSearchSql(ws: string, search: RunSearch): { sql: string; args: unknown[] } {
  const joins: string[] = [];
  const joinArgs: unknown[] = [];
  const where: string[] = ['r.ws = ?'];
  const whereArgs: unknown[] = [ws];
  const ids = search.experimentIds.map((id) => toInt(id) ?? -1);
  const idList = ids.map(() => '?').join(', ');
  where.push(`r.experiment_id IN (${idList})`);
  whereArgs.push(...ids);
  const stage = stageCondition('r.lifecycle_stage', search.viewType);
  if (stage !== undefined) where.push(stage);
  const metricAlias = new Map<string, string>();
  search.filter.forEach((c, i) => {
    if (c.entity === 'attribute') {
      where.push(comparison(column(RUN_COLUMNS, c.key), c, whereArgs));
      return;
    }
    const table = c.entity === 'metric' ? 'latest_metrics' : c.entity === 'param' ? 'params' : 'tags';
    const a = `f${i}`;
    joins.push(`${a}|JOIN ${table} ${a} ON ${a}.run_uuid = r.run_uuid`);
    where.push(`${a}.key = ?`);
    whereArgs.push(c.key);
    if (c.entity === 'metric') {
      where.push(`${a}.ws = ?`, `${a}.experiment_id IN (${idList})`);
      whereArgs.push(ws, ...ids);
      if (!metricAlias.has(c.key)) metricAlias.set(c.key, a);
    }
    where.push(comparison(`${a}.value`, c, whereArgs));
  });
  const order: string[] = [];
  let driver: string | undefined;
  search.orderBy.forEach((o, i) => {
    const dir = o.ascending ? 'ASC' : 'DESC';
    if (o.entity === 'attribute') {
      const c = column(RUN_COLUMNS, o.key);
      // Runs without an end time sort last either way, as in MLflow (SQLite puts NULL first in ASC).
      if (NULLABLE_RUN_COLUMNS.has(o.key)) order.push(`${c} IS NULL`);
      order.push(`${c} ${dir}`);
      return;
    }
    const filtered = o.entity === 'metric' ? metricAlias.get(o.key) : undefined;
    if (filtered !== undefined) {
      if (i === 0) driver = filtered;
      order.push(`${filtered}.value ${dir}`);
      return;
    }
    const table = o.entity === 'metric' ? 'latest_metrics' : o.entity === 'param' ? 'params' : 'tags';
    const a = `o${i}`;
    joins.push(`${a}|LEFT JOIN ${table} ${a} ON ${a}.run_uuid = r.run_uuid AND ${a}.key = ?`);
    joinArgs.push(o.key);
    // Runs without the key sort last either way, as in MLflow.
    order.push(`${a}.value IS NULL`, `${a}.value ${dir}`);
  });
  order.push('r.start_time DESC', 'r.run_uuid ASC');
  let from = 'runs r';
  const joinSql = joins.map((j) => {
    const [alias, text] = j.split('|') as [string, string];
    if (alias !== driver) return text;
    from = `latest_metrics ${alias} CROSS JOIN runs r`;
    where.unshift(`r.run_uuid = ${alias}.run_uuid`);
    return '';
  });
  const sql = `SELECT r.* FROM ${from} ${joinSql.join(' ')} WHERE ${where.join(' AND ')} ORDER BY ${order.join(', ')} LIMIT ? OFFSET ?`;
  return { sql, args: [...joinArgs, ...whereArgs, search.maxResults + 1, search.offset] };
}

function comparison(expr: string, clause: FilterClause, args: unknown[]): string {
  switch (clause.comparator) {
    case 'IN':
    case 'NOT IN': {
      const values = clause.value as string[];
      args.push(...values);
      return `${expr} ${clause.comparator} (${values.map(() => '?').join(', ')})`;
    }
    case 'ILIKE':
      args.push(clause.value);
      return `lower(${expr}) LIKE lower(?)`;
    default:
      args.push(clause.value);
      return `${expr} ${clause.comparator} ?`;
  }
}

function column(columns: Record<string, string>, key: string): string {
  const c = columns[key];
  if (c === undefined) throw new ValidationError(`Unknown attribute '${key}'.`, { target: 'filter' });
  return c;
}

function stageCondition(expr: string, view: ViewType): string | undefined {
  if (view === 'ALL') return undefined;
  return view === 'DELETED_ONLY' ? `${expr} = 'deleted'` : `${expr} = 'active'`;
}

function toInt(id: string): number | undefined {
  return /^\d{1,15}$/.test(id) ? Number(id) : undefined;
}

function toMetric(row: MetricRow): Metric {
  return { key: row.key, value: row.is_nan ? NaN : (row.value ?? NaN), timestamp: row.timestamp, step: row.step };
}
