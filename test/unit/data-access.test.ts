import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BlobStorageAccountConnector } from '../../shared/adapters/blob-storage-account-connector.js';
import { FilesystemArtifactStore } from '../../shared/adapters/filesystem-artifact-store.js';
import { LocalSecretStore } from '../../shared/adapters/local-secret-store.js';
import { SqliteMetadataStore } from '../../shared/adapters/sqlite-metadata-store.js';
import { ForbiddenError, NotFoundError, TransientError, ValidationError } from '../../shared/errors.js';
import { systemClock } from '../../shared/ports/clock.js';
import type { DatastoreResolver } from '../../shared/ports/datastore-resolver.js';
import type { StorageAccountConnector, StorageAccountTarget } from '../../shared/ports/storage-account-connector.js';
import { createAssetService } from '../../shared/services/asset-service.js';
import type { AssetService } from '../../shared/services/asset-service.js';
import { createDataAccess, redactUrl } from '../../shared/services/data-access.js';
import { createWorkspaceService } from '../../shared/services/workspace-service.js';
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite } from '../support/azurite.js';
import type { Azurite } from '../support/azurite.js';

let dir: string;
let store: FilesystemArtifactStore;
let datastores: DatastoreResolver;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-data-access-'));
  store = new FilesystemArtifactStore({
    root: join(dir, 'store'),
    signingKey: randomBytes(32),
    publicBaseUrl: 'http://127.0.0.1:7071',
  });
  datastores = {
    async resolve(workspace, datastore) {
      if (datastore === 'workspaceblobstore') return { store, container: `ws-${workspace}`, prefix: 'blob/' };
      if (datastore === 'rootstore') return { store, container: `ws-${workspace}`, prefix: '' };
      throw new NotFoundError(`No datastore '${datastore}' in workspace '${workspace}'.`);
    },
  };
  for (const p of ['blob/t/a.csv', 'blob/t/b.csv', 'blob/t/sub/c.csv', 'blob/t/sub/d.json', 'blob/u/e.csv']) {
    await store.put('ws-team-a', p, `content of ${p}`);
  }
  await mkdir(join(dir, 'root', 'data', 'sub'), { recursive: true });
  await writeFile(join(dir, 'root', 'data', 'x.csv'), 'x\n');
  await writeFile(join(dir, 'root', 'data', 'sub', 'y.csv'), 'y\n');
  await writeFile(join(dir, 'secret.txt'), 'secret\n');
  await symlink(join(dir, 'secret.txt'), join(dir, 'root', 'data', 'link.txt'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString();
}

test('datastore URIs: open, stat and list under the datastore prefix, with globs', async () => {
  const data = createDataAccess({ datastores });
  const base = 'azureml://datastores/workspaceblobstore/paths/';
  assert.equal(await text(await data.open('team-a', `${base}t/a.csv`)), 'content of blob/t/a.csv');
  assert.equal((await data.stat('team-a', `${base}t/a.csv`))?.size, 'content of blob/t/a.csv'.length);
  assert.equal(await data.stat('team-a', `${base}t/missing.csv`), undefined);
  assert.equal(await data.stat('team-a', `${base}t/`), undefined, 'a folder is not an object');

  assert.deepEqual(await data.list('team-a', `${base}t`), [
    `${base}t/a.csv`,
    `${base}t/b.csv`,
    `${base}t/sub/c.csv`,
    `${base}t/sub/d.json`,
  ]);
  assert.deepEqual(await data.list('team-a', `${base}t/`, { pattern: '*.csv' }), [`${base}t/a.csv`, `${base}t/b.csv`]);
  assert.deepEqual(await data.list('team-a', `${base}t/`, { pattern: '**/*.csv' }), [
    `${base}t/a.csv`,
    `${base}t/b.csv`,
    `${base}t/sub/c.csv`,
  ]);
  assert.deepEqual(await data.list('team-a', `${base}t/`, { pattern: 'sub/?.json' }), [`${base}t/sub/d.json`]);
  assert.deepEqual(await data.list('team-a', `${base}nothing/`), []);
  // A datastore without a prefix lists the whole container.
  assert.equal((await data.list('team-a', 'azureml://datastores/rootstore/paths/')).length, 5);

  await assert.rejects(
    data.open('team-a', `${base}t/missing.csv`),
    (err: unknown) =>
      err instanceof NotFoundError && /does not exist in datastore 'workspaceblobstore'/.test(err.message),
  );
  await assert.rejects(
    data.open('team-a', `${base}t/`),
    (err: unknown) => err instanceof ValidationError && /names a folder/.test(err.message),
  );
  await assert.rejects(data.open('team-a', 'azureml://datastores/nope/paths/x'), NotFoundError);
});

test('a long-form URI must name the workspace of the request', async () => {
  const data = createDataAccess({ datastores });
  const own =
    'azureml://subscriptions/s/resourcegroups/rg/workspaces/team-a/datastores/workspaceblobstore/paths/t/a.csv';
  assert.equal(await text(await data.open('team-a', own)), 'content of blob/t/a.csv');
  assert.deepEqual(
    await data.list('team-a', own.replace('t/a.csv', 'u/')),
    [own.replace('t/a.csv', 'u/e.csv')],
    'listings keep the form they were asked in',
  );
  await assert.rejects(
    data.open('team-b', own),
    (err: unknown) =>
      err instanceof ForbiddenError &&
      /names workspace 'team-a', but this request runs in workspace 'team-b'/.test(err.message),
  );
});

test('storage-account URIs are refused, naming the URI, by a resolver that cannot resolve them', async () => {
  const data = createDataAccess({ datastores });
  for (const uri of [
    'wasbs://data@acct01.blob.core.windows.net/x.csv',
    'abfss://lake@acct01.dfs.core.windows.net/x/',
  ]) {
    await assert.rejects(
      uri.endsWith('/') ? data.list('team-a', uri) : data.open('team-a', uri),
      (err: unknown) =>
        err instanceof ValidationError &&
        err.message.startsWith(uri) &&
        /names storage account 'acct01' directly.*Register a datastore for account 'acct01'/.test(err.message),
    );
  }
});

/**
 * wasbs/abfss URIs resolved by the asset service: through the datastore registered for the account
 * and container, with its stored credentials, against Azurite. Azurite serves only the Blob endpoint
 * (path-style, http://127.0.0.1:<port>/devstoreaccount1), so the connector's blobEndpoint maps every
 * target there, and the targets the asset service asks for are recorded: that an abfss:// URI reaches
 * the Blob endpoint of its account is checked on the recorded target, not against a dfs endpoint.
 *
 * Not covered here: an ADLS Gen2 datastore takes a service principal (or no credentials), and this
 * test cannot sign in to Entra ID, so the test connector reads its file system with Azurite's account
 * key instead; and the app-identity fallback is followed only up to the connector (Azurite would need
 * OAuth mode and https to accept a token).
 */
describe('storage-account URIs through registered datastores (Azurite)', () => {
  const BLOB = `wasbs://data-container@${AZURITE_ACCOUNT}.blob.core.windows.net/`;
  const LAKE = `abfss://lake@${AZURITE_ACCOUNT}.dfs.core.windows.net/`;
  const SERVICE_PRINCIPAL = { tenant_id: 'tenant-1', client_id: 'client-1', client_secret: 'sp-secret-1' };
  let azurite: Azurite;
  let metadata: SqliteMetadataStore;
  let ownStore: FilesystemArtifactStore;
  let assets: AssetService;
  let embedded: AssetService;
  const targets: StorageAccountTarget[] = [];
  let identityAsked = 0;

  const resolverOf = (service: AssetService): DatastoreResolver => ({
    resolve: service.resolveDatastore,
    resolveStorageLocation: service.resolveStorageLocation,
  });

  before(async () => {
    azurite = await startAzurite();
    const root = join(dir, 'assets');
    metadata = await SqliteMetadataStore.open(join(root, 'metadata.db'));
    ownStore = new FilesystemArtifactStore({
      root: join(root, 'artifacts'),
      signingKey: randomBytes(32),
      publicBaseUrl: 'http://127.0.0.1:7071',
    });
    const secrets = await LocalSecretStore.open({ store: metadata, keyFile: join(root, 'keys', 'secrets.key') });
    const workspaces = createWorkspaceService({ store: metadata, clock: systemClock });
    await workspaces.put('team-a', {});
    const blobConnector = new BlobStorageAccountConnector({
      credential: () => {
        identityAsked++;
        return Promise.reject(new Error('no identity in this test'));
      },
      blobEndpoint: () => azurite.blobEndpoint,
    });
    const connector: StorageAccountConnector = {
      open(target) {
        targets.push(target);
        const servicePrincipal = target.credentials?.client_secret !== undefined;
        return blobConnector.open(servicePrincipal ? { ...target, credentials: { account_key: AZURITE_KEY } } : target);
      },
    };
    const deps = { store: metadata, clock: systemClock, secrets, workspaces, artifacts: ownStore };
    assets = createAssetService({ ...deps, storageAccounts: connector });
    embedded = createAssetService(deps);

    await assets.putResource('team-a', 'datastore', 'azurite_blob', {
      name: 'azurite_blob',
      type: 'azure_blob',
      account_name: AZURITE_ACCOUNT,
      container_name: 'data-container',
      credentials: { account_key: AZURITE_KEY },
    });
    await assets.putResource('team-a', 'datastore', 'azurite_lake', {
      name: 'azurite_lake',
      type: 'azure_data_lake_gen2',
      account_name: AZURITE_ACCOUNT,
      filesystem: 'lake',
      credentials: SERVICE_PRINCIPAL,
    });
    const service = azurite.service();
    for (const [container, path, body] of [
      ['data-container', 'example-data/titanic.csv', 'PassengerId,Survived\n1,0\n2,1\n'],
      ['data-container', 'example-data/notes.txt', 'notes\n'],
      ['data-container', 'example-data/more/extra.csv', 'a\n1\n'],
      ['lake', 'tables/iris.csv', 'sepal_length,species\n5.1,setosa\n'],
    ] as const) {
      const client = service.getContainerClient(container);
      await client.createIfNotExists();
      await client.getBlockBlobClient(path).upload(body, Buffer.byteLength(body));
    }
  });

  after(async () => {
    await ownStore.close();
    await metadata.close();
    await azurite.stop();
  });

  test('wasbs:// and wasb:// URIs: open, stat and list with the registered azure_blob datastore', async () => {
    const data = createDataAccess({ datastores: resolverOf(assets) });
    const csv = 'PassengerId,Survived\n1,0\n2,1\n';
    assert.equal(await text(await data.open('team-a', `${BLOB}example-data/titanic.csv`)), csv);
    const wasb = BLOB.replace('wasbs://', 'wasb://');
    assert.equal(await text(await data.open('team-a', `${wasb}example-data/titanic.csv`)), csv);

    const info = await data.stat('team-a', `${BLOB}example-data/titanic.csv`);
    assert.equal(info?.uri, `${BLOB}example-data/titanic.csv`);
    assert.equal(info?.size, csv.length);
    assert.equal(await data.stat('team-a', `${BLOB}example-data/missing.csv`), undefined);
    assert.equal(await data.stat('team-a', `${BLOB}example-data/`), undefined, 'a folder is not an object');

    assert.deepEqual(await data.list('team-a', `${BLOB}example-data`), [
      `${BLOB}example-data/more/extra.csv`,
      `${BLOB}example-data/notes.txt`,
      `${BLOB}example-data/titanic.csv`,
    ]);
    assert.deepEqual(await data.list('team-a', `${BLOB}example-data/`, { pattern: '*.csv' }), [
      `${BLOB}example-data/titanic.csv`,
    ]);
    assert.deepEqual(await data.list('team-a', `${wasb}example-data/more/`), [`${wasb}example-data/more/extra.csv`]);
    assert.equal((await data.list('team-a', BLOB)).length, 3, 'the container root lists the whole container');

    await assert.rejects(
      data.open('team-a', `${BLOB}example-data/missing.csv`),
      (err: unknown) =>
        err instanceof NotFoundError &&
        err.message ===
          `${BLOB}example-data/missing.csv does not exist in container 'data-container' of storage account ` +
            `'${AZURITE_ACCOUNT}'.`,
    );
    await assert.rejects(
      data.open('team-a', `${BLOB}example-data/`),
      (err: unknown) => err instanceof ValidationError && /names a folder/.test(err.message),
    );
    assert.ok(
      targets.some(
        (t) =>
          t.type === 'azure_blob' && t.credentials?.account_key === AZURITE_KEY && t.endpoint === 'core.windows.net',
      ),
      'opened with the datastore of the container and its stored key',
    );
  });

  test('abfss:// URIs resolve through the registered ADLS Gen2 datastore, at the Blob endpoint of its account', async () => {
    const data = createDataAccess({ datastores: resolverOf(assets) });
    targets.length = 0;
    const iris = 'sepal_length,species\n5.1,setosa\n';
    assert.equal(await text(await data.open('team-a', `${LAKE}tables/iris.csv`)), iris);
    assert.equal((await data.stat('team-a', `${LAKE}tables/iris.csv`))?.size, iris.length);
    assert.deepEqual(await data.list('team-a', `${LAKE}tables/`), [`${LAKE}tables/iris.csv`]);
    // The connector builds https://<account>.blob.<endpoint> from this target (Azurite's endpoint here).
    assert.deepEqual(targets, [
      {
        type: 'azure_data_lake_gen2',
        accountName: AZURITE_ACCOUNT,
        endpoint: 'core.windows.net',
        protocol: 'https',
        credentials: SERVICE_PRINCIPAL,
      },
    ]);

    // A file system is a Blob container of the account: either scheme reaches either datastore.
    const lakeAsBlob = `wasbs://lake@${AZURITE_ACCOUNT}.blob.core.windows.net/tables/iris.csv`;
    assert.equal(await text(await data.open('team-a', lakeAsBlob)), iris);
    const blobAsLake = `abfss://data-container@${AZURITE_ACCOUNT}.dfs.core.windows.net/example-data/notes.txt`;
    assert.equal(await text(await data.open('team-a', blobAsLake)), 'notes\n');
  });

  test('an unregistered container: the embedded store says to register a datastore, naming the URI', async () => {
    const data = createDataAccess({ datastores: resolverOf(embedded) });
    const cases = [
      [`wasbs://other-data@${AZURITE_ACCOUNT}.blob.core.windows.net/x.csv`, /container_name: other-data/],
      [`abfss://other-lake@${AZURITE_ACCOUNT}.dfs.core.windows.net/t/`, /filesystem: other-lake/],
      // Same account and container as a registered datastore, another cloud's endpoint: not that datastore.
      [`${BLOB.replace('core.windows.net', 'core.chinacloudapi.cn')}x.csv`, /endpoint: core\.chinacloudapi\.cn/],
    ] as const;
    for (const [uri, fields] of cases) {
      await assert.rejects(uri.endsWith('/') ? data.list('team-a', uri) : data.open('team-a', uri), (err: unknown) => {
        assert.ok(err instanceof ValidationError, String(err));
        assert.ok(err.message.startsWith(`Cannot read ${uri}: No datastore of workspace 'team-a'`), err.message);
        assert.match(err.message, /tessera datastore create --file/);
        assert.match(err.message, new RegExp(`account_name: ${AZURITE_ACCOUNT}`));
        assert.match(err.message, fields);
        return true;
      });
    }
    // A registered one on the embedded store: its datastore is named, and why it cannot be read here.
    await assert.rejects(
      data.open('team-a', `${BLOB}example-data/titanic.csv`),
      (err: unknown) =>
        err instanceof ValidationError &&
        /Datastore 'azurite_blob' points at the external storage account/.test(err.message),
    );
  });

  test('an unregistered container where accounts can be reached: the app identity is used', async () => {
    const data = createDataAccess({ datastores: resolverOf(assets) });
    targets.length = 0;
    const before = identityAsked;
    await assert.rejects(
      data.open('team-a', `wasbs://other-data@${AZURITE_ACCOUNT}.blob.core.windows.net/x.csv`),
      /no identity in this test/,
    );
    assert.equal(identityAsked, before + 1);
    assert.deepEqual(targets, [
      {
        type: 'azure_blob',
        accountName: AZURITE_ACCOUNT,
        endpoint: 'core.windows.net',
        protocol: 'https',
        credentials: undefined,
      },
    ]);
  });
});

test('local paths: none on a server; only under the allowed roots; no escape by .. or a link', async () => {
  const server = createDataAccess({ datastores });
  await assert.rejects(
    server.open('team-a', join(dir, 'root', 'data', 'x.csv')),
    (err: unknown) => err instanceof ForbiddenError && /allows no local folders/.test(err.message),
  );

  const cli = createDataAccess({ datastores, localRoots: [join(dir, 'root')] });
  assert.equal(await text(await cli.open('team-a', 'data/x.csv')), 'x\n', 'relative to the first root');
  assert.equal(await text(await cli.open('team-a', `file://${join(dir, 'root', 'data', 'x.csv')}`)), 'x\n');
  assert.equal((await cli.stat('team-a', 'file:data/sub/y.csv'))?.size, 2);
  assert.deepEqual(await cli.list('team-a', 'data/'), [
    `file://${join(dir, 'root', 'data', 'sub', 'y.csv')}`,
    `file://${join(dir, 'root', 'data', 'x.csv')}`,
  ]);
  assert.deepEqual(await cli.list('team-a', 'data', { pattern: '*.csv' }), [
    `file://${join(dir, 'root', 'data', 'x.csv')}`,
  ]);
  await assert.rejects(
    cli.open('team-a', 'data/../../secret.txt'),
    (err: unknown) => err instanceof ForbiddenError && /outside the folders this process may read/.test(err.message),
  );
  await assert.rejects(
    cli.open('team-a', 'data/link.txt'),
    (err: unknown) => err instanceof ForbiddenError && /symbolic link/.test(err.message),
  );
  await assert.rejects(cli.open('team-a', 'data/missing.csv'), NotFoundError);
});

test('http(s): streamed through fetch; failures name the URL (without its SAS) and the status', async () => {
  const seen: string[] = [];
  const fakeFetch: typeof fetch = async (input, init) => {
    const url = String(input);
    seen.push(`${init?.method ?? 'GET'} ${url}`);
    if (url.includes('/ok.csv')) return new Response('a,b\n1,2\n', { headers: { 'content-length': '8' } });
    if (url.includes('/gone')) return new Response('no', { status: 404, statusText: 'Not Found' });
    if (url.includes('/denied')) return new Response('no', { status: 403, statusText: 'Forbidden' });
    if (url.includes('/busy')) return new Response('later', { status: 503 });
    throw new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND nowhere') });
  };
  const data = createDataAccess({ datastores, fetch: fakeFetch });
  assert.equal(await text(await data.open('team-a', 'https://h.example/ok.csv')), 'a,b\n1,2\n');
  assert.equal((await data.stat('team-a', 'https://h.example/ok.csv'))?.size, 8);
  assert.equal(await data.stat('team-a', 'https://h.example/gone'), undefined);
  assert.deepEqual(seen.slice(0, 3), [
    'GET https://h.example/ok.csv',
    'HEAD https://h.example/ok.csv',
    'HEAD https://h.example/gone',
  ]);

  await assert.rejects(
    data.open('team-a', 'https://acct.blob.core.windows.net/c/gone?sv=2024&sig=SECRET'),
    (err: unknown) =>
      err instanceof NotFoundError &&
      err.message === 'GET https://acct.blob.core.windows.net/c/gone?… failed: HTTP 404 Not Found.' &&
      !err.message.includes('SECRET'),
  );
  await assert.rejects(data.open('team-a', 'https://h.example/denied'), ForbiddenError);
  await assert.rejects(data.open('team-a', 'https://h.example/busy'), TransientError);
  await assert.rejects(
    data.open('team-a', 'https://nowhere.example/x'),
    (err: unknown) => err instanceof TransientError && /getaddrinfo ENOTFOUND nowhere/.test(err.message),
  );
  await assert.rejects(data.list('team-a', 'https://h.example/folder/'), /http servers cannot list folders/);
  assert.equal(redactUrl('https://user:pw@h.example/a?sig=1'), 'https://h.example/a?…');
});
