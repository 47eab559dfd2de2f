// The asset service's queries (filters on tag arrays, `exists`, versions newest first, names in
// order, paging) on the Cosmos DB adapter with the composite indexes the wiring declares
// (COSMOS_ORDERINGS), against @vercel/cosmosdb-server started in-process; secrets in
// KeyVaultSecretStore over the in-process SecretClient fake — the Azure combination.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CosmosMetadataStore } from '../../shared/adapters/cosmos-metadata-store.js';
import { FilesystemArtifactStore } from '../../shared/adapters/filesystem-artifact-store.js';
import { KeyVaultSecretStore } from '../../shared/adapters/key-vault-secret-store.js';
import { COSMOS_ORDERINGS } from '../../shared/wiring.js';
import { createAssetService } from '../../shared/services/asset-service.js';
import type { AssetService } from '../../shared/services/asset-service.js';
import { createWorkspaceService } from '../../shared/services/workspace-service.js';
import { FakeSecretClient } from '../support/key-vault-fake.js';
import { startCosmosEmulator } from '../support/cosmos-emulator.js';
import type { CosmosEmulator } from '../support/cosmos-emulator.js';

const DATA = {
  description: 'Data asset created from file in cloud.',
  type: 'uri_file',
  path: 'azureml://datastores/workspaceblobstore/paths/example-data/titanic.csv',
};

describe('asset service on the Cosmos DB adapter', () => {
  let emulator: CosmosEmulator;
  let store: CosmosMetadataStore;
  let artifacts: FilesystemArtifactStore;
  let dir: string;
  let vault: FakeSecretClient;
  let assets: AssetService;

  before(async () => {
    emulator = await startCosmosEmulator();
    store = new CosmosMetadataStore({ client: emulator.client(), database: 'assets', orderings: COSMOS_ORDERINGS });
    dir = await mkdtemp(join(tmpdir(), 'tessera-assets-cosmos-'));
    artifacts = new FilesystemArtifactStore({
      root: dir,
      signingKey: randomBytes(32),
      publicBaseUrl: 'http://127.0.0.1:7071',
    });
    vault = new FakeSecretClient();
    const workspaces = createWorkspaceService({ store, clock: { now: () => Date.now() } });
    await workspaces.put('team_a', {});
    assets = createAssetService({
      store,
      clock: { now: () => Date.now() },
      secrets: new KeyVaultSecretStore(vault),
      workspaces,
      artifacts,
    });
  });
  after(async () => {
    await artifacts.close();
    await store.close();
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('numbers, labels, archives and lists versions', async () => {
    const versions = await Promise.all(
      Array.from({ length: 5 }, () => assets.createVersion('team_a', 'data', 'titanic', { ...DATA, name: 'titanic' })),
    );
    assert.deepEqual(versions.map((v) => v.version).sort(), ['1', '2', '3', '4', '5']);
    await assets.setLabel('team_a', 'data', 'titanic', 'prod', { version: '2' });
    assert.equal((await assets.resolveLabel('team_a', 'data', 'titanic', 'prod')).version, '2');
    await assets.setVersionArchived('team_a', 'data', 'titanic', '5', true);
    assert.equal((await assets.resolveLabel('team_a', 'data', 'titanic')).version, '4');
    const first = await assets.listVersions('team_a', 'data', 'titanic', { limit: 2 });
    assert.deepEqual(
      first.value.map((v) => v.version),
      ['4', '3'],
    );
    const second = await assets.listVersions('team_a', 'data', 'titanic', {
      limit: 2,
      continuation: first.continuation,
    });
    assert.deepEqual(
      second.value.map((v) => v.version),
      ['2', '1'],
    );
  });

  it('filters the latest versions by tag key and value, by name', async () => {
    await assets.putVersion('team_a', 'data', 'red-one', '1', { ...DATA, name: 'red-one', tags: { team: 'red' } });
    await assets.putVersion('team_a', 'data', 'blue-one', '1', { ...DATA, name: 'blue-one', tags: { team: 'blue' } });
    const names = async (query: Parameters<AssetService['list']>[2]) =>
      (await assets.list('team_a', 'data', query)).value.map((a) => a.name);
    assert.deepEqual(await names({}), ['blue-one', 'red-one', 'titanic']);
    assert.deepEqual(await names({ tag: { key: 'team' } }), ['blue-one', 'red-one']);
    assert.deepEqual(await names({ tag: { key: 'team', value: 'red' } }), ['red-one']);
    assert.deepEqual(
      await names({ limit: 1, continuation: (await assets.list('team_a', 'data', { limit: 2 })).continuation }),
      ['titanic'],
    );
  });

  it('lists datastores (built-ins first, then registered ones) and keeps credentials in the vault', async () => {
    await assets.putResource('team_a', 'datastore', 'blob_example', {
      name: 'blob_example',
      type: 'azure_blob',
      account_name: 'mytestblobstore',
      container_name: 'data-container',
      credentials: { account_key: 'cosmos-test-account-key' },
    });
    const page1 = await assets.list('team_a', 'datastore', { limit: 3 });
    const page2 = await assets.list('team_a', 'datastore', { limit: 3, continuation: page1.continuation });
    assert.deepEqual(
      [...page1.value, ...page2.value].map((d) => d.name),
      [
        'workspaceblobstore',
        'workspaceartifactstore',
        'workspacefilestore',
        'workspaceworkingdirectory',
        'blob_example',
      ],
    );
    assert.equal(page2.continuation, undefined);
    assert.deepEqual(page2.value[1]?.spec.credentials, { account_key: '***' });
    assert.equal(JSON.stringify([page1, page2]).includes('cosmos-test-account-key'), false);
    assert.equal(vault.names().live.length, 1);
    assert.match(vault.names().live[0] ?? '', /^datastore--team-a--blob-example-[0-9a-f]{16}$/);
  });
});
