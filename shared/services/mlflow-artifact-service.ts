import type { Readable } from 'node:stream';
import type { ListArtifactsRequest, MlflowFileInfo } from '../contracts/mlflow-artifacts.js';
import {
  MLFLOW_ARTIFACT_DATASTORE,
  datastorePathOfProxiedArtifact,
  proxiedPathOfArtifactUri,
  relativeArtifactPath,
} from '../domain/mlflow-artifacts.js';
import { AppError, NotFoundError, ValidationError } from '../errors.js';
import type { ArtifactInfo, ArtifactStore } from '../ports/artifact-store.js';
import type { DatastoreResolver } from '../ports/datastore-resolver.js';
import { readTokenFields } from '../domain/continuation-token.js';

export interface MlflowArtifactServiceDeps {
  datastores: DatastoreResolver;
  /** The run's artifact root URI (`runs/get` info.artifact_uri); NotFoundError for an unknown run. */
  runArtifactUri(ws: string, runId: string): Promise<string>;
}

/** An artifact opened for download. */
export interface OpenedArtifact {
  info: Pick<ArtifactInfo, 'size' | 'contentType' | 'etag' | 'lastModified'>;
  body: Readable;
}

/** Entries per `artifacts/list` page. */
export const ARTIFACT_LIST_PAGE = 1000;
/** Objects asked of the store per list call while a folder is read. */
const STORE_PAGE = 1000;

/**
 * MLflow's artifact API over the workspace artifact store: the proxied `mlflow-artifacts` access
 * (upload, download, list, delete of `workspaces/<ws>/experiments/...` paths) that MLflow clients
 * use for run and logged-model artifacts, and the tracking API's `artifacts/list` of a run.
 * Listings are one level deep, folders first found by their objects (object stores have no
 * folders), sorted by path; reading a folder reads every object below it.
 */
export type MlflowArtifactService = ReturnType<typeof createMlflowArtifactService>;

export function createMlflowArtifactService(deps: MlflowArtifactServiceDeps) {
  interface Located {
    store: ArtifactStore;
    container: string;
    /** The object key of `datastorePath`. */
    key: string;
  }

  const locate = async (ws: string, proxiedPath: string): Promise<Located> => {
    const datastorePath = datastorePathOfProxiedArtifact(ws, proxiedPath);
    const { store, container, prefix } = await deps.datastores.resolve(ws, MLFLOW_ARTIFACT_DATASTORE);
    const base = prefix.replace(/^\/+|\/+$/g, '');
    return { store, container, key: base === '' ? datastorePath : `${base}/${datastorePath}` };
  };

  /** The entries directly inside a folder, by name: files with their size, folders once each. */
  const listFolder = async (loc: Located): Promise<{ name: string; isDir: boolean; size?: number }[]> => {
    const prefix = `${loc.key}/`;
    const entries = new Map<string, { name: string; isDir: boolean; size?: number }>();
    let continuation: string | undefined;
    do {
      const page = await loc.store.list(loc.container, {
        prefix,
        limit: STORE_PAGE,
        ...(continuation === undefined ? {} : { continuation }),
      });
      for (const item of page.items) {
        if (!item.path.startsWith(prefix)) continue;
        const rest = item.path.slice(prefix.length);
        const slash = rest.indexOf('/');
        const name = slash < 0 ? rest : rest.slice(0, slash);
        if (name === '' || entries.has(name)) continue;
        entries.set(name, slash < 0 ? { name, isDir: false, size: item.size } : { name, isDir: true });
      }
      continuation = page.continuation;
    } while (continuation !== undefined);
    return [...entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  };

  const fileInfo = (path: string, e: { isDir: boolean; size?: number }): MlflowFileInfo =>
    e.isDir ? { path, is_dir: true } : { path, is_dir: false, file_size: e.size ?? 0 };

  return {
    /**
     * `GET mlflow-artifacts/artifacts?path=<dir>`: the entries directly inside `dir`, named relative
     * to it. A file, or a path with nothing below it, lists as empty (as in MLflow).
     */
    async list(ws: string, path: string | undefined): Promise<{ files: MlflowFileInfo[] }> {
      if (path === undefined || path === '' || path === '/') {
        throw new ValidationError(
          `Give the folder to list as ?path=workspaces/${ws}/experiments/<experiment id>/...; the artifact root itself is not listed.`,
          { target: 'path' },
        );
      }
      const loc = await locate(ws, path.endsWith('/') ? path.slice(0, -1) : path);
      return { files: (await listFolder(loc)).map((e) => fileInfo(e.name, e)) };
    },

    /** `GET mlflow-artifacts/artifacts/<path>`: the object's bytes; NotFoundError when there is none. */
    async open(ws: string, path: string): Promise<OpenedArtifact> {
      const loc = await locate(ws, path);
      const info = await loc.store.stat(loc.container, loc.key);
      if (info === undefined) {
        const below = await loc.store.list(loc.container, { prefix: `${loc.key}/`, limit: 1 });
        const isFolder = below.items.length > 0;
        throw new NotFoundError(
          isFolder
            ? `Artifact '${path}' is a folder; list it with GET .../mlflow-artifacts/artifacts?path=${path} and download its files.`
            : `Artifact '${path}' does not exist.`,
          { target: 'path' },
        );
      }
      const body = await loc.store.stream(loc.container, loc.key);
      return {
        info: { size: info.size, contentType: info.contentType, etag: info.etag, lastModified: info.lastModified },
        body,
      };
    },

    /** `PUT mlflow-artifacts/artifacts/<path>`: stores the body there, replacing what was there. */
    async put(ws: string, path: string, body: Readable, contentType?: string): Promise<void> {
      const loc = await locate(ws, path);
      await loc.store.put(loc.container, loc.key, body, contentType === undefined ? {} : { contentType });
    },

    /**
     * `DELETE mlflow-artifacts/artifacts/<path>`: the file, or every object below the folder, as
     * MLflow deletes a folder recursively. NotFoundError when there was nothing to delete.
     */
    async delete(ws: string, path: string): Promise<void> {
      const loc = await locate(ws, path);
      if (await loc.store.delete(loc.container, loc.key)) return;
      // Gather first, then delete, so that paging is not disturbed by the deletions.
      const keys: string[] = [];
      let continuation: string | undefined;
      do {
        const page = await loc.store.list(loc.container, {
          prefix: `${loc.key}/`,
          limit: STORE_PAGE,
          ...(continuation === undefined ? {} : { continuation }),
        });
        keys.push(...page.items.map((i) => i.path));
        continuation = page.continuation;
      } while (continuation !== undefined);
      if (keys.length === 0) throw new NotFoundError(`Artifact '${path}' does not exist.`, { target: 'path' });
      for (const key of keys) await loc.store.delete(loc.container, key);
    },

    /**
     * Tracking API `artifacts/list`: the entries directly inside `path` of the run's artifact root,
     * with paths relative to that root, `ARTIFACT_LIST_PAGE` per page.
     */
    async listRunArtifacts(
      ws: string,
      req: ListArtifactsRequest,
    ): Promise<{ root_uri: string; files: MlflowFileInfo[]; next_page_token?: string }> {
      const runId = req.run_id ?? req.run_uuid;
      if (runId === undefined || runId === '') {
        throw new ValidationError("Missing value for required parameter 'run_id'.", { target: 'run_id' });
      }
      const rel = relativeArtifactPath(req.path);
      const offset = decodeListToken(req.page_token, runId, rel);
      const rootUri = await deps.runArtifactUri(ws, runId);
      const root = proxiedPathOfArtifactUri(rootUri);
      if (root === undefined) {
        throw new AppError(
          'Unsupported',
          `Run ${runId} keeps its artifacts at ${rootUri}, which this server does not serve; list them with a client of that store.`,
          { target: 'run_id' },
        );
      }
      const entries = await listFolder(await locate(ws, rel === '' ? root : `${root}/${rel}`));
      const page = entries.slice(offset, offset + ARTIFACT_LIST_PAGE);
      const next = offset + ARTIFACT_LIST_PAGE;
      return {
        root_uri: rootUri,
        files: page.map((e) => fileInfo(rel === '' ? e.name : `${rel}/${e.name}`, e)),
        ...(next < entries.length ? { next_page_token: encodeListToken(runId, rel, next) } : {}),
      };
    },
  };
}

/** `artifacts/list` page tokens: base64url of { r: run, p: path, o: offset }, refused for another listing. */
function encodeListToken(runId: string, path: string, offset: number): string {
  return Buffer.from(JSON.stringify({ r: runId, p: path, o: offset })).toString('base64url');
}

function decodeListToken(token: string | undefined, runId: string, path: string): number {
  if (token === undefined || token === '') return 0;
  const t = readTokenFields(token) ?? {};
  if (t.r !== runId || t.p !== path || typeof t.o !== 'number' || !Number.isSafeInteger(t.o) || t.o < 0) {
    throw new ValidationError(
      `Invalid page token '${token}'; pass back the next_page_token of the same run and path unchanged.`,
      { target: 'page_token' },
    );
  }
  return t.o;
}
