import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  BlobSASPermissions,
  BlobServiceClient,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
  type BlobClient,
  type BlobHTTPHeaders,
  type BlobItem,
  type BlockBlobClient,
  type BlobRequestConditions,
  type ContainerClient,
  type UserDelegationKey,
} from '@azure/storage-blob';
import type { TokenCredential } from '@azure/identity';
import { AppError, ConflictError, NotFoundError, PreconditionFailedError, TransientError } from '../errors.js';
import type {
  ArtifactInfo,
  ArtifactStore,
  ListOptions,
  ListPage,
  PutOptions,
  SignedUrlOptions,
} from '../ports/artifact-store.js';
import { DEFAULT_CONTENT_TYPE, checkPutOptions } from '../domain/artifact-put-options.js';
import { assertArtifactContainer, checkRange, normalizeArtifactPath } from '../domain/artifact-paths.js';
import { artifactListTokenFormat, checkListOptions } from '../domain/artifact-listing.js';
import { encodeContinuationToken } from '../domain/continuation-token.js';
import { resolveSignedUrlExpiry } from '../domain/signed-url.js';

/** Blocks staged per upload of a stream, and how many are in flight at once. */
const BLOCK_SIZE = 4 * 1024 * 1024;
const BLOCK_CONCURRENCY = 4;
/** Buffers up to this size go up in one Put Blob; larger ones as blocks. */
const SINGLE_PUT_MAX = 64 * 1024 * 1024;
/** SAS start time is backdated by this much to tolerate clock skew. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const HASH_METADATA = 'sha256';
/** A list token resumes from the continuation marker Blob Storage returned ('m'). */
const LIST_TOKEN = artifactListTokenFormat('m');

export interface BlobArtifactStoreOptions {
  service: BlobServiceClient;
  /** Signs SAS URLs with the account key; without it, signedReadUrl asks for a user delegation key. */
  credential?: StorageSharedKeyCredential;
}

function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

function errorCodeOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; details?: { errorCode?: unknown } } | null;
  const c = e?.details?.errorCode ?? e?.code;
  return typeof c === 'string' ? c : undefined;
}

/** Maps Storage failures to the coded errors; anything unrecognised is rethrown as is. */
function fromStorageError(err: unknown, what: string, options: PutOptions = {}): never {
  const status = statusOf(err);
  const code = errorCodeOf(err);
  if (options.ifNoneMatch === '*' && (status === 409 || status === 412)) {
    throw new ConflictError(`${what}: it already exists (ifNoneMatch '*').`, { target: 'path', cause: err });
  }
  switch (status) {
    case 404:
      throw new NotFoundError(`${what}: not found (${code ?? '404'}).`, { target: 'path', cause: err });
    case 409:
      throw new ConflictError(`${what}: conflict (${code ?? '409'}).`, { cause: err });
    case 412:
      throw new PreconditionFailedError(`${what}: the etag does not match; it changed since it was read.`, {
        target: 'ifMatch',
        cause: err,
      });
    case 413:
      throw new AppError('PayloadTooLarge', `${what}: too large for Blob Storage.`, { cause: err });
    case 408:
    case 429:
    case 500:
    case 503:
      throw new TransientError(`Blob Storage is busy or unavailable (${status}) during ${what}; retry later.`, {
        cause: err,
      });
    default:
      throw err;
  }
}

function toInfo(
  container: string,
  path: string,
  p: {
    contentLength?: number;
    contentType?: string;
    etag?: string;
    lastModified?: Date;
    metadata?: Record<string, string>;
  },
): ArtifactInfo {
  const { [HASH_METADATA]: hash, ...metadata } = lowerKeys(p.metadata ?? {});
  return {
    container,
    path,
    size: p.contentLength ?? 0,
    // Blobs written by other tools carry no sha256; the hash is then unknown ('').
    contentHash: hash ?? '',
    contentType: p.contentType ?? DEFAULT_CONTENT_TYPE,
    etag: p.etag ?? '',
    lastModified: p.lastModified?.getTime() ?? 0,
    metadata,
  };
}

/** Listing returns metadata names as stored, reads return them lowercased; normalise to lowercase. */
function lowerKeys(m: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) out[k.toLowerCase()] = v;
  return out;
}

/**
 * ArtifactStore on Azure Blob Storage (block blobs). Containers are created on first write; the
 * sha256 of the content is computed while uploading and committed with the blob as metadata
 * `sha256` in the same request, so content and hash never disagree. Streams are uploaded as
 * staged blocks and committed with the etag conditions, so a failed upload leaves the previous
 * version in place.
 */
/** The largest block one append-blob write takes (Blob Storage's limit is 4 MiB). */
const APPEND_BLOCK_BYTES = 4 * 1024 * 1024;

export class BlobArtifactStore implements ArtifactStore {
  readonly kind = 'blob';
  private readonly service: BlobServiceClient;
  private readonly credential: StorageSharedKeyCredential | undefined;
  private readonly ensured = new Map<string, Promise<void>>();
  private delegationKey: { key: UserDelegationKey; expiresOn: number } | undefined;

  constructor(options: { service: BlobServiceClient; credential?: StorageSharedKeyCredential }) {
    this.service = options.service;
    this.credential =
      options.credential ??
      (options.service.credential instanceof StorageSharedKeyCredential ? options.service.credential : undefined);
  }

  static fromConnectionString(connectionString: string): BlobArtifactStore {
    return new BlobArtifactStore({ service: BlobServiceClient.fromConnectionString(connectionString) });
  }

  /** Identity-based access (managed identity); signed URLs are then user delegation SAS. */
  static fromTokenCredential(accountUrl: string, credential: TokenCredential): BlobArtifactStore {
    return new BlobArtifactStore({ service: new BlobServiceClient(accountUrl, credential) });
  }

  private containerClient(container: string): ContainerClient {
    return this.service.getContainerClient(container);
  }

  private ensureContainer(container: string): Promise<void> {
    let p = this.ensured.get(container);
    if (p === undefined) {
      p = this.containerClient(container)
        .createIfNotExists()
        .then(() => undefined);
      this.ensured.set(container, p);
      p.catch(() => this.ensured.delete(container));
    }
    return p;
  }

  async put(
    container: string,
    path: string,
    data: Buffer | Uint8Array | string | Readable,
    options: PutOptions = {},
  ): Promise<ArtifactInfo> {
    assertArtifactContainer(container);
    const p = normalizeArtifactPath(path);
    const { contentType, metadata } = checkPutOptions(options);
    const what = `put artifact ${container}/${p}`;
    try {
      await this.ensureContainer(container);
    } catch (err) {
      return fromStorageError(err, `create container ${container}`);
    }
    const blob = this.containerClient(container).getBlockBlobClient(p);
    const conditions: BlobRequestConditions = {
      ...(options.ifMatch === undefined ? {} : { ifMatch: options.ifMatch }),
      ...(options.ifNoneMatch === undefined ? {} : { ifNoneMatch: options.ifNoneMatch }),
    };
    try {
      const { size, contentHash, response } = await uploadHashed(blob, data, (hash) => ({
        blobHTTPHeaders: { blobContentType: contentType },
        metadata: { ...metadata, [HASH_METADATA]: hash },
        conditions,
      }));
      return {
        container,
        path: p,
        size,
        contentHash,
        contentType,
        etag: response.etag ?? '',
        lastModified: response.lastModified?.getTime() ?? Date.now(),
        metadata,
      };
    } catch (err) {
      if (statusOf(err) === 404 && errorCodeOf(err) === 'ContainerNotFound') this.ensured.delete(container);
      return fromStorageError(err, what, options);
    }
  }

  /**
   * Runs `op` on the blob at a checked container and path; Storage failures become coded errors
   * naming `what`, except a 404 when `options.ifMissing` is given: that is then the answer.
   */
  private async onBlob<T>(
    container: string,
    path: string,
    what: string,
    op: (blob: BlobClient, path: string) => Promise<T>,
    options?: { ifMissing: T },
  ): Promise<T> {
    assertArtifactContainer(container);
    const p = normalizeArtifactPath(path);
    try {
      return await op(this.containerClient(container).getBlobClient(p), p);
    } catch (err) {
      if (options !== undefined && statusOf(err) === 404) return options.ifMissing;
      return fromStorageError(err, `${what} ${container}/${p}`);
    }
  }

  async append(
    container: string,
    path: string,
    data: Buffer | string,
    options: { contentType?: string } = {},
  ): Promise<number> {
    assertArtifactContainer(container);
    const p = normalizeArtifactPath(path);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    try {
      await this.ensureContainer(container);
      const blob = this.containerClient(container).getAppendBlobClient(p);
      await blob.createIfNotExists({
        blobHTTPHeaders: { blobContentType: options.contentType ?? DEFAULT_CONTENT_TYPE },
      });
      let size: number | undefined;
      for (let at = 0; at < bytes.byteLength; at += APPEND_BLOCK_BYTES) {
        const block = bytes.subarray(at, at + APPEND_BLOCK_BYTES);
        const r = await blob.appendBlock(block, block.byteLength);
        size = Number(r.blobAppendOffset ?? 0) + block.byteLength;
      }
      return size ?? (await blob.getProperties()).contentLength ?? 0;
    } catch (err) {
      return fromStorageError(err, `append to artifact ${container}/${p}`);
    }
  }

  async readRange(container: string, path: string, offset: number, maxBytes: number): Promise<Buffer> {
    checkRange(offset, maxBytes);
    return this.onBlob(container, path, 'artifact', async (blob) => {
      const size = (await blob.getProperties()).contentLength ?? 0;
      if (offset >= size) return Buffer.alloc(0);
      return blob.downloadToBuffer(offset, Math.min(maxBytes, size - offset));
    });
  }

  async get(container: string, path: string): Promise<Buffer> {
    return this.onBlob(container, path, 'artifact', (blob) => blob.downloadToBuffer());
  }

  async stream(container: string, path: string): Promise<Readable> {
    return this.onBlob(container, path, 'artifact', async (blob, p) => {
      const r = await blob.download();
      const body = r.readableStreamBody;
      if (body === undefined) throw new TransientError(`Blob Storage returned no body for ${container}/${p}; retry.`);
      return body instanceof Readable ? body : Readable.from(body as AsyncIterable<Buffer>);
    });
  }

  async stat(container: string, path: string): Promise<ArtifactInfo | undefined> {
    const read = async (blob: BlobClient, p: string): Promise<ArtifactInfo> =>
      toInfo(container, p, await blob.getProperties());
    return this.onBlob<ArtifactInfo | undefined>(container, path, 'artifact', read, { ifMissing: undefined });
  }

  async exists(container: string, path: string): Promise<boolean> {
    return this.onBlob(container, path, 'artifact', (blob) => blob.exists(), { ifMissing: false });
  }

  async delete(container: string, path: string): Promise<boolean> {
    const del = async (blob: BlobClient): Promise<boolean> =>
      (await blob.deleteIfExists({ deleteSnapshots: 'include' })).succeeded;
    return this.onBlob(container, path, 'delete artifact', del, { ifMissing: false });
  }

  async list(container: string, options: ListOptions = {}): Promise<ListPage> {
    assertArtifactContainer(container);
    const { prefix, limit, position: marker } = checkListOptions(options, LIST_TOKEN);
    try {
      const pages = this.containerClient(container)
        .listBlobsFlat({ includeMetadata: true, ...(prefix === '' ? {} : { prefix }) })
        .byPage({ maxPageSize: limit, ...(marker === undefined ? {} : { continuationToken: marker }) });
      const first = await pages.next();
      if (first.done === true) return { items: [] };
      const page = first.value;
      const items = page.segment.blobItems.map((b: BlobItem) =>
        toInfo(container, b.name, { ...b.properties, metadata: b.metadata ?? {} }),
      );
      const next = page.continuationToken;
      return next ? { items, continuation: encodeContinuationToken(LIST_TOKEN, prefix, next) } : { items };
    } catch (err) {
      if (statusOf(err) === 404) return { items: [] };
      return fromStorageError(err, `list artifacts in ${container}`);
    }
  }

  async signedReadUrl(container: string, path: string, options?: SignedUrlOptions): Promise<string> {
    assertArtifactContainer(container);
    const p = normalizeArtifactPath(path);
    const now = Date.now();
    const expiresOn = new Date(resolveSignedUrlExpiry(options, now) * 1000);
    const startsOn = new Date(now - CLOCK_SKEW_MS);
    const blob = this.containerClient(container).getBlobClient(p);
    const values = {
      containerName: container,
      blobName: p,
      permissions: BlobSASPermissions.parse('r'),
      startsOn,
      expiresOn,
    };
    if (this.credential !== undefined) {
      return `${blob.url}?${generateBlobSASQueryParameters(values, this.credential).toString()}`;
    }
    const key = await this.userDelegationKey(now, expiresOn.getTime());
    return `${blob.url}?${generateBlobSASQueryParameters(values, key, this.service.accountName).toString()}`;
  }

  /** A user delegation key valid through `until`, reused while it lasts (they may live up to 7 days). */
  private async userDelegationKey(now: number, until: number): Promise<UserDelegationKey> {
    const cached = this.delegationKey;
    if (cached !== undefined && cached.expiresOn >= until) return cached.key;
    const expiresOn = Math.min(now + 7 * 24 * 3600 * 1000 - CLOCK_SKEW_MS, Math.max(until, now + 24 * 3600 * 1000));
    try {
      const key = await this.service.getUserDelegationKey(new Date(now - CLOCK_SKEW_MS), new Date(expiresOn));
      this.delegationKey = { key, expiresOn };
      return key;
    } catch (err) {
      return fromStorageError(err, 'get a user delegation key for signed URLs');
    }
  }

  async close(): Promise<void> {
    // BlobServiceClient holds no resources that need closing.
  }
}

/** The options of the request that commits a blob: headers, metadata (with the hash) and etag conditions. */
interface CommitOptions {
  blobHTTPHeaders: BlobHTTPHeaders;
  metadata: Record<string, string>;
  conditions: BlobRequestConditions;
}

/**
 * Uploads `data` while hashing it: a buffer up to SINGLE_PUT_MAX in one Put Blob, anything else
 * as staged blocks. `commit(contentHash)` gives the options of the request that commits the blob.
 */
async function uploadHashed(
  blob: BlockBlobClient,
  data: Buffer | Uint8Array | string | Readable,
  commit: (contentHash: string) => CommitOptions,
): Promise<{ size: number; contentHash: string; response: { etag?: string; lastModified?: Date } }> {
  if ((typeof data === 'string' || data instanceof Uint8Array) && Buffer.byteLength(data) <= SINGLE_PUT_MAX) {
    const buf =
      typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const contentHash = createHash('sha256').update(buf).digest('hex');
    const response = await blob.upload(buf, buf.byteLength, commit(contentHash));
    return { size: buf.byteLength, contentHash, response };
  }
  const source: AsyncIterable<Buffer | string | Uint8Array> =
    typeof data === 'string' || data instanceof Uint8Array ? Readable.from([Buffer.from(data)]) : data;
  const { blockIds, size, contentHash } = await stageBlocks(blob, source);
  const response = await blob.commitBlockList(blockIds, commit(contentHash));
  return { size, contentHash, response };
}

interface BlockStager {
  stageBlock(blockId: string, body: Buffer, contentLength: number): Promise<unknown>;
}

/**
 * Stages `source` as blocks of BLOCK_SIZE, hashing as it goes, with at most BLOCK_CONCURRENCY
 * blocks in flight (so memory stays bounded whatever the object size).
 */
async function stageBlocks(
  blob: BlockStager,
  source: AsyncIterable<Buffer | string | Uint8Array>,
): Promise<{ blockIds: string[]; size: number; contentHash: string }> {
  const hash = createHash('sha256');
  const nonce = randomBytes(12).toString('hex');
  const blockIds: string[] = [];
  const inFlight = new Set<Promise<unknown>>();
  let failure: unknown;
  let size = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;

  const stage = async (body: Buffer): Promise<void> => {
    // Every block id of a blob must have the same length.
    const id = Buffer.from(`${nonce}-${String(blockIds.length).padStart(6, '0')}`).toString('base64');
    blockIds.push(id);
    const p = blob.stageBlock(id, body, body.byteLength).catch((err: unknown) => {
      failure ??= err;
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if (inFlight.size >= BLOCK_CONCURRENCY) await Promise.race(inFlight);
    if (failure !== undefined) throw failure;
  };

  for await (const chunk of source) {
    const buf =
      typeof chunk === 'string'
        ? Buffer.from(chunk, 'utf8')
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    hash.update(buf);
    size += buf.byteLength;
    pending.push(buf);
    pendingBytes += buf.byteLength;
    while (pendingBytes >= BLOCK_SIZE) {
      const all = Buffer.concat(pending, pendingBytes);
      await stage(all.subarray(0, BLOCK_SIZE));
      const rest = all.subarray(BLOCK_SIZE);
      pending = rest.byteLength > 0 ? [rest] : [];
      pendingBytes = rest.byteLength;
    }
  }
  if (pendingBytes > 0) await stage(Buffer.concat(pending, pendingBytes));
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure;
  return { blockIds, size, contentHash: hash.digest('hex') };
}
