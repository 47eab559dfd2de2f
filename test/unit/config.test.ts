import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { isLoopbackAddress, loadConfig } from '../../shared/config.js';
import { ConfigError } from '../../shared/errors.js';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected loadConfig(${JSON.stringify(env)}) to throw`);
}

const AZURE = {
  TESSERA_STORE: 'azure',
  COSMOS_ENDPOINT: 'https://acct.documents.azure.com:443/',
  BLOB_ACCOUNT_URL: 'https://acct.blob.core.windows.net/',
  SERVICEBUS_NAMESPACE: 'tessera-ns',
};

test('defaults describe the embedded laptop setup', () => {
  const config = loadConfig({});
  assert.equal(config.store, 'embedded');
  assert.equal(config.dataDir, resolve('.tessera'));
  assert.equal(config.port, 7071);
  assert.equal(config.bindAddress, '127.0.0.1');
  assert.equal(config.publicUrl, 'http://127.0.0.1:7071');
  assert.equal(config.auth, 'on');
  assert.equal(config.tokenTtlDays, 90);
  assert.equal(config.durableHistoryRetentionDays, 30);
  assert.equal(config.azure, undefined);
  assert.equal(config.entra, undefined);
});

test('numeric strings are coerced and the public URL follows bind address and port', () => {
  const config = loadConfig({
    PORT: '8080',
    TESSERA_BIND_ADDRESS: '::1',
    TESSERA_TOKEN_TTL_DAYS: '7',
    DURABLE_HISTORY_RETENTION_DAYS: '2',
  });
  assert.equal(config.port, 8080);
  assert.equal(config.publicUrl, 'http://[::1]:8080');
  assert.equal(config.tokenTtlDays, 7);
  assert.equal(config.durableHistoryRetentionDays, 2);
  assert.equal(loadConfig({ TESSERA_BIND_ADDRESS: '0.0.0.0' }).publicUrl, 'http://127.0.0.1:7071');
  assert.equal(loadConfig({ TESSERA_PUBLIC_URL: 'https://ml.example.com/' }).publicUrl, 'https://ml.example.com');
});

test('empty values count as unset', () => {
  assert.equal(loadConfig({ PORT: '', TESSERA_STORE: '' }).port, 7071);
});

test('the config is deeply frozen', () => {
  const config = loadConfig({ ...AZURE });
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config.azure));
  assert.ok(Object.isFrozen(config.azure?.cosmos));
  assert.throws(() => {
    (config as { port: number }).port = 1;
  }, TypeError);
});

test('a bad value is named with its value, the expectation and the fix', () => {
  const port = configError({ PORT: 'seventy' });
  assert.equal(port.target, 'PORT');
  assert.match(port.message, /PORT="seventy" is invalid: expected an integer between 0 and 65535/);
  assert.match(port.message, /default \(7071\)/);

  const store = configError({ TESSERA_STORE: 'cloud' });
  assert.equal(store.target, 'TESSERA_STORE');
  assert.match(store.message, /TESSERA_STORE="cloud".*'embedded' or 'azure'/);

  assert.equal(configError({ TESSERA_TOKEN_TTL_DAYS: '0' }).target, 'TESSERA_TOKEN_TTL_DAYS');
  assert.equal(configError({ TESSERA_PUBLIC_URL: 'ftp://x' }).target, 'TESSERA_PUBLIC_URL');
});

test('several problems are reported together', () => {
  const err = configError({ PORT: 'x', TESSERA_AUTH: 'maybe' });
  assert.equal(err.details.length, 2);
  assert.deepEqual(err.details.map((d) => d.target).sort(), ['PORT', 'TESSERA_AUTH']);
});

test('TESSERA_AUTH=off is refused unless the host binds to loopback', () => {
  const err = configError({ TESSERA_AUTH: 'off', TESSERA_BIND_ADDRESS: '0.0.0.0' });
  assert.equal(err.target, 'TESSERA_AUTH');
  assert.match(err.message, /loopback.*"0\.0\.0\.0".*TESSERA_AUTH=on/);
  for (const bind of ['127.0.0.1', '127.10.0.5', '::1', 'localhost']) {
    assert.equal(loadConfig({ TESSERA_AUTH: 'off', TESSERA_BIND_ADDRESS: bind }).auth, 'off', bind);
  }
  assert.equal(isLoopbackAddress('128.0.0.1'), false);
  assert.equal(isLoopbackAddress('127.0.0.1.example.com'), false);
});

test('unknown TESSERA_* keys are reported with a suggestion; client keys and other variables are ignored', () => {
  const err = configError({ TESSERA_STROE: 'embedded' });
  assert.equal(err.target, 'TESSERA_STROE');
  assert.match(err.message, /did you mean TESSERA_STORE\?/);
  assert.doesNotThrow(() =>
    loadConfig({ TESSERA_TOKEN: 'tsr_x', TESSERA_ENDPOINT: 'http://h', PATH: '/bin', HOME: '/root' }),
  );
});

test('azure needs Cosmos, Blob and Service Bus settings and names the missing key', () => {
  const cosmos = configError({
    TESSERA_STORE: 'azure',
    BLOB_ACCOUNT_URL: AZURE.BLOB_ACCOUNT_URL,
    SERVICEBUS_NAMESPACE: 'ns',
  });
  assert.equal(cosmos.target, 'COSMOS_ENDPOINT');
  assert.match(cosmos.message, /COSMOS_ENDPOINT is required when TESSERA_STORE=azure/);

  const all = configError({ TESSERA_STORE: 'azure' });
  assert.deepEqual(all.details.map((d) => d.target).sort(), [
    'BLOB_ACCOUNT_URL',
    'COSMOS_ENDPOINT',
    'SERVICEBUS_NAMESPACE',
  ]);
  assert.match(all.message, /BLOB_ACCOUNT_URL \(or BLOB_CONNECTION_STRING\)/);
});

test('azure settings: identity by default, keys and connection strings when given', () => {
  const identity = loadConfig({ ...AZURE, KEY_VAULT_URL: 'https://v.vault.azure.net' });
  assert.deepEqual(identity.azure, {
    cosmos: { endpoint: AZURE.COSMOS_ENDPOINT, database: 'tessera' },
    blob: { accountUrl: 'https://acct.blob.core.windows.net' },
    serviceBus: { namespace: 'tessera-ns.servicebus.windows.net' },
    keyVaultUrl: 'https://v.vault.azure.net',
  });
  const secrets = loadConfig({
    TESSERA_STORE: 'azure',
    COSMOS_ENDPOINT: AZURE.COSMOS_ENDPOINT,
    COSMOS_KEY: 'k3y',
    COSMOS_DATABASE: 'db2',
    BLOB_CONNECTION_STRING: 'UseDevelopmentStorage=true',
    SERVICEBUS_CONNECTION_STRING: 'Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=b',
  });
  assert.deepEqual(secrets.azure?.cosmos, { endpoint: AZURE.COSMOS_ENDPOINT, database: 'db2', key: 'k3y' });
  assert.deepEqual(secrets.azure?.blob, { connectionString: 'UseDevelopmentStorage=true' });
});

test('secret values never appear in error messages', () => {
  const err = configError({ ...AZURE, COSMOS_KEY: ' \t ', PORT: 'x' });
  assert.match(err.message, /COSMOS_KEY=\(value hidden\)/);
  assert.doesNotMatch(err.message, /\\t/);
  assert.match(err.message, /PORT="x"/);
});

test('Entra settings come as a pair', () => {
  const entra = loadConfig({ ENTRA_TENANT_ID: 'contoso.onmicrosoft.com', ENTRA_AUDIENCE: 'api://tessera' });
  assert.deepEqual(entra.entra, { tenantId: 'contoso.onmicrosoft.com', audience: 'api://tessera' });
  const missing = configError({ ENTRA_TENANT_ID: 'contoso.onmicrosoft.com' });
  assert.equal(missing.target, 'ENTRA_AUDIENCE');
  assert.match(missing.message, /ENTRA_AUDIENCE is required/);
});

const CONTAINER_APPS = {
  CONTAINER_APPS_SUBSCRIPTION_ID: '00000000-1111-2222-3333-444444444444',
  CONTAINER_APPS_RESOURCE_GROUP: 'rg-tessera',
  TRAINER_JOB_NAME: 'tessera-trainer',
};

test('Container Apps compute settings: config.azure.containerApps, ARM endpoint by default', () => {
  assert.equal(loadConfig({ ...AZURE }).azure?.containerApps, undefined);
  assert.deepEqual(loadConfig({ ...AZURE, ...CONTAINER_APPS }).azure?.containerApps, {
    subscriptionId: '00000000-1111-2222-3333-444444444444',
    resourceGroup: 'rg-tessera',
    trainerJobName: 'tessera-trainer',
    armEndpoint: 'https://management.azure.com',
  });
  const gov = loadConfig({
    ...AZURE,
    ...CONTAINER_APPS,
    TRAINER_GPU_JOB_NAME: 'tessera-trainer-gpu',
    CONTAINER_APPS_ARM_ENDPOINT: 'https://management.usgovcloudapi.net/',
  });
  assert.equal(gov.azure?.containerApps?.gpuTrainerJobName, 'tessera-trainer-gpu');
  assert.equal(gov.azure?.containerApps?.armEndpoint, 'https://management.usgovcloudapi.net');
  assert.ok(Object.isFrozen(gov.azure?.containerApps));
  // Settings for the embedded store are validated but unused.
  assert.equal(loadConfig({ ...CONTAINER_APPS }).azure, undefined);
});

test('Container Apps settings come as a set and the error names the missing ones', () => {
  const gpuOnly = configError({ ...AZURE, TRAINER_GPU_JOB_NAME: 'tessera-trainer-gpu' });
  assert.deepEqual(gpuOnly.details.map((d) => d.target).sort(), [
    'CONTAINER_APPS_RESOURCE_GROUP',
    'CONTAINER_APPS_SUBSCRIPTION_ID',
    'TRAINER_JOB_NAME',
  ]);
  assert.match(
    gpuOnly.message,
    /TRAINER_JOB_NAME is required when the Container Apps compute is configured \(TRAINER_GPU_JOB_NAME is set\)/,
  );
  const { TRAINER_JOB_NAME: _omit, ...noJob } = CONTAINER_APPS;
  const missingJob = configError({ ...AZURE, ...noJob });
  assert.equal(missingJob.target, 'TRAINER_JOB_NAME');
  assert.match(missingJob.message, /Set TRAINER_JOB_NAME to the name of the manual-trigger Container Apps job/);
  assert.equal(
    configError({ ...AZURE, CONTAINER_APPS_ARM_ENDPOINT: 'https://management.azure.com' }).details.length,
    3,
  );
});

test('Container Apps settings are checked for their format', () => {
  const cases: [string, string][] = [
    ['CONTAINER_APPS_SUBSCRIPTION_ID', 'my-subscription'],
    ['CONTAINER_APPS_RESOURCE_GROUP', 'rg/with/slashes'],
    ['CONTAINER_APPS_RESOURCE_GROUP', 'ends-with-dot.'],
    ['TRAINER_JOB_NAME', 'Tessera-Trainer'],
    ['TRAINER_JOB_NAME', 'a'],
    ['TRAINER_JOB_NAME', 'double--dash'],
    ['TRAINER_JOB_NAME', 'x'.repeat(33)],
    ['TRAINER_GPU_JOB_NAME', '9gpu'],
    ['CONTAINER_APPS_ARM_ENDPOINT', 'http://management.azure.com'],
  ];
  for (const [key, value] of cases) {
    const err = configError({ ...AZURE, ...CONTAINER_APPS, [key]: value });
    assert.equal(err.target, key, `${key}=${value}`);
    assert.match(
      err.message,
      new RegExp(`${key}=${JSON.stringify(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is invalid: expected`),
    );
  }
  assert.match(
    configError({ ...AZURE, ...CONTAINER_APPS, CONTAINER_APPS_ARM_ENDPOINT: 'ftp://x' }).message,
    /or unset it to use the default \(https:\/\/management\.azure\.com\)/,
  );
});

test("the trainer's launch variables are known keys, not typos", () => {
  assert.doesNotThrow(() =>
    loadConfig({
      TESSERA_JOB_WORKSPACE: 'ws',
      TESSERA_JOB_NAME: 'job-1',
      TESSERA_JOB_ATTEMPT: '1',
      TESSERA_JOB_EXECUTION_HINT: '{}',
    }),
  );
  assert.match(configError({ TESSERA_JOB_ATTEMP: '1' }).message, /did you mean TESSERA_JOB_ATTEMPT\?/);
});

test('Python scoring on Container Apps: the environment and the image, with the subscription and group', () => {
  const environmentId =
    '/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-tessera/providers/Microsoft.App/managedEnvironments/cae-tessera';
  const config = loadConfig({
    ...AZURE,
    ...CONTAINER_APPS,
    CONTAINER_APPS_ENVIRONMENT_ID: environmentId,
    PYTHON_SCORING_IMAGE: 'tesseraacr.azurecr.io/tessera-scoring:1.0.0',
    PYTHON_SCORING_IDENTITY_CLIENT_ID: '11111111-2222-3333-4444-555555555555',
  });
  assert.deepEqual(config.azure?.pythonScoring, {
    subscriptionId: '00000000-1111-2222-3333-444444444444',
    resourceGroup: 'rg-tessera',
    environmentId,
    image: 'tesseraacr.azurecr.io/tessera-scoring:1.0.0',
    identityClientId: '11111111-2222-3333-4444-555555555555',
    armEndpoint: 'https://management.azure.com',
  });
  assert.equal(loadConfig({ ...AZURE, ...CONTAINER_APPS }).azure?.pythonScoring, undefined, 'optional');
  // Without trainer jobs: Python scoring alone, and jobs stay unconfigured.
  const { TRAINER_JOB_NAME: _job, ...scoringOnly } = CONTAINER_APPS;
  const alone = loadConfig({
    ...AZURE,
    ...scoringOnly,
    CONTAINER_APPS_ENVIRONMENT_ID: environmentId,
    PYTHON_SCORING_IMAGE: 'img:1',
  });
  assert.equal(alone.azure?.containerApps, undefined);
  assert.equal(alone.azure?.pythonScoring?.image, 'img:1');

  const imageOnly = configError({ ...AZURE, PYTHON_SCORING_IMAGE: 'img:1' });
  assert.deepEqual(imageOnly.details.map((d) => d.target).sort(), [
    'CONTAINER_APPS_ENVIRONMENT_ID',
    'CONTAINER_APPS_RESOURCE_GROUP',
    'CONTAINER_APPS_SUBSCRIPTION_ID',
  ]);
  assert.match(
    imageOnly.message,
    /CONTAINER_APPS_ENVIRONMENT_ID is required when Python deployments run on Container Apps/,
  );
  assert.equal(
    configError({
      ...AZURE,
      ...CONTAINER_APPS,
      PYTHON_SCORING_IMAGE: 'img:1',
      CONTAINER_APPS_ENVIRONMENT_ID: 'cae-tessera',
    }).target,
    'CONTAINER_APPS_ENVIRONMENT_ID',
  );
});
