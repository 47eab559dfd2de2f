import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  generateAccountSASQueryParameters,
} from '@azure/storage-blob';
import { BlobStorageAccountConnector } from '../../shared/adapters/blob-storage-account-connector.js';
import { FilesystemArtifactStore } from '../../shared/adapters/filesystem-artifact-store.js';
import { LocalSecretStore } from '../../shared/adapters/local-secret-store.js';
import { SqliteMetadataStore } from '../../shared/adapters/sqlite-metadata-store.js';
import { createAssetService } from '../../shared/services/asset-service.js';
import { createWorkspaceService } from '../../shared/services/workspace-service.js';
import { isAppError } from '../../shared/errors.js';
import { systemClock } from '../../shared/ports/clock.js';
import type { StorageAccountTarget } from '../../shared/ports/storage-account-connector.js';
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite } from '../support/azurite.js';
import type { Azurite } from '../support/azurite.js';

/**
 * User-registered Blob datastores reached with their stored credentials, against Azurite (started
 * in-process). Identity-based access is not covered: Azurite would need OAuth mode for it.
 */
describe('BlobStorageAccountConnector (Azurite)', () => {
  let azurite: Azurite;
  let connector: BlobStorageAccountConnector;
  const target = (credentials: Record<string, string> | undefined): StorageAccountTarget => ({
    type: 'azure_blob',
    accountName: AZURITE_ACCOUNT,
    endpoint: 'core.windows.net',
    protocol: 'http',
    credentials,
  });

  before(async () => {
    azurite = await startAzurite();
    connector = new BlobStorageAccountConnector({
      credential: () => Promise.reject(new Error('no identity in this test')),
      blobEndpoint: () => azurite.blobEndpoint,
    });
    await azurite.service().getContainerClient('data-container').create();
  });
  after(async () => azurite.stop());

  it('writes and reads with an account key', async () => {
    const store = await connector.open(target({ account_key: AZURITE_KEY }));
    await store.put('data-container', 'example-data/titanic.csv', 'a,b\n1,2\n');
    assert.equal((await store.get('data-container', 'example-data/titanic.csv')).toString(), 'a,b\n1,2\n');
  });

  it('reads with a SAS token, with or without its leading ?', async () => {
    const sas = generateAccountSASQueryParameters(
      {
        expiresOn: new Date(Date.now() + 3600_000),
        permissions: AccountSASPermissions.parse('rl'),
        resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
        services: AccountSASServices.parse('b').toString(),
      },
      azurite.credential,
    ).toString();
    for (const token of [sas, `?${sas}`]) {
      const store = await connector.open(target({ sas_token: token }));
      assert.equal((await store.get('data-container', 'example-data/titanic.csv')).toString(), 'a,b\n1,2\n');
      const page = await store.list('data-container', { prefix: 'example-data/' });
      assert.deepEqual(
        page.items.map((i) => i.path),
        ['example-data/titanic.csv'],
      );
    }
  });

  it('fails with a wrong key, and refuses credentials it cannot use', async () => {
    const store = await connector.open(target({ account_key: randomBytes(64).toString('base64') }));
    await assert.rejects(store.get('data-container', 'example-data/titanic.csv'));
    await assert.rejects(
      connector.open(target({ tenant_id: 't', client_id: 'c', certificate: 'PEM', thumbprint: 'x' })),
      (err: unknown) => isAppError(err) && err.code === 'Unsupported',
    );
  });

  it('checks account names and endpoints before building a URL', async () => {
    const plain = new BlobStorageAccountConnector({ credential: () => Promise.reject(new Error('unused')) });
    await assert.rejects(
      plain.open({ ...target({ account_key: 'k' }), accountName: 'Bad.Name' }),
      /Invalid storage account name/,
    );
    await assert.rejects(
      plain.open({ ...target({ account_key: 'k' }), endpoint: 'evil.com/x?' }),
      /Invalid storage endpoint/,
    );
  });

  it('serves a registered azure_blob datastore through the asset service, end to end', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-external-'));
    const store = await SqliteMetadataStore.open(join(dir, 'metadata.db'));
    const artifacts = new FilesystemArtifactStore({
      root: join(dir, 'artifacts'),
      signingKey: randomBytes(32),
      publicBaseUrl: 'http://127.0.0.1:7071',
    });
    try {
      const secrets = await LocalSecretStore.open({ store, keyFile: join(dir, 'keys', 'secrets.key') });
      const workspaces = createWorkspaceService({ store, clock: systemClock });
      await workspaces.put('team-a', {});
      const assets = createAssetService({
        store,
        clock: systemClock,
        secrets,
        workspaces,
        artifacts,
        storageAccounts: connector,
      });
      await assets.putResource('team-a', 'datastore', 'azurite_blob', {
        name: 'azurite_blob',
        type: 'azure_blob',
        account_name: AZURITE_ACCOUNT,
        container_name: 'data-container',
        credentials: { account_key: AZURITE_KEY },
      });
      const resolved = await assets.resolveDatastore('team-a', 'azurite_blob');
      assert.equal(resolved.container, 'data-container');
      assert.equal(resolved.prefix, '');
      assert.equal((await resolved.store.get(resolved.container, 'example-data/titanic.csv')).toString(), 'a,b\n1,2\n');
    } finally {
      await artifacts.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
