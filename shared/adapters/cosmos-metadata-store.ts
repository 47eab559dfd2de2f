import { CosmosClient, type Container, type Database, type ItemDefinition, type SqlParameter } from '@azure/cosmos';
import type { TokenCredential } from '@azure/identity';
import {
  AppError,
  ConflictError,
  NotFoundError,
  PreconditionFailedError,
  TransientError,
  ValidationError,
} from '../errors.js';
import type {
  DocumentContainer,
  MetadataStore,
  OrderBy,
  QueryOptions,
  QueryPage,
  StoredDocument,
  WithMeta,
  WriteOptions,
} from '../ports/metadata-store.js';
import { decodeContinuationToken, encodeContinuationToken } from '../domain/continuation-token.js';
import { assertContainerName, assertDocumentKeys } from '../domain/document-keys.js';
import {
  checkOrderBy,
  checkQuery,
  queryTokenFormat,
  type CheckedFilter,
  type CheckedOrder,
  type Scalar,
} from '../domain/document-query.js';
import { stripWriteOptions, toStoredDocument } from '../domain/stored-document.js';

export interface CosmosMetadataStoreOptions {
  client: CosmosClient;
  database: string;
  /**
   * The orderBy lists each container is queried with, by container name ('*': every container).
   * Cosmos needs a composite index for an ORDER BY on two or more properties, and the adapter
   * always appends `id` as tie-breaker; containers this adapter creates get those indexes. A
   * query whose ordering has no index fails with a ValidationError naming what to declare.
   */
  orderings?: Readonly<Record<string, readonly (readonly OrderBy[])[]>>;
}

export interface CosmosMetadataStoreConfig {
  endpoint: string;
  key?: string;
  credential?: TokenCredential;
  database: string;
  orderings?: CosmosMetadataStoreOptions['orderings'];
}

const COSMOS_SYSTEM_PROPERTIES = ['_rid', '_self', '_attachments', '_lsn'];
/** A query is resumed at most this many times to fill one page (cross-partition pages may come back short). */
const MAX_FETCHES_PER_PAGE = 32;

/** A query token resumes from the continuation token of the Cosmos SDK ('c'). */
const QUERY_TOKEN = queryTokenFormat('c', (v): v is string => typeof v === 'string');

function cosmosPath(segments: readonly string[]): string {
  return 'c' + segments.map((s) => `[${JSON.stringify(s)}]`).join('');
}

function indexPath(segments: readonly string[]): string {
  return '/' + segments.join('/');
}

/** The HTTP status of a Cosmos SDK error (its `code`, or `statusCode`). */
export function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown; statusCode?: unknown } | null)?.code;
  if (typeof code === 'number') return code;
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Maps Cosmos failures to the coded errors; anything unrecognised is rethrown as is. */
export function fromCosmosError(err: unknown, what: string): never {
  const status = statusOf(err);
  const message = err instanceof Error ? err.message : String(err);
  switch (status) {
    case 400:
      throw new ValidationError(`Cosmos DB rejected ${what}: ${message}`, { cause: err });
    case 404:
      throw new NotFoundError(`${what}: not found.`, { cause: err });
    case 409:
      throw new ConflictError(`${what}: already exists.`, { cause: err });
    case 412:
      throw new PreconditionFailedError(`${what}: the etag does not match; it changed since it was read.`, {
        cause: err,
        target: 'ifMatch',
      });
    case 413:
      throw new AppError('PayloadTooLarge', `${what}: the document is too large for Cosmos DB.`, { cause: err });
    case 408:
    case 429:
    case 449:
    case 500:
    case 503:
      throw new TransientError(`Cosmos DB is busy or unavailable (${status}) during ${what}; retry later.`, {
        cause: err,
      });
    default:
      throw err;
  }
}

function fromCosmosDocument<T extends StoredDocument>(resource: ItemDefinition): WithMeta<T> {
  const out: Record<string, unknown> = { ...resource };
  for (const k of COSMOS_SYSTEM_PROPERTIES) delete out[k];
  const ts = typeof resource._ts === 'number' ? resource._ts * 1000 : 0;
  out._ts = ts;
  out._etag = String(resource._etag ?? '');
  return out as WithMeta<T>;
}

class Params {
  readonly list: SqlParameter[] = [];
  add(value: unknown): string {
    const name = `@p${this.list.length}`;
    this.list.push({ name, value: value as SqlParameter['value'] });
    return name;
  }
}

function typeGuard(x: string, v: Scalar): string {
  if (v === null) return `IS_NULL(${x})`;
  if (typeof v === 'boolean') return `IS_BOOL(${x})`;
  if (typeof v === 'number') return `IS_NUMBER(${x})`;
  return `IS_STRING(${x})`;
}

/**
 * One filter as Cosmos SQL. Every comparison carries a type guard: Cosmos leaves comparisons
 * between different types undefined (no match), and the guard keeps emulators that compare
 * loosely to the same semantics; it is also what the SQLite adapter does.
 */
function filterSql(f: CheckedFilter, params: Params): string {
  const x = cosmosPath(f.segments);
  const eq = (v: Scalar): string => (v === null ? `IS_NULL(${x})` : `(${typeGuard(x, v)} AND ${x} = ${params.add(v)})`);
  switch (f.op) {
    case '=':
      return eq(f.value as Scalar);
    case '!=':
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const v = f.value as string | number | boolean;
      return `(${typeGuard(x, v)} AND ${x} ${f.op} ${params.add(v)})`;
    }
    case 'in': {
      const values = f.value as Scalar[];
      return values.length === 0 ? 'false' : `(${values.map(eq).join(' OR ')})`;
    }
    case 'contains': {
      const v = f.value as string | number | boolean;
      const p = params.add(v);
      const arrayPart = `(IS_ARRAY(${x}) AND ARRAY_CONTAINS(${x}, ${p}))`;
      return typeof v === 'string' ? `(${arrayPart} OR (IS_STRING(${x}) AND CONTAINS(${x}, ${p})))` : arrayPart;
    }
    case 'startsWith':
      return `(IS_STRING(${x}) AND STARTSWITH(${x}, ${params.add(f.value)}))`;
    case 'exists':
      return f.value === false ? `NOT IS_DEFINED(${x})` : `IS_DEFINED(${x})`;
  }
}

function compositeIndex(order: readonly CheckedOrder[]): { path: string; order: 'ascending' | 'descending' }[] {
  return order.map((o) => ({ path: indexPath(o.segments), order: o.desc ? 'descending' : 'ascending' }));
}

class CosmosDocumentContainer implements DocumentContainer {
  constructor(
    private readonly container: Container,
    readonly name: string,
  ) {}

  private describe(pk: string, id: string): string {
    return `document ${JSON.stringify(id)} in partition ${JSON.stringify(pk)} of ${this.name}`;
  }

  async create<T extends StoredDocument>(doc: T): Promise<WithMeta<T>> {
    const { body } = toStoredDocument(doc);
    try {
      const r = await this.container.items.create(body);
      return fromCosmosDocument<T>(r.resource as ItemDefinition);
    } catch (err) {
      return fromCosmosError(err, `create ${this.describe(body.pk, body.id)}`);
    }
  }

  async upsert<T extends StoredDocument>(doc: T, options?: WriteOptions): Promise<WithMeta<T>> {
    const ifMatch = stripWriteOptions(options);
    const { body } = toStoredDocument(doc);
    if (ifMatch !== undefined) {
      // "Replace only that version": a missing document cannot be at that etag.
      try {
        return await this.replace(body, { ifMatch });
      } catch (err) {
        if (err instanceof NotFoundError) {
          throw new PreconditionFailedError(
            `${this.describe(body.pk, body.id)} is not at etag ${JSON.stringify(ifMatch)}: it does not exist.`,
            {
              target: 'ifMatch',
            },
          );
        }
        throw err;
      }
    }
    try {
      const r = await this.container.items.upsert(body);
      return fromCosmosDocument<T>(r.resource as ItemDefinition);
    } catch (err) {
      return fromCosmosError(err, `upsert ${this.describe(body.pk, body.id)}`);
    }
  }

  async replace<T extends StoredDocument>(doc: T, options?: WriteOptions): Promise<WithMeta<T>> {
    const ifMatch = stripWriteOptions(options);
    const { body } = toStoredDocument(doc);
    try {
      const r = await this.container
        .item(body.id, body.pk)
        .replace(body, ifMatch === undefined ? {} : { accessCondition: { type: 'IfMatch', condition: ifMatch } });
      return fromCosmosDocument<T>(r.resource as ItemDefinition);
    } catch (err) {
      return fromCosmosError(err, `replace ${this.describe(body.pk, body.id)}`);
    }
  }

  async read<T extends StoredDocument>(pk: string, id: string): Promise<WithMeta<T> | undefined> {
    assertDocumentKeys(pk, id);
    try {
      const r = await this.container.item(id, pk).read<ItemDefinition>();
      if (r.statusCode === 404 || r.resource === undefined) return undefined;
      return fromCosmosDocument<T>(r.resource);
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      return fromCosmosError(err, `read ${this.describe(pk, id)}`);
    }
  }

  async delete(pk: string, id: string, options?: WriteOptions): Promise<boolean> {
    assertDocumentKeys(pk, id);
    const ifMatch = stripWriteOptions(options);
    try {
      const r = await this.container
        .item(id, pk)
        .delete(ifMatch === undefined ? {} : { accessCondition: { type: 'IfMatch', condition: ifMatch } });
      return r.statusCode !== 404;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      return fromCosmosError(err, `delete ${this.describe(pk, id)}`);
    }
  }

  async query<T extends StoredDocument>(options: QueryOptions = {}): Promise<QueryPage<T>> {
    const { limit, filters, order, fingerprint } = checkQuery(this.name, options);
    const params = new Params();
    const where: string[] = [];
    if (options.partitionKey !== undefined) {
      where.push(`c["pk"] = ${params.add(options.partitionKey)}`);
    }
    for (const f of filters) where.push(filterSql(f, params));
    const orderSql = order.map((o) => `${cosmosPath(o.segments)} ${o.desc ? 'DESC' : 'ASC'}`).join(', ');
    const query = `SELECT * FROM c${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${orderSql}`;

    let token: string | undefined =
      options.continuation === undefined
        ? undefined
        : decodeContinuationToken(QUERY_TOKEN, options.continuation, fingerprint);
    const items: WithMeta<T>[] = [];
    try {
      for (let fetches = 0; items.length < limit && fetches < MAX_FETCHES_PER_PAGE; fetches++) {
        const iterator = this.container.items.query<ItemDefinition>(
          { query, parameters: params.list },
          {
            maxItemCount: limit - items.length,
            ...(token === undefined ? {} : { continuationToken: token }),
            ...(options.partitionKey === undefined ? {} : { partitionKey: options.partitionKey }),
          },
        );
        const page = await iterator.fetchNext();
        for (const r of page.resources) items.push(fromCosmosDocument<T>(r));
        token = page.hasMoreResults && page.continuationToken ? page.continuationToken : undefined;
        if (token === undefined) break;
      }
    } catch (err) {
      if (statusOf(err) === 400 && /composite index/i.test(err instanceof Error ? err.message : '')) {
        throw new ValidationError(
          `Container ${this.name} has no composite index for ORDER BY ${orderSql}. Declare ` +
            `${JSON.stringify(options.orderBy ?? [])} under orderings[${JSON.stringify(this.name)}] of CosmosMetadataStore ` +
            `(and in the container's indexing policy in infra) — composite index ${JSON.stringify(compositeIndex(order))}.`,
          { target: 'orderBy', cause: err },
        );
      }
      return fromCosmosError(err, `query ${this.name}`);
    }
    if (items.length > limit) {
      // The SDK returned more than asked: the continuation would skip rows, so refuse rather than lose data.
      throw new TransientError(`Cosmos DB returned ${items.length} rows for a page of ${limit}; retry the query.`);
    }
    return token === undefined
      ? { items }
      : { items, continuation: encodeContinuationToken(QUERY_TOKEN, fingerprint, token) };
  }
}

/**
 * The containers of one Cosmos database, each opened (created if needed) once: partitioned on
 * `/pk`, with a composite index for every ordering of two keys or more (`'*'`: every container).
 * Shared by the Cosmos adapters; a failed open is retried on the next call.
 */
export class CosmosContainers {
  private database: Promise<Database> | undefined;
  private readonly opened = new Map<string, Promise<Container>>();

  constructor(
    private readonly client: CosmosClient,
    private readonly databaseId: string,
    private readonly orderings: Readonly<Record<string, readonly (readonly OrderBy[])[]>>,
  ) {}

  get(name: string): Promise<Container> {
    let c = this.opened.get(name);
    if (c === undefined) {
      c = this.open(name);
      this.opened.set(name, c);
      c.catch(() => this.opened.delete(name));
    }
    return c;
  }

  private async open(name: string): Promise<Container> {
    this.database ??= this.client.databases.createIfNotExists({ id: this.databaseId }).then((r) => r.database);
    let database: Database;
    try {
      database = await this.database;
    } catch (err) {
      this.database = undefined;
      return fromCosmosError(err, `open database ${this.databaseId}`);
    }
    const lists = [...(this.orderings['*'] ?? []), ...(this.orderings[name] ?? [])];
    const seen = new Set<string>();
    const compositeIndexes = [];
    for (const list of lists) {
      const order = checkOrderBy(list);
      if (order.length < 2) continue;
      const index = compositeIndex(order);
      const key = JSON.stringify(index);
      if (seen.has(key)) continue;
      seen.add(key);
      compositeIndexes.push(index);
    }
    try {
      const { container } = await database.containers.createIfNotExists({
        id: name,
        partitionKey: { paths: ['/pk'] },
        ...(compositeIndexes.length === 0 ? {} : { indexingPolicy: { compositeIndexes } }),
      });
      return container;
    } catch (err) {
      return fromCosmosError(err, `open container ${name}`);
    }
  }
}

/**
 * MetadataStore on Azure Cosmos DB (NoSQL API): one Cosmos container per store container,
 * partitioned on `/pk`; queries are parameterised Cosmos SQL paged with the SDK's continuation
 * tokens; etags map to If-Match access conditions.
 */
export class CosmosMetadataStore implements MetadataStore {
  readonly kind = 'cosmos';
  private readonly client: CosmosClient;
  private readonly containers: CosmosContainers;
  private ownsClient = false;

  constructor(options: CosmosMetadataStoreOptions) {
    this.client = options.client;
    const orderings = options.orderings ?? {};
    for (const [name, lists] of Object.entries(orderings)) {
      if (name !== '*') assertContainerName(name);
      for (const list of lists) checkOrderBy(list);
    }
    this.containers = new CosmosContainers(options.client, options.database, orderings);
  }

  static fromConfig(config: CosmosMetadataStoreConfig): CosmosMetadataStore {
    if (config.key === undefined && config.credential === undefined) {
      throw new ValidationError('CosmosMetadataStore needs either a key or a credential.', { target: 'credential' });
    }
    const client = new CosmosClient({
      endpoint: config.endpoint,
      ...(config.key !== undefined ? { key: config.key } : { aadCredentials: config.credential }),
    });
    const store = new CosmosMetadataStore({
      client,
      database: config.database,
      ...(config.orderings === undefined ? {} : { orderings: config.orderings }),
    });
    store.ownsClient = true;
    return store;
  }

  async container(name: string): Promise<DocumentContainer> {
    assertContainerName(name);
    return new CosmosDocumentContainer(await this.containers.get(name), name);
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.dispose();
  }
}
