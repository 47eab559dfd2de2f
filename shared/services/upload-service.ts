import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { pipeline, Transform } from 'node:stream';
import type { Readable } from 'node:stream';
import { formatDatastoreUri } from '../domain/data-uri.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { ArtifactInfo, ArtifactStore } from '../ports/artifact-store.js';
import type { DatastoreResolver } from '../ports/datastore-resolver.js';

/** The datastore local paths in specs are uploaded to unless a spec names another. */
export const DEFAULT_UPLOAD_DATASTORE = 'workspaceblobstore';
/** Uploads land at <LOCAL_UPLOAD_FOLDER>/<content hash>/<name>. */
export const LOCAL_UPLOAD_FOLDER = 'LocalUpload';
/** One small object per stored content hash, holding a datastore path with that content. */
export const CONTENT_INDEX_FOLDER = `${LOCAL_UPLOAD_FOLDER}/.sha256`;

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Where an upload writes: one datastore of one workspace, reached directly (server, tests) or
 * through the REST API (CLI, cli/sdk/upload-target.ts). Paths are datastore paths.
 */
export interface UploadTarget {
  /** The datastore written to; the returned URI names it. */
  readonly datastore: string;
  /** sha256 (lowercase hex) of the object at `path`, or undefined when there is none. */
  exists(path: string): Promise<string | undefined>;
  /** Stores the stream at `path`; the target refuses content whose sha256 or size differ. */
  put(path: string, stream: Readable, sha256: string, size: number): Promise<void>;
  /**
   * Copies content the datastore already holds under another path (found by its sha256) to
   * `path` without sending the bytes again; false when the datastore holds no such content.
   */
  copyByHash?(path: string, sha256: string, size: number): Promise<boolean>;
}

export interface UploadResult {
  /** azureml://datastores/<ds>/paths/LocalUpload/<hash>/<name>, with a trailing '/' for a folder. */
  uri: string;
  files: number;
  bytes: number;
  /** Files whose bytes were sent. */
  uploaded: number;
  /** Files the datastore already held under another path, copied there without sending them. */
  copied: number;
  /** Files already in place with the same content. */
  skipped: number;
}

interface UploadCommon {
  localPath: string;
  /** Bytes done and bytes in all; called at the start, as bytes flow, and at the end. */
  onProgress?: (done: number, total: number) => void;
  /** Files sent at once (default 4). */
  concurrency?: number;
}

export type UploadLocalPathOptions = UploadCommon &
  ({ target: UploadTarget } | { datastores: DatastoreResolver; workspace: string; datastore?: string });

export interface LocalFileEntry {
  /** Absolute path on this machine. */
  abs: string;
  /** '/'-separated path inside the upload (the file's own name for a single file). */
  rel: string;
  size: number;
  sha256: string;
}

export interface HashedLocalPath {
  kind: 'file' | 'folder';
  /** The file's or folder's own name. */
  name: string;
  /** sha256 of the manifest: one line per file with its relative path, sha256 and size. */
  hash: string;
  files: LocalFileEntry[];
  bytes: number;
}

/**
 * Content-hashes a local file or folder (symbolic links followed, each folder once). The hash
 * covers relative paths and contents, so the same tree always hashes the same, wherever it is.
 */
export async function hashLocalPath(localPath: string): Promise<HashedLocalPath> {
  const abs = resolve(localPath);
  const st = await stat(abs).catch((err: unknown) => {
    throw new NotFoundError(`The local path ${localPath} (${abs}) does not exist.`, { target: 'path', cause: err });
  });
  const name = basename(abs);
  if (name === '') throw new ValidationError(`Refusing to upload the root folder ${abs}.`, { target: 'path' });
  const found: { abs: string; rel: string }[] = [];
  if (st.isFile()) found.push({ abs, rel: name });
  else if (st.isDirectory()) await walkFolder(abs, '', new Set([await realpath(abs)]), found);
  else throw new ValidationError(`${abs} is neither a file nor a folder.`, { target: 'path' });
  if (found.length === 0) throw new ValidationError(`The folder ${abs} holds no files to upload.`, { target: 'path' });
  found.sort((a, b) => Buffer.compare(Buffer.from(a.rel), Buffer.from(b.rel)));

  const files: LocalFileEntry[] = [];
  const manifest = createHash('sha256');
  let bytes = 0;
  for (const f of found) {
    const { sha256, size } = await hashFile(f.abs);
    files.push({ ...f, sha256, size });
    manifest.update(`${f.rel}\0${sha256}\0${size}\n`);
    bytes += size;
  }
  return { kind: st.isFile() ? 'file' : 'folder', name, hash: manifest.digest('hex'), files, bytes };
}

async function walkFolder(
  dir: string,
  rel: string,
  seen: Set<string>,
  out: { abs: string; rel: string }[],
): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    const abs = join(dir, e.name);
    const path = rel === '' ? e.name : `${rel}/${e.name}`;
    const st = e.isSymbolicLink() ? await stat(abs).catch(() => undefined) : e;
    if (st === undefined) throw new ValidationError(`${abs} is a broken symbolic link.`, { target: 'path' });
    if (st.isDirectory()) {
      const real = await realpath(abs);
      if (seen.has(real)) continue; // a link back into the tree: each folder is uploaded once
      seen.add(real);
      await walkFolder(abs, path, seen, out);
    } else if (st.isFile()) {
      out.push({ abs, rel: path });
    }
  }
}

async function hashFile(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).byteLength;
  }
  return { sha256: hash.digest('hex'), size };
}

/**
 * Uploads a local file or folder to `LocalUpload/<hash>/<name>` in a datastore and returns its
 * azureml:// URI. A file already at its place with the same sha256 is skipped; one the datastore
 * holds elsewhere is copied there by the target; only the others are sent.
 */
export async function uploadLocalPath(options: UploadLocalPathOptions): Promise<UploadResult> {
  const target =
    'target' in options
      ? options.target
      : createDirectUploadTarget({
          objects: createDatastoreObjects({ datastores: options.datastores }),
          workspace: options.workspace,
          datastore: options.datastore ?? DEFAULT_UPLOAD_DATASTORE,
        });
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer; got ${String(concurrency)}.`);
  }
  const hashed = await hashLocalPath(options.localPath);
  const base = `${LOCAL_UPLOAD_FOLDER}/${hashed.hash}/${hashed.name}`;
  const total = hashed.bytes;
  let done = 0;
  const progress = (n: number): void => {
    done += n;
    options.onProgress?.(done, total);
  };
  options.onProgress?.(0, total);

  const result: UploadResult = {
    uri: formatDatastoreUri(target.datastore, hashed.kind === 'folder' ? `${base}/` : base),
    files: hashed.files.length,
    bytes: total,
    uploaded: 0,
    copied: 0,
    skipped: 0,
  };
  const queue = [...hashed.files];
  const worker = async (): Promise<void> => {
    try {
      await drain();
    } catch (err) {
      queue.length = 0; // the other workers stop after their current file
      throw err;
    }
  };
  const drain = async (): Promise<void> => {
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
      const path = hashed.kind === 'folder' ? `${base}/${f.rel}` : base;
      if ((await target.exists(path)) === f.sha256) {
        result.skipped++;
        progress(f.size);
      } else if (target.copyByHash !== undefined && (await target.copyByHash(path, f.sha256, f.size))) {
        result.copied++;
        progress(f.size);
      } else {
        const counted = countingStream(progress);
        const source = createReadStream(f.abs);
        pipeline(source, counted, () => undefined);
        try {
          await target.put(path, counted, f.sha256, f.size);
        } finally {
          source.destroy();
        }
        result.uploaded++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, hashed.files.length) }, worker));
  return result;
}

function countingStream(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      onBytes(chunk.byteLength);
      callback(null, chunk);
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Server side: writing into a workspace's datastore.
// ---------------------------------------------------------------------------------------------

export interface PutObjectOptions {
  /** Refuse the content unless its sha256 is this (lowercase hex). */
  sha256?: string;
  /** Refuse the content unless it has this many bytes. */
  size?: number;
  contentType?: string;
}

/** Reads and writes objects of a workspace's datastores by datastore path (the upload route's service). */
export interface DatastoreObjects {
  stat(workspace: string, datastore: string, path: string): Promise<ArtifactInfo | undefined>;
  /** Streams `body` into the datastore; a sha256 or size mismatch is a ValidationError and nothing is stored. */
  put(
    workspace: string,
    datastore: string,
    path: string,
    body: Readable,
    options?: PutObjectOptions,
  ): Promise<ArtifactInfo>;
  /**
   * Copies the content with this sha256, if the datastore holds it under a path the content
   * index remembers, to `path`. undefined when it holds none (the caller then sends the bytes).
   */
  copyByHash(workspace: string, datastore: string, path: string, sha256: string): Promise<ArtifactInfo | undefined>;
}

interface Located {
  store: ArtifactStore;
  container: string;
  base: string;
}

export function createDatastoreObjects(deps: { datastores: DatastoreResolver }): DatastoreObjects {
  async function locate(workspace: string, datastore: string): Promise<Located> {
    const { store, container, prefix } = await deps.datastores.resolve(workspace, datastore);
    const trimmed = prefix.replace(/^\/+|\/+$/g, '');
    return { store, container, base: trimmed === '' ? '' : `${trimmed}/` };
  }

  /** Writes through a verifier so that content with the wrong hash or size is never committed. */
  async function write(
    loc: Located,
    datastore: string,
    path: string,
    body: Readable,
    options: PutObjectOptions,
  ): Promise<ArtifactInfo> {
    const sha = checkSha256(options.sha256);
    const verifier = verifyingStream(datastore, path, sha, options.size);
    pipeline(body, verifier, () => undefined);
    let info: ArtifactInfo;
    try {
      info = await loc.store.put(loc.container, loc.base + path, verifier, {
        ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
      });
    } catch (err) {
      body.destroy();
      throw verifier.failure ?? err;
    }
    // The index only saves a later upload from sending these bytes again; losing an entry costs nothing else.
    await loc.store
      .put(loc.container, `${loc.base}${CONTENT_INDEX_FOLDER}/${info.contentHash}`, path, { contentType: 'text/plain' })
      .catch(() => undefined);
    return { ...info, path };
  }

  return {
    async stat(workspace, datastore, path) {
      const loc = await locate(workspace, datastore);
      const info = await loc.store.stat(loc.container, loc.base + path);
      return info === undefined ? undefined : { ...info, path };
    },

    async put(workspace, datastore, path, body, options = {}) {
      const loc = await locate(workspace, datastore);
      return write(loc, datastore, path, body, options);
    },

    async copyByHash(workspace, datastore, path, sha256) {
      const sha = checkSha256(sha256) ?? '';
      const loc = await locate(workspace, datastore);
      let source: string;
      try {
        source = (await loc.store.get(loc.container, `${loc.base}${CONTENT_INDEX_FOLDER}/${sha}`)).toString('utf8');
      } catch (err) {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      }
      // The entry only points somewhere; trust what is there now, not what was there then.
      const found = await loc.store.stat(loc.container, loc.base + source).catch(() => undefined);
      if (found === undefined || found.contentHash !== sha) return undefined;
      if (source === path) return { ...found, path };
      const stream = await loc.store.stream(loc.container, loc.base + source);
      return write(loc, datastore, path, stream, { sha256: sha, size: found.size, contentType: found.contentType });
    },
  };
}

function checkSha256(sha256: string | undefined): string | undefined {
  if (sha256 === undefined) return undefined;
  if (!SHA256_HEX.test(sha256)) {
    throw new ValidationError(`Invalid sha256 ${JSON.stringify(sha256)}: expected 64 lowercase hex digits.`, {
      target: 'x-content-sha256',
    });
  }
  return sha256;
}

type VerifyingStream = Transform & { failure?: ValidationError };

function verifyingStream(datastore: string, path: string, sha256?: string, size?: number): VerifyingStream {
  const hash = createHash('sha256');
  let bytes = 0;
  const stream: VerifyingStream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.byteLength;
      callback(null, chunk);
    },
    flush(callback) {
      const actual = hash.digest('hex');
      if (size !== undefined && bytes !== size) {
        stream.failure = new ValidationError(
          `The upload of ${datastore}/${path} has ${bytes} bytes, not the ${size} announced; nothing was stored.`,
          { target: 'body' },
        );
      } else if (sha256 !== undefined && actual !== sha256) {
        stream.failure = new ValidationError(
          `The upload of ${datastore}/${path} has sha256 ${actual}, not the ${sha256} announced (did the file change ` +
            'while it was sent?); nothing was stored.',
          { target: 'x-content-sha256' },
        );
      }
      callback(stream.failure);
    },
  });
  return stream;
}

/** An UploadTarget over DatastoreObjects in this process (server side, tests). */
export function createDirectUploadTarget(options: {
  objects: DatastoreObjects;
  workspace: string;
  datastore: string;
}): UploadTarget {
  const { objects, workspace, datastore } = options;
  return {
    datastore,
    async exists(path) {
      return (await objects.stat(workspace, datastore, path))?.contentHash;
    },
    async put(path, stream, sha256, size) {
      await objects.put(workspace, datastore, path, stream, { sha256, size });
    },
    async copyByHash(path, sha256) {
      return (await objects.copyByHash(workspace, datastore, path, sha256)) !== undefined;
    },
  };
}
