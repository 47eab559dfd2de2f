import { createReadStream } from 'node:fs';
import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { compileGlob, formatDataUri, isFolderUri, parseDataUri, withDataPath } from '../domain/data-uri.js';
import type { AdlsDataUri, BlobDataUri, DatastoreDataUri } from '../domain/data-uri.js';
import { AppError, ForbiddenError, NotFoundError, TransientError, ValidationError } from '../errors.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { DatastoreResolver, ResolvedDatastore } from '../ports/datastore-resolver.js';

/** What `stat` knows about one object; `size` is undefined when an http server does not say. */
export interface DataObjectInfo {
  uri: string;
  size: number | undefined;
  /** sha256, lowercase hex; datastore objects only. */
  contentHash?: string;
  /** Epoch milliseconds, when known. */
  lastModified?: number;
}

export interface ListDataOptions {
  /** Glob relative to the folder: '*' within a folder, '**' across folders, '?' one character. */
  pattern?: string;
}

/**
 * Reads the objects that data URIs name, whatever the scheme: datastore URIs and wasb(s)/abfs(s)
 * storage-account URIs through the workspace's DatastoreResolver, http(s) through fetch, local
 * paths only under allowed roots.
 */
export interface DataAccess {
  /** The object's bytes as a stream; NotFoundError if absent, ValidationError for a folder URI. */
  open(workspace: string, uri: string): Promise<Readable>;
  /** URIs of the files under a folder URI (recursively), in path order, optionally filtered by a glob. */
  list(workspace: string, folderUri: string, options?: ListDataOptions): Promise<string[]>;
  /** undefined when the object does not exist. */
  stat(workspace: string, uri: string): Promise<DataObjectInfo | undefined>;
}

export interface DataAccessOptions {
  datastores: DatastoreResolver;
  fetch?: typeof fetch;
  /**
   * Local folders whose files may be read (the CLI passes its working folder). Relative local
   * paths resolve against the first. Default none: a server reads only datastore and http(s) URIs.
   */
  localRoots?: readonly string[];
}

/** A listing larger than this is refused rather than silently cut short. */
export const MAX_LISTED_FILES = 100_000;

interface StoreLocation {
  store: ArtifactStore;
  container: string;
  /** The datastore's prefix in the container: '' or 'some/folder/'. */
  base: string;
  /** Where the object was looked for, for messages: "datastore 'x'", "container 'c' of storage account 'a'". */
  where: string;
}

type RemoteDataUri = BlobDataUri | AdlsDataUri | DatastoreDataUri;

export function createDataAccess(options: DataAccessOptions): DataAccess {
  const { datastores } = options;
  const fetchFn = options.fetch ?? fetch;
  const roots = (options.localRoots ?? []).map((r) => resolve(r));

  async function locate(workspace: string, u: RemoteDataUri, uri: string): Promise<StoreLocation> {
    if (u.scheme !== 'azureml-datastore') return locateStorage(workspace, u, uri);
    if (u.workspace !== undefined && u.workspace !== workspace) {
      throw new ForbiddenError(
        `${uri} names workspace '${u.workspace}', but this request runs in workspace '${workspace}'. ` +
          `Use azureml://datastores/${u.datastore}/paths/${u.path} for this workspace's datastore; ` +
          'reading another workspace through a URI is not supported.',
        { target: 'path' },
      );
    }
    const { store, container, prefix } = await datastores.resolve(workspace, u.datastore);
    const trimmed = prefix.replace(/^\/+|\/+$/g, '');
    return { store, container, base: trimmed === '' ? '' : `${trimmed}/`, where: `datastore '${u.datastore}'` };
  }

  /** wasb(s)/abfs(s): the container (or file system) of the account, through the datastore registered for it. */
  async function locateStorage(workspace: string, u: BlobDataUri | AdlsDataUri, uri: string): Promise<StoreLocation> {
    const isBlob = u.scheme === 'wasb' || u.scheme === 'wasbs';
    const container = 'container' in u ? u.container : u.filesystem;
    const where = `${isBlob ? 'container' : 'file system'} '${container}' of storage account '${u.account}'`;
    if (datastores.resolveStorageLocation === undefined) {
      throw new ValidationError(
        `${uri} names storage account '${u.account}' directly, and this process resolves only datastore URIs. ` +
          `Register a datastore for account '${u.account}', container '${container}', then use ` +
          `azureml://datastores/<name>/paths/${u.path}.`,
        { target: 'path' },
      );
    }
    let resolved: ResolvedDatastore;
    try {
      resolved = await datastores.resolveStorageLocation(workspace, {
        kind: isBlob ? 'blob' : 'adls',
        account: u.account,
        container,
        endpointSuffix: u.endpointSuffix,
      });
    } catch (err) {
      // Name the URI: a spec or an MLTable may hold many.
      if (err instanceof AppError && (err.code === 'ValidationError' || err.code === 'Forbidden')) {
        const message = `Cannot read ${uri}: ${err.message}`;
        const options = { target: err.target ?? 'path', cause: err };
        throw err.code === 'Forbidden' ? new ForbiddenError(message, options) : new ValidationError(message, options);
      }
      throw err;
    }
    const trimmed = resolved.prefix.replace(/^\/+|\/+$/g, '');
    return {
      store: resolved.store,
      container: resolved.container,
      base: trimmed === '' ? '' : `${trimmed}/`,
      where,
    };
  }

  async function localPath(raw: string): Promise<string> {
    const first = roots[0];
    if (first === undefined) {
      throw new ForbiddenError(
        `The local path ${JSON.stringify(raw)} cannot be read here: this process allows no local folders ` +
          '(the server reads only azureml:// datastore and http(s) URIs). Upload it first — the CLI uploads ' +
          'local paths in a spec to the workspace datastore — or give an azureml:// URI.',
        { target: 'path' },
      );
    }
    const abs = isAbsolute(raw) ? resolve(raw) : resolve(first, raw);
    if (!roots.some((r) => isInside(r, abs))) {
      throw new ForbiddenError(
        `The local path ${JSON.stringify(raw)} (${abs}) lies outside the folders this process may read: ${roots.join(', ')}.`,
        { target: 'path' },
      );
    }
    let real: string;
    try {
      real = await realpath(abs);
    } catch {
      return abs; // does not exist (yet): the caller reports it
    }
    const realRoots = await Promise.all(roots.map((r) => realpath(r).catch(() => r)));
    if (!realRoots.some((r) => isInside(r, real))) {
      throw new ForbiddenError(
        `The local path ${JSON.stringify(raw)} resolves through a symbolic link to ${real}, outside the folders this process may read.`,
        { target: 'path' },
      );
    }
    return abs;
  }

  async function httpRequest(method: 'GET' | 'HEAD', url: string): Promise<Response> {
    let res: Response;
    try {
      res = await fetchFn(url, { method, redirect: 'follow' });
    } catch (err) {
      const reason = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
      throw new TransientError(`${method} ${redactUrl(url)} failed: ${reason}.`, { target: 'path', cause: err });
    }
    return res;
  }

  return {
    async open(workspace, uri) {
      const u = parseDataUri(uri);
      if (isFolderUri(u)) {
        throw new ValidationError(`${uri} names a folder; open names a file. List the folder to find its files.`, {
          target: 'path',
        });
      }
      switch (u.scheme) {
        case 'file': {
          const file = await localPath(u.path);
          const st = await stat(file).catch(() => undefined);
          if (st === undefined) throw new NotFoundError(`The local file ${file} does not exist.`, { target: 'path' });
          if (!st.isFile()) throw new ValidationError(`${file} is not a file.`, { target: 'path' });
          return createReadStream(file);
        }
        case 'http': {
          const res = await httpRequest('GET', u.url);
          if (!res.ok) {
            await res.body?.cancel().catch(() => undefined);
            throw httpStatusError('GET', u.url, res);
          }
          if (res.body === null) return Readable.from([]);
          return Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
        }
        case 'wasb':
        case 'wasbs':
        case 'abfs':
        case 'abfss':
        case 'azureml-datastore': {
          const loc = await locate(workspace, u, uri);
          try {
            return await loc.store.stream(loc.container, loc.base + u.path);
          } catch (err) {
            if (err instanceof NotFoundError) {
              throw new NotFoundError(`${uri} does not exist in ${loc.where}.`, { target: 'path', cause: err });
            }
            throw err;
          }
        }
      }
    },

    async stat(workspace, uri) {
      const u = parseDataUri(uri);
      switch (u.scheme) {
        case 'file': {
          const file = await localPath(u.path);
          const st = await stat(file).catch(() => undefined);
          if (st === undefined || !st.isFile()) return undefined;
          return { uri, size: st.size, lastModified: Math.floor(st.mtimeMs) };
        }
        case 'http': {
          const res = await httpRequest('HEAD', u.url);
          if (res.status === 404 || res.status === 410) return undefined;
          if (!res.ok) throw httpStatusError('HEAD', u.url, res);
          const length = res.headers.get('content-length');
          const modified = res.headers.get('last-modified');
          const lastModified = modified === null ? Number.NaN : Date.parse(modified);
          return {
            uri,
            size: length === null || !/^\d+$/.test(length) ? undefined : Number(length),
            ...(Number.isFinite(lastModified) ? { lastModified } : {}),
          };
        }
        case 'wasb':
        case 'wasbs':
        case 'abfs':
        case 'abfss':
        case 'azureml-datastore': {
          if (isFolderUri(u)) return undefined;
          const loc = await locate(workspace, u, uri);
          const info = await loc.store.stat(loc.container, loc.base + u.path);
          if (info === undefined) return undefined;
          return { uri, size: info.size, contentHash: info.contentHash, lastModified: info.lastModified };
        }
      }
    },

    async list(workspace, folderUri, listOptions = {}) {
      const u = parseDataUri(folderUri);
      const match = listOptions.pattern === undefined ? undefined : compileGlob(listOptions.pattern);
      switch (u.scheme) {
        case 'file': {
          const folder = await localPath(u.path);
          const st = await stat(folder).catch(() => undefined);
          if (st === undefined)
            throw new NotFoundError(`The local folder ${folder} does not exist.`, { target: 'path' });
          if (!st.isDirectory()) throw new ValidationError(`${folder} is not a folder.`, { target: 'path' });
          const realRoots = await Promise.all(roots.map((r) => realpath(r).catch(() => r)));
          const out: string[] = [];
          await walkLocal(folder, '', realRoots, match, out);
          return out.sort().map((rel) => localUri(join(folder, ...rel.split('/'))));
        }
        case 'http':
          throw new ValidationError(
            `${redactUrl(u.url)} is an http(s) URL; http servers cannot list folders, so name each file instead.`,
            { target: 'path' },
          );
        case 'wasb':
        case 'wasbs':
        case 'abfs':
        case 'abfss':
        case 'azureml-datastore': {
          const loc = await locate(workspace, u, folderUri);
          const folder = u.path === '' || u.path.endsWith('/') ? u.path : `${u.path}/`;
          const prefix = loc.base + folder;
          const out: string[] = [];
          let continuation: string | undefined;
          do {
            const page = await loc.store.list(loc.container, {
              ...(prefix === '' ? {} : { prefix }),
              ...(continuation === undefined ? {} : { continuation }),
            });
            for (const item of page.items) {
              const rel = item.path.slice(prefix.length);
              if (match !== undefined && !match.test(rel)) continue;
              out.push(formatDataUri(withDataPath(u, folder + rel)));
              if (out.length > MAX_LISTED_FILES) throw tooMany(folderUri);
            }
            continuation = page.continuation;
          } while (continuation !== undefined);
          return out;
        }
      }
    },
  };

  async function walkLocal(
    dir: string,
    rel: string,
    realRoots: readonly string[],
    match: RegExp | undefined,
    out: string[],
  ): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      throw new NotFoundError(`Cannot read the local folder ${dir}.`, { target: 'path', cause: err });
    }
    for (const e of entries) {
      const path = rel === '' ? e.name : `${rel}/${e.name}`;
      const full = join(dir, e.name);
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        // A link to a file counts if it stays inside the allowed folders; links to folders are not followed.
        const real = await realpath(full).catch(() => undefined);
        const st = real === undefined ? undefined : await stat(real).catch(() => undefined);
        isFile = real !== undefined && st?.isFile() === true && realRoots.some((r) => isInside(r, real));
      } else if (e.isDirectory()) {
        await walkLocal(full, path, realRoots, match, out);
        continue;
      }
      if (isFile && (match === undefined || match.test(path))) {
        out.push(path);
        if (out.length > MAX_LISTED_FILES) throw tooMany(dir);
      }
    }
  }
}

function tooMany(folder: string): ValidationError {
  return new ValidationError(
    `${folder} holds more than ${MAX_LISTED_FILES} files; narrow it with a pattern or a subfolder.`,
    { target: 'path' },
  );
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** file:// URI of an absolute local path, in the form parseDataUri reads back. */
function localUri(abs: string): string {
  return abs.startsWith('/') ? `file://${abs}` : `file:///${abs}`;
}

/** The URL without credentials or query values (a SAS token must never reach a log or an error). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    const hasQuery = u.search !== '';
    u.search = '';
    return hasQuery ? `${u.href}?…` : u.href;
  } catch {
    return '(an invalid URL)';
  }
}

function httpStatusError(method: string, url: string, res: Response): Error {
  const what = `${method} ${redactUrl(url)} failed: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
  if (res.status === 404 || res.status === 410) return new NotFoundError(`${what}.`, { target: 'path' });
  if (res.status === 401 || res.status === 403) {
    return new ForbiddenError(`${what}: the server refused access (an expired SAS token?).`, { target: 'path' });
  }
  if (res.status === 408 || res.status === 429 || res.status >= 500) {
    return new TransientError(`${what}; try again later.`, { target: 'path' });
  }
  return new ValidationError(`${what}.`, { target: 'path' });
}
