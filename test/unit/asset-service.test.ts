import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteMetadataStore } from '../../shared/adapters/sqlite-metadata-store.js';
import { FilesystemArtifactStore } from '../../shared/adapters/filesystem-artifact-store.js';
import { assertArtifactContainer } from '../../shared/domain/artifact-paths.js';
import { LocalSecretStore } from '../../shared/adapters/local-secret-store.js';
import { createAssetService } from '../../shared/services/asset-service.js';
import type { AssetService } from '../../shared/services/asset-service.js';
import { createWorkspaceService } from '../../shared/services/workspace-service.js';
import { ASSETS_CONTAINER, BUILTIN_DATASTORES, SECRET_MASK } from '../../shared/contracts/assets.js';
import { workspaceContainerName } from '../../shared/domain/workspace-container.js';
import { isAppError } from '../../shared/errors.js';
import type { ErrorCode } from '../../shared/errors.js';
import { systemClock } from '../../shared/ports/clock.js';
import type { StorageAccountTarget } from '../../shared/ports/storage-account-connector.js';
import type { StoredDocument } from '../../shared/ports/metadata-store.js';

// Specs copied from ../shared/conformance/azureml/azureml-examples/cli/{assets,resources}/** (as JSON).
const CLOUD_FILE = {
  name: 'cloud-file-example',
  description: 'Data asset created from file in cloud.',
  type: 'uri_file',
  path: 'azureml://datastores/workspaceblobstore/paths/example-data/titanic.csv',
};
const LOCAL_MLFLOW_MODEL = {
  name: 'local-mlflow-example',
  path: 'azureml://datastores/workspaceblobstore/paths/LocalUpload/mlflow-model',
  type: 'mlflow_model',
  description: 'Model created from local MLflow model directory.',
};
const DOCKER_IMAGE_ENV = {
  name: 'docker-image-example',
  image: 'pytorch/pytorch:latest',
  description: 'Environment created from a Docker image.',
};
const TRAIN_COMPONENT = {
  $schema: 'https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json',
  name: 'train_data_component_cli',
  display_name: 'train_data',
  description: 'A example train component',
  tags: { author: 'azureml-sdk-team' },
  type: 'command',
  inputs: {
    training_data: { type: 'uri_folder' },
    max_epocs: { type: 'integer', optional: true },
    learning_rate: { type: 'number', default: 0.01, optional: true },
  },
  outputs: { model_output: { type: 'uri_folder' } },
  code: './train_src',
  environment: 'azureml://registries/azureml/environments/sklearn-1.5/labels/latest',
  command: 'python train.py --training_data ${{inputs.training_data}} --model_output ${{outputs.model_output}}',
};
const ACCOUNT_KEY = 'XXXxxxXXXxXXXXxxXXXXXxXXXXXxXxxXxXXXxXXXxXXxxxXXxxXXXxXxXXXxxXxxXXXXxxxxxXXxxxxxxXXXxXXX-SECRET';
const BLOB_DATASTORE = {
  name: 'blob_example',
  type: 'azure_blob',
  description: 'Datastore pointing to a blob container.',
  account_name: 'mytestblobstore',
  container_name: 'data-container',
  credentials: { account_key: ACCOUNT_KEY },
};
const ADLS_GEN2_DATASTORE = {
  name: 'adls_gen2_example',
  type: 'azure_data_lake_gen2',
  description: 'Datastore pointing to an Azure Data Lake Storage Gen2.',
  account_name: 'mytestdatalakegen2',
  filesystem: 'my-gen2-container',
  credentials: {
    tenant_id: '00000000-1111-2222-3333-444444444444',
    client_id: '55555555-6666-7777-8888-999999999999',
    client_secret: 'sp-client-secret-VALUE-9f8e7d',
  },
};
const SSH_CLUSTER = {
  name: 'ssh-example',
  type: 'amlcompute',
  size: 'STANDARD_DS3_v2',
  min_instances: 0,
  max_instances: 2,
  idle_time_before_scale_down: 120,
  ssh_settings: { admin_username: 'example-user', admin_password: 'example-password-7c1d' },
};

let dir: string;
let store: SqliteMetadataStore;
let artifacts: FilesystemArtifactStore;
let secrets: LocalSecretStore;
let assets: AssetService;

/** Asserts that `promise` rejects with an AppError of `code` whose message matches and target equals. */
async function rejectsWith(
  promise: Promise<unknown>,
  code: ErrorCode,
  message?: RegExp,
  target?: string,
): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isAppError(err), `expected an AppError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message !== undefined) assert.match(err.message, message);
    if (target !== undefined) assert.equal(err.target, target, err.message);
    return true;
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-assets-'));
  store = await SqliteMetadataStore.open(join(dir, 'metadata.db'));
  artifacts = new FilesystemArtifactStore({
    root: join(dir, 'artifacts'),
    signingKey: randomBytes(32),
    publicBaseUrl: 'http://127.0.0.1:7071',
  });
  secrets = await LocalSecretStore.open({ store, keyFile: join(dir, 'keys', 'secrets.key') });
  const workspaces = createWorkspaceService({ store, clock: systemClock });
  for (const ws of ['team-a', 'team-b', 'Team_X']) await workspaces.put(ws, {});
  assets = createAssetService({ store, clock: systemClock, secrets, workspaces, artifacts });
});

after(async () => {
  await artifacts.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('versions', () => {
  it('numbers versions from 1 when none is given, and continues after the largest number', async () => {
    const first = await assets.createVersion(
      'team-a',
      'data',
      'auto',
      { ...CLOUD_FILE, name: 'auto' },
      { principal: 'tok_1' },
    );
    assert.equal(first.version, '1');
    assert.equal(first.id, 'azureml:auto:1');
    assert.equal(first.kind, 'data');
    assert.equal(first.createdBy, 'tok_1');
    assert.equal(first.spec.name, 'auto');
    assert.equal(first.spec.version, '1');
    assert.equal(first.spec.path, CLOUD_FILE.path);
    assert.equal((await assets.createVersion('team-a', 'data', 'auto', { ...CLOUD_FILE, name: 'auto' })).version, '2');
    await assets.putVersion('team-a', 'data', 'auto', '10', { ...CLOUD_FILE, name: 'auto' });
    assert.equal((await assets.createVersion('team-a', 'data', 'auto', { ...CLOUD_FILE, name: 'auto' })).version, '11');
    await assets.putVersion('team-a', 'data', 'auto', 'v-next', { ...CLOUD_FILE, name: 'auto' });
    assert.equal((await assets.createVersion('team-a', 'data', 'auto', { ...CLOUD_FILE, name: 'auto' })).version, '12');
  });

  it('never gives two concurrent creates the same version', async () => {
    const created = await Promise.all(
      Array.from({ length: 25 }, () =>
        assets.createVersion('team-a', 'model', 'racy', { ...LOCAL_MLFLOW_MODEL, name: 'racy' }),
      ),
    );
    const versions = created.map((a) => Number(a.version)).sort((a, b) => a - b);
    assert.deepEqual(
      versions,
      Array.from({ length: 25 }, (_, i) => i + 1),
    );
    const listed = await assets.listVersions('team-a', 'model', 'racy', { limit: 1000 });
    assert.equal(listed.value.length, 25);
    assert.equal((await assets.resolveLabel('team-a', 'model', 'racy')).version, '25');
  });

  it('creates a given version once when PUTs race; identical PUTs are idempotent', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        assets.putVersion('team-a', 'environment', 'env-race', '3', { ...DOCKER_IMAGE_ENV, name: 'env-race' }),
      ),
    );
    assert.equal(results.filter((r) => r.created).length, 1);
    const again = await assets.putVersion('team-a', 'environment', 'env-race', '3', {
      ...DOCKER_IMAGE_ENV,
      name: 'env-race',
    });
    assert.equal(again.created, false);
    assert.equal(again.asset.spec.image, 'pytorch/pytorch:latest');
  });

  it('refuses to change a version: different content is a 409 naming the key', async () => {
    await assets.putVersion('team-a', 'data', 'immutable', '1', { ...CLOUD_FILE, name: 'immutable' });
    await rejectsWith(
      assets.putVersion('team-a', 'data', 'immutable', '1', {
        ...CLOUD_FILE,
        name: 'immutable',
        path: 'azureml://datastores/x/paths/y',
      }),
      'Conflict',
      /already exists with different content \(path differs\).*immutable/,
      'path',
    );
    await rejectsWith(
      assets.updateVersion('team-a', 'data', 'immutable', '1', { path: 'https://example.com/x.csv' }),
      'ValidationError',
      /^path: versions are immutable/,
      'path',
    );
    await rejectsWith(
      assets.updateVersion('team-a', 'data', 'immutable', '1', { description: 'x', type: 'uri_folder' }),
      'ValidationError',
      /versions are immutable.*To change type/,
      'type',
    );
    const stored = await assets.getVersion('team-a', 'data', 'immutable', '1');
    assert.equal(stored.spec.path, CLOUD_FILE.path);
  });

  it('changes description and tags only, in the view and in the spec', async () => {
    await assets.putVersion('team-a', 'data', 'patched', '1', { ...CLOUD_FILE, name: 'patched' });
    const patched = await assets.updateVersion('team-a', 'data', 'patched', '1', {
      description: 'new words',
      tags: { stage: 'gold' },
    });
    assert.equal(patched.description, 'new words');
    assert.deepEqual(patched.tags, { stage: 'gold' });
    assert.equal(patched.spec.description, 'new words');
    assert.deepEqual(patched.spec.tags, { stage: 'gold' });
    // The same spec PUT again with other tags updates them; the version stays the same.
    const put = await assets.putVersion('team-a', 'data', 'patched', '1', {
      ...CLOUD_FILE,
      name: 'patched',
      tags: { stage: 'silver' },
    });
    assert.equal(put.created, false);
    assert.deepEqual(put.asset.tags, { stage: 'silver' });
    await rejectsWith(
      assets.updateVersion('team-a', 'data', 'patched', '1', { tags: { k: 1 } }),
      'ValidationError',
      undefined,
      'tags.k',
    );
  });

  it('rejects a body whose name or version disagrees with the URL, and a POST that names a version', async () => {
    await rejectsWith(
      assets.putVersion('team-a', 'data', 'other-name', '1', CLOUD_FILE),
      'ValidationError',
      /names 'other-name'/,
      'name',
    );
    await rejectsWith(
      assets.putVersion('team-a', 'data', 'cloud-file-example', '2', {
        ...CLOUD_FILE,
        name: 'cloud-file-example',
        version: 3,
      }),
      'ValidationError',
      /version '3'/,
      'version',
    );
    await rejectsWith(
      assets.createVersion('team-a', 'data', 'cloud-file-example', {
        ...CLOUD_FILE,
        name: 'cloud-file-example',
        version: '7',
      }),
      'ValidationError',
      /PUT \/api\/workspaces\/team-a\/data\/cloud-file-example\/versions\/7/,
      'version',
    );
  });

  it('reports spec errors with the key path', async () => {
    await rejectsWith(
      assets.putVersion('team-a', 'data', 'bad', '1', { ...CLOUD_FILE, name: 'bad', type: 'csv' }),
      'ValidationError',
      /type/,
      'type',
    );
    await rejectsWith(
      assets.putVersion('team-a', 'data', 'bad', '1', { ...CLOUD_FILE, name: 'bad', pathh: 'x' }),
      'ValidationError',
      /pathh/,
      'pathh',
    );
  });

  it('names the versions that exist when one is missing', async () => {
    await assets.putVersion('team-a', 'component', 'train_data_component_cli', '1', {
      ...TRAIN_COMPONENT,
      name: 'train_data_component_cli',
    });
    await assets.putVersion('team-a', 'component', 'train_data_component_cli', '2', {
      ...TRAIN_COMPONENT,
      name: 'train_data_component_cli',
    });
    await rejectsWith(
      assets.getVersion('team-a', 'component', 'train_data_component_cli', '9'),
      'NotFound',
      /Version '9' of component 'train_data_component_cli' does not exist.*Versions \(newest first\): 2, 1; latest is 2/,
      'version',
    );
    await rejectsWith(
      assets.getVersion('team-a', 'component', 'no-such', '1'),
      'NotFound',
      /Component 'no-such' does not exist in workspace 'team-a'/,
      'name',
    );
    const component = await assets.getVersion('team-a', 'component', 'train_data_component_cli', '2');
    assert.equal(component.spec.$schema, undefined);
    assert.deepEqual(component.tags, { author: 'azureml-sdk-team' });
  });
});

describe('labels', () => {
  it('resolves latest and user labels to versions, and lists them on the version', async () => {
    for (const v of ['1', '2', '3'])
      await assets.putVersion('team-a', 'model', 'labelled', v, { ...LOCAL_MLFLOW_MODEL, name: 'labelled' });
    assert.equal((await assets.resolveLabel('team-a', 'model', 'labelled')).version, '3');
    const prod = await assets.setLabel('team-a', 'model', 'labelled', 'prod', { version: '1' });
    assert.deepEqual(prod.labels, ['prod']);
    assert.equal((await assets.resolveLabel('team-a', 'model', 'labelled', 'prod')).version, '1');
    assert.deepEqual((await assets.getVersion('team-a', 'model', 'labelled', '3')).labels, ['latest']);
    await assets.setLabel('team-a', 'model', 'labelled', 'prod', { version: '2' });
    assert.equal((await assets.resolveLabel('team-a', 'model', 'labelled', 'prod')).version, '2');
    assert.deepEqual((await assets.getVersion('team-a', 'model', 'labelled', '1')).labels, []);
  });

  it('refuses to set latest, to label a missing version, and names the labels that exist', async () => {
    await rejectsWith(
      assets.setLabel('team-a', 'model', 'labelled', 'latest', { version: '1' }),
      'ValidationError',
      /'latest' is kept by Tessera/,
      'label',
    );
    await rejectsWith(
      assets.setLabel('team-a', 'model', 'labelled', 'prod', { version: '42' }),
      'NotFound',
      /Versions \(newest first\): 3, 2, 1/,
    );
    await rejectsWith(
      assets.resolveLabel('team-a', 'model', 'labelled', 'staging'),
      'NotFound',
      /Label 'staging' is not set.*Labels: latest, prod/,
      'label',
    );
  });
});

describe('archive and restore', () => {
  it('archiving the newest version moves latest back; archiving all leaves no latest', async () => {
    for (const v of ['1', '2', '3'])
      await assets.putVersion('team-a', 'environment', 'arch', v, { ...DOCKER_IMAGE_ENV, name: 'arch' });
    const archived = await assets.setVersionArchived('team-a', 'environment', 'arch', '3', true);
    assert.equal(archived.archived, true);
    assert.equal((await assets.resolveLabel('team-a', 'environment', 'arch')).version, '2');
    // Archived versions stay readable by version.
    assert.equal((await assets.getVersion('team-a', 'environment', 'arch', '3')).archived, true);
    await rejectsWith(
      assets.setLabel('team-a', 'environment', 'arch', 'prod', { version: '3' }),
      'ValidationError',
      /archived; restore it/,
    );

    const all = await assets.setArchived('team-a', 'environment', 'arch', true);
    assert.deepEqual(all, { kind: 'environment', name: 'arch', archived: true, changed: 2 });
    await rejectsWith(
      assets.resolveLabel('team-a', 'environment', 'arch'),
      'NotFound',
      /Every version of environment 'arch' is archived/,
    );
    const active = await assets.list('team-a', 'environment', { name: 'arch' });
    assert.deepEqual(active.value, []);
    const onlyArchived = await assets.list('team-a', 'environment', { name: 'arch', archived: 'true' });
    assert.deepEqual(
      onlyArchived.value.map((a) => [a.name, a.version, a.archived]),
      [['arch', '3', true]],
    );
    assert.equal((await assets.listVersions('team-a', 'environment', 'arch')).value.length, 0);
    assert.equal((await assets.listVersions('team-a', 'environment', 'arch', { archived: 'all' })).value.length, 3);

    const restored = await assets.setArchived('team-a', 'environment', 'arch', false);
    assert.equal(restored.changed, 3);
    assert.equal((await assets.resolveLabel('team-a', 'environment', 'arch')).version, '3');
    assert.equal((await assets.list('team-a', 'environment', { name: 'arch' })).value[0]?.version, '3');
  });

  it('archives and restores datastores and computes: hidden from lists, still readable and usable', async () => {
    const ws = 'team-arch';
    await createWorkspaceService({ store, clock: systemClock }).put(ws, {});
    await assets.putResource(ws, 'datastore', 'blob_example', BLOB_DATASTORE);
    await assets.putResource(ws, 'compute', 'ssh-example', SSH_CLUSTER);
    assert.equal((await assets.getResource(ws, 'datastore', 'blob_example')).archived, false);

    const archived = await assets.setResourceArchived(ws, 'datastore', 'blob_example', true);
    assert.equal(archived.archived, true);
    assert.equal(archived.kind, 'datastore');
    assert.equal((await assets.setResourceArchived(ws, 'datastore', 'blob_example', true)).archived, true);
    assert.equal((await assets.setResourceArchived(ws, 'compute', 'ssh-example', true)).archived, true);

    const names = async (kind: 'datastore' | 'compute', archivedFilter?: 'false' | 'true' | 'all') =>
      (await assets.list(ws, kind, archivedFilter === undefined ? {} : { archived: archivedFilter })).value.map((a) => [
        a.name,
        a.archived,
      ]);
    const builtins = BUILTIN_DATASTORES.map((n) => [n, false]);
    assert.deepEqual(await names('datastore'), builtins);
    assert.deepEqual(await names('datastore', 'false'), builtins);
    assert.deepEqual(await names('datastore', 'true'), [['blob_example', true]]);
    assert.deepEqual(await names('datastore', 'all'), [...builtins, ['blob_example', true]]);
    assert.deepEqual(await names('compute'), []);
    assert.deepEqual(await names('compute', 'true'), [['ssh-example', true]]);
    assert.deepEqual(await names('compute', 'all'), [['ssh-example', true]]);

    // Still readable, still resolved for data access (the embedded store then refuses the external account).
    assert.equal((await assets.getResource(ws, 'datastore', 'blob_example')).archived, true);
    await rejectsWith(assets.resolveDatastore(ws, 'blob_example'), 'ValidationError', /not reachable/, 'datastore');
    // Defining it again keeps it archived.
    const redefined = await assets.putResource(ws, 'compute', 'ssh-example', { ...SSH_CLUSTER, max_instances: 4 });
    assert.equal(redefined.asset.archived, true);
    assert.equal(redefined.asset.spec.max_instances, 4);

    const restored = await assets.setResourceArchived(ws, 'compute', 'ssh-example', false);
    assert.equal(restored.archived, false);
    assert.equal((await assets.setResourceArchived(ws, 'compute', 'ssh-example', false)).archived, false);
    assert.deepEqual(await names('compute'), [['ssh-example', false]]);
    assert.deepEqual(await names('compute', 'true'), []);
    const raw = await (await store.container(ASSETS_CONTAINER)).read<StoredDocument>(ws, 'compute:ssh-example');
    assert.equal(raw?.['archived'], undefined, 'an active resource stores no flag');
  });

  it('refuses to archive a built-in datastore, and names what exists for an unknown name', async () => {
    await rejectsWith(
      assets.setResourceArchived('team-a', 'datastore', 'workspaceblobstore', true),
      'ValidationError',
      /'workspaceblobstore' is a built-in datastore .* cannot be archived: built-in datastores always exist/,
      'name',
    );
    await rejectsWith(
      assets.setResourceArchived('team-a', 'compute', 'nope', true),
      'NotFound',
      /Compute 'nope' does not exist in workspace 'team-a'/,
      'name',
    );
    await rejectsWith(assets.setResourceArchived('ghost-ws', 'compute', 'nope', true), 'NotFound', /ghost-ws/);
    await rejectsWith(
      assets.setArchived('team-a', 'datastore', 'workspaceblobstore', true),
      'ValidationError',
      /Datastores have no versions; archive the whole datastore with POST/,
      'kind',
    );
  });

  it('reads resource documents stored before the archived flag as active', async () => {
    const c = await store.container(ASSETS_CONTAINER);
    const now = Date.now();
    await c.upsert({
      id: 'compute:legacy',
      pk: 'team-b',
      kind: 'assetResource',
      schemaVersion: 1,
      assetKind: 'compute',
      name: 'legacy',
      spec: { name: 'legacy', type: 'amlcompute', size: 'STANDARD_DS3_v2' },
      secretPaths: [],
      tags: {},
      tagKeys: [],
      tagPairs: [],
      createdAt: now,
      updatedAt: now,
      createdBy: 'someone',
      updatedBy: 'someone',
    });
    assert.equal((await assets.getResource('team-b', 'compute', 'legacy')).archived, false);
    assert.ok((await assets.list('team-b', 'compute', { name: 'legacy' })).value.some((a) => a.name === 'legacy'));
    assert.equal((await assets.setResourceArchived('team-b', 'compute', 'legacy', true)).archived, true);
    assert.deepEqual((await assets.list('team-b', 'compute', { name: 'legacy' })).value, []);
    await assets.deleteResource('team-b', 'compute', 'legacy');
  });
});

describe('lists', () => {
  before(async () => {
    const tagged: [string, Record<string, string>][] = [
      ['ds-a', { team: 'red', tier: 'gold' }],
      ['ds-b', { team: 'blue' }],
      ['ds-c', { team: 'red' }],
      ['ds-d', {}],
      ['ds-e', { 'odd key.with dots': 'v=1' }],
    ];
    for (const [name, tags] of tagged) {
      await assets.putVersion('team-b', 'data', name, '1', { ...CLOUD_FILE, name, tags: { old: 'yes' } });
      await assets.putVersion('team-b', 'data', name, '2', { ...CLOUD_FILE, name, tags });
    }
  });

  it('lists the latest version of each name, by name, in pages', async () => {
    const names: string[] = [];
    let continuation: string | undefined;
    let pages = 0;
    do {
      const page = await assets.list('team-b', 'data', { limit: 2, ...(continuation ? { continuation } : {}) });
      assert.ok(page.value.length <= 2);
      for (const a of page.value) {
        assert.equal(a.version, '2');
        assert.deepEqual(a.labels, ['latest']);
      }
      names.push(...page.value.map((a) => a.name));
      continuation = page.continuation;
      pages++;
    } while (continuation !== undefined);
    assert.deepEqual(names, ['ds-a', 'ds-b', 'ds-c', 'ds-d', 'ds-e']);
    assert.equal(pages, 3);
  });

  it('filters by name, by tag key and by tag value (of the latest version)', async () => {
    const names = async (query: Parameters<AssetService['list']>[2]) =>
      (await assets.list('team-b', 'data', query)).value.map((a) => a.name);
    assert.deepEqual(await names({ name: 'ds-c' }), ['ds-c']);
    assert.deepEqual(await names({ tag: { key: 'team' } }), ['ds-a', 'ds-b', 'ds-c']);
    assert.deepEqual(await names({ tag: { key: 'team', value: 'red' } }), ['ds-a', 'ds-c']);
    assert.deepEqual(await names({ tag: { key: 'odd key.with dots', value: 'v=1' } }), ['ds-e']);
    assert.deepEqual(await names({ tag: { key: 'old' } }), []);
    assert.deepEqual(await names({ tag: { key: 'team', value: 're' } }), []);
  });

  it('lists the versions of a name newest first, in pages, with tag filters', async () => {
    const first = await assets.listVersions('team-b', 'data', 'ds-a', { limit: 1 });
    assert.deepEqual(
      first.value.map((a) => a.version),
      ['2'],
    );
    assert.ok(first.continuation);
    const second = await assets.listVersions('team-b', 'data', 'ds-a', { limit: 1, continuation: first.continuation });
    assert.deepEqual(
      second.value.map((a) => a.version),
      ['1'],
    );
    assert.equal(second.continuation, undefined);
    const old = await assets.listVersions('team-b', 'data', 'ds-a', { tag: { key: 'old', value: 'yes' } });
    assert.deepEqual(
      old.value.map((a) => a.version),
      ['1'],
    );
  });

  it('keeps workspaces apart', async () => {
    assert.deepEqual((await assets.list('team-a', 'data', { name: 'ds-a' })).value, []);
    await rejectsWith(assets.getVersion('team-a', 'data', 'ds-a', '1'), 'NotFound');
  });
});

describe('workspaces', () => {
  it('answers 404 naming a workspace that does not exist, for every operation', async () => {
    const calls: Promise<unknown>[] = [
      assets.putVersion('ghost-ws', 'data', 'x', '1', { ...CLOUD_FILE, name: 'x' }),
      assets.createVersion('ghost-ws', 'data', 'x', { ...CLOUD_FILE, name: 'x' }),
      assets.getVersion('ghost-ws', 'data', 'x', '1'),
      assets.list('ghost-ws', 'model'),
      assets.list('ghost-ws', 'datastore'),
      assets.getResource('ghost-ws', 'datastore', 'workspaceblobstore'),
      assets.putResource('ghost-ws', 'datastore', 'blob_example', BLOB_DATASTORE),
      assets.resolveDatastore('ghost-ws', 'workspaceblobstore'),
    ];
    for (const call of calls) {
      await rejectsWith(call, 'NotFound', /Workspace 'ghost-ws' does not exist/, 'workspace');
    }
  });
});

describe('datastores', () => {
  it('every workspace has the four built-in datastores, listed first, workspaceblobstore the default', async () => {
    const page = await assets.list('team-b', 'datastore');
    assert.deepEqual(
      page.value.map((d) => d.name),
      [...BUILTIN_DATASTORES],
    );
    const blob = page.value[0];
    assert.equal(blob?.builtin, true);
    assert.equal(blob?.spec.type, 'azure_blob');
    assert.equal(blob?.spec.is_default, true);
    assert.equal(blob?.spec.container_name, 'ws-team-b');
    const file = await assets.getResource('team-b', 'datastore', 'workspacefilestore');
    assert.equal(file.spec.type, 'azure_file');
    assert.equal(file.spec.is_default, undefined);
    assert.equal(file.id, 'azureml:workspacefilestore');
    await rejectsWith(
      assets.deleteResource('team-b', 'datastore', 'workspaceblobstore'),
      'ValidationError',
      /built-in/,
    );
    await rejectsWith(
      assets.putResource('team-b', 'datastore', 'workspaceblobstore', {
        ...BLOB_DATASTORE,
        name: 'workspaceblobstore',
      }),
      'ValidationError',
      /built-in/,
      'name',
    );
  });

  it('resolves built-ins to a prefix of one container per workspace on the artifact store', async () => {
    const resolved = await assets.resolveDatastore('team-a', 'workspaceblobstore');
    assert.equal(resolved.store, artifacts);
    assert.equal(resolved.container, 'ws-team-a');
    assert.equal(resolved.prefix, 'workspaceblobstore/');
    await resolved.store.put(resolved.container, `${resolved.prefix}example-data/titanic.csv`, 'a,b\n1,2\n');
    const other = await assets.resolveDatastore('team-a', 'workspaceartifactstore');
    assert.equal(other.container, 'ws-team-a');
    assert.equal(other.prefix, 'workspaceartifactstore/');
    assert.equal(
      (await artifacts.get('ws-team-a', 'workspaceblobstore/example-data/titanic.csv')).toString(),
      'a,b\n1,2\n',
    );
    // A name outside [a-z0-9-] still gets a valid container of its own.
    const odd = await assets.resolveDatastore('Team_X', 'workspaceblobstore');
    assertArtifactContainer(odd.container);
    assert.match(odd.container, /^ws-team-x-[0-9a-f]{8}$/);
    for (const ws of ['team-x', 'Team-x', 'team_x', 'a__b', 'ab-', 'x'.repeat(33)]) {
      assertArtifactContainer(workspaceContainerName(ws));
    }
    assert.equal(new Set(['team-x', 'Team-x', 'team_x'].map(workspaceContainerName)).size, 3);
    await rejectsWith(assets.resolveDatastore('team-a', 'nope'), 'NotFound', /Datastore 'nope' does not exist/);
  });

  it('never returns credentials, and keeps them encrypted at rest', async () => {
    const { asset, created } = await assets.putResource('team-a', 'datastore', 'blob_example', BLOB_DATASTORE, {
      principal: 'tok_admin',
    });
    assert.equal(created, true);
    assert.deepEqual(asset.spec.credentials, { account_key: SECRET_MASK });
    assert.equal(asset.spec.account_name, 'mytestblobstore');
    assert.equal(asset.id, 'azureml:blob_example');
    const adls = await assets.putResource('team-a', 'datastore', 'adls_gen2_example', ADLS_GEN2_DATASTORE);
    assert.deepEqual(adls.asset.spec.credentials, {
      tenant_id: SECRET_MASK,
      client_id: SECRET_MASK,
      client_secret: SECRET_MASK,
    });
    const cluster = await assets.putResource('team-a', 'compute', 'ssh-example', SSH_CLUSTER);
    assert.deepEqual(cluster.asset.spec.ssh_settings, { admin_username: 'example-user', admin_password: SECRET_MASK });

    const everything = JSON.stringify([
      await assets.getResource('team-a', 'datastore', 'blob_example'),
      await assets.getResource('team-a', 'datastore', 'adls_gen2_example'),
      await assets.getResource('team-a', 'compute', 'ssh-example'),
      await assets.list('team-a', 'datastore'),
      await assets.list('team-a', 'compute'),
    ]);
    for (const secret of [ACCOUNT_KEY, ADLS_GEN2_DATASTORE.credentials.client_secret, 'example-password-7c1d']) {
      assert.equal(everything.includes(secret), false, 'a response holds a secret');
    }
    assert.ok(everything.includes('"account_key":"***"'));

    // The stored document has no credentials; the secret store has them, under datastore--<ws>--<name>.
    const stored = await (
      await store.container(ASSETS_CONTAINER)
    ).read<StoredDocument>('team-a', 'datastore:blob_example');
    assert.equal(JSON.stringify(stored).includes(ACCOUNT_KEY), false);
    assert.deepEqual(stored?.secretPaths, ['credentials.account_key']);
    assert.equal(
      await secrets.get('datastore--team-a--blob_example'),
      JSON.stringify({ 'credentials.account_key': ACCOUNT_KEY }),
    );

    // Nothing in the SQLite files (main, WAL) holds any secret in plaintext.
    for (const file of (await readdir(dir)).filter((f) => f.startsWith('metadata.db'))) {
      const bytes = await readFile(join(dir, file));
      for (const secret of [ACCOUNT_KEY, ADLS_GEN2_DATASTORE.credentials.client_secret, 'example-password-7c1d']) {
        assert.equal(bytes.includes(Buffer.from(secret)), false, `${file} holds a secret in plaintext`);
      }
    }
  });

  it('keeps stored credentials when a masked spec is sent back, replaces or drops them otherwise', async () => {
    const name = 'masked_roundtrip';
    await assets.putResource('team-a', 'datastore', name, { ...BLOB_DATASTORE, name });
    const shown = await assets.getResource('team-a', 'datastore', name);
    const again = await assets.putResource('team-a', 'datastore', name, { ...shown.spec, description: 'edited' });
    assert.equal(again.created, false);
    assert.equal(again.asset.description, 'edited');
    assert.equal(
      await secrets.get(`datastore--team-a--${name}`),
      JSON.stringify({ 'credentials.account_key': ACCOUNT_KEY }),
    );

    await assets.putResource('team-a', 'datastore', name, {
      ...BLOB_DATASTORE,
      name,
      credentials: { sas_token: '?sv=2024&sig=abc' },
    });
    assert.equal(
      await secrets.get(`datastore--team-a--${name}`),
      JSON.stringify({ 'credentials.sas_token': '?sv=2024&sig=abc' }),
    );

    const { credentials: _dropped, ...identityBased } = BLOB_DATASTORE;
    void _dropped;
    const credless = await assets.putResource('team-a', 'datastore', name, { ...identityBased, name });
    assert.equal(credless.asset.spec.credentials, undefined);
    assert.equal(await secrets.get(`datastore--team-a--${name}`), undefined);

    await rejectsWith(
      assets.putResource('team-a', 'datastore', 'never_stored', {
        ...BLOB_DATASTORE,
        name: 'never_stored',
        credentials: { account_key: SECRET_MASK },
      }),
      'ValidationError',
      /stands for a stored secret/,
      'credentials.account_key',
    );
  });

  it('deletes a datastore with its secret', async () => {
    await assets.putResource('team-a', 'datastore', 'short_lived', { ...BLOB_DATASTORE, name: 'short_lived' });
    assert.ok(await secrets.get('datastore--team-a--short_lived'));
    await assets.deleteResource('team-a', 'datastore', 'short_lived');
    assert.equal(await secrets.get('datastore--team-a--short_lived'), undefined);
    await rejectsWith(
      assets.getResource('team-a', 'datastore', 'short_lived'),
      'NotFound',
      /Datastore 'short_lived' does not exist in workspace 'team-a'. Datastores: workspaceblobstore, /,
    );
    await rejectsWith(assets.deleteResource('team-a', 'datastore', 'short_lived'), 'NotFound');
  });

  it('says that external storage accounts are not reachable from the embedded store', async () => {
    await rejectsWith(
      assets.resolveDatastore('team-a', 'blob_example'),
      'ValidationError',
      /external storage account 'mytestblobstore' \(azure_blob\).*not reachable from the embedded store/,
      'datastore',
    );
  });

  it('opens a registered account through the connector with the decrypted credentials, once per definition', async () => {
    const targets: StorageAccountTarget[] = [];
    const external = new FilesystemArtifactStore({
      root: join(dir, 'external'),
      signingKey: randomBytes(32),
      publicBaseUrl: 'http://127.0.0.1:7071',
    });
    const workspaces = createWorkspaceService({ store, clock: systemClock });
    const onAzure = createAssetService({
      store,
      clock: systemClock,
      secrets,
      workspaces,
      artifacts,
      storageAccounts: {
        open: async (target) => {
          targets.push(target);
          return external;
        },
      },
    });
    const blob = await onAzure.resolveDatastore('team-a', 'blob_example');
    assert.deepEqual(blob, { store: external, container: 'data-container', prefix: '' });
    await onAzure.resolveDatastore('team-a', 'blob_example');
    const adls = await onAzure.resolveDatastore('team-a', 'adls_gen2_example');
    assert.equal(adls.container, 'my-gen2-container');
    assert.deepEqual(targets, [
      {
        type: 'azure_blob',
        accountName: 'mytestblobstore',
        endpoint: 'core.windows.net',
        protocol: 'https',
        credentials: { account_key: ACCOUNT_KEY },
      },
      {
        type: 'azure_data_lake_gen2',
        accountName: 'mytestdatalakegen2',
        endpoint: 'core.windows.net',
        protocol: 'https',
        credentials: ADLS_GEN2_DATASTORE.credentials,
      },
    ]);
    await onAzure.putResource('team-a', 'datastore', 'file_example', {
      name: 'file_example',
      type: 'azure_file',
      account_name: 'mytestfilestore',
      file_share_name: 'my-share',
    });
    await rejectsWith(onAzure.resolveDatastore('team-a', 'file_example'), 'Unsupported', /azure_file/);
    await external.close();
  });
});

describe('storage locations (wasbs:// and abfss:// URIs)', () => {
  const blobAt = (account: string, container: string, endpointSuffix = 'core.windows.net') => ({
    kind: 'blob' as const,
    account,
    container,
    endpointSuffix,
  });
  let targets: StorageAccountTarget[];
  let external: FilesystemArtifactStore;
  let onAzure: AssetService;

  before(async () => {
    targets = [];
    external = new FilesystemArtifactStore({
      root: join(dir, 'external-locations'),
      signingKey: randomBytes(32),
      publicBaseUrl: 'http://127.0.0.1:7071',
    });
    onAzure = createAssetService({
      store,
      clock: systemClock,
      secrets,
      workspaces: createWorkspaceService({ store, clock: systemClock }),
      artifacts,
      storageAccountName: 'tesseraplatform',
      storageAccounts: {
        open: async (target) => {
          targets.push(target);
          return external;
        },
      },
    });
    // team-b: a Blob datastore, an ADLS Gen2 one on another account, one with its own endpoint, and
    // a second Blob datastore for the same container (the first by name wins).
    await assets.putResource('team-b', 'datastore', 'b_blob', { ...BLOB_DATASTORE, name: 'b_blob' });
    await assets.putResource('team-b', 'datastore', 'z_blob_too', {
      ...BLOB_DATASTORE,
      name: 'z_blob_too',
      credentials: { sas_token: 'sv=2024&sig=other' },
    });
    await assets.putResource('team-b', 'datastore', 'b_lake', { ...ADLS_GEN2_DATASTORE, name: 'b_lake' });
    await assets.putResource('team-b', 'datastore', 'b_china', {
      ...BLOB_DATASTORE,
      name: 'b_china',
      container_name: 'cn-container',
      endpoint: 'core.chinacloudapi.cn',
    });
  });

  after(async () => external.close());

  it('resolves through the datastore registered for the account, container and endpoint', async () => {
    targets.length = 0;
    assert.deepEqual(await onAzure.resolveStorageLocation('team-b', blobAt('mytestblobstore', 'data-container')), {
      store: external,
      container: 'data-container',
      prefix: '',
    });
    const lake = await onAzure.resolveStorageLocation('team-b', {
      kind: 'adls',
      account: 'mytestdatalakegen2',
      container: 'my-gen2-container',
      endpointSuffix: 'core.windows.net',
    });
    assert.equal(lake.container, 'my-gen2-container');
    // A wasbs:// URI on an ADLS Gen2 file system uses that datastore too (the Blob endpoint serves both).
    await onAzure.resolveStorageLocation('team-b', blobAt('mytestdatalakegen2', 'my-gen2-container'));
    await onAzure.resolveStorageLocation('team-b', blobAt('mytestblobstore', 'cn-container', 'core.chinacloudapi.cn'));
    assert.deepEqual(
      targets.map((t) => [t.type, t.accountName, t.endpoint, t.credentials]),
      [
        ['azure_blob', 'mytestblobstore', 'core.windows.net', { account_key: ACCOUNT_KEY }],
        ['azure_data_lake_gen2', 'mytestdatalakegen2', 'core.windows.net', ADLS_GEN2_DATASTORE.credentials],
        ['azure_blob', 'mytestblobstore', 'core.chinacloudapi.cn', { account_key: ACCOUNT_KEY }],
      ],
      'each datastore opened once; b_blob, not z_blob_too; the lake reused for the wasbs:// URI',
    );
  });

  it('uses the app identity for an unregistered container, only on Azure Storage endpoints', async () => {
    targets.length = 0;
    // Same account, other container; and the registered container under another cloud's endpoint.
    const other = await onAzure.resolveStorageLocation('team-b', blobAt('mytestblobstore', 'not-registered'));
    assert.deepEqual(other, { store: external, container: 'not-registered', prefix: '' });
    await onAzure.resolveStorageLocation(
      'team-b',
      blobAt('mytestblobstore', 'data-container', 'core.usgovcloudapi.net'),
    );
    assert.deepEqual(targets, [
      {
        type: 'azure_blob',
        accountName: 'mytestblobstore',
        endpoint: 'core.windows.net',
        protocol: 'https',
        credentials: undefined,
      },
      {
        type: 'azure_blob',
        accountName: 'mytestblobstore',
        endpoint: 'core.usgovcloudapi.net',
        protocol: 'https',
        credentials: undefined,
      },
    ]);
    targets.length = 0;
    await rejectsWith(
      onAzure.resolveStorageLocation('team-b', blobAt('anyaccount', 'c1', 'attacker.example')),
      'ValidationError',
      /'anyaccount\.blob\.attacker\.example' would be read with the app's identity.*only to Azure Storage endpoints/,
      'path',
    );
    const { credentials: _dropped, ...identityBased } = BLOB_DATASTORE;
    void _dropped;
    await assets.putResource('team-b', 'datastore', 'elsewhere', {
      ...identityBased,
      name: 'elsewhere',
      endpoint: 'attacker.example',
    });
    await rejectsWith(
      onAzure.resolveDatastore('team-b', 'elsewhere'),
      'ValidationError',
      /^Datastore 'elsewhere': .*Register the datastore again with credentials/,
      'endpoint',
    );
    assert.deepEqual(targets, [], 'no token was asked for a host outside Azure Storage');
  });

  it("opens only the workspace's own container of the platform's account", async () => {
    targets.length = 0;
    const own = await onAzure.resolveStorageLocation(
      'team-b',
      blobAt('tesseraplatform', workspaceContainerName('team-b')),
    );
    assert.deepEqual(own, { store: artifacts, container: 'ws-team-b', prefix: '' });
    for (const container of ['ws-team-a', 'app-package', 'tesserahub-leases']) {
      await rejectsWith(
        onAzure.resolveStorageLocation('team-b', blobAt('tesseraplatform', container)),
        'Forbidden',
        new RegExp(`container '${container}' of 'tesseraplatform', the platform's own storage account, is not open`),
        'path',
      );
    }
    const { credentials: _dropped, ...identityBased } = BLOB_DATASTORE;
    void _dropped;
    await assets.putResource('team-b', 'datastore', 'peek', {
      ...identityBased,
      name: 'peek',
      account_name: 'tesseraplatform',
      container_name: 'ws-team-a',
    });
    await rejectsWith(onAzure.resolveDatastore('team-b', 'peek'), 'Forbidden', /^Datastore 'peek': /, 'datastore');
    assert.deepEqual(targets, []);
  });

  it('on the embedded store: an unregistered container is a 400 that says how to register it', async () => {
    await rejectsWith(
      assets.resolveStorageLocation('team-b', {
        kind: 'adls',
        account: 'somelake',
        container: 'raw',
        endpointSuffix: 'core.windows.net',
      }),
      'ValidationError',
      /^No datastore of workspace 'team-b' is registered for file system 'raw' of storage account 'somelake' \(somelake\.dfs\.core\.windows\.net\)\..*type: azure_data_lake_gen2, account_name: somelake, filesystem: raw.*tessera datastore create --file/,
      'path',
    );
    // The embedded store's own container is the workspace's (account 'embedded', as its built-in datastores show).
    const own = await assets.resolveStorageLocation('team-b', blobAt('embedded', 'ws-team-b'));
    assert.deepEqual(own, { store: artifacts, container: 'ws-team-b', prefix: '' });
    await rejectsWith(assets.resolveStorageLocation('team-b', blobAt('embedded', 'ws-team-a')), 'Forbidden');
    await rejectsWith(
      assets.resolveStorageLocation('ghost-ws', blobAt('mytestblobstore', 'data-container')),
      'NotFound',
      /Workspace 'ghost-ws' does not exist/,
    );
  });
});

describe('stored documents', () => {
  it('are parsed again when read: a document of an unknown schema version is refused', async () => {
    await assets.putVersion('team-a', 'data', 'schema-check', '1', { ...CLOUD_FILE, name: 'schema-check' });
    const container = await store.container(ASSETS_CONTAINER);
    const doc = await container.read<StoredDocument>('team-a', 'data:schema-check:1');
    assert.ok(doc);
    const { _etag, _ts, ...body } = doc;
    void _etag;
    void _ts;
    await container.upsert({ ...body, schemaVersion: 2 });
    await assert.rejects(assets.getVersion('team-a', 'data', 'schema-check', '1'), /schemaVersion|expected 1/i);
    await container.upsert({ ...body, spec: { ...(body.spec as object), type: 'not-a-type' } });
    await assert.rejects(assets.getVersion('team-a', 'data', 'schema-check', '1'), /no longer matches the data spec/);
  });
});
