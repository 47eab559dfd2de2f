import { createHash, randomUUID } from 'node:crypto';
import type { BigIntStats, Stats } from 'node:fs';
import {
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  rmdir,
  stat,
  unlink,
  writeFile,
  type FileHandle,
} from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { ConflictError, ForbiddenError, NotFoundError, PreconditionFailedError, ValidationError } from '../errors.js';
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
import { resolveSignedUrlExpiry, signedArtifactUrl } from '../domain/signed-url.js';

export interface FilesystemArtifactStoreOptions {
  root: string;
  signingKey: Buffer;
  /** Origin the signed URLs point at, e.g. http://127.0.0.1:7071. */
  publicBaseUrl: string;
}

/** Sidecar kept beside each object (under root/.meta); `ino` ties it to one version of the data file. */
interface Sidecar {
  v: 1;
  ino: string;
  size: number;
  contentHash: string;
  contentType: string;
  etag: string;
  lastModified: number;
  metadata: Record<string, string>;
}

const META_DIR = '.meta';
const TMP_DIR = '.tmp';
/** A list token resumes after the last path of the previous page ('a'). */
const LIST_TOKEN = artifactListTokenFormat('a');

type PutListener = (info: ArtifactInfo) => void;
const listenersByRoot = new Map<string, Set<PutListener>>();
const locks = new Map<string, Promise<void>>();

/** Serialises commits to one object inside this process. */
async function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = locks.get(key) ?? Promise.resolve();
  let release!: () => void;
  const current = new Promise<void>((r) => (release = r));
  const chained = previous.then(() => current);
  locks.set(key, chained);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    if (locks.get(key) === chained) locks.delete(key);
  }
}

function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function isSidecar(x: unknown): x is Sidecar {
  const s = x as Partial<Sidecar> | null;
  return (
    !!s &&
    s.v === 1 &&
    typeof s.ino === 'string' &&
    typeof s.size === 'number' &&
    typeof s.contentHash === 'string' &&
    typeof s.contentType === 'string' &&
    typeof s.etag === 'string' &&
    typeof s.lastModified === 'number' &&
    !!s.metadata &&
    typeof s.metadata === 'object'
  );
}

/**
 * ArtifactStore on a local folder with blob semantics. Data lives at root/<container>/<path>;
 * each object's sidecar (sha256, content type, etag, user metadata) lives at
 * root/.meta/<container>/<path>. A put streams into root/.tmp, then renames the data file into
 * place and then its sidecar; the sidecar names the data file's inode, so a crash between the two
 * renames is detected on the next read and repaired from the pending sidecar left in root/.tmp.
 * Concurrent writers to one object are serialised within a process (not across processes).
 * A path cannot be both an object and a folder ('a' and 'a/b'): the second put is a ConflictError.
 */
export class FilesystemArtifactStore implements ArtifactStore {
  readonly kind = 'filesystem';
  private readonly root: string;
  private readonly signingKey: Buffer;
  private readonly publicBaseUrl: string;
  private rootReal: string | undefined;

  constructor(options: { root: string; signingKey: Buffer; publicBaseUrl: string }) {
    if (!Buffer.isBuffer(options.signingKey) || options.signingKey.length < 16) {
      throw new ValidationError('signingKey must be a Buffer of at least 16 bytes.', { target: 'signingKey' });
    }
    this.root = resolve(options.root);
    this.signingKey = options.signingKey;
    this.publicBaseUrl = options.publicBaseUrl.replace(/\/+$/, '');
  }

  /**
   * Calls `listener` after every successful put by any FilesystemArtifactStore on the same root
   * in this process (the local host's blob triggers). Returns an unsubscribe function.
   */
  static onPut(root: string, listener: (info: ArtifactInfo) => void): () => void {
    const key = resolve(root);
    let set = listenersByRoot.get(key);
    if (set === undefined) {
      set = new Set();
      listenersByRoot.set(key, set);
    }
    set.add(listener);
    return () => {
      const s = listenersByRoot.get(key);
      s?.delete(listener);
      if (s?.size === 0) listenersByRoot.delete(key);
    };
  }

  private dataPath(container: string, path: string): string {
    return join(this.root, container, ...path.split('/'));
  }

  private metaPath(container: string, path: string): string {
    return join(this.root, META_DIR, container, ...path.split('/'));
  }

  private pendingPath(container: string, path: string, ino: string): string {
    const h = createHash('sha256').update(`${container}/${path}`).digest('hex').slice(0, 40);
    return join(this.root, TMP_DIR, `pending-${h}-${ino}.json`);
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

    const tmpDir = join(this.root, TMP_DIR);
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, `${randomUUID()}.data`);
    let committed = false;
    let pending: string | undefined;
    try {
      const { size, contentHash, ino } = await writeTemp(tmp, data);
      const info = await withLock(`${this.root}\0${container}\0${p}`, async () => {
        const current = await this.readInfo(container, p);
        if (options.ifNoneMatch === '*' && current !== undefined) {
          throw new ConflictError(`Artifact ${container}/${p} already exists (ifNoneMatch '*').`, { target: 'path' });
        }
        if (
          options.ifMatch !== undefined &&
          (current === undefined || (options.ifMatch !== '*' && current.etag !== options.ifMatch))
        ) {
          throw new PreconditionFailedError(
            current === undefined
              ? `Artifact ${container}/${p} does not exist, so it cannot match etag ${JSON.stringify(options.ifMatch)}.`
              : `Artifact ${container}/${p} is not at etag ${JSON.stringify(options.ifMatch)}: it changed since it was read.`,
            { target: 'ifMatch' },
          );
        }
        const sidecar: Sidecar = {
          v: 1,
          ino,
          size,
          contentHash,
          contentType,
          etag: `"${randomUUID()}"`,
          lastModified: Date.now(),
          metadata,
        };
        pending = this.pendingPath(container, p, ino);
        await writeDurably(pending, JSON.stringify(sidecar));
        const target = this.dataPath(container, p);
        await this.renameInto(tmp, target, container, p);
        committed = true;
        const metaFile = this.metaPath(container, p);
        try {
          await this.renameInto(pending, metaFile, container, p);
        } catch (err) {
          // A concurrent reader may already have moved the pending sidecar into place (see readInfo).
          const placed = await readSidecar(metaFile);
          if (placed?.ino !== ino || placed.etag !== sidecar.etag) throw err;
        }
        pending = undefined;
        return toInfo(container, p, sidecar);
      });
      this.notify(info);
      return info;
    } finally {
      if (!committed) await rm(tmp, { force: true }).catch(() => undefined);
      if (!committed && pending !== undefined) await rm(pending, { force: true }).catch(() => undefined);
    }
  }

  /** rename(2) into place, creating folders; a path that clashes with a folder/object is a ConflictError. */
  private async renameInto(from: string, to: string, container: string, path: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await mkdir(dirname(to), { recursive: true });
        await rename(from, to);
        return;
      } catch (err) {
        const code = errnoOf(err);
        // A concurrent delete may remove an emptied parent folder between mkdir and rename.
        if (code === 'ENOENT' && attempt < 3) continue;
        if (code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST' || code === 'ENOTEMPTY') {
          throw new ConflictError(
            `Artifact path ${container}/${path} clashes with an existing object or folder: a path cannot be both ('a' and 'a/b').`,
            { target: 'path', cause: err },
          );
        }
        throw err;
      }
    }
  }

  private notify(info: ArtifactInfo): void {
    const set = listenersByRoot.get(this.root);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        listener(info);
      } catch (err) {
        process.emitWarning(
          `FilesystemArtifactStore onPut listener failed: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
  }

  /** The object's info, repairing the sidecar if a put crashed between its two renames. */
  private async readInfo(container: string, path: string): Promise<ArtifactInfo | undefined> {
    const file = this.dataPath(container, path);
    let st: BigIntStats;
    try {
      st = await lstat(file, { bigint: true });
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw err;
    }
    if (!st.isFile()) return undefined;
    const ino = st.ino.toString();
    const size = Number(st.size);
    const metaFile = this.metaPath(container, path);
    const sidecar = await readSidecar(metaFile);
    if (sidecar !== undefined && sidecar.ino === ino && sidecar.size === size) return toInfo(container, path, sidecar);
    const pendingFile = this.pendingPath(container, path, ino);
    const pending = await readSidecar(pendingFile);
    if (pending !== undefined && pending.ino === ino && pending.size === size) {
      await this.renameInto(pendingFile, metaFile, container, path).catch(() => undefined);
      return toInfo(container, path, pending);
    }
    // No sidecar for this data (a file copied in by hand, or one whose pending sidecar was lost):
    // rebuild it from the bytes.
    const rebuilt: Sidecar = {
      v: 1,
      ino,
      size,
      contentHash: await hashFile(file),
      contentType: DEFAULT_CONTENT_TYPE,
      etag: `"${randomUUID()}"`,
      lastModified: Math.floor(Number(st.mtimeMs)),
      metadata: {},
    };
    const tmp = join(this.root, TMP_DIR, `${randomUUID()}.json`);
    await mkdir(dirname(tmp), { recursive: true });
    await writeFile(tmp, JSON.stringify(rebuilt));
    await this.renameInto(tmp, metaFile, container, path).catch(() => rm(tmp, { force: true }));
    return toInfo(container, path, rebuilt);
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
    for (;;) {
      if ((await this.readInfo(container, p)) === undefined) {
        try {
          const info = await this.put(container, p, bytes, { ...options, ifNoneMatch: '*' });
          return info.size;
        } catch (err) {
          if (err instanceof ConflictError && (await this.readInfo(container, p)) !== undefined) continue;
          throw err;
        }
      }
      return withLock(`${this.root}\0${container}\0${p}`, async () => {
        const current = await this.readInfo(container, p);
        if (current === undefined) throw new NotFoundError(`Artifact ${container}/${p} was deleted while appending.`);
        const file = await this.confined(container, p);
        const fh = await open(file, 'a');
        let st: BigIntStats;
        try {
          await fh.write(bytes);
          await fh.sync();
          st = await fh.stat({ bigint: true });
        } finally {
          await fh.close();
        }
        const sidecar: Sidecar = {
          v: 1,
          ino: st.ino.toString(),
          size: Number(st.size),
          contentHash: await hashFile(file),
          contentType: current.contentType,
          etag: `"${randomUUID()}"`,
          lastModified: Date.now(),
          metadata: current.metadata,
        };
        const tmp = join(this.root, TMP_DIR, `${randomUUID()}.json`);
        await writeFile(tmp, JSON.stringify(sidecar));
        await this.renameInto(tmp, this.metaPath(container, p), container, p);
        this.notify(toInfo(container, p, sidecar));
        return sidecar.size;
      });
    }
  }

  async readRange(container: string, path: string, offset: number, maxBytes: number): Promise<Buffer> {
    assertArtifactContainer(container);
    const p = normalizeArtifactPath(path);
    checkRange(offset, maxBytes);
    const file = await this.confined(container, p);
    let fh: FileHandle;
    try {
      fh = await open(file, 'r');
    } catch (err) {
      throw this.notFoundOr(err, container, p);
    }
    try {
      const buf = Buffer.alloc(maxBytes);
      let filled = 0;
      while (filled < maxBytes) {
        const { bytesRead } = await fh.read(buf, filled, maxBytes - filled, offset + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return buf.subarray(0, filled);
    } finally {
      await fh.close();
    }
  }

  async get(container: string, path: string): Promise<Buffer> {
    assertArtifactContainer(container);
    const p = normalizeArtifactPath(path);
    const file = await this.confined(container, p);
    try {
      return await readFile(file);
    } catch (err) {
      throw this.notFoundOr(err, container, p);
    }
  }

  async stream(container: string, path: string): Promise<Readable> {
    assertArtifactContainer(container);
    const p = normalizeArtifactPath(path);
    const file = await this.confined(container, p);
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (err) {
      throw this.notFoundOr(err, container, p);
    }
    const st: Stats = await handle.stat();
    if (!st.isFile()) {
      await handle.close();
      throw new NotFoundError(`Artifact ${container}/${p} does not exist.`, { target: 'path' });
    }
    return handle.createReadStream({ autoClose: true });
  }

  /**
   * The object's file, after checking that it really lies under the root: paths from users cannot
   * escape, but a symbolic link placed in the folder by hand could point anywhere.
   */
  private async confined(container: string, path: string): Promise<string> {
    const file = this.dataPath(container, path);
    let real: string;
    try {
      this.rootReal ??= await realpath(this.root);
      real = await realpath(file);
    } catch (err) {
      throw this.notFoundOr(err, container, path);
    }
    if (!real.startsWith(this.rootReal + sep)) {
      throw new ForbiddenError(
        `Artifact ${container}/${path} resolves outside the artifact folder (a symbolic link); refusing to read it.`,
        {
          target: 'path',
        },
      );
    }
    return file;
  }

  private notFoundOr(err: unknown, container: string, path: string): unknown {
    const code = errnoOf(err);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') {
      return new NotFoundError(`Artifact ${container}/${path} does not exist.`, { target: 'path', cause: err });
    }
    return err;
  }

  async stat(container: string, path: string): Promise<ArtifactInfo | undefined> {
    assertArtifactContainer(container);
    return this.readInfo(container, normalizeArtifactPath(path));
  }

  async exists(container: string, path: string): Promise<boolean> {
    assertArtifactContainer(container);
    const p = normalizeArtifactPath(path);
    try {
      return (await stat(this.dataPath(container, p))).isFile();
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return false;
      throw err;
    }
  }

  async delete(container: string, path: string): Promise<boolean> {
    assertArtifactContainer(container);
    const p = normalizeArtifactPath(path);
    return withLock(`${this.root}\0${container}\0${p}`, async () => {
      const file = this.dataPath(container, p);
      try {
        if (!(await lstat(file)).isFile()) return false;
        await unlink(file);
      } catch (err) {
        const code = errnoOf(err);
        if (code === 'ENOENT' || code === 'ENOTDIR') return false;
        throw err;
      }
      await rm(this.metaPath(container, p), { force: true });
      await pruneEmptyParents(dirname(file), join(this.root, container));
      await pruneEmptyParents(dirname(this.metaPath(container, p)), join(this.root, META_DIR, container));
      return true;
    });
  }

  async list(container: string, options: ListOptions = {}): Promise<ListPage> {
    assertArtifactContainer(container);
    const { prefix, limit, position: after } = checkListOptions(options, LIST_TOKEN);
    const paths: string[] = [];
    await walk(join(this.root, container), '', prefix, after, paths);
    paths.sort(comparePaths);
    const page = paths.slice(0, limit);
    const items: ArtifactInfo[] = [];
    for (const p of page) {
      const info = await this.readInfo(container, p);
      if (info !== undefined) items.push(info);
    }
    const last = page[page.length - 1];
    return paths.length > limit && last !== undefined
      ? { items, continuation: encodeContinuationToken(LIST_TOKEN, prefix, last) }
      : { items };
  }

  async signedReadUrl(container: string, path: string, options?: SignedUrlOptions): Promise<string> {
    assertArtifactContainer(container);
    const p = normalizeArtifactPath(path);
    const se = resolveSignedUrlExpiry(options, Date.now());
    return signedArtifactUrl(this.publicBaseUrl, this.signingKey, container, p, se);
  }

  async close(): Promise<void> {
    // Nothing is held open between calls.
  }
}

function toInfo(container: string, path: string, s: Sidecar): ArtifactInfo {
  return {
    container,
    path,
    size: s.size,
    contentHash: s.contentHash,
    contentType: s.contentType,
    etag: s.etag,
    lastModified: s.lastModified,
    metadata: { ...s.metadata },
  };
}

async function readSidecar(file: string): Promise<Sidecar | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
    return isSidecar(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

async function writeDurably(file: string, text: string): Promise<void> {
  const fh = await open(file, 'wx');
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes `data` to a new file while hashing it; a Readable is streamed, never held whole in memory. */
async function writeTemp(
  file: string,
  data: Buffer | Uint8Array | string | Readable,
): Promise<{ size: number; contentHash: string; ino: string }> {
  const hash = createHash('sha256');
  let size = 0;
  const fh = await open(file, 'wx');
  try {
    if (typeof data === 'string' || data instanceof Uint8Array) {
      const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      hash.update(buf);
      size = buf.byteLength;
      await fh.writeFile(buf);
    } else if (data && typeof (data as Readable)[Symbol.asyncIterator] === 'function') {
      for await (const chunk of data as AsyncIterable<Buffer | string>) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
        hash.update(buf);
        size += buf.byteLength;
        let offset = 0;
        while (offset < buf.byteLength) {
          const { bytesWritten } = await fh.write(buf, offset, buf.byteLength - offset);
          offset += bytesWritten;
        }
      }
    } else {
      throw new ValidationError('data must be a Buffer, Uint8Array, string or Readable stream.', { target: 'data' });
    }
    await fh.sync();
    const st = await fh.stat({ bigint: true });
    return { size, contentHash: hash.digest('hex'), ino: st.ino.toString() };
  } finally {
    await fh.close();
  }
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  const fh = await open(file, 'r');
  try {
    for await (const chunk of fh.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

async function pruneEmptyParents(dir: string, stopAt: string): Promise<void> {
  let current = dir;
  while (current.length > stopAt.length && current.startsWith(stopAt)) {
    try {
      await rmdir(current);
    } catch {
      return; // not empty, already gone, or in use by a concurrent put
    }
    current = dirname(current);
  }
}

/** Lexicographic order of the UTF-8 bytes, as Azure lists blobs. */
function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Collects object paths under `dir` that start with `prefix` and sort after `after`. */
async function walk(dir: string, rel: string, prefix: string, after: string | undefined, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    throw err;
  }
  for (const e of entries) {
    const path = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) {
      const asDir = `${path}/`;
      if (prefix.startsWith(asDir) || asDir.startsWith(prefix)) await walk(join(dir, e.name), path, prefix, after, out);
    } else if (e.isFile()) {
      if (path.startsWith(prefix) && (after === undefined || comparePaths(path, after) > 0)) out.push(path);
    }
  }
}
