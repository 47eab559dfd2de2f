import { z } from 'zod';
import type { StorageLocation } from '../ports/datastore-resolver.js';

/**
 * Pure helpers for reaching storage accounts from datastores and from wasb(s)/abfs(s) URIs: which
 * registered datastore serves a location, how to name a location in messages, and which endpoints
 * may receive the app's own identity.
 */

/** The endpoint of a datastore spec that names none (as in Azure ML). */
export const DEFAULT_STORAGE_ENDPOINT = 'core.windows.net';

/**
 * Endpoint suffixes of the Azure clouds' storage services. Only these are sent the app's identity
 * token: a URI or datastore naming any other host would otherwise receive a bearer token for Azure
 * Storage that it could replay against every account the app can read.
 */
export const IDENTITY_STORAGE_ENDPOINTS: readonly string[] = [
  'core.windows.net',
  'core.chinacloudapi.cn',
  'core.usgovcloudapi.net',
];

/** The storage location fields of a datastore spec (read back from a stored document). */
export const datastoreLocationSchema = z.looseObject({
  type: z.string(),
  account_name: z.string().optional(),
  container_name: z.string().optional(),
  filesystem: z.string().optional(),
  store_name: z.string().optional(),
  endpoint: z.string().optional(),
  protocol: z.string().optional(),
});

/**
 * The kind of a datastore spec that points at `location` (same account, container or file system,
 * and endpoint), or undefined. An azure_data_lake_gen2 file system is a Blob container of its
 * account, so a wasbs:// URI may be served by an ADLS Gen2 datastore and an abfss:// URI by a Blob one.
 */
export function storageKindServing(spec: unknown, location: StorageLocation): StorageLocation['kind'] | undefined {
  const parsed = datastoreLocationSchema.safeParse(spec);
  if (!parsed.success) return undefined;
  const target = parsed.data;
  const kind = target.type === 'azure_blob' ? 'blob' : target.type === 'azure_data_lake_gen2' ? 'adls' : undefined;
  if (kind === undefined) return undefined;
  const container = kind === 'blob' ? target.container_name : target.filesystem;
  const endpoint = target.endpoint ?? DEFAULT_STORAGE_ENDPOINT;
  return target.account_name?.toLowerCase() === location.account.toLowerCase() &&
    container === location.container &&
    endpoint.toLowerCase() === location.endpointSuffix.toLowerCase()
    ? kind
    : undefined;
}

/** e.g. "container 'data' of storage account 'acct' (acct.blob.core.windows.net)". */
export function describeStorageLocation(location: StorageLocation): string {
  const [what, host] = location.kind === 'blob' ? ['container', 'blob'] : ['file system', 'dfs'];
  return (
    `${what} '${location.container}' of storage account '${location.account}' ` +
    `(${location.account}.${host}.${location.endpointSuffix})`
  );
}

/** The datastore YAML fields that register `location`, for messages. */
export function datastoreFieldsFor(location: StorageLocation): string {
  const fields =
    location.kind === 'blob'
      ? ['type: azure_blob', `account_name: ${location.account}`, `container_name: ${location.container}`]
      : ['type: azure_data_lake_gen2', `account_name: ${location.account}`, `filesystem: ${location.container}`];
  if (location.endpointSuffix.toLowerCase() !== DEFAULT_STORAGE_ENDPOINT) {
    fields.push(`endpoint: ${location.endpointSuffix}`);
  }
  return fields.join(', ');
}
