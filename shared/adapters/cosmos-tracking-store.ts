import { createHash } from 'node:crypto';
import { CosmosClient } from '@azure/cosmos';
import type { Container, ItemDefinition, JSONObject, OperationInput, SqlParameter } from '@azure/cosmos';
import type { TokenCredential } from '@azure/identity';
import { ConflictError, NotFoundError, TransientError, ValidationError } from '../errors.js';
import type { FilterClause, OrderClause } from '../domain/mlflow-filter.js';
import { checkOrderBy } from '../domain/document-query.js';
import type { OrderBy } from '../ports/metadata-store.js';
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
  RunUpdate,
  TrackingStore,
  ViewType,
} from '../ports/tracking-store.js';
import {
  TRACKING_COSMOS_ORDERINGS,
  TRACKING_EXPERIMENTS_CONTAINER,
  TRACKING_METRICS_CONTAINER,
  TRACKING_RUNS_CONTAINER,
  experimentCounterDocumentSchema,
  experimentDocumentSchema,
  experimentNameDocumentSchema,
  mapToObject,
  metricChunkDocumentSchema,
  metricHistoryPartition,
  runDocumentSchema,
} from '../contracts/tracking-documents.js';
import type { ExperimentDocument, MetricChunkDocument, RunDocument } from '../contracts/tracking-documents.js';
import { CosmosContainers, fromCosmosError, statusOf } from './cosmos-metadata-store.js';

/**
 * TrackingStore on Azure Cosmos DB (NoSQL API).
 *
 * Documents (see shared/contracts/tracking-documents.ts):
 * - `trackingExperiments`, partition = workspace: one document per experiment (id = the experiment
 *   id), one name reservation per experiment (id derived from the name, so Cosmos' per-partition id
 *   uniqueness makes names unique) and the workspace's id counter. Create and rename are one
 *   transactional batch each (counter + reservation + experiment), so a clash leaves nothing behind.
 * - `trackingRuns`, partition = workspace: one document per run carrying its params, tags and the
 *   latest value of every metric as maps (`c.params["lr"]`, `c.metrics["acc"].v`). A run read is one
 *   point read, and a search filters and orders on these paths in the partition, without joins.
 *   Writes are read-modify-replace with the etag (If-Match), retried on a concurrent change; that
 *   is what makes param immutability and the latest-metric rule atomic.
 * - `trackingMetricHistory`, partition = `<workspace>:<run id>`: one document per (run, key, logged
 *   batch) holding that batch's points of that key (at most 1000 per document), numbered by
 *   history position. Per batch rather than per point, because a training loop's log_batch of 1000
 *   points becomes one write and one read instead of 1000; per batch rather than one growing
 *   document per key, because an append never rewrites old points and no document nears the 2 MB
 *   limit. A partition per run keeps a workspace's history out of its runs' partition (20 GB per
 *   logical partition) and lets get-history read one partition in position order.
 *
 * Searches. All filters run in Cosmos: numeric comparisons with IS_NUMBER guards, strings with
 * IS_STRING guards, LIKE as equality, STARTSWITH (a trailing % only) or RegexMatch (the emulator has
 * no LIKE), ILIKE as RegexMatch with "i". Ordering:
 * - the default order, and one attribute order with a declared composite index (start_time,
 *   end_time, status, run_name; name, creation_time, last_update_time for experiments), is one
 *   ORDER BY: the whole page comes from one query;
 * - an order on a metric, param or tag cannot have a composite index (the path is user data), so
 *   Cosmos orders by that path alone (range index) and the adapter orders the runs that tie on it
 *   by the remaining keys and the default order: it sorts complete tie groups in memory, and fetches
 *   the tie group cut by the end of the page with one more query on `path = value`, ordered by the
 *   rest the same way (recursively; with only the default order left, that is a composite ORDER BY
 *   with TOP). Runs without the key (or NaN) come after, by a query with `NOT IS_NUMBER/IS_STRING`;
 * - the port pages by offset; the emulator has no OFFSET, and Cosmos charges for skipped rows
 *   either way, so a page is `SELECT TOP offset+max+1` and the adapter drops the first `offset`.
 * The adapter thus evaluates only the order inside tie groups (and drops offset rows); every row
 * it reads satisfies the filter. What the index cannot serve, Cosmos evaluates row by row in the
 * workspace's partition: RegexMatch (LIKE with inner wildcards, ILIKE), `!=`, and the query for
 * runs without an order key (`NOT IS_NUMBER`), which is reached only by pages past the runs that
 * have it. Deep offsets cost what they skip.
 */

export interface CosmosTrackingStoreOptions {
  client: CosmosClient;
  database: string;
  /**
   * Sort orders by container name, as for CosmosMetadataStore (wiring passes COSMOS_ORDERINGS);
   * containers this store creates get them as composite indexes. Default: TRACKING_COSMOS_ORDERINGS,
   * which is what the queries need.
   */
  orderings?: Readonly<Record<string, readonly (readonly OrderBy[])[]>>;
}

export interface CosmosTrackingStoreConfig {
  endpoint: string;
  key?: string;
  credential?: TokenCredential;
  database: string;
  orderings?: CosmosTrackingStoreOptions['orderings'];
}

const DEFAULT_EXPERIMENT_ID = '0';
const COUNTER_ID = 'experiment-counter';
/** Read-modify-write attempts before a write that keeps meeting concurrent changes gives up. */
const MAX_WRITE_ATTEMPTS = 20;
const CHUNK_POINTS = 1000;
const HISTORY_PAGE_DOCUMENTS = 100;
const WRITE_CONCURRENCY = 8;

// Cosmos forbids '/', '\\', '?', '#' in ids: no stored run can have such an id.
// eslint-disable-next-line no-control-regex
const BAD_ID_CHARS = /[/\\?#\u0000-\u001f\u007f]/;

function isCosmosId(id: string): boolean {
  return id.length > 0 && id.length <= 255 && !BAD_ID_CHARS.test(id) && !id.endsWith(' ');
}

/** "7" and "007" are experiment 7, as in the SQLite store; anything else names no experiment. */
function canonicalExperimentId(id: string): string | undefined {
  return /^\d{1,15}$/.test(id) ? String(Number(id)) : undefined;
}

function nameDocumentId(name: string): string {
  return `name-${createHash('sha256').update(name).digest('hex')}`;
}

function chunkDocumentId(key: string, first: number): string {
  return `${createHash('sha256').update(key).digest('hex').slice(0, 32)}-${first}`;
}

/** A Cosmos SQL string literal: JSON escapes, and every non-ASCII character as \uXXXX. */
function sqlString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `c["a"]["b"]`: property names, including user-chosen keys, only ever as escaped literals. */
function prop(...segments: string[]): string {
  return 'c' + segments.map((s) => `[${sqlString(s)}]`).join('');
}

class Params {
  readonly list: SqlParameter[] = [];
  add(value: string | number): string {
    const name = `@p${this.list.length}`;
    this.list.push({ name, value });
    return name;
  }
  /** The parameters a query text uses (a query is built from a shared pool). */
  usedBy(query: string): SqlParameter[] {
    return this.list.filter((p) => new RegExp(`${p.name}(?![0-9])`).test(query));
  }
}

// --- metric values -----------------------------------------------------------------------------

interface StoredValue {
  v: number | null;
  x?: 'NaN' | 'Infinity' | '-Infinity';
}

/** JSON has no NaN or infinities: NaN is null, ±Infinity is ±MAX_VALUE (so it still sorts and compares last/first). */
function storeValue(value: number): StoredValue {
  if (Number.isNaN(value)) return { v: null, x: 'NaN' };
  if (value === Infinity) return { v: Number.MAX_VALUE, x: 'Infinity' };
  if (value === -Infinity) return { v: -Number.MAX_VALUE, x: '-Infinity' };
  return { v: value };
}

function loadValue(stored: StoredValue): number {
  if (stored.x !== undefined) return Number(stored.x);
  return stored.v ?? NaN;
}

/** A filter literal on the same scale as stored values (a literal beyond MAX_VALUE parses to Infinity). */
function clampNumber(value: number): number {
  return Math.max(-Number.MAX_VALUE, Math.min(Number.MAX_VALUE, value));
}

/** MLflow's latest value: highest step, then latest timestamp, then largest value (NaN as -1e308, as in SQLite). */
function replacesLatest(m: Metric, current: { s: number; t: number } & StoredValue): boolean {
  if (m.step !== current.s) return m.step > current.s;
  if (m.timestamp !== current.t) return m.timestamp > current.t;
  const rank = (v: number) => (Number.isNaN(v) ? -1e308 : v);
  return rank(m.value) >= rank(loadValue(current));
}

// --- ordering ----------------------------------------------------------------------------------

type SortValue = number | string | undefined;

/** One sort key, as Cosmos SQL (path, presence) and as a value read from a parsed document. */
interface SortKey<D> {
  path: string;
  descending: boolean;
  /** Condition that a document has a value for the key; undefined when every document has one. */
  present?: string;
  /** `ORDER BY path, <default order>` has a declared composite index. */
  indexed: boolean;
  /** No two documents share a value: ORDER BY path alone is a total order. */
  unique: boolean;
  value(doc: D): SortValue;
}

interface OrderedSource<D> {
  /** The default order (its last key is unique); ties of every order are broken by it. */
  defaults: readonly SortKey<D>[];
  params: Params;
  /** Runs `SELECT TOP top * ... WHERE where ORDER BY orderBy` and parses the documents. */
  run(where: readonly string[], orderBy: string, top: number): Promise<D[]>;
}

function orderSql<D>(keys: readonly SortKey<D>[]): string {
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const k of keys) {
    if (seen.has(k.path)) continue;
    seen.add(k.path);
    parts.push(`${k.path} ${k.descending ? 'DESC' : 'ASC'}`);
  }
  return parts.join(', ');
}

/** Missing values last in either direction, as MLflow orders. */
function comparator<D>(keys: readonly SortKey<D>[]): (a: D, b: D) => number {
  return (a, b) => {
    for (const k of keys) {
      const x = k.value(a);
      const y = k.value(b);
      if (x === y) continue;
      if (x === undefined) return 1;
      if (y === undefined) return -1;
      const c = x < y ? -1 : 1;
      return k.descending ? -c : c;
    }
    return 0;
  };
}

/** Sorts each run of equal `key` values (complete tie groups, in Cosmos' order of `key`) by `then`. */
function sortTieGroups<D>(docs: D[], key: SortKey<D>, then: readonly SortKey<D>[]): D[] {
  const compare = comparator(then);
  const out: D[] = [];
  for (let i = 0; i < docs.length;) {
    const value = key.value(docs[i] as D);
    let j = i + 1;
    while (j < docs.length && key.value(docs[j] as D) === value) j++;
    out.push(...docs.slice(i, j).sort(compare));
    i = j;
  }
  return out;
}

/**
 * The first `k` documents matching `where` in the order `keys`, then the default order: see the
 * comment at the top of this file. Each level issues at most three queries, each bounded by TOP.
 */
async function fetchOrdered<D>(
  source: OrderedSource<D>,
  where: readonly string[],
  keys: readonly SortKey<D>[],
  k: number,
): Promise<D[]> {
  if (k <= 0) return [];
  const [key, ...rest] = keys;
  if (key === undefined) return source.run(where, orderSql(source.defaults), k);
  const withKey = key.present === undefined ? where : [...where, key.present];
  let head: D[];
  if (key.unique) {
    head = await source.run(withKey, orderSql([key]), k);
  } else if (rest.length === 0 && key.indexed) {
    head = await source.run(withKey, orderSql([key, ...source.defaults]), k);
  } else {
    head = await source.run(withKey, orderSql([key]), k);
    const then = [...rest, ...source.defaults];
    if (head.length === k) {
      // The last tie group may go on past the page: fetch it whole (up to what the page needs).
      const boundary = key.value(head[head.length - 1] as D);
      const cut = head.findIndex((d) => key.value(d) === boundary);
      if (boundary === undefined) throw new Error(`ordered query returned a document without ${key.path}`);
      const equal = `${key.path} = ${source.params.add(boundary)}`;
      const group = await fetchOrdered(source, [...withKey, equal], rest, k - cut);
      return [...sortTieGroups(head.slice(0, cut), key, then), ...group];
    }
    head = sortTieGroups(head, key, then);
  }
  if (head.length === k || key.present === undefined) return head;
  const missing = await fetchOrdered(source, [...where, `NOT ${key.present}`], rest, k - head.length);
  return [...head, ...missing];
}

// --- filters -----------------------------------------------------------------------------------

interface Column<D> {
  path: string;
  numeric: boolean;
  /** Some documents have no value (run end_time). */
  nullable?: boolean;
  indexed: boolean;
  unique?: boolean;
  value(doc: D): SortValue;
}

const RUN_COLUMNS: Record<string, Column<RunDocument>> = {
  status: { path: prop('status'), numeric: false, indexed: true, value: (d) => d.status },
  run_name: { path: prop('runName'), numeric: false, indexed: true, value: (d) => d.runName },
  user_id: { path: prop('userId'), numeric: false, indexed: false, value: (d) => d.userId },
  artifact_uri: { path: prop('artifactUri'), numeric: false, indexed: false, value: (d) => d.artifactUri },
  run_id: { path: prop('id'), numeric: false, indexed: false, unique: true, value: (d) => d.id },
  start_time: { path: prop('startTime'), numeric: true, indexed: true, value: (d) => d.startTime },
  end_time: { path: prop('endTime'), numeric: true, nullable: true, indexed: true, value: (d) => d.endTime },
};

const EXPERIMENT_COLUMNS: Record<string, Column<ExperimentDocument>> = {
  name: { path: prop('name'), numeric: false, indexed: true, value: (d) => d.name },
  creation_time: { path: prop('creationTime'), numeric: true, indexed: true, value: (d) => d.creationTime },
  last_update_time: { path: prop('lastUpdateTime'), numeric: true, indexed: true, value: (d) => d.lastUpdateTime },
  experiment_id: { path: prop('seq'), numeric: true, indexed: false, unique: true, value: (d) => d.seq },
};

const RUN_DEFAULT_ORDER: SortKey<RunDocument>[] = [
  { path: prop('startTime'), descending: true, indexed: true, unique: false, value: (d) => d.startTime },
  { path: prop('id'), descending: false, indexed: false, unique: true, value: (d) => d.id },
];

const EXPERIMENT_DEFAULT_ORDER: SortKey<ExperimentDocument>[] = [
  { path: prop('creationTime'), descending: true, indexed: true, unique: false, value: (d) => d.creationTime },
  { path: prop('seq'), descending: false, indexed: false, unique: true, value: (d) => d.seq },
  // Every composite index ends with id (see checkOrderBy); seq already decides.
  { path: prop('id'), descending: false, indexed: false, unique: true, value: (d) => d.id },
];

function column<D>(columns: Record<string, Column<D>>, key: string): Column<D> {
  const c = columns[key];
  if (c === undefined) throw new ValidationError(`Unknown attribute '${key}'.`, { target: 'filter' });
  return c;
}

function numericComparison(path: string, clause: FilterClause, params: Params): string {
  const { comparator: op, value } = clause;
  if (typeof value !== 'number' || !['=', '!=', '>', '>=', '<', '<='].includes(op)) {
    throw new ValidationError(`'${clause.key}' takes a number and one of =, !=, >, >=, <, <=.`, { target: 'filter' });
  }
  return `(IS_NUMBER(${path}) AND ${path} ${op} ${params.add(clampNumber(value))})`;
}

function regexEscape(ch: string): string {
  return ch.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

/**
 * SQL LIKE (% any run, _ any one character; no escape character, as in SQLite) as Cosmos SQL. The
 * emulator has no LIKE, so: no wildcard is equality, a trailing % alone is STARTSWITH (both use the
 * index), anything else an anchored RegexMatch; ILIKE adds the "i" modifier (JavaScript/PCRE case
 * folding, wider than SQLite's ASCII-only lower()).
 */
function likeSql(path: string, pattern: string, ignoreCase: boolean, params: Params): string {
  const guard = `IS_STRING(${path})`;
  if (!ignoreCase && !/[%_]/.test(pattern)) return `(${guard} AND ${path} = ${params.add(pattern)})`;
  const prefix = /^([^%_]*)%$/.exec(pattern)?.[1];
  if (!ignoreCase && prefix !== undefined) return `(${guard} AND STARTSWITH(${path}, ${params.add(prefix)}))`;
  const regex = [...pattern].map((ch) => (ch === '%' ? '.*' : ch === '_' ? '.' : regexEscape(ch))).join('');
  return `(${guard} AND RegexMatch(${path}, ${params.add(`^${regex}$`)}, ${sqlString(ignoreCase ? 'is' : 's')}))`;
}

function stringComparison(path: string, clause: FilterClause, params: Params): string {
  const { comparator: op, value } = clause;
  const guard = `IS_STRING(${path})`;
  if (op === 'IN' || op === 'NOT IN') {
    if (!Array.isArray(value) || value.length === 0) {
      throw new ValidationError(`${op} needs a list of strings for '${clause.key}'.`, { target: 'filter' });
    }
    const list = `${path} IN (${value.map((v) => params.add(v)).join(', ')})`;
    return op === 'IN' ? `(${guard} AND ${list})` : `(${guard} AND NOT (${list}))`;
  }
  if (typeof value !== 'string') {
    throw new ValidationError(`'${clause.key}' takes a quoted string.`, { target: 'filter' });
  }
  switch (op) {
    case '=':
    case '!=':
      return `(${guard} AND ${path} ${op} ${params.add(value)})`;
    case 'LIKE':
    case 'ILIKE':
      return likeSql(path, value, op === 'ILIKE', params);
    default:
      throw new ValidationError(`'${clause.key}' takes one of =, !=, LIKE, ILIKE.`, { target: 'filter' });
  }
}

function stageCondition(view: ViewType): string | undefined {
  if (view === 'ALL') return undefined;
  return `${prop('lifecycleStage')} = ${sqlString(view === 'DELETED_ONLY' ? 'deleted' : 'active')}`;
}

function runFilterSql(c: FilterClause, params: Params): string {
  switch (c.entity) {
    case 'metric':
      return numericComparison(prop('metrics', c.key, 'v'), c, params);
    case 'param':
      return stringComparison(prop('params', c.key), c, params);
    case 'tag':
      return stringComparison(prop('tags', c.key), c, params);
    case 'attribute': {
      const col = column(RUN_COLUMNS, c.key);
      return col.numeric ? numericComparison(col.path, c, params) : stringComparison(col.path, c, params);
    }
  }
}

function experimentFilterSql(c: FilterClause, params: Params): string {
  if (c.entity === 'tag') return stringComparison(prop('tags', c.key), c, params);
  if (c.entity !== 'attribute') throw new ValidationError(`Experiments have no ${c.entity}s.`, { target: 'filter' });
  const col = column(EXPERIMENT_COLUMNS, c.key);
  return col.numeric ? numericComparison(col.path, c, params) : stringComparison(col.path, c, params);
}

function columnSortKey<D>(col: Column<D>, descending: boolean): SortKey<D> {
  return {
    path: col.path,
    descending,
    ...(col.nullable === true ? { present: `IS_NUMBER(${col.path})` } : {}),
    indexed: col.indexed,
    unique: col.unique === true,
    value: col.value,
  };
}

function runSortKey(o: OrderClause): SortKey<RunDocument> {
  const descending = !o.ascending;
  switch (o.entity) {
    case 'metric': {
      // NaN (stored as null) sorts with the runs that lack the metric, as in the SQLite store.
      const path = prop('metrics', o.key, 'v');
      return {
        path,
        descending,
        present: `IS_NUMBER(${path})`,
        indexed: false,
        unique: false,
        value: (d) => d.metrics.get(o.key)?.v ?? undefined,
      };
    }
    case 'param':
    case 'tag': {
      const map = o.entity === 'param' ? 'params' : 'tags';
      const path = prop(map, o.key);
      return {
        path,
        descending,
        present: `IS_STRING(${path})`,
        indexed: false,
        unique: false,
        value: (d) => d[map].get(o.key),
      };
    }
    case 'attribute':
      return columnSortKey(column(RUN_COLUMNS, o.key), descending);
  }
}

function experimentSortKey(o: OrderClause): SortKey<ExperimentDocument> {
  if (o.entity !== 'attribute') throw new ValidationError(`Cannot order experiments by ${o.entity}s.`);
  return columnSortKey(column(EXPERIMENT_COLUMNS, o.key), !o.ascending);
}

// --- documents ---------------------------------------------------------------------------------

function sortedKeyValues(map: ReadonlyMap<string, string>): KeyValue[] {
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, value]) => ({ key, value }));
}

function toExperimentRecord(doc: ExperimentDocument): ExperimentRecord {
  return {
    experimentId: doc.id,
    name: doc.name,
    artifactLocation: doc.artifactLocation,
    lifecycleStage: doc.lifecycleStage,
    creationTime: doc.creationTime,
    lastUpdateTime: doc.lastUpdateTime,
    tags: sortedKeyValues(doc.tags),
  };
}

function toRunRecord(doc: RunDocument): RunRecord {
  const metrics = [...doc.metrics.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, m]) => ({ key, value: loadValue(m), timestamp: m.t, step: m.s }));
  return {
    runId: doc.id,
    experimentId: doc.experimentId,
    runName: doc.runName,
    userId: doc.userId,
    status: doc.status,
    startTime: doc.startTime,
    endTime: doc.endTime,
    artifactUri: doc.artifactUri,
    lifecycleStage: doc.lifecycleStage,
    metrics,
    params: sortedKeyValues(doc.params),
    tags: sortedKeyValues(doc.tags),
  };
}

function experimentJson(doc: ExperimentDocument): JSONObject {
  return { ...doc, tags: mapToObject(doc.tags) };
}

function runJson(doc: RunDocument): JSONObject {
  const { endTime, ...rest } = doc;
  const metrics = mapToObject(doc.metrics) as unknown as JSONObject;
  return {
    ...rest,
    ...(endTime === undefined ? {} : { endTime }),
    params: mapToObject(doc.params),
    tags: mapToObject(doc.tags),
    metrics,
  };
}

function nameJson(ws: string, name: string, experimentId: string): JSONObject {
  return {
    id: nameDocumentId(name),
    pk: ws,
    kind: 'mlflowExperimentName',
    schemaVersion: 1,
    name,
    experimentId,
  };
}

/** Before a retry after a concurrent change: a short random pause, growing with the attempt. */
async function pause(attempt: number): Promise<void> {
  if (attempt === 0) return;
  const ms = Math.random() * 5 * 2 ** Math.min(attempt, 6);
  await new Promise<void>((resolve) => setTimeout(resolve, ms));
}

interface Versioned<D> {
  doc: D;
  etag: string;
}

/** Runs `fn` over items with at most `limit` in flight. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export class CosmosTrackingStore implements TrackingStore {
  private readonly client: CosmosClient;
  private readonly containers: CosmosContainers;
  private ownsClient = false;

  constructor(options: CosmosTrackingStoreOptions) {
    this.client = options.client;
    const orderings = options.orderings ?? TRACKING_COSMOS_ORDERINGS;
    for (const lists of Object.values(orderings)) for (const list of lists) checkOrderBy(list);
    this.containers = new CosmosContainers(options.client, options.database, orderings);
  }

  static fromConfig(config: CosmosTrackingStoreConfig): CosmosTrackingStore {
    if (config.key === undefined && config.credential === undefined) {
      throw new ValidationError('CosmosTrackingStore needs either a key or a credential.', { target: 'credential' });
    }
    const client = new CosmosClient({
      endpoint: config.endpoint,
      ...(config.key !== undefined ? { key: config.key } : { aadCredentials: config.credential }),
    });
    const store = new CosmosTrackingStore({
      client,
      database: config.database,
      ...(config.orderings === undefined ? {} : { orderings: config.orderings }),
    });
    store.ownsClient = true;
    return store;
  }

  // --- experiments -----------------------------------------------------------------------------

  async ensureDefaultExperiment(ws: string, artifactLocation: string, now: number): Promise<void> {
    const experiments = await this.container(TRACKING_EXPERIMENTS_CONTAINER);
    if ((await this.readExperiment(ws, DEFAULT_EXPERIMENT_ID)) !== undefined) return;
    const doc: ExperimentDocument = {
      id: DEFAULT_EXPERIMENT_ID,
      pk: ws,
      kind: 'mlflowExperiment',
      schemaVersion: 1,
      seq: 0,
      name: 'Default',
      artifactLocation,
      lifecycleStage: 'active',
      creationTime: now,
      lastUpdateTime: now,
      tags: new Map(),
    };
    // A 409 on either means it exists (or, as in SQLite, that the name "Default" is taken).
    await this.batch(experiments, ws, 'create the Default experiment', [
      { operationType: 'Create', resourceBody: nameJson(ws, 'Default', DEFAULT_EXPERIMENT_ID) },
      { operationType: 'Create', resourceBody: experimentJson(doc) },
    ]);
  }

  async createExperiment(
    ws: string,
    name: string,
    artifactLocation: (id: string) => string,
    tags: KeyValue[],
    now: number,
  ): Promise<string> {
    const experiments = await this.container(TRACKING_EXPERIMENTS_CONTAINER);
    const taken = () => new ConflictError(`Experiment '${name}' already exists.`, { target: 'name' });
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      await pause(attempt);
      if ((await this.readDocument(experiments, ws, nameDocumentId(name))) !== undefined) throw taken();
      const counter = await this.readDocument(experiments, ws, COUNTER_ID);
      const last = counter === undefined ? 0 : experimentCounterDocumentSchema.parse(counter.doc).last;
      const seq = last + 1;
      const id = String(seq);
      const counterBody: JSONObject = {
        id: COUNTER_ID,
        pk: ws,
        kind: 'mlflowExperimentCounter',
        schemaVersion: 1,
        last: seq,
      };
      const doc: ExperimentDocument = {
        id,
        pk: ws,
        kind: 'mlflowExperiment',
        schemaVersion: 1,
        seq,
        name,
        artifactLocation: artifactLocation(id),
        lifecycleStage: 'active',
        creationTime: now,
        lastUpdateTime: now,
        tags: new Map(tags.map((t) => [t.key, t.value])),
      };
      // The counter goes first: if another create took this id, nothing else is written (the
      // emulator applies a failed batch's earlier operations; Cosmos rolls the whole batch back).
      const failed = await this.batch(experiments, ws, `create experiment '${name}'`, [
        counter === undefined
          ? { operationType: 'Create', resourceBody: counterBody }
          : { operationType: 'Replace', id: COUNTER_ID, resourceBody: counterBody, ifMatch: counter.etag },
        { operationType: 'Create', resourceBody: nameJson(ws, name, id) },
        { operationType: 'Create', resourceBody: experimentJson(doc) },
      ]);
      if (failed === undefined) return id;
      if (failed.index === 0) continue; // a concurrent create: read the counter again
      if (failed.index === 1) throw taken();
      throw new ConflictError(
        `Experiment id ${id} already exists in workspace '${ws}' but the id counter is at ${last}; the counter document '${COUNTER_ID}' must be repaired.`,
      );
    }
    throw new TransientError(`Could not create experiment '${name}': too many concurrent changes; retry.`);
  }

  async getExperiment(ws: string, experimentId: string): Promise<ExperimentRecord | undefined> {
    const id = canonicalExperimentId(experimentId);
    if (id === undefined) return undefined;
    const found = await this.readExperiment(ws, id);
    return found === undefined ? undefined : toExperimentRecord(found.doc);
  }

  async getExperimentByName(ws: string, name: string): Promise<ExperimentRecord | undefined> {
    const experiments = await this.container(TRACKING_EXPERIMENTS_CONTAINER);
    const reservation = await this.readDocument(experiments, ws, nameDocumentId(name));
    if (reservation === undefined) return undefined;
    const { experimentId } = experimentNameDocumentSchema.parse(reservation.doc);
    const found = await this.readExperiment(ws, experimentId);
    return found !== undefined && found.doc.name === name ? toExperimentRecord(found.doc) : undefined;
  }

  async searchExperiments(ws: string, search: ExperimentSearch): Promise<Page<ExperimentRecord>> {
    const experiments = await this.container(TRACKING_EXPERIMENTS_CONTAINER);
    const params = new Params();
    const where = [`${prop('pk')} = ${params.add(ws)}`, `${prop('kind')} = ${sqlString('mlflowExperiment')}`];
    const stage = stageCondition(search.viewType);
    if (stage !== undefined) where.push(stage);
    for (const c of search.filter) where.push(experimentFilterSql(c, params));
    const docs = await fetchOrdered(
      {
        defaults: EXPERIMENT_DEFAULT_ORDER,
        params,
        run: async (w, orderBy, top) =>
          (await this.topQuery(experiments, ws, w, orderBy, top, params)).map((r) => experimentDocumentSchema.parse(r)),
      },
      where,
      search.orderBy.map(experimentSortKey),
      search.offset + search.maxResults + 1,
    );
    return {
      items: docs.slice(search.offset, search.offset + search.maxResults).map(toExperimentRecord),
      more: docs.length > search.offset + search.maxResults,
    };
  }

  async updateExperiment(
    ws: string,
    experimentId: string,
    change: { name?: string; lifecycleStage?: LifecycleStage },
    now: number,
  ): Promise<boolean> {
    const id = canonicalExperimentId(experimentId);
    if (id === undefined) return false;
    const experiments = await this.container(TRACKING_EXPERIMENTS_CONTAINER);
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      await pause(attempt);
      const current = await this.readExperiment(ws, id);
      if (current === undefined) return false;
      const next: ExperimentDocument = {
        ...current.doc,
        name: change.name ?? current.doc.name,
        lifecycleStage: change.lifecycleStage ?? current.doc.lifecycleStage,
        lastUpdateTime: now,
      };
      const replace: OperationInput = {
        operationType: 'Replace',
        id,
        resourceBody: experimentJson(next),
        ifMatch: current.etag,
      };
      const operations: OperationInput[] = [];
      if (next.name !== current.doc.name) {
        const holder = await this.readDocument(experiments, ws, nameDocumentId(next.name));
        const holderId = holder === undefined ? undefined : experimentNameDocumentSchema.parse(holder.doc).experimentId;
        if (holderId !== undefined && holderId !== id) {
          throw new ConflictError(`Experiment '${next.name}' already exists.`, { target: 'name' });
        }
        // A reservation already pointing at this experiment is a leftover (only the emulator, whose
        // batches are not atomic, leaves those): take it over.
        const reservation = nameJson(ws, next.name, id);
        operations.push(
          holderId === undefined
            ? { operationType: 'Create', resourceBody: reservation }
            : { operationType: 'Upsert', resourceBody: reservation },
          replace,
        );
        const oldId = nameDocumentId(current.doc.name);
        const old = await this.readDocument(experiments, ws, oldId);
        if (old !== undefined && experimentNameDocumentSchema.parse(old.doc).experimentId === id) {
          operations.push({ operationType: 'Delete', id: oldId });
        }
      } else {
        operations.push(replace);
      }
      const failed = await this.batch(experiments, ws, `update experiment ${id}`, operations);
      if (failed === undefined) return true;
      const op = operations[failed.index];
      if (op?.operationType === 'Create') throw new ConflictError(`Experiment '${next.name}' already exists.`);
      // The experiment or a reservation changed since it was read: read again.
    }
    throw new TransientError(`Could not update experiment ${id}: too many concurrent changes; retry.`);
  }

  async setExperimentTag(ws: string, experimentId: string, tag: KeyValue, now: number): Promise<void> {
    const id = canonicalExperimentId(experimentId);
    if (id === undefined) return;
    const experiments = await this.container(TRACKING_EXPERIMENTS_CONTAINER);
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      await pause(attempt);
      const current = await this.readExperiment(ws, id);
      if (current === undefined) return;
      const tags = new Map(current.doc.tags).set(tag.key, tag.value);
      const next: ExperimentDocument = { ...current.doc, tags, lastUpdateTime: now };
      if (await this.replaceIfMatch(experiments, ws, id, experimentJson(next), current.etag)) return;
    }
    throw new TransientError(`Could not tag experiment ${id}: too many concurrent changes; retry.`);
  }

  // --- runs ------------------------------------------------------------------------------------

  async createRun(ws: string, run: RunInsert): Promise<void> {
    if (!isCosmosId(run.runId)) {
      throw new ValidationError(`Invalid run id ${JSON.stringify(run.runId)}.`, { target: 'run_id' });
    }
    const runs = await this.container(TRACKING_RUNS_CONTAINER);
    const doc: RunDocument = {
      id: run.runId,
      pk: ws,
      kind: 'mlflowRun',
      schemaVersion: 1,
      experimentId: canonicalExperimentId(run.experimentId) ?? run.experimentId,
      runName: run.runName,
      userId: run.userId,
      status: 'RUNNING',
      startTime: run.startTime,
      endTime: undefined,
      artifactUri: run.artifactUri,
      lifecycleStage: 'active',
      params: new Map(),
      tags: new Map(run.tags.map((t) => [t.key, t.value])),
      metrics: new Map(),
    };
    try {
      await runs.items.create(runJson(doc));
    } catch (err) {
      if (statusOf(err) === 409) throw new ConflictError(`Run '${run.runId}' already exists.`, { cause: err });
      fromCosmosError(err, `create run ${run.runId}`);
    }
  }

  async getRun(ws: string, runId: string): Promise<RunRecord | undefined> {
    const found = await this.readRun(ws, runId);
    return found === undefined ? undefined : toRunRecord(found.doc);
  }

  async updateRun(ws: string, runId: string, update: RunUpdate & { lifecycleStage?: LifecycleStage }): Promise<void> {
    await this.modifyRun(ws, runId, (doc) => ({
      ...doc,
      status: update.status ?? doc.status,
      endTime: update.endTime ?? doc.endTime,
      runName: update.runName ?? doc.runName,
      lifecycleStage: update.lifecycleStage ?? doc.lifecycleStage,
    }));
  }

  async logBatch(
    ws: string,
    runId: string,
    batch: { metrics: Metric[]; params: KeyValue[]; tags: KeyValue[] },
  ): Promise<void> {
    let chunks: MetricChunkDocument[] = [];
    const found = await this.modifyRun(ws, runId, (doc) => {
      const params = new Map(doc.params);
      for (const p of batch.params) {
        const existing = params.get(p.key);
        if (existing !== undefined && existing !== p.value) {
          throw new ValidationError(
            `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${existing}' for run ID='${runId}'. Attempted logging new value '${p.value}'.`,
            { target: `params.${p.key}` },
          );
        }
        params.set(p.key, p.value);
      }
      const tags = new Map(doc.tags);
      for (const t of batch.tags) tags.set(t.key, t.value);
      // History positions are numbered per run and key: the run document's `n` is the last one.
      const metrics = new Map(doc.metrics);
      const byKey = new Map<string, MetricChunkDocument>();
      chunks = [];
      for (const m of batch.metrics) {
        const current = metrics.get(m.key);
        const position = (current?.n ?? 0) + 1;
        const stored = storeValue(m.value);
        const latest =
          current === undefined || replacesLatest(m, current) ? { ...stored, t: m.timestamp, s: m.step } : current;
        metrics.set(m.key, { ...latest, n: position });
        let chunk = byKey.get(m.key);
        if (chunk === undefined || chunk.points.length >= CHUNK_POINTS) {
          chunk = {
            id: chunkDocumentId(m.key, position),
            pk: metricHistoryPartition(ws, runId),
            kind: 'mlflowMetricChunk',
            schemaVersion: 1,
            runId,
            key: m.key,
            first: position,
            last: position,
            points: [],
          };
          byKey.set(m.key, chunk);
          chunks.push(chunk);
        }
        chunk.points.push({ ...stored, t: m.timestamp, s: m.step });
        chunk.last = position;
      }
      if (batch.params.length === 0 && batch.tags.length === 0 && batch.metrics.length === 0) return undefined;
      return { ...doc, params, tags, metrics };
    });
    if (!found) throw new NotFoundError(`Run '${runId}' not found.`);
    if (chunks.length === 0) return;
    // After the run document commits (params checked, positions taken). Upserts with ids fixed by
    // position, so writing a chunk again is harmless; a crash before this leaves a gap in the
    // history positions (the latest values are there), never a duplicate.
    const history = await this.container(TRACKING_METRICS_CONTAINER);
    await forEachLimited(chunks, WRITE_CONCURRENCY, async (chunk) => {
      try {
        await history.items.upsert(chunk as unknown as JSONObject);
      } catch (err) {
        fromCosmosError(err, `write metric history of run ${runId}`);
      }
    });
  }

  async deleteTag(ws: string, runId: string, key: string): Promise<boolean> {
    let deleted = false;
    await this.modifyRun(ws, runId, (doc) => {
      deleted = doc.tags.has(key);
      if (!deleted) return undefined;
      const tags = new Map(doc.tags);
      tags.delete(key);
      return { ...doc, tags };
    });
    return deleted;
  }

  async searchRuns(ws: string, search: RunSearch): Promise<Page<RunRecord>> {
    if (search.experimentIds.length === 0) return { items: [], more: false };
    const runs = await this.container(TRACKING_RUNS_CONTAINER);
    const params = new Params();
    const ids = search.experimentIds.map((id) => params.add(canonicalExperimentId(id) ?? id));
    const where = [`${prop('pk')} = ${params.add(ws)}`, `${prop('experimentId')} IN (${ids.join(', ')})`];
    const stage = stageCondition(search.viewType);
    if (stage !== undefined) where.push(stage);
    for (const c of search.filter) where.push(runFilterSql(c, params));
    const docs = await fetchOrdered(
      {
        defaults: RUN_DEFAULT_ORDER,
        params,
        run: async (w, orderBy, top) =>
          (await this.topQuery(runs, ws, w, orderBy, top, params)).map((r) => runDocumentSchema.parse(r)),
      },
      where,
      search.orderBy.map(runSortKey),
      search.offset + search.maxResults + 1,
    );
    return {
      items: docs.slice(search.offset, search.offset + search.maxResults).map(toRunRecord),
      more: docs.length > search.offset + search.maxResults,
    };
  }

  async metricHistory(ws: string, runId: string, key: string, after: number, limit: number): Promise<HistoryPage> {
    if (!isCosmosId(runId)) return { metrics: [], next: undefined };
    const history = await this.container(TRACKING_METRICS_CONTAINER);
    const pk = metricHistoryPartition(ws, runId);
    // The partition is the run's (in this workspace): another workspace's run is another partition.
    const query = {
      query: `SELECT * FROM c WHERE ${prop('pk')} = @pk AND ${prop('key')} = @key AND ${prop('last')} > @after ORDER BY ${prop('first')} ASC`,
      parameters: [
        { name: '@pk', value: pk },
        { name: '@key', value: key },
        { name: '@after', value: after },
      ],
    };
    const points: { position: number; metric: Metric }[] = [];
    try {
      const iterator = history.items.query<ItemDefinition>(query, {
        partitionKey: pk,
        maxItemCount: HISTORY_PAGE_DOCUMENTS,
      });
      while (points.length <= limit) {
        const page = await iterator.fetchNext();
        for (const resource of page.resources) {
          const chunk = metricChunkDocumentSchema.parse(resource);
          chunk.points.forEach((p, i) => {
            const position = chunk.first + i;
            if (position > after) {
              points.push({ position, metric: { key, value: loadValue(p), timestamp: p.t, step: p.s } });
            }
          });
        }
        // Cosmos may answer an empty page that still has a continuation: only hasMoreResults ends it.
        if (!page.hasMoreResults) break;
      }
    } catch (err) {
      fromCosmosError(err, `read the history of metric '${key}' of run ${runId}`);
    }
    const page = points.slice(0, limit);
    const next = points.length > limit ? page[page.length - 1]?.position : undefined;
    return { metrics: page.map((p) => p.metric), next };
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.dispose();
  }

  // --- plumbing --------------------------------------------------------------------------------

  private container(name: string): Promise<Container> {
    return this.containers.get(name);
  }

  private async readDocument(
    container: Container,
    pk: string,
    id: string,
  ): Promise<Versioned<ItemDefinition> | undefined> {
    try {
      const r = await container.item(id, pk).read<ItemDefinition>();
      if (r.statusCode === 404 || r.resource === undefined) return undefined;
      return { doc: r.resource, etag: String(r.resource._etag ?? r.etag ?? '') };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      return fromCosmosError(err, `read ${id} in ${container.id}`);
    }
  }

  private async readExperiment(ws: string, id: string): Promise<Versioned<ExperimentDocument> | undefined> {
    const found = await this.readDocument(await this.container(TRACKING_EXPERIMENTS_CONTAINER), ws, id);
    if (found === undefined || found.doc.kind !== 'mlflowExperiment') return undefined;
    return { doc: experimentDocumentSchema.parse(found.doc), etag: found.etag };
  }

  private async readRun(ws: string, runId: string): Promise<Versioned<RunDocument> | undefined> {
    if (!isCosmosId(runId)) return undefined;
    const found = await this.readDocument(await this.container(TRACKING_RUNS_CONTAINER), ws, runId);
    return found === undefined ? undefined : { doc: runDocumentSchema.parse(found.doc), etag: found.etag };
  }

  /** Replaces when the etag still matches; false when it changed (412). */
  private async replaceIfMatch(
    container: Container,
    pk: string,
    id: string,
    body: JSONObject,
    etag: string,
  ): Promise<boolean> {
    try {
      await container.item(id, pk).replace(body, { accessCondition: { type: 'IfMatch', condition: etag } });
      return true;
    } catch (err) {
      const status = statusOf(err);
      if (status === 412 || status === 404) return false;
      return fromCosmosError(err, `replace ${id} in ${container.id}`);
    }
  }

  /**
   * Read-modify-replace of a run with its etag, again on a concurrent change. `change` returns the
   * new document, or undefined to write nothing. Resolves false when the run does not exist.
   */
  private async modifyRun(
    ws: string,
    runId: string,
    change: (doc: RunDocument) => RunDocument | undefined,
  ): Promise<boolean> {
    const runs = await this.container(TRACKING_RUNS_CONTAINER);
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      await pause(attempt);
      const current = await this.readRun(ws, runId);
      if (current === undefined) return false;
      const next = change(current.doc);
      if (next === undefined) return true;
      if (await this.replaceIfMatch(runs, ws, runId, runJson(next), current.etag)) return true;
    }
    throw new TransientError(`Run '${runId}' kept changing while it was written; retry.`);
  }

  /**
   * A transactional batch in one partition. Resolves undefined when every operation succeeded,
   * else the index and status of the operation that failed (Cosmos answers 207 with per-operation
   * statuses: the failed one's, 424 for the others, and applies none of them).
   */
  private async batch(
    container: Container,
    pk: string,
    what: string,
    operations: OperationInput[],
  ): Promise<{ index: number; status: number } | undefined> {
    let results;
    try {
      // Each operation names its partition too: the emulator reads it from there.
      const withPartition = operations.map((op) => ({ ...op, partitionKey: pk }));
      results = (await container.items.batch(withPartition, pk)).result ?? [];
    } catch (err) {
      return fromCosmosError(err, what);
    }
    const index = results.findIndex((r) => r.statusCode >= 400 && r.statusCode !== 424);
    if (index < 0) {
      if (results.some((r) => r.statusCode >= 400)) throw new TransientError(`Cosmos DB failed to ${what}; retry.`);
      return undefined;
    }
    const status = results[index]?.statusCode ?? 0;
    if (status !== 409 && status !== 412 && status !== 404) {
      fromCosmosError({ code: status, message: `operation ${index} of the batch answered ${status}` }, what);
    }
    return { index, status };
  }

  /** `SELECT TOP top * FROM c WHERE ... ORDER BY ...` in one partition, every page of it. */
  private async topQuery(
    container: Container,
    pk: string,
    where: readonly string[],
    orderBy: string,
    top: number,
    params: Params,
  ): Promise<ItemDefinition[]> {
    const query = `SELECT TOP ${top} * FROM c WHERE ${where.join(' AND ')} ORDER BY ${orderBy}`;
    try {
      const { resources } = await container.items
        .query<ItemDefinition>({ query, parameters: params.usedBy(query) }, { partitionKey: pk })
        .fetchAll();
      return resources;
    } catch (err) {
      if (statusOf(err) === 400 && /composite index/i.test(err instanceof Error ? err.message : '')) {
        throw new ValidationError(
          `Container ${container.id} has no composite index for ORDER BY ${orderBy}. Declare it in ` +
            `TRACKING_COSMOS_ORDERINGS (shared/contracts/tracking-documents.ts), which wiring passes as COSMOS_ORDERINGS ` +
            `and infra/main.bicep mirrors.`,
          { target: 'order_by', cause: err },
        );
      }
      return fromCosmosError(err, `query ${container.id}`);
    }
  }
}
