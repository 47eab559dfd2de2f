import type { Readable } from 'node:stream';

/**
 * Blob-like storage: containers of byte objects addressed by '/'-separated paths.
 * Paths are normalised and can never escape their container.
 */
export interface ArtifactInfo {
  container: string;
  path: string;
  size: number;
  /** sha256 of the content, lowercase hex. */
  contentHash: string;
  contentType: string;
  etag: string;
  /** Epoch milliseconds. */
  lastModified: number;
  metadata: Record<string, string>;
}

export interface PutOptions {
  contentType?: string;
  metadata?: Record<string, string>;
  /** Write only if the current object has this etag; '*' with ifNoneMatch means "must not exist". */
  ifMatch?: string;
  ifNoneMatch?: '*';
}

export interface ListOptions {
  prefix?: string;
  limit?: number;
  continuation?: string;
}

export interface ListPage {
  items: ArtifactInfo[];
  continuation?: string;
}

export interface SignedUrlOptions {
  /** Lifetime in seconds (default 3600). */
  expiresInSeconds?: number;
}

export interface ArtifactStore {
  readonly kind: string;
  put(
    container: string,
    path: string,
    data: Buffer | Uint8Array | string | Readable,
    options?: PutOptions,
  ): Promise<ArtifactInfo>;
  /**
   * Appends to the object, creating it when absent (live logs); returns its new size. One writer
   * per object. On Blob Storage an appended object is an append blob and has no content hash
   * (contentHash '').
   */
  append(container: string, path: string, data: Buffer | string, options?: { contentType?: string }): Promise<number>;
  /** Up to `maxBytes` bytes from byte `offset` (empty at or past the end); NotFoundError if absent. */
  readRange(container: string, path: string, offset: number, maxBytes: number): Promise<Buffer>;
  /** Whole content; NotFoundError if absent. */
  get(container: string, path: string): Promise<Buffer>;
  /** Streamed content; NotFoundError if absent. */
  stream(container: string, path: string): Promise<Readable>;
  stat(container: string, path: string): Promise<ArtifactInfo | undefined>;
  exists(container: string, path: string): Promise<boolean>;
  /** Returns false if absent. */
  delete(container: string, path: string): Promise<boolean>;
  /** Objects in path order. */
  list(container: string, options?: ListOptions): Promise<ListPage>;
  /** A URL that reads the object without other credentials until it expires. */
  signedReadUrl(container: string, path: string, options?: SignedUrlOptions): Promise<string>;
  close(): Promise<void>;
}
