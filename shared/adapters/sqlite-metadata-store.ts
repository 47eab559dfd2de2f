import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, PreconditionFailedError } from '../errors.js';
import type {
  DocumentContainer,
  MetadataStore,
  QueryOptions,
  QueryPage,
  StoredDocument,
  WithMeta,
  WriteOptions,
} from '../ports/metadata-store.js';
import {
  decodeContinuationToken,
  encodeContinuationToken,
  type ContinuationTokenFormat,
} from '../domain/continuation-token.js';
import { assertContainerName, assertDocumentKeys } from '../domain/document-keys.js';
import {
  checkQuery,
  queryTokenFormat,
  type CheckedFilter,
  type CheckedOrder,
  type Scalar,
} from '../domain/document-query.js';
import { stripWriteOptions, toStoredDocument } from '../domain/stored-document.js';
import type Database from 'better-sqlite3';
import { openSqlite, type SqliteDatabase } from './sqlite-database.js';

interface Row {
  body: string;
  etag: string;
  ts: number;
}

function jsonPath(segments: readonly string[]): string {
  return '$' + segments.map((s) => `."${s}"`).join('');
}

/** A query token resumes after the last row's sort values ('v'), one per sort expression. */
function queryToken(width: number): ContinuationTokenFormat<unknown[]> {
  return queryTokenFormat('v', (v): v is unknown[] => Array.isArray(v) && v.length === width);
}

/** SQL for one filter over `body`, with its parameters (values and JSON paths are always bound). */
function filterSql(f: CheckedFilter): { sql: string; params: unknown[] } {
  const p = jsonPath(f.segments);
  const jt = 'json_type(body, ?)';
  const je = 'json_extract(body, ?)';
  const typeOf = (v: Scalar): { sql: string; params: unknown[] } => {
    if (v === null) return { sql: `${jt} = 'null'`, params: [p] };
    if (typeof v === 'boolean') return { sql: `${jt} = '${v ? 'true' : 'false'}'`, params: [p] };
    if (typeof v === 'number') return { sql: `${jt} IN ('integer', 'real')`, params: [p] };
    return { sql: `${jt} = 'text'`, params: [p] };
  };
  const eq = (v: Scalar): { sql: string; params: unknown[] } => {
    const t = typeOf(v);
    if (v === null || typeof v === 'boolean') return t;
    return { sql: `(${t.sql} AND ${je} = ?)`, params: [...t.params, p, v] };
  };
  switch (f.op) {
    case '=':
      return eq(f.value as Scalar);
    case '!=': {
      const v = f.value as string | number | boolean;
      if (typeof v === 'boolean') return { sql: `${jt} = '${v ? 'false' : 'true'}'`, params: [p] };
      const t = typeOf(v);
      return { sql: `(${t.sql} AND ${je} != ?)`, params: [...t.params, p, v] };
    }
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const v = f.value as string | number;
      const t = typeOf(v);
      return { sql: `(${t.sql} AND ${je} ${f.op} ?)`, params: [...t.params, p, v] };
    }
    case 'in': {
      const values = f.value as Scalar[];
      if (values.length === 0) return { sql: '0', params: [] };
      const parts = values.map(eq);
      return { sql: `(${parts.map((x) => x.sql).join(' OR ')})`, params: parts.flatMap((x) => x.params) };
    }
    case 'contains': {
      const v = f.value as string | number | boolean;
      const elemType =
        typeof v === 'boolean'
          ? `e.type = '${v ? 'true' : 'false'}'`
          : typeof v === 'number'
            ? `e.type IN ('integer', 'real') AND e.value = ?`
            : `e.type = 'text' AND e.value = ?`;
      const elemParams = typeof v === 'boolean' ? [] : [v];
      const arrayPart = `(${jt} = 'array' AND EXISTS (SELECT 1 FROM json_each(body, ?) AS e WHERE ${elemType}))`;
      const arrayParams = [p, p, ...elemParams];
      if (typeof v !== 'string') return { sql: arrayPart, params: arrayParams };
      return {
        sql: `(${arrayPart} OR (${jt} = 'text' AND instr(${je}, ?) > 0))`,
        params: [...arrayParams, p, p, v],
      };
    }
    case 'startsWith': {
      const v = f.value as string;
      return { sql: `(${jt} = 'text' AND substr(${je}, 1, length(?)) = ?)`, params: [p, p, v, v] };
    }
    case 'exists':
      return { sql: f.value === false ? `${jt} IS NULL` : `${jt} IS NOT NULL`, params: [p] };
  }
}

/** Sort expressions: requested keys, `id` (unless present), then `pk` so that the order is total across partitions. */
function sortExpressions(order: readonly CheckedOrder[]): { expr: string; params: unknown[]; desc: boolean }[] {
  const out = order.map((o) =>
    o.segments.length === 1 && o.segments[0] === 'id'
      ? { expr: 'id', params: [] as unknown[], desc: o.desc }
      : { expr: 'json_extract(body, ?)', params: [jsonPath(o.segments)] as unknown[], desc: o.desc },
  );
  out.push({ expr: 'pk', params: [], desc: false });
  return out;
}

/** Rows strictly after `last` in the given order (NULL sorts first ascending, last descending, as in SQLite). */
function keysetSql(
  keys: ReturnType<typeof sortExpressions>,
  last: readonly unknown[],
): { sql: string; params: unknown[] } {
  const ors: string[] = [];
  const params: unknown[] = [];
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = last[i] ?? null;
    // Nothing sorts after NULL in descending order, so this branch can never match.
    if (v === null && k.desc) continue;
    const ands: string[] = [];
    const branch: unknown[] = [];
    for (let j = 0; j < i; j++) {
      const e = keys[j]!;
      ands.push(`${e.expr} IS ?`);
      branch.push(...e.params, last[j] ?? null);
    }
    if (v === null) {
      ands.push(`${k.expr} IS NOT NULL`);
      branch.push(...k.params);
    } else if (k.desc) {
      ands.push(`(${k.expr} < ? OR ${k.expr} IS NULL)`);
      branch.push(...k.params, v, ...k.params);
    } else {
      ands.push(`${k.expr} > ?`);
      branch.push(...k.params, v);
    }
    ors.push(`(${ands.join(' AND ')})`);
    params.push(...branch);
  }
  return { sql: ors.length > 0 ? `(${ors.join(' OR ')})` : '0', params };
}

type SqliteStatement = Database.Statement<unknown[]>;
const statements = new WeakMap<SqliteDatabase, Map<string, SqliteStatement>>();
const MAX_CACHED_STATEMENTS = 256;

class SqliteDocumentContainer implements DocumentContainer {
  constructor(
    private readonly db: SqliteDatabase,
    readonly name: string,
  ) {}

  /** The prepared statement for `sql`, prepared once per database (preparing costs more than a point read). */
  private statement(sql: string): SqliteStatement {
    let cache = statements.get(this.db);
    if (cache === undefined) statements.set(this.db, (cache = new Map()));
    let stmt = cache.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare(sql);
      // Queries are built from their filters: keep the cache bounded however many shapes are seen.
      if (cache.size >= MAX_CACHED_STATEMENTS) cache.clear();
      cache.set(sql, stmt);
    }
    return stmt;
  }

  async create<T extends StoredDocument>(doc: T): Promise<WithMeta<T>> {
    const { json, body } = toStoredDocument(doc);
    const etag = randomUUID();
    const ts = Date.now();
    try {
      this.statement(
        'INSERT INTO metadata_documents (container, pk, id, etag, body, ts) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(this.name, body.pk, body.id, etag, json, ts);
    } catch (err) {
      if (isConstraintError(err)) {
        throw new ConflictError(
          `Document ${JSON.stringify(body.id)} already exists in partition ${JSON.stringify(body.pk)} of ${this.name}.`,
          {
            target: 'id',
          },
        );
      }
      throw err;
    }
    return { ...body, _etag: etag, _ts: ts };
  }

  async upsert<T extends StoredDocument>(doc: T, options?: WriteOptions): Promise<WithMeta<T>> {
    const ifMatch = stripWriteOptions(options);
    const { json, body } = toStoredDocument(doc);
    const etag = randomUUID();
    const ts = Date.now();
    if (ifMatch !== undefined) {
      const r = this.statement(
        'UPDATE metadata_documents SET etag = ?, body = ?, ts = ? WHERE container = ? AND pk = ? AND id = ? AND etag = ?',
      ).run(etag, json, ts, this.name, body.pk, body.id, ifMatch);
      if (r.changes === 0) throw this.preconditionFailed(body.pk, body.id, ifMatch);
    } else {
      this.statement(
        `INSERT INTO metadata_documents (container, pk, id, etag, body, ts) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (container, pk, id) DO UPDATE SET etag = excluded.etag, body = excluded.body, ts = excluded.ts`,
      ).run(this.name, body.pk, body.id, etag, json, ts);
    }
    return { ...body, _etag: etag, _ts: ts };
  }

  async replace<T extends StoredDocument>(doc: T, options?: WriteOptions): Promise<WithMeta<T>> {
    const ifMatch = stripWriteOptions(options);
    const { json, body } = toStoredDocument(doc);
    const etag = randomUUID();
    const ts = Date.now();
    const run = this.db.transaction(() => {
      const current = this.statement(
        'SELECT etag FROM metadata_documents WHERE container = ? AND pk = ? AND id = ?',
      ).get(this.name, body.pk, body.id) as { etag: string } | undefined;
      if (current === undefined) {
        throw new NotFoundError(
          `Document ${JSON.stringify(body.id)} does not exist in partition ${JSON.stringify(body.pk)} of ${this.name}.`,
          {
            target: 'id',
          },
        );
      }
      if (ifMatch !== undefined && current.etag !== ifMatch) throw this.preconditionFailed(body.pk, body.id, ifMatch);
      this.statement(
        'UPDATE metadata_documents SET etag = ?, body = ?, ts = ? WHERE container = ? AND pk = ? AND id = ?',
      ).run(etag, json, ts, this.name, body.pk, body.id);
    });
    run.immediate();
    return { ...body, _etag: etag, _ts: ts };
  }

  async read<T extends StoredDocument>(pk: string, id: string): Promise<WithMeta<T> | undefined> {
    assertDocumentKeys(pk, id);
    const row = this.statement(
      'SELECT body, etag, ts FROM metadata_documents WHERE container = ? AND pk = ? AND id = ?',
    ).get(this.name, pk, id) as Row | undefined;
    return row === undefined ? undefined : toWithMeta<T>(row);
  }

  async delete(pk: string, id: string, options?: WriteOptions): Promise<boolean> {
    assertDocumentKeys(pk, id);
    const ifMatch = stripWriteOptions(options);
    if (ifMatch === undefined) {
      return (
        this.statement('DELETE FROM metadata_documents WHERE container = ? AND pk = ? AND id = ?').run(
          this.name,
          pk,
          id,
        ).changes > 0
      );
    }
    const run = this.db.transaction((): boolean => {
      const current = this.statement(
        'SELECT etag FROM metadata_documents WHERE container = ? AND pk = ? AND id = ?',
      ).get(this.name, pk, id) as { etag: string } | undefined;
      if (current === undefined) return false;
      if (current.etag !== ifMatch) throw this.preconditionFailed(pk, id, ifMatch);
      this.statement('DELETE FROM metadata_documents WHERE container = ? AND pk = ? AND id = ?').run(this.name, pk, id);
      return true;
    });
    return run.immediate();
  }

  async query<T extends StoredDocument>(options: QueryOptions = {}): Promise<QueryPage<T>> {
    const { limit, filters, order, fingerprint } = checkQuery(this.name, options);
    const keys = sortExpressions(order);

    const where: string[] = ['container = ?'];
    const params: unknown[] = [this.name];
    if (options.partitionKey !== undefined) {
      where.push('pk = ?');
      params.push(options.partitionKey);
    }
    for (const f of filters) {
      const s = filterSql(f);
      where.push(s.sql);
      params.push(...s.params);
    }
    if (options.continuation !== undefined) {
      const last = decodeContinuationToken(queryToken(keys.length), options.continuation, fingerprint);
      const k = keysetSql(keys, last);
      where.push(k.sql);
      params.push(...k.params);
    }
    const selectKeys = keys.map((k, i) => `${k.expr} AS k${i}`).join(', ');
    const selectParams = keys.flatMap((k) => k.params);
    const orderSql = keys.map((k) => `${k.expr} ${k.desc ? 'DESC' : 'ASC'}`).join(', ');
    const orderParams = keys.flatMap((k) => k.params);
    const sql = `SELECT body, etag, ts, ${selectKeys} FROM metadata_documents WHERE ${where.join(' AND ')} ORDER BY ${orderSql} LIMIT ?`;
    const rows = this.statement(sql).all(...selectParams, ...params, ...orderParams, limit + 1) as (Row &
      Record<string, unknown>)[];
    const page = rows.slice(0, limit);
    const items = page.map((r) => toWithMeta<T>(r));
    const lastRow = page[page.length - 1];
    if (rows.length <= limit || lastRow === undefined) return { items };
    const v = keys.map((_, i) => lastRow[`k${i}`] ?? null);
    return { items, continuation: encodeContinuationToken(queryToken(keys.length), fingerprint, v) };
  }

  private preconditionFailed(pk: string, id: string, ifMatch: string): PreconditionFailedError {
    return new PreconditionFailedError(
      `Document ${JSON.stringify(id)} in partition ${JSON.stringify(pk)} of ${this.name} is not at etag ${JSON.stringify(ifMatch)}: ` +
        'it changed or was deleted since it was read; read it again and retry.',
      { target: 'ifMatch' },
    );
  }
}

function toWithMeta<T extends StoredDocument>(row: Row): WithMeta<T> {
  return { ...(JSON.parse(row.body) as T), _etag: row.etag, _ts: row.ts };
}

function isConstraintError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT');
}

/**
 * MetadataStore on one SQLite table. Every operation is a single statement or an immediate
 * transaction, so a crash never leaves a half-applied write and concurrent processes on the same
 * file serialise their read-check-write sequences.
 */
export class SqliteMetadataStore implements MetadataStore {
  readonly kind = 'sqlite';
  private readonly containers = new Map<string, SqliteDocumentContainer>();
  private ownsDb = false;

  constructor(private readonly db: SqliteDatabase) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS metadata_documents (
        container TEXT NOT NULL,
        pk TEXT NOT NULL,
        id TEXT NOT NULL,
        etag TEXT NOT NULL,
        body TEXT NOT NULL,
        ts INTEGER NOT NULL,
        PRIMARY KEY (container, pk, id)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS metadata_documents_by_id ON metadata_documents (container, id, pk);
    `);
  }

  /** Opens (creating if needed) the database file; `close()` then closes it. */
  static open(file: string): SqliteMetadataStore {
    const store = new SqliteMetadataStore(openSqlite(file));
    store.ownsDb = true;
    return store;
  }

  async container(name: string): Promise<DocumentContainer> {
    assertContainerName(name);
    let c = this.containers.get(name);
    if (c === undefined) {
      c = new SqliteDocumentContainer(this.db, name);
      this.containers.set(name, c);
    }
    return c;
  }

  async close(): Promise<void> {
    if (this.ownsDb && this.db.open) this.db.close();
  }
}
