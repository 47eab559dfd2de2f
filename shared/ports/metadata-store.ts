/**
 * Cosmos-like document storage: named containers of JSON documents, each addressed by
 * (partition key, id) and versioned by an opaque etag for optimistic concurrency.
 */
export interface StoredDocument {
  id: string;
  /** The partition key value; every document in Tessera is partitioned by workspace. */
  pk: string;
  [key: string]: unknown;
}

export interface DocumentMeta {
  etag: string;
  /** Last write, epoch milliseconds. */
  updatedAt: number;
}

export type WithMeta<T extends StoredDocument> = T & { _etag: string; _ts: number };

export interface WriteOptions {
  /** Write only if the stored document still has this etag (412 PreconditionFailed otherwise). */
  ifMatch?: string;
}

export type FilterOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'contains' | 'startsWith' | 'exists';

export interface Filter {
  /** Dotted path into the document, e.g. `status` or `tags.owner`. */
  path: string;
  op: FilterOp;
  value?: unknown;
}

export interface OrderBy {
  path: string;
  direction?: 'asc' | 'desc';
}

export interface QueryOptions {
  /** Restrict the query to one partition (cheap); omit for a cross-partition query. */
  partitionKey?: string;
  /** Conjunction of filters. */
  filters?: readonly Filter[];
  /** Sort keys; `id` ascending is always the final tie-breaker. */
  orderBy?: readonly OrderBy[];
  /** Page size (default 100, at most 1000). */
  limit?: number;
  /** Opaque token from a previous page. */
  continuation?: string;
}

export interface QueryPage<T extends StoredDocument> {
  items: WithMeta<T>[];
  /** Present when more results exist. */
  continuation?: string;
}

export interface DocumentContainer {
  readonly name: string;
  /** Insert a new document; ConflictError if (pk, id) exists. */
  create<T extends StoredDocument>(doc: T): Promise<WithMeta<T>>;
  /** Insert or replace; with ifMatch, replace only that version. */
  upsert<T extends StoredDocument>(doc: T, options?: WriteOptions): Promise<WithMeta<T>>;
  /** Replace an existing document; NotFoundError if absent, PreconditionFailedError on etag mismatch. */
  replace<T extends StoredDocument>(doc: T, options?: WriteOptions): Promise<WithMeta<T>>;
  /** Read one document, or undefined. */
  read<T extends StoredDocument>(pk: string, id: string): Promise<WithMeta<T> | undefined>;
  /** Delete; returns false if absent. PreconditionFailedError on etag mismatch. */
  delete(pk: string, id: string, options?: WriteOptions): Promise<boolean>;
  query<T extends StoredDocument>(options?: QueryOptions): Promise<QueryPage<T>>;
}

export interface MetadataStore {
  readonly kind: string;
  /** Open (creating if needed) a container. */
  container(name: string): Promise<DocumentContainer>;
  close(): Promise<void>;
}
