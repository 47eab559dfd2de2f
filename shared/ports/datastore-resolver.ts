import type { ArtifactStore } from './artifact-store.js';

/** Where the data of a datastore lives: objects are at `<prefix><path>` in `container` of `store`. */
export interface ResolvedDatastore {
  store: ArtifactStore;
  container: string;
  /** '' or a prefix ending in '/'. */
  prefix: string;
}

/** A Blob container or ADLS Gen2 file system named directly by a wasb(s):// or abfs(s):// URI. */
export interface StorageLocation {
  /** 'blob' for wasb(s):// URIs, 'adls' for abfs(s):// URIs. */
  kind: 'blob' | 'adls';
  account: string;
  /** The Blob container, or the ADLS Gen2 file system (which the Blob endpoint serves as a container). */
  container: string;
  /** DNS suffix after `<account>.blob.` or `<account>.dfs.`, e.g. core.windows.net. */
  endpointSuffix: string;
}

/**
 * Turns `azureml://datastores/<datastore>/paths/...` into storage: the built-in datastores of every
 * workspace, and user-registered Blob/ADLS Gen2 datastores where the app can reach them.
 * NotFoundError for an unknown workspace or datastore; ValidationError for a datastore this
 * deployment cannot reach (external accounts from the embedded store).
 */
export interface DatastoreResolver {
  resolve(workspace: string, datastore: string): Promise<ResolvedDatastore>;
  /**
   * Turns a storage location named directly (`wasbs://<container>@<account>.blob.<suffix>/...`,
   * `abfss://<filesystem>@<account>.dfs.<suffix>/...`) into storage, through a datastore of the
   * workspace registered for that account and container (or the app's identity where there is
   * none); the result's container is `location.container` and its prefix ''. ValidationError or
   * ForbiddenError where it cannot be reached. Optional: without it, such URIs are refused.
   */
  resolveStorageLocation?(workspace: string, location: StorageLocation): Promise<ResolvedDatastore>;
}
