import { ClientSecretCredential } from '@azure/identity';
import type { TokenCredential } from '@azure/core-auth';
import { AppError, ValidationError } from '../errors.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { StorageAccountConnector, StorageAccountTarget } from '../ports/storage-account-connector.js';
import { BlobArtifactStore } from './blob-artifact-store.js';

export interface BlobStorageAccountConnectorOptions {
  /** The app's own identity, used for datastores registered without credentials. */
  credential: () => Promise<TokenCredential>;
  /** The Blob endpoint of an account; default `<protocol>://<account>.blob.<endpoint>` (tests use Azurite's). */
  blobEndpoint?: (target: StorageAccountTarget) => string;
}

const ACCOUNT_NAME = /^[a-z0-9]{3,24}$/;
const ENDPOINT = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;

/**
 * Opens a BlobArtifactStore on the storage account of a user-registered azure_blob or
 * azure_data_lake_gen2 datastore (an ADLS Gen2 file system is a Blob container): with its account
 * key or SAS token, with its service principal, or with the app's identity when it has none.
 */
export class BlobStorageAccountConnector implements StorageAccountConnector {
  private readonly credential: () => Promise<TokenCredential>;
  private readonly blobEndpoint: (target: StorageAccountTarget) => string;

  constructor(options: BlobStorageAccountConnectorOptions) {
    this.credential = options.credential;
    this.blobEndpoint = options.blobEndpoint ?? defaultBlobEndpoint;
  }

  async open(target: StorageAccountTarget): Promise<ArtifactStore> {
    const url = this.blobEndpoint(target).replace(/\/+$/, '');
    const credentials = target.credentials;
    if (credentials === undefined) return BlobArtifactStore.fromTokenCredential(url, await this.credential());
    const accountKey = credentials.account_key;
    if (accountKey !== undefined) {
      return BlobArtifactStore.fromConnectionString(
        `DefaultEndpointsProtocol=${target.protocol};AccountName=${target.accountName};AccountKey=${accountKey};BlobEndpoint=${url};`,
      );
    }
    const sasToken = credentials.sas_token;
    if (sasToken !== undefined) {
      return BlobArtifactStore.fromConnectionString(
        `BlobEndpoint=${url};SharedAccessSignature=${sasToken.replace(/^\?/, '')}`,
      );
    }
    const { tenant_id: tenantId, client_id: clientId, client_secret: clientSecret } = credentials;
    if (tenantId !== undefined && clientId !== undefined && clientSecret !== undefined) {
      return BlobArtifactStore.fromTokenCredential(url, new ClientSecretCredential(tenantId, clientId, clientSecret));
    }
    throw new AppError(
      'Unsupported',
      `Credentials with ${Object.keys(credentials).join(', ') || 'no fields'} are not supported for reaching ` +
        `storage account '${target.accountName}'; use account_key, sas_token, a service principal ` +
        '(tenant_id, client_id, client_secret) or no credentials (the identity of the app).',
      { target: 'credentials' },
    );
  }
}

function defaultBlobEndpoint(target: StorageAccountTarget): string {
  if (!ACCOUNT_NAME.test(target.accountName)) {
    throw new ValidationError(
      `Invalid storage account name '${target.accountName}': use 3-24 lowercase letters and digits.`,
      { target: 'account_name' },
    );
  }
  if (!ENDPOINT.test(target.endpoint)) {
    throw new ValidationError(`Invalid storage endpoint '${target.endpoint}': expected e.g. core.windows.net.`, {
      target: 'endpoint',
    });
  }
  return `${target.protocol}://${target.accountName}.blob.${target.endpoint}`;
}
