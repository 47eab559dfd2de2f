import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemArtifactStore } from '../../shared/adapters/filesystem-artifact-store.js';
import { LocalSecretStore } from '../../shared/adapters/local-secret-store.js';
import { SqliteMetadataStore } from '../../shared/adapters/sqlite-metadata-store.js';
import { ENDPOINTS_CONTAINER } from '../../shared/contracts/endpoint.js';
import type { EndpointKeys, EndpointToken, OnlineDeployment } from '../../shared/contracts/endpoint.js';
import { AppError } from '../../shared/errors.js';
import type { ErrorCode } from '../../shared/errors.js';
import type { DeploymentProvisioner } from '../../shared/ports/deployment-provisioner.js';
import { createAssetService } from '../../shared/services/asset-service.js';
import { checkTraffic, parseTrafficText } from '../../shared/domain/traffic.js';
import {
  createEndpointService,
  deploymentKindOf,
  endpointKeysSecretName,
} from '../../shared/services/endpoint-service.js';
import type { EndpointService } from '../../shared/services/endpoint-service.js';
import { createWorkspaceService } from '../../shared/services/workspace-service.js';
import { servingDirectory, toDeploymentMetrics } from '../../shared/serving/from-contracts.js';
import { DeploymentStats, type DeploymentStatsSnapshot } from '../../shared/serving/stats.js';

const MODEL_URI = 'azureml://datastores/workspaceblobstore/paths/models/iris';
const CODE_URI = 'azureml://datastores/workspaceblobstore/paths/LocalUpload/abc/onlinescoring';

let dir: string;
let store: SqliteMetadataStore;
let secrets: LocalSecretStore;
let artifacts: FilesystemArtifactStore;
let service: EndpointService;
let now = Date.parse('2026-01-01T00:00:00Z');
/** What the fake data plane answers, by deployment name (default: ok). */
const outcomes = new Map<string, Awaited<ReturnType<DeploymentProvisioner['provision']>> | Error>();
const provisioned: OnlineDeployment[] = [];
/** What the provisioner heard besides provisioning: traffic writes and deletions. */
const heard: string[] = [];
/** What the fake data plane has counted, by `endpoint/deployment`. */
const served = new Map<string, DeploymentStatsSnapshot>();

async function rejects(promise: Promise<unknown>, code: ErrorCode, pattern?: RegExp): Promise<AppError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof AppError, `expected an AppError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (pattern !== undefined) assert.match(err.message, pattern);
    return err;
  }
  assert.fail(`expected a ${code}`);
}

const endpointSpec = (name: string, extra: Record<string, unknown> = {}) => ({
  $schema: 'https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json',
  name,
  auth_mode: 'key',
  ...extra,
});

const deploymentSpec = (name: string, endpoint: string, extra: Record<string, unknown> = {}) => ({
  $schema: 'https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json',
  name,
  endpoint_name: endpoint,
  model: 'azureml:iris-onnx:1',
  instance_type: 'Standard_DS3_v2',
  instance_count: 1,
  ...extra,
});

/** Creates a deployment and runs its provisioning activity, as the orchestration would. */
async function deploy(ws: string, endpoint: string, name: string, extra: Record<string, unknown> = {}) {
  const result = await service.createOrUpdateDeployment(ws, endpoint, name, deploymentSpec(name, endpoint, extra));
  const outcome = await service.provisionDeployment(result.provision);
  return { ...result, outcome };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-endpoints-'));
  store = SqliteMetadataStore.open(join(dir, 'metadata.db'));
  artifacts = new FilesystemArtifactStore({
    root: join(dir, 'artifacts'),
    signingKey: randomBytes(32),
    publicBaseUrl: 'http://127.0.0.1:7071',
  });
  secrets = await LocalSecretStore.open({ store, keyFile: join(dir, 'keys', 'secrets.key') });
  const clock = { now: () => now };
  const workspaces = createWorkspaceService({ store, clock });
  for (const ws of ['team-a', 'team-b']) await workspaces.put(ws, {});
  const assets = createAssetService({ store, clock, secrets, workspaces, artifacts });
  await assets.putVersion('team-a', 'model', 'iris-onnx', '1', { name: 'iris-onnx', path: MODEL_URI });
  const tokenKey = randomBytes(32);
  service = createEndpointService({
    store,
    clock,
    workspaces,
    assets,
    jobs: {
      withJobOutputPath: (_ws, spec) =>
        Promise.resolve({ ...spec, path: 'azureml://datastores/workspaceblobstore/paths/jobs/j1/outputs/model' }),
    },
    secrets,
    provisioner: {
      provision(deployment) {
        provisioned.push(deployment);
        const outcome = outcomes.get(deployment.name) ?? { ok: true as const };
        return outcome instanceof Error ? Promise.reject(outcome) : Promise.resolve(outcome);
      },
      async trafficChanged(endpoint, deployments) {
        heard.push(
          `traffic ${endpoint.name} ${JSON.stringify(endpoint.traffic)} [${deployments.map((d) => d.name).join(',')}]`,
        );
      },
      async removed(deployment) {
        heard.push(`removed ${deployment.endpoint_name}/${deployment.name}`);
      },
    },
    tokenKey: () => Promise.resolve(tokenKey),
    publicUrl: 'http://127.0.0.1:7071/',
    metrics: {
      startedAt: Date.parse('2026-01-01T00:00:00Z'),
      deployment: (endpoint, name) => toDeploymentMetrics(served.get(`${endpoint}/${name}`), undefined, 0),
    },
  });
});

after(async () => {
  await artifacts.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('endpoint service: endpoints', () => {
  it('creates an endpoint with a scoring URI, no traffic and revision 1, and lists it', async () => {
    const { endpoint, created } = await service.createOrUpdateEndpoint(
      'team-a',
      'my-endpoint',
      endpointSpec('my-endpoint', { description: 'd', tags: { a: 1 } }),
    );
    assert.equal(created, true);
    assert.equal(endpoint.scoring_uri, 'http://127.0.0.1:7071/api/endpoints/my-endpoint/score');
    assert.deepEqual(endpoint.traffic, {});
    assert.deepEqual(endpoint.tags, { a: '1' });
    assert.equal(endpoint.provisioning_state, 'Succeeded');
    assert.equal(endpoint.revision, 1);
    const listed = await service.listEndpoints('team-a');
    assert.deepEqual(
      listed.value.map((e) => e.name),
      ['my-endpoint'],
    );
    const again = await service.createOrUpdateEndpoint('team-a', 'my-endpoint', endpointSpec('my-endpoint'));
    assert.equal(again.created, false);
    assert.equal(again.endpoint.revision, 2);
  });

  it('refuses bad names, a name taken in another workspace, Kubernetes endpoints and aad_token', async () => {
    await rejects(
      service.createOrUpdateEndpoint('team-a', 'my_endpoint', endpointSpec('my_endpoint')),
      'ValidationError',
      /3-32/,
    );
    await rejects(service.createOrUpdateEndpoint('team-a', '1abc', endpointSpec('1abc')), 'ValidationError');
    await service.createOrUpdateEndpoint('team-a', 'shared-name', endpointSpec('shared-name'));
    await rejects(
      service.createOrUpdateEndpoint('team-b', 'shared-name', endpointSpec('shared-name')),
      'Conflict',
      /unique on a host/,
    );
    await rejects(
      service.createOrUpdateEndpoint('team-a', 'k8s-ep', endpointSpec('k8s-ep', { compute: 'azureml:inference' })),
      'ValidationError',
      /^Kubernetes online endpoints are not supported by Tessera yet; use a managed online endpoint$/,
    );
    await rejects(
      service.createOrUpdateEndpoint('team-a', 'aad-ep', endpointSpec('aad-ep', { auth_mode: 'aad_token' })),
      'ValidationError',
      /aad_token/,
    );
    await rejects(
      service.createOrUpdateEndpoint('team-a', 'new-ep', endpointSpec('new-ep', { traffic: { blue: 100 } })),
      'ValidationError',
      /no deployment 'blue'/,
    );
    await rejects(service.createOrUpdateEndpoint('nope', 'x-ep', endpointSpec('x-ep')), 'NotFound');
  });

  it('stores only key hashes; get-credentials reads the keys; both keys pass, others get 401', async () => {
    await service.createOrUpdateEndpoint('team-a', 'keyed', endpointSpec('keyed'));
    const keys = (await service.getCredentials('team-a', 'keyed')) as EndpointKeys;
    assert.match(keys.primaryKey, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(keys.primaryKey, keys.secondaryKey);
    const c = await store.container(ENDPOINTS_CONTAINER);
    const raw = JSON.stringify(await c.read('team-a', 'keyed'));
    assert.ok(!raw.includes(keys.primaryKey) && !raw.includes(keys.secondaryKey), 'the document holds no key');
    assert.ok((await secrets.get(endpointKeysSecretName('team-a', 'keyed'))) !== undefined);

    await service.verifyCaller('keyed', `Bearer ${keys.primaryKey}`);
    await service.verifyCaller('KEYED', `bearer ${keys.secondaryKey}`);
    await rejects(service.verifyCaller('keyed', null), 'Unauthorized', /Authorization: Bearer/);
    await rejects(service.verifyCaller('keyed', 'Bearer nope'), 'Unauthorized');
    await rejects(service.verifyCaller('keyed', keys.primaryKey), 'Unauthorized');
    await rejects(service.verifyCaller('no-such-endpoint', `Bearer ${keys.primaryKey}`), 'NotFound');
  });

  it('regenerating a key invalidates the old one at once and keeps the other', async () => {
    await service.createOrUpdateEndpoint('team-a', 'regen', endpointSpec('regen'));
    const before = (await service.getCredentials('team-a', 'regen')) as EndpointKeys;
    const { revision } = await service.getEndpoint('team-a', 'regen');
    const after = await service.regenerateKeys('team-a', 'regen', 'Primary');
    assert.notEqual(after.primaryKey, before.primaryKey);
    assert.equal(after.secondaryKey, before.secondaryKey);
    assert.deepEqual(await service.getCredentials('team-a', 'regen'), after);
    await rejects(service.verifyCaller('regen', `Bearer ${before.primaryKey}`), 'Unauthorized');
    await service.verifyCaller('regen', `Bearer ${after.primaryKey}`);
    await service.verifyCaller('regen', `Bearer ${before.secondaryKey}`);
    assert.equal((await service.getEndpoint('team-a', 'regen')).revision, revision + 1);
    await rejects(service.regenerateKeys('team-a', 'regen', 'tertiary'), 'ValidationError');
  });

  it('aml_token endpoints: a signed one-hour token passes until it expires; keys do not', async () => {
    await service.createOrUpdateEndpoint('team-a', 'tokened', endpointSpec('tokened', { auth_mode: 'aml_token' }));
    const token = (await service.getCredentials('team-a', 'tokened')) as EndpointToken;
    assert.equal(token.tokenType, 'Bearer');
    assert.equal(token.expiryTimeUtc, Math.floor(now / 1000) + 3600);
    const issued = await service.issueToken('team-a', 'tokened');
    await service.verifyCaller('tokened', `Bearer ${issued.accessToken}`);
    // A token of another endpoint, or a tampered one, is refused.
    await service.createOrUpdateEndpoint('team-a', 'tokened-2', endpointSpec('tokened-2', { auth_mode: 'aml_token' }));
    const other = await service.issueToken('team-a', 'tokened-2');
    await rejects(service.verifyCaller('tokened', `Bearer ${other.accessToken}`), 'Unauthorized');
    await rejects(service.verifyCaller('tokened', `Bearer ${issued.accessToken.slice(0, -2)}xx`), 'Unauthorized');
    await rejects(service.regenerateKeys('team-a', 'tokened', 'primary'), 'ValidationError', /aml_token/);
    await rejects(service.issueToken('team-a', 'keyed'), 'ValidationError');
    const saved = now;
    now += 3600 * 1000 + 1;
    try {
      await rejects(service.verifyCaller('tokened', `Bearer ${issued.accessToken}`), 'Unauthorized', /unexpired/);
    } finally {
      now = saved;
    }
  });
});

describe('endpoint service: deployments and traffic', () => {
  before(async () => {
    await service.createOrUpdateEndpoint('team-a', 'traffic-ep', endpointSpec('traffic-ep'));
  });

  it('resolves the model to its datastore URI and provisions a no-code deployment to Succeeded', async () => {
    const { deployment, created, outcome } = await deploy('team-a', 'traffic-ep', 'blue');
    assert.equal(created, true);
    assert.equal(deployment.provisioning_state, 'Creating');
    assert.equal(deployment.kind, 'onnx');
    assert.deepEqual(deployment.model, { asset: 'azureml:iris-onnx:1', uri: MODEL_URI });
    assert.deepEqual(deployment.request_settings, {
      request_timeout_ms: 5000,
      max_concurrent_requests_per_instance: 1,
      max_queue_wait_ms: 500,
    });
    assert.deepEqual(outcome, { state: 'Succeeded' });
    const shown = await service.getDeployment('team-a', 'traffic-ep', 'blue');
    assert.equal(shown.provisioning_state, 'Succeeded');
    assert.equal(shown.generation, 1);
    // The activity again (a retry) does nothing more.
    const calls = provisioned.length;
    const again = { workspace: 'team-a', endpoint: 'traffic-ep', deployment: 'blue', generation: 1 };
    assert.deepEqual(await service.provisionDeployment(again), { state: 'Succeeded' });
    assert.equal(provisioned.length, calls);
  });

  it('works out the kind from the scoring script and reads the model from a job output or a path', async () => {
    const script = await deploy('team-a', 'traffic-ep', 'green', {
      model: 'azureml://jobs/j1/outputs/model',
      code_configuration: { code: CODE_URI, scoring_script: 'score.mjs' },
      request_settings: { request_timeout_ms: 3000, max_concurrent_requests_per_instance: 2 },
    });
    assert.equal(script.deployment.kind, 'script');
    assert.deepEqual(script.deployment.model, {
      uri: 'azureml://datastores/workspaceblobstore/paths/jobs/j1/outputs/model',
    });
    assert.deepEqual(script.deployment.code, { uri: CODE_URI, scoring_script: 'score.mjs' });
    assert.equal(script.deployment.request_settings.max_queue_wait_ms, 500);
    const python = await deploy('team-a', 'traffic-ep', 'py', {
      model: { path: MODEL_URI },
      code_configuration: { code: CODE_URI, scoring_script: 'score.py' },
    });
    assert.equal(python.deployment.kind, 'python');
    assert.deepEqual(python.deployment.model, { uri: MODEL_URI });
    assert.equal(deploymentKindOf('init.ts'), 'script');
    assert.throws(() => deploymentKindOf('score.R'), /neither a JavaScript/);
  });

  it('refuses an unknown model, a local path, a no-code deployment without a model, and Kubernetes', async () => {
    await rejects(
      service.createOrUpdateDeployment(
        'team-a',
        'traffic-ep',
        'bad',
        deploymentSpec('bad', 'traffic-ep', { model: 'azureml:nope:3' }),
      ),
      'ValidationError',
      /nope/,
    );
    await rejects(
      service.createOrUpdateDeployment(
        'team-a',
        'traffic-ep',
        'bad',
        deploymentSpec('bad', 'traffic-ep', { model: { path: 'file:/tmp/model' } }),
      ),
      'ValidationError',
      /local path; upload it first/,
    );
    const noModel: Record<string, unknown> = deploymentSpec('bad', 'traffic-ep');
    delete noModel['model'];
    await rejects(
      service.createOrUpdateDeployment('team-a', 'traffic-ep', 'bad', noModel),
      'ValidationError',
      /no-code/,
    );
    await rejects(
      service.createOrUpdateDeployment('team-a', 'traffic-ep', 'bad', {
        ...deploymentSpec('bad', 'traffic-ep'),
        type: 'kubernetes',
      }),
      'ValidationError',
      /^Kubernetes online endpoints are not supported by Tessera yet; use a managed online endpoint$/,
    );
    await rejects(
      service.createOrUpdateDeployment('team-a', 'traffic-ep', 'bad', deploymentSpec('other', 'traffic-ep')),
      'ValidationError',
      /names 'other'/,
    );
    await rejects(service.getDeployment('team-a', 'traffic-ep', 'bad'), 'NotFound');
  });

  it('validates traffic: whole percents summing to 100 or all 0, existing deployments only', async () => {
    const ep = await service.setTraffic('team-a', 'traffic-ep', parseTrafficText('blue=90 green=10'));
    assert.deepEqual(ep.traffic, { blue: 90, green: 10 });
    await rejects(
      service.setTraffic('team-a', 'traffic-ep', { blue: 90, green: 20 }),
      'ValidationError',
      /add up to 110/,
    );
    await rejects(
      service.setTraffic('team-a', 'traffic-ep', { blue: 50.5, green: 49.5 }),
      'ValidationError',
      /whole percent/,
    );
    await rejects(
      service.setTraffic('team-a', 'traffic-ep', { blue: 50, red: 50 }),
      'ValidationError',
      /no deployment 'red'/,
    );
    assert.deepEqual((await service.setTraffic('team-a', 'traffic-ep', { blue: 0, green: 0 })).traffic, {
      blue: 0,
      green: 0,
    });
    assert.throws(() => parseTrafficText('blue:90'), /name=percent/);
    assert.deepEqual(parseTrafficText('blue=90,green=10'), { blue: 90, green: 10 });
  });

  it('validates mirror traffic: one deployment, at most 50%, not the one taking all live traffic', async () => {
    await service.setTraffic('team-a', 'traffic-ep', { blue: 100 });
    const ep = await service.setMirrorTraffic('team-a', 'traffic-ep', { green: 20 });
    assert.deepEqual(ep.mirror_traffic, { green: 20 });
    await rejects(service.setMirrorTraffic('team-a', 'traffic-ep', { green: 60 }), 'ValidationError', /more than 50%/);
    await rejects(
      service.setMirrorTraffic('team-a', 'traffic-ep', { green: 10, py: 10 }),
      'ValidationError',
      /only one deployment/,
    );
    await rejects(
      service.setMirrorTraffic('team-a', 'traffic-ep', { blue: 10 }),
      'ValidationError',
      /100% of the live traffic/,
    );
    // Live traffic that would give the mirrored deployment everything is refused too.
    await rejects(
      service.setTraffic('team-a', 'traffic-ep', { green: 100 }),
      'ValidationError',
      /100% of the live traffic/,
    );
    await service.setMirrorTraffic('team-a', 'traffic-ep', {});
  });

  it('changes traffic atomically: concurrent updates each land whole, and every change bumps the revision', async () => {
    const start = (await service.getEndpoint('team-a', 'traffic-ep')).revision;
    const splits = [
      { blue: 10, green: 90 },
      { blue: 20, green: 80 },
      { blue: 30, green: 70 },
      { blue: 40, green: 60 },
      { blue: 50, green: 50 },
    ];
    await Promise.all(splits.map((t) => service.setTraffic('team-a', 'traffic-ep', t)));
    const after = await service.lookup('traffic-ep');
    assert.ok(after !== undefined);
    assert.ok(
      splits.some((t) => JSON.stringify(t) === JSON.stringify(after.endpoint.traffic)),
      JSON.stringify(after.endpoint.traffic),
    );
    assert.equal(after.endpoint.revision, start + splits.length);
    // The directory view names every deployment that traffic names.
    const names = new Set(after.deployments.map((d) => d.name));
    for (const name of Object.keys(after.endpoint.traffic)) assert.ok(names.has(name), name);
  });

  it('refuses to delete a deployment with traffic (409), deletes it once at 0', async () => {
    await service.setTraffic('team-a', 'traffic-ep', { blue: 100, green: 0 });
    await rejects(service.deleteDeployment('team-a', 'traffic-ep', 'blue'), 'Conflict', /100% of the live traffic/);
    await service.setMirrorTraffic('team-a', 'traffic-ep', { green: 10 });
    await rejects(service.deleteDeployment('team-a', 'traffic-ep', 'green'), 'Conflict', /mirrored/);
    await service.setMirrorTraffic('team-a', 'traffic-ep', {});
    heard.length = 0;
    await service.deleteDeployment('team-a', 'traffic-ep', 'green');
    assert.deepEqual(heard, ['removed traffic-ep/green']);
    const ep = await service.getEndpoint('team-a', 'traffic-ep');
    assert.deepEqual(ep.traffic, { blue: 100 });
    // Traffic writes are heard after the write; mirror traffic and refused writes are not.
    heard.length = 0;
    await service.setTraffic('team-a', 'traffic-ep', { blue: 100 });
    await service.setMirrorTraffic('team-a', 'traffic-ep', {});
    await rejects(service.setTraffic('team-a', 'traffic-ep', { blue: 90 }), 'ValidationError');
    assert.equal(heard.length, 1, heard.join('; '));
    assert.match(heard[0] ?? '', /^traffic traffic-ep \{"blue":100\} \[(?:[\w-]+,)*blue(?:,[\w-]+)*\]$/);
    await rejects(service.getDeployment('team-a', 'traffic-ep', 'green'), 'NotFound');
  });

  it('a deployment that fails reports its reason and logs and leaves the others as they were', async () => {
    outcomes.set('broken', {
      ok: false,
      reason: 'init() threw: no model file',
      logs: 'loading...\nError: no model file\n',
    });
    const before = await service.getDeployment('team-a', 'traffic-ep', 'blue');
    const { outcome } = await deploy('team-a', 'traffic-ep', 'broken');
    assert.deepEqual(outcome, { state: 'Failed' });
    const broken = await service.getDeployment('team-a', 'traffic-ep', 'broken');
    assert.equal(broken.provisioning_state, 'Failed');
    assert.deepEqual(broken.error, { reason: 'init() threw: no model file' });
    const logs = await service.getLogs('team-a', 'traffic-ep', 'broken');
    assert.match(logs.content, /Error: no model file/);
    assert.match(logs.content, /Failed: init\(\) threw/);
    assert.match((await service.getLogs('team-a', 'traffic-ep', 'broken', { lines: 1 })).content, /^\S+ Failed: init/);
    const blue = await service.getDeployment('team-a', 'traffic-ep', 'blue');
    assert.deepEqual({ ...blue, updated_at: '' }, { ...before, updated_at: '' });
    assert.equal(blue.updated_at, before.updated_at);
    assert.deepEqual((await service.getEndpoint('team-a', 'traffic-ep')).traffic, { blue: 100 });
    // No live traffic to a failed deployment.
    await rejects(
      service.setTraffic('team-a', 'traffic-ep', { blue: 50, broken: 50 }),
      'ValidationError',
      /failed to provision/,
    );

    // A provisioner that throws fails the deployment with its message.
    outcomes.set('thrower', new Error('scorer crashed'));
    const thrown = await deploy('team-a', 'traffic-ep', 'thrower');
    assert.deepEqual(thrown.outcome, { state: 'Failed' });
    assert.match(
      (await service.getDeployment('team-a', 'traffic-ep', 'thrower')).error?.reason ?? '',
      /scorer crashed/,
    );

    // Fixed and updated: Updating, a new generation, then Succeeded; the old generation's activity is superseded.
    outcomes.delete('broken');
    const updated = await service.createOrUpdateDeployment(
      'team-a',
      'traffic-ep',
      'broken',
      deploymentSpec('broken', 'traffic-ep'),
    );
    assert.equal(updated.deployment.provisioning_state, 'Updating');
    assert.equal(updated.deployment.generation, 2);
    assert.deepEqual(await service.provisionDeployment({ ...updated.provision, generation: 1 }), {
      state: 'Superseded',
    });
    assert.deepEqual(await service.provisionDeployment(updated.provision), { state: 'Succeeded' });
    assert.equal((await service.getDeployment('team-a', 'traffic-ep', 'broken')).error, undefined);
  });

  it('a failed update leaves the previous generation serving; a deployment that never succeeded does not serve', async () => {
    await service.createOrUpdateEndpoint('team-a', 'update-ep', endpointSpec('update-ep'));
    const first = await deploy('team-a', 'update-ep', 'keeper');
    assert.equal(first.outcome.state, 'Succeeded');
    assert.equal((await service.getDeployment('team-a', 'update-ep', 'keeper')).serving_generation, 1);
    await service.setTraffic('team-a', 'update-ep', { keeper: 100 });
    const servedNow = async () =>
      (await servingDirectory(service.directory).lookup('update-ep'))?.deployments.map((d) => ({
        name: d.name,
        revision: d.revision,
        instance_count: d.instance_count,
      }));

    // The update fails: Failed with its reason and logs, generation 2; generation 1 serves.
    outcomes.set('keeper', { ok: false, reason: 'init() threw: bad model', logs: 'Traceback: bad model\n' });
    const broken = await deploy('team-a', 'update-ep', 'keeper', { instance_count: 3 });
    assert.equal(broken.deployment.provisioning_state, 'Updating');
    assert.equal(broken.deployment.serving_generation, 1, 'while Updating, generation 1 serves');
    assert.equal(broken.outcome.state, 'Failed');
    const failed = await service.getDeployment('team-a', 'update-ep', 'keeper');
    assert.equal(failed.provisioning_state, 'Failed');
    assert.deepEqual(failed.error, { reason: 'init() threw: bad model' });
    assert.equal(failed.generation, 2);
    assert.equal(failed.serving_generation, 1);
    assert.equal(failed.instance_count, 3, 'show gives the failed spec');
    const logs = (await service.getLogs('team-a', 'update-ep', 'keeper')).content;
    assert.match(logs, /Traceback: bad model/);
    assert.match(logs, /Failed: init\(\) threw: bad model/);
    assert.match(logs, /generation 1 keeps serving/);
    assert.deepEqual(await servedNow(), [{ name: 'keeper', revision: 1, instance_count: 1 }]);
    const looked = (await service.lookup('update-ep'))?.deployments[0];
    assert.equal(looked?.provisioning_state, 'Failed');
    assert.equal(looked?.generation, 1);
    // It still serves, so its traffic may change.
    await service.setTraffic('team-a', 'update-ep', { keeper: 100 });

    // Failing again keeps generation 1; the fix replaces it.
    const again = await deploy('team-a', 'update-ep', 'keeper', { instance_count: 4 });
    assert.equal(again.outcome.state, 'Failed');
    assert.equal((await service.getDeployment('team-a', 'update-ep', 'keeper')).serving_generation, 1);
    outcomes.delete('keeper');
    const fixed = await deploy('team-a', 'update-ep', 'keeper', { instance_count: 2 });
    assert.equal(fixed.outcome.state, 'Succeeded');
    const shown = await service.getDeployment('team-a', 'update-ep', 'keeper');
    assert.equal(shown.generation, 4);
    assert.equal(shown.serving_generation, 4);
    assert.equal(shown.error, undefined);
    assert.deepEqual(await servedNow(), [{ name: 'keeper', revision: 4, instance_count: 2 }]);

    // Never succeeded: out of routing, and no traffic, even while an update of it is provisioned.
    outcomes.set('never', { ok: false, reason: 'no model file', logs: '' });
    await deploy('team-a', 'update-ep', 'never');
    const never = await service.getDeployment('team-a', 'update-ep', 'never');
    assert.equal(never.serving_generation, undefined);
    await rejects(
      service.setTraffic('team-a', 'update-ep', { keeper: 50, never: 50 }),
      'ValidationError',
      /failed to provision/,
    );
    await service.createOrUpdateDeployment('team-a', 'update-ep', 'never', deploymentSpec('never', 'update-ep'));
    assert.deepEqual(
      (await servedNow())?.map((d) => d.name),
      ['keeper'],
    );
  });

  it("GET of an endpoint and of a deployment include this host's counters", async () => {
    const stats = new DeploymentStats(Date.parse('2026-01-01T00:05:00Z'));
    for (let i = 0; i < 9; i++) stats.record(200, 3);
    stats.record(500, 40);
    served.set('traffic-ep/blue', stats.snapshot());
    const endpoint = await service.getEndpoint('team-a', 'traffic-ep');
    const metrics = endpoint.metrics;
    assert.ok(metrics !== undefined);
    assert.equal(metrics.scope, 'host');
    assert.match(metrics.note, /this host's counts, in memory/);
    assert.equal(metrics.host_started_at, '2026-01-01T00:00:00.000Z');
    assert.ok(Object.keys(metrics.deployments).includes('blue'));
    const blue = metrics.deployments['blue'];
    assert.equal(blue?.requests, 10);
    assert.equal(blue?.errors, 1);
    assert.deepEqual(blue?.responses, { '2xx': 9, '5xx': 1 });
    assert.equal(blue?.latency_ms.p50, 4);
    assert.equal(blue?.latency_ms.p99, 64);
    assert.equal(blue?.since, '2026-01-01T00:05:00.000Z');
    assert.equal(metrics.deployments['broken']?.requests, 0, 'a deployment not served here counts zero');
    assert.deepEqual((await service.getDeployment('team-a', 'traffic-ep', 'blue')).metrics, blue);
    // Lists stay lean.
    assert.ok((await service.listEndpoints('team-a')).value.every((e) => e.metrics === undefined));
    assert.ok((await service.listDeployments('team-a', 'traffic-ep')).value.every((d) => d.metrics === undefined));
    served.clear();
  });

  it('deleting an endpoint deletes its deployments, keys and name', async () => {
    await service.createOrUpdateEndpoint('team-a', 'doomed', endpointSpec('doomed'));
    await deploy('team-a', 'doomed', 'blue');
    await service.setTraffic('team-a', 'doomed', { blue: 100 });
    heard.length = 0;
    await service.deleteEndpoint('team-a', 'doomed');
    assert.deepEqual(heard, ['removed doomed/blue'], 'the provisioner hears of each deployment deleted with it');
    await rejects(service.getEndpoint('team-a', 'doomed'), 'NotFound');
    assert.equal(await service.lookup('doomed'), undefined);
    assert.equal(await secrets.get(endpointKeysSecretName('team-a', 'doomed')), undefined);
    // The name is free again, in any workspace.
    await service.createOrUpdateEndpoint('team-b', 'doomed', endpointSpec('doomed'));
    await rejects(service.deleteEndpoint('team-a', 'doomed'), 'NotFound');
  });

  it('checkTraffic accepts an empty map and all zeros', () => {
    checkTraffic({}, {}, {});
    checkTraffic({ a: 0 }, {}, { a: { provisioning_state: 'Creating' } });
  });
});
