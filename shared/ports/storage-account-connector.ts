import type { ArtifactStore } from './artifact-store.js';

/** A user-registered storage account a datastore points at. */
export interface StorageAccountTarget {
  /** Datastore type: 'azure_blob' or 'azure_data_lake_gen2' (both are served by the Blob endpoint). */
  type: 'azure_blob' | 'azure_data_lake_gen2';
  accountName: string;
  /** Storage endpoint suffix, e.g. core.windows.net. */
  endpoint: string;
  protocol: 'https' | 'http';
  /**
   * The datastore's stored credentials (account_key, sas_token, or tenant_id/client_id/client_secret);
   * undefined for identity-based access with the app's own identity.
   */
  credentials: Readonly<Record<string, string>> | undefined;
}

/**
 * Opens an ArtifactStore on a storage account other than the app's own. Only deployments that can
 * reach external accounts have one (Azure); the embedded store has none.
 */
export interface StorageAccountConnector {
  open(target: StorageAccountTarget): Promise<ArtifactStore>;
}
