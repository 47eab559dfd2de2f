import type { ArtifactStore } from './artifact-store.js';

/** Where the data of a datastore lives: objects are at `<prefix><path>` in `container` of `store`. */
export interface ResolvedDatastore {
  store: ArtifactStore;
  container: string;
  /** '' or a prefix ending in '/'. */
  prefix: string;
}

/**
 * Turns `azureml://datastores/<datastore>/paths/...` into storage: the built-in datastores of every
 * workspace, and user-registered Blob/ADLS Gen2 datastores where the app can reach them.
 * NotFoundError for an unknown workspace or datastore; ValidationError for a datastore this
 * deployment cannot reach (external accounts from the embedded store).
 */
export interface DatastoreResolver {
  resolve(workspace: string, datastore: string): Promise<ResolvedDatastore>;
}
