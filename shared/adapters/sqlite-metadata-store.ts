import { createHash, randomUUID } from 'node:crypto';
import { AppError, ConflictError, NotFoundError, PreconditionFailedError, ValidationError } from '../errors.js';
import type {
  DocumentContainer,
  Filter,
  MetadataStore,
  OrderBy,
  QueryOptions,
  QueryPage,
  StoredDocument,
  WithMeta,
  WriteOptions,
} from '../ports/metadata-store.js';
import { openSqlite, type SqliteDatabase } from './sqlite-database.js';

// ---------------------------------------------------------------------------------------------
// Rules shared by every MetadataStore adapter (the Cosmos adapter imports them from here), so that
// both reject the same input with the same message.
// ---------------------------------------------------------------------------------------------

const CONTAINER_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
const PATH_SEGMENT = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
// Cosmos forbids '/', '\\', '?', '#' in ids; control characters are refused everywhere.
// eslint-disable-next-line no-control-regex
const BAD_ID_CHARS = /[/\\?#\u0000-\u001f\u007f]/;
export const DEFAULT_QUERY_LIMIT = 100;
export const MAX_QUERY_LIMIT = 1000;
/** Cosmos DB's item size limit; the SQLite adapter enforces it too so both behave alike. */
export const MAX_DOCUMENT_BYTES = 2 * 1024 * 1024;
/** Properties the store owns; they are dropped from documents before writing. */
const SYSTEM_PROPERTIES = new Set(['_etag', '_ts', '_rid', '_self', '_attachments', '_lsn']);
const FILTER_OPS = new Set(['=', '!=', '<', '<=', '>', '>=', 'in', 'contains', 'startsWith', 'exists']);

export function assertContainerName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !CONTAINER_NAME.test(name)) {
    throw new ValidationError(
      `Invalid container name ${JSON.stringify(name)}: use 1-63 letters, digits, '_' or '-', starting with a letter.`,
      { target: 'container' },
    );
  }
}

function assertKey(kind: 'id' | 'pk', value: unknown): asserts value is string {
  const max = kind === 'id' ? 255 : 1024;
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > max ||
    BAD_ID_CHARS.test(value) ||
    value.endsWith(' ')
  ) {
    throw new ValidationError(
      `Invalid document ${kind} ${JSON.stringify(value)}: expected a non-empty string of at most ${max} characters ` +
        `without '/', '\\\\', '?', '#', control characters or a trailing space.`,
      { target: kind },
    );
  }
}

export function assertPartitionKey(pk: unknown): asserts pk is string {
  assertKey('pk', pk);
}

export function assertDocumentKeys(pk: unknown, id: unknown): void {
  assertKey('pk', pk);
  assertKey('id', id);
}

/**
 * Validates a document for writing and returns its stored JSON form (system properties removed),
 * plus the parsed copy that a read would return.
 */
export function toStoredDocument<T extends StoredDocument>(doc: T): { json: string; body: T } {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ValidationError('A document must be a JSON object with string "id" and "pk".', { target: 'document' });
  }
  assertDocumentKeys(doc.pk, doc.id);
  const clean: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) if (!SYSTEM_PROPERTIES.has(k)) clean[k] = v;
  const json = JSON.stringify(clean);
  if (Buffer.byteLength(json) > MAX_DOCUMENT_BYTES) {
    throw new AppError(
      'PayloadTooLarge',
      `Document ${JSON.stringify(doc.id)} is larger than ${MAX_DOCUMENT_BYTES} bytes.`,
      {
        target: 'document',
      },
    );
  }
  return { json, body: JSON.parse(json) as T };
}

/** Splits and checks a dotted field path such as `tags.owner`. */
export function parseFieldPath(path: unknown, target = 'path'): string[] {
  const segments = typeof path === 'string' ? path.split('.') : [];
  if (segments.length === 0 || segments.length > 16 || !segments.every((s) => PATH_SEGMENT.test(s))) {
    throw new ValidationError(
      `Invalid field path ${JSON.stringify(path)}: expected dot-separated names of letters, digits, '_' or '-' (e.g. "tags.owner").`,
      { target },
    );
  }
  return segments;
}

export function resolveLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_QUERY_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new ValidationError(
      `Invalid limit ${String(limit)}: expected a positive integer (at most ${MAX_QUERY_LIMIT}).`,
      {
        target: 'limit',
      },
    );
  }
  return Math.min(limit, MAX_QUERY_LIMIT);
}

export type Scalar = string | number | boolean | null;

export interface CheckedFilter {
  segments: string[];
  op: Filter['op'];
  value: unknown;
}

function isScalar(v: unknown): v is Scalar {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

/** Checks that each filter's value suits its operator; the message names the filter. */
export function checkFilters(filters: readonly Filter[] | undefined): CheckedFilter[] {
  return (filters ?? []).map((f, i) => {
    const target = `filters[${i}]`;
    if (!FILTER_OPS.has(f.op)) {
      throw new ValidationError(`Unknown filter operator ${JSON.stringify(f.op)} in ${target}.`, { target });
    }
    const segments = parseFieldPath(f.path, `${target}.path`);
    const bad = (expected: string): never => {
      throw new ValidationError(
        `Filter ${target} (${f.path} ${f.op}) needs ${expected}, got ${JSON.stringify(f.value) ?? 'undefined'}.`,
        { target: `${target}.value` },
      );
    };
    switch (f.op) {
      case '=':
        if (!isScalar(f.value)) bad('a string, number, boolean or null');
        break;
      case '!=':
        if (!isScalar(f.value) || f.value === null)
          bad("a string, number or boolean (use op 'exists' to test for presence)");
        break;
      case '<':
      case '<=':
      case '>':
      case '>=':
        if (typeof f.value !== 'string' && !(typeof f.value === 'number' && Number.isFinite(f.value)))
          bad('a string or number');
        break;
      case 'in':
        if (!Array.isArray(f.value) || f.value.length > 256 || !f.value.every(isScalar))
          bad('an array of at most 256 scalars');
        break;
      case 'contains':
        if (!isScalar(f.value) || f.value === null) bad('a string, number or boolean');
        break;
      case 'startsWith':
        if (typeof f.value !== 'string') bad('a string');
        break;
      case 'exists':
        if (f.value !== undefined && typeof f.value !== 'boolean') bad('true, false or no value');
        break;
    }
    return { segments, op: f.op, value: f.value };
  });
}

export interface CheckedOrder {
  segments: string[];
  desc: boolean;
}

/** The requested sort keys followed by `id` ascending (unless `id` is already a key). */
export function checkOrderBy(orderBy: readonly OrderBy[] | undefined): CheckedOrder[] {
  const keys = (orderBy ?? []).map((o, i) => {
    if (o.direction !== undefined && o.direction !== 'asc' && o.direction !== 'desc') {
      throw new ValidationError(
        `Invalid direction ${JSON.stringify(o.direction)} in orderBy[${i}]: use 'asc' or 'desc'.`,
        {
          target: `orderBy[${i}].direction`,
        },
      );
    }
    return { segments: parseFieldPath(o.path, `orderBy[${i}].path`), desc: o.direction === 'desc' };
  });
  if (keys.length > 8) throw new ValidationError('At most 8 orderBy keys are supported.', { target: 'orderBy' });
  if (!keys.some((k) => k.segments.length === 1 && k.segments[0] === 'id'))
    keys.push({ segments: ['id'], desc: false });
  return keys;
}

/** A short digest of what a query selects, so a continuation token is not replayed on another query. */
export function queryFingerprint(container: string, options: QueryOptions): string {
  const shape = JSON.stringify([container, options.partitionKey ?? null, options.filters ?? [], options.orderBy ?? []]);
  return createHash('sha256').update(shape).digest('base64url').slice(0, 16);
}

export function stripWriteOptions(options: WriteOptions | undefined): string | undefined {
  const ifMatch = options?.ifMatch;
  if (ifMatch !== undefined && (typeof ifMatch !== 'string' || ifMatch.length === 0)) {
    throw new ValidationError('ifMatch must be a non-empty etag string.', { target: 'ifMatch' });
  }
  return ifMatch;
}

// ---------------------------------------------------------------------------------------------
// SQLite adapter
// ---------------------------------------------------------------------------------------------

interface Row {
  body: string;
  etag: string;
  ts: number;
}

interface Token {
  q: string;
  v: unknown[];
}

function jsonPath(segments: readonly string[]): string {
  return '$' + segments.map((s) => `."${s}"`).join('');
}

function encodeToken(token: Token): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeToken(text: string, fingerprint: string, width: number): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const t = parsed as Partial<Token> | undefined;
  if (!t || typeof t !== 'object' || !Array.isArray(t.v) || t.v.length !== width) {
    throw new ValidationError('Invalid continuation token: it was not produced by this store.', {
      target: 'continuation',
    });
  }
  if (t.q !== fingerprint) {
    throw new ValidationError(
      'Invalid continuation token: it belongs to a different query (container, partition, filters or order).',
      {
        target: 'continuation',
      },
    );
  }
  return t.v;
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

class SqliteDocumentContainer implements DocumentContainer {
  constructor(
    private readonly db: SqliteDatabase,
    readonly name: string,
  ) {}

  async create<T extends StoredDocument>(doc: T): Promise<WithMeta<T>> {
    const { json, body } = toStoredDocument(doc);
    const etag = randomUUID();
    const ts = Date.now();
    try {
      this.db
        .prepare('INSERT INTO metadata_documents (container, pk, id, etag, body, ts) VALUES (?, ?, ?, ?, ?, ?)')
        .run(this.name, body.pk, body.id, etag, json, ts);
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
      const r = this.db
        .prepare(
          'UPDATE metadata_documents SET etag = ?, body = ?, ts = ? WHERE container = ? AND pk = ? AND id = ? AND etag = ?',
        )
        .run(etag, json, ts, this.name, body.pk, body.id, ifMatch);
      if (r.changes === 0) throw this.preconditionFailed(body.pk, body.id, ifMatch);
    } else {
      this.db
        .prepare(
          `INSERT INTO metadata_documents (container, pk, id, etag, body, ts) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (container, pk, id) DO UPDATE SET etag = excluded.etag, body = excluded.body, ts = excluded.ts`,
        )
        .run(this.name, body.pk, body.id, etag, json, ts);
    }
    return { ...body, _etag: etag, _ts: ts };
  }

  async replace<T extends StoredDocument>(doc: T, options?: WriteOptions): Promise<WithMeta<T>> {
    const ifMatch = stripWriteOptions(options);
    const { json, body } = toStoredDocument(doc);
    const etag = randomUUID();
    const ts = Date.now();
    const run = this.db.transaction(() => {
      const current = this.db
        .prepare('SELECT etag FROM metadata_documents WHERE container = ? AND pk = ? AND id = ?')
        .get(this.name, body.pk, body.id) as { etag: string } | undefined;
      if (current === undefined) {
        throw new NotFoundError(
          `Document ${JSON.stringify(body.id)} does not exist in partition ${JSON.stringify(body.pk)} of ${this.name}.`,
          {
            target: 'id',
          },
        );
      }
      if (ifMatch !== undefined && current.etag !== ifMatch) throw this.preconditionFailed(body.pk, body.id, ifMatch);
      this.db
        .prepare('UPDATE metadata_documents SET etag = ?, body = ?, ts = ? WHERE container = ? AND pk = ? AND id = ?')
        .run(etag, json, ts, this.name, body.pk, body.id);
    });
    run.immediate();
    return { ...body, _etag: etag, _ts: ts };
  }

  async read<T extends StoredDocument>(pk: string, id: string): Promise<WithMeta<T> | undefined> {
    assertDocumentKeys(pk, id);
    const row = this.db
      .prepare('SELECT body, etag, ts FROM metadata_documents WHERE container = ? AND pk = ? AND id = ?')
      .get(this.name, pk, id) as Row | undefined;
    return row === undefined ? undefined : toWithMeta<T>(row);
  }

  async delete(pk: string, id: string, options?: WriteOptions): Promise<boolean> {
    assertDocumentKeys(pk, id);
    const ifMatch = stripWriteOptions(options);
    if (ifMatch === undefined) {
      return (
        this.db
          .prepare('DELETE FROM metadata_documents WHERE container = ? AND pk = ? AND id = ?')
          .run(this.name, pk, id).changes > 0
      );
    }
    const run = this.db.transaction((): boolean => {
      const current = this.db
        .prepare('SELECT etag FROM metadata_documents WHERE container = ? AND pk = ? AND id = ?')
        .get(this.name, pk, id) as { etag: string } | undefined;
      if (current === undefined) return false;
      if (current.etag !== ifMatch) throw this.preconditionFailed(pk, id, ifMatch);
      this.db
        .prepare('DELETE FROM metadata_documents WHERE container = ? AND pk = ? AND id = ?')
        .run(this.name, pk, id);
      return true;
    });
    return run.immediate();
  }

  async query<T extends StoredDocument>(options: QueryOptions = {}): Promise<QueryPage<T>> {
    const limit = resolveLimit(options.limit);
    const filters = checkFilters(options.filters);
    const order = checkOrderBy(options.orderBy);
    if (options.partitionKey !== undefined) assertPartitionKey(options.partitionKey);
    const fingerprint = queryFingerprint(this.name, options);
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
      const last = decodeToken(options.continuation, fingerprint, keys.length);
      const k = keysetSql(keys, last);
      where.push(k.sql);
      params.push(...k.params);
    }
    const selectKeys = keys.map((k, i) => `${k.expr} AS k${i}`).join(', ');
    const selectParams = keys.flatMap((k) => k.params);
    const orderSql = keys.map((k) => `${k.expr} ${k.desc ? 'DESC' : 'ASC'}`).join(', ');
    const orderParams = keys.flatMap((k) => k.params);
    const sql = `SELECT body, etag, ts, ${selectKeys} FROM metadata_documents WHERE ${where.join(' AND ')} ORDER BY ${orderSql} LIMIT ?`;
    const rows = this.db.prepare(sql).all(...selectParams, ...params, ...orderParams, limit + 1) as (Row &
      Record<string, unknown>)[];
    const page = rows.slice(0, limit);
    const items = page.map((r) => toWithMeta<T>(r));
    const lastRow = page[page.length - 1];
    if (rows.length <= limit || lastRow === undefined) return { items };
    const v = keys.map((_, i) => lastRow[`k${i}`] ?? null);
    return { items, continuation: encodeToken({ q: fingerprint, v }) };
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
