// ContainerAppsDeployments through the real @azure/arm-appcontainers client, against the
// recorded-protocol ARM fake in test/support/container-apps-fake.ts (not against Azure), and the
// remote scorer against a local HTTP server.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TokenCredential } from '@azure/core-auth';
import {
  appName,
  balance,
  ContainerAppsDeployments,
  containerAppsName,
  labelName,
  SCORING_ENV,
  SCORING_KEY_SECRET,
} from '../../shared/adapters/container-apps-deployments.js';
import type { ContainerAppsDeploymentsOptions } from '../../shared/adapters/container-apps-deployments.js';
import type { OnlineDeployment } from '../../shared/contracts/endpoint.js';
import { AppError } from '../../shared/errors.js';
import type { ErrorCode } from '../../shared/errors.js';
import { createRemoteScorer } from '../../shared/serving/remote-scorer.js';
import { ContainerAppsFake } from '../support/container-apps-fake.js';
import type { FakeContainer } from '../support/container-apps-fake.js';

const IMAGE = 'tesseraacr.azurecr.io/tessera-scoring:1.0.0';
const DOMAIN = 'kindbay-1a2b3c4d.swedencentral.azurecontainerapps.io';

function deployment(name: string, generation = 1, overrides: Partial<OnlineDeployment> = {}): OnlineDeployment {
  return {
    name,
    endpoint_name: 'credit-ep',
    workspace: 'ws',
    kind: 'python',
    model: { asset: 'azureml:credit:1', uri: 'azureml://datastores/workspaceblobstore/paths/models/credit/1/' },
    code: { uri: 'azureml://datastores/workspaceblobstore/paths/code/abc/', scoring_script: 'score.py' },
    instance_type: 'Standard_DS3_v2',
    instance_count: 2,
    request_settings: { request_timeout_ms: 5000, max_concurrent_requests_per_instance: 1, max_queue_wait_ms: 500 },
    environment_variables: { THRESHOLD: '0.5', AZUREML_MODEL_DIR: '/elsewhere' },
    tags: {},
    provisioning_state: 'Creating',
    generation,
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<AppError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof AppError, `expected an AppError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message !== undefined) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected a ${code}`);
}

function envOf(container: FakeContainer | undefined): Record<string, string | undefined> {
  return Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value ?? `secret:${e.secretRef ?? ''}`]));
}

describe('ContainerAppsDeployments against the ARM fake', () => {
  let fake: ContainerAppsFake;
  let environmentId: string;

  const credential = (): TokenCredential => ({
    getToken: async () => ({ token: fake.token, expiresOnTimestamp: Date.now() + 3_600_000 }),
  });

  function host(options: Partial<ContainerAppsDeploymentsOptions> = {}): ContainerAppsDeployments {
    return new ContainerAppsDeployments({
      subscriptionId: fake.subscriptionId,
      resourceGroup: fake.resourceGroup,
      environmentId,
      image: IMAGE,
      armEndpoint: fake.endpoint,
      credential: credential(),
      scoringKey: async (app) => `key-of-${app}`,
      storeEnv: { TESSERA_STORE: 'azure', COSMOS_ENDPOINT: 'https://meta.documents.azure.com:443/' },
      pollIntervalMs: 5,
      revisionPollMs: 1,
      revisionTimeoutMs: 2000,
      http: { agent: fake.agent, retryOptions: { maxRetries: 1, retryDelayInMs: 1, maxRetryDelayInMs: 5 } },
      ...options,
    });
  }

  function traffic(): { label?: string; revisionName?: string; weight?: number }[] {
    return fake.app('credit-ep')?.configuration.ingress?.traffic ?? [];
  }

  function activeRevisions(): string[] {
    return (fake.app('credit-ep')?.revisions ?? []).filter((r) => r.active).map((r) => r.name);
  }

  before(async () => {
    fake = await ContainerAppsFake.start();
  });
  after(async () => {
    await fake.stop();
  });
  beforeEach(() => {
    fake.reset();
    environmentId = fake.addEnvironment('cae-tessera', DOMAIN);
  });

  it('creates the endpoint app with the first generation as a labelled revision', async () => {
    const result = await host().provision(deployment('blue'));
    assert.deepEqual(result, { ok: true });

    const app = fake.app('credit-ep');
    assert.ok(app, 'the app exists');
    assert.equal(app.tags['tessera-endpoint'], 'credit-ep');
    assert.equal(app.environmentId, environmentId);
    assert.equal(app.configuration.activeRevisionsMode, 'Multiple');
    assert.equal(app.configuration.ingress?.external, true);
    assert.equal(app.configuration.ingress?.targetPort, 5001);
    assert.deepEqual(app.configuration.secrets, [{ name: SCORING_KEY_SECRET, value: 'key-of-credit-ep' }]);
    assert.deepEqual(traffic(), [{ revisionName: 'credit-ep--blue-1', label: 'blue', weight: 100 }]);

    const [revision] = app.revisions;
    assert.equal(revision?.name, 'credit-ep--blue-1');
    assert.deepEqual(revision?.template.scale, { minReplicas: 2, maxReplicas: 2 });
    const [container] = revision?.template.containers ?? [];
    assert.equal(container?.name, 'scorer');
    assert.equal(container?.image, IMAGE);
    // Standard_DS3_v2 has 4 vCPUs: the largest Consumption replica.
    assert.deepEqual(container?.resources, { cpu: 4, memory: '8Gi' });
    const env = envOf(container);
    assert.equal(env.THRESHOLD, '0.5', "the deployment's own variables");
    assert.equal(env.AZUREML_MODEL_DIR, '/var/azureml-app/azureml-models', "Tessera's AZUREML_MODEL_DIR wins");
    assert.equal(env[SCORING_ENV.modelUri], 'azureml://datastores/workspaceblobstore/paths/models/credit/1/');
    assert.equal(env[SCORING_ENV.codeUri], 'azureml://datastores/workspaceblobstore/paths/code/abc/');
    assert.equal(env[SCORING_ENV.entryScript], 'score.py');
    assert.equal(env[SCORING_ENV.deployment], 'blue');
    assert.equal(env[SCORING_ENV.workspace], 'ws');
    assert.equal(env.TESSERA_STORE, 'azure', 'the store settings the image reads the datastores with');
    assert.equal(env.COSMOS_ENDPOINT, 'https://meta.documents.azure.com:443/');
    assert.equal(env[SCORING_ENV.scoringKey], `secret:${SCORING_KEY_SECRET}`, 'the key is a secret reference');
    assert.equal((container?.env ?? []).filter((e) => e.name === 'AZUREML_MODEL_DIR').length, 1, 'no variable twice');

    const put = fake.requests.find((r) => r.method === 'PUT' && r.path.endsWith('/containerApps/credit-ep'));
    assert.ok(put, 'created with a PUT');
    assert.ok(put.authorization?.startsWith('Bearer '), 'signed in');
  });

  it('provisions a second generation beside the first, then moves the label and deactivates the old one', async () => {
    const h = host();
    assert.deepEqual(await h.provision(deployment('blue', 1)), { ok: true });
    assert.deepEqual(await h.provision(deployment('blue', 2, { instance_count: 3 })), { ok: true });
    assert.deepEqual(traffic(), [{ revisionName: 'credit-ep--blue-2', label: 'blue', weight: 100 }]);
    assert.deepEqual(activeRevisions(), ['credit-ep--blue-2']);
    assert.deepEqual(fake.app('credit-ep')?.revisions[1]?.template.scale, { minReplicas: 3, maxReplicas: 3 });

    // Provisioning the same generation again changes nothing.
    const before = fake.requests.length;
    assert.deepEqual(await h.provision(deployment('blue', 2, { instance_count: 3 })), { ok: true });
    assert.equal(
      fake.requests.slice(before).filter((r) => r.method === 'PUT' || r.method === 'PATCH').length,
      0,
      'no write for a generation already live',
    );
    assert.equal(fake.app('credit-ep')?.revisions.length, 2);
  });

  it('works whether ARM answers at once or as long-running operations', async () => {
    fake.lro = { mode: 'sync', polls: 0, retryAfterSeconds: 0 };
    const h = host();
    assert.deepEqual(await h.provision(deployment('blue', 1)), { ok: true });
    assert.deepEqual(await h.provision(deployment('blue', 2)), { ok: true });
    assert.deepEqual(traffic(), [{ revisionName: 'credit-ep--blue-2', label: 'blue', weight: 100 }]);
    assert.ok(!fake.requests.some((r) => /Operation(Statuses|Results)\//.test(r.path)), 'nothing polled');

    fake.reset();
    environmentId = fake.addEnvironment('cae-tessera', DOMAIN);
    assert.deepEqual(await host().provision(deployment('blue', 1)), { ok: true });
    assert.ok(
      fake.requests.some((r) => r.path.includes('/containerappOperationStatuses/')),
      'the create was polled through Azure-AsyncOperation',
    );
  });

  it('adds a second deployment with weight 0, and sets the Python weights from the endpoint traffic', async () => {
    const h = host();
    await h.provision(deployment('blue'));
    fake.newRevisions = { ...fake.newRevisions, readsUntilReady: 2 }; // green takes a moment to start
    assert.deepEqual(await h.provision(deployment('green')), { ok: true });
    assert.deepEqual(traffic(), [
      { revisionName: 'credit-ep--blue-1', label: 'blue', weight: 100 },
      { revisionName: 'credit-ep--green-1', label: 'green', weight: 0 },
    ]);

    // 60/30 among the Python deployments, 10 to an ONNX deployment scored in the Function app.
    await h.setTraffic('credit-ep', { blue: 60, green: 30, onnx: 10 });
    assert.deepEqual(
      traffic().map((t) => [t.label, t.weight]),
      [
        ['blue', 67],
        ['green', 33],
      ],
    );
    // All Python traffic 0 (everything to ONNX): ACA still needs 100, on the first label.
    await h.setTraffic('credit-ep', { blue: 0, green: 0, onnx: 100 });
    assert.deepEqual(
      traffic().map((t) => [t.label, t.weight]),
      [
        ['blue', 100],
        ['green', 0],
      ],
    );
    const patches = fake.requests.filter((r) => r.method === 'PATCH').length;
    await h.setTraffic('credit-ep', { blue: 0, green: 0, onnx: 100 });
    assert.equal(fake.requests.filter((r) => r.method === 'PATCH').length, patches, 'unchanged weights: no write');
    // An endpoint without an app: nothing to do.
    await h.setTraffic('other-ep', { a: 100 });
  });

  it('keeps the previous generation serving when the new revision fails, and answers its reason', async () => {
    const h = host();
    await h.provision(deployment('blue', 1));
    fake.newRevisions = {
      provisioningState: 'Failed',
      runningState: 'Failed',
      healthState: 'Unhealthy',
      provisioningError: 'ImagePullBackOff: manifest unknown',
      readsUntilReady: 0,
    };
    const result = await h.provision(deployment('blue', 2));
    assert.equal(result.ok, false);
    assert.match(!result.ok ? result.reason : '', /credit-ep--blue-2.*ImagePullBackOff/);
    assert.deepEqual(traffic(), [{ revisionName: 'credit-ep--blue-1', label: 'blue', weight: 100 }]);
    assert.deepEqual(activeRevisions(), ['credit-ep--blue-1'], 'the failed revision is deactivated');
  });

  it('answers a timeout when the revision does not start in time', async () => {
    fake.newRevisions = { ...fake.newRevisions, readsUntilReady: 1_000 };
    const result = await host({ revisionTimeoutMs: 20 }).provision(deployment('blue'));
    assert.equal(result.ok, false);
    assert.match(!result.ok ? result.reason : '', /did not start within/);
    assert.equal(fake.app('credit-ep'), undefined, 'a new app whose first revision fails is deleted');
  });

  it('refuses GPU sizes and deployments without code before calling ARM', async () => {
    const gpu = await host().provision(deployment('blue', 1, { instance_type: 'Standard_NC6s_v3' }));
    assert.equal(gpu.ok, false);
    assert.match(!gpu.ok ? gpu.reason : '', /GPU/);
    const { code: _code, ...noCode } = deployment('blue');
    assert.equal((await host().provision(noCode)).ok, false);
    assert.equal(fake.requests.length, 0);
  });

  it('removes a deployment: drops its label, rebalances, deactivates its revisions; the last one deletes the app', async () => {
    const h = host();
    await h.provision(deployment('blue'));
    await h.provision(deployment('green'));
    await h.setTraffic('credit-ep', { blue: 0, green: 100 });
    await h.remove('credit-ep', 'green');
    assert.deepEqual(traffic(), [{ revisionName: 'credit-ep--blue-1', label: 'blue', weight: 100 }]);
    assert.deepEqual(activeRevisions(), ['credit-ep--blue-1']);
    await h.remove('credit-ep', 'green'); // again: nothing to do
    await h.remove('credit-ep', 'blue');
    assert.equal(fake.app('credit-ep'), undefined, 'the app is deleted with its last deployment');
    await h.remove('credit-ep', 'blue'); // no app: nothing to do
  });

  it('gives the label address as the scoring URL and the key header', async () => {
    const h = host();
    assert.equal(await h.scoringUrl('credit-ep', 'blue'), `https://credit-ep---blue.${DOMAIN}/score`);
    assert.deepEqual(await h.scoringHeaders('credit-ep'), { authorization: 'Bearer key-of-credit-ep' });
    const upper = await h.scoringUrl('Credit-EP', 'Blue');
    assert.match(
      upper,
      new RegExp(`^https://credit-ep-[0-9a-f]{8}---blue-[0-9a-f]{8}\\.${DOMAIN.replace(/\./g, '\\.')}/score$`),
    );
  });

  it('never changes an app of the same name that is not the endpoint’s', async () => {
    fake.addApp({
      name: 'credit-ep',
      location: 'swedencentral',
      tags: {},
      environmentId,
      configuration: {},
      template: {},
      revisions: [],
    });
    await rejectsWith(
      host().provision(deployment('blue')),
      'ConfigError',
      /not the app of online endpoint 'credit-ep'/,
    );
  });

  it('maps 403 to a permission error naming the role', async () => {
    fake.deny('Microsoft.App/containerApps/write');
    const err = await rejectsWith(host().provision(deployment('blue')), 'ConfigError', /Container Apps Contributor/);
    assert.equal(err.target, 'CONTAINER_APPS_RESOURCE_GROUP');
  });

  it('maps 400 to a ValidationError with ARM’s message', async () => {
    fake.failNext('PUT', /\/containerApps\/credit-ep$/, 400, {
      error: { code: 'InvalidParameterValue', message: 'The image name is invalid.' },
    });
    await rejectsWith(host().provision(deployment('blue')), 'ValidationError', /400 InvalidParameterValue.*image name/);
  });

  it('maps throttling and server errors to TransientError', async () => {
    for (const status of [429, 503]) {
      fake.reset();
      environmentId = fake.addEnvironment('cae-tessera', DOMAIN);
      for (let i = 0; i < 3; i++) {
        fake.failNext(
          'GET',
          /\/containerApps\/credit-ep$/,
          status,
          { error: { code: 'Busy', message: 'Try later.' } },
          {
            'Retry-After': '0',
          },
        );
      }
      await rejectsWith(host().provision(deployment('blue')), 'Transient', new RegExp(`\\(${status}\\)`));
    }
  });

  it('names the environment setting when the environment is missing', async () => {
    const err = await rejectsWith(
      host({ environmentId: fake.environmentIdOf('cae-missing') }).provision(deployment('blue')),
      'ConfigError',
      /not found/,
    );
    assert.equal(err.target, 'CONTAINER_APPS_ENVIRONMENT_ID');
  });
});

describe('Container Apps names and weights', () => {
  it('keeps valid names and hashes the others', () => {
    assert.equal(appName('credit-ep'), 'credit-ep');
    assert.equal(labelName('blue'), 'blue');
    assert.notEqual(labelName('Blue'), labelName('blue'), 'case matters to Tessera, so it must not collide');
    assert.match(labelName('1st'), /^st-[0-9a-f]{8}$/);
    assert.match(containerAppsName('a--b', 32), /^a-b-[0-9a-f]{8}$/);
    const long = appName('a'.repeat(32) + 'x');
    assert.ok(long.length <= 32);
  });

  it('balances weights to 100 by largest remainder', () => {
    const w = (entries: [string, number][]): number[] =>
      balance(entries.map(([label, weight]) => ({ label, weight }))).map((e) => e.weight);
    assert.deepEqual(w([['a', 50]]), [100]);
    assert.deepEqual(
      w([
        ['a', 10],
        ['b', 10],
        ['c', 10],
      ]),
      [34, 33, 33],
    );
    assert.deepEqual(
      w([
        ['b', 0],
        ['a', 0],
      ]),
      [100, 0],
    );
    assert.deepEqual(w([]), []);
  });
});

describe('remote scorer', () => {
  let server: Server;
  let base: string;
  const seen: { headers: IncomingMessage['headers']; body: string }[] = [];
  let handler: (req: IncomingMessage, res: ServerResponse, body: string) => void;

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        seen.push({ headers: req.headers, body });
        handler(req, res, body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    seen.length = 0;
  });

  it('forwards the body, content type and key, and passes status and body back', async () => {
    handler = (_req, res, body) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ echoed: JSON.parse(body) as unknown }));
    };
    const scorer = createRemoteScorer({ url: `${base}/score`, headers: { authorization: 'Bearer k' } });
    const res = await scorer.score(
      { body: Buffer.from('{"data":[[1,2]]}'), contentType: 'application/json', headers: {} },
      new AbortController().signal,
    );
    assert.equal(res.status, 200);
    assert.equal(res.contentType, 'application/json');
    assert.deepEqual(JSON.parse(res.body.toString()), { echoed: { data: [[1, 2]] } });
    assert.equal(seen[0]?.headers.authorization, 'Bearer k');
    assert.equal(seen[0]?.headers['content-type'], 'application/json');
  });

  it("passes the host's errors through as they are", async () => {
    handler = (_req, res) => {
      res.writeHead(422, { 'content-type': 'text/plain', 'retry-after': '3' });
      res.end('bad input');
    };
    const res = await createRemoteScorer({ url: `${base}/score` }).score(
      { body: Buffer.from('x'), contentType: 'text/plain', headers: {} },
      new AbortController().signal,
    );
    assert.equal(res.status, 422);
    assert.equal(res.body.toString(), 'bad input');
    assert.deepEqual(res.headers, { 'retry-after': '3' });
  });

  it('answers 504 when the gate aborts the call', async () => {
    handler = () => undefined; // never answers
    const controller = new AbortController();
    const pending = createRemoteScorer({ url: `${base}/score` }).score(
      { body: Buffer.from('{}'), headers: {} },
      controller.signal,
    );
    setTimeout(() => controller.abort(), 30);
    const res = await pending;
    assert.equal(res.status, 504);
    assert.match(res.body.toString(), /RequestTimeout/);
  });

  it('answers 502 naming the host when it cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const res = await createRemoteScorer({ url: `http://127.0.0.1:${port}/score` }).score(
      { body: Buffer.from('{}'), headers: {} },
      new AbortController().signal,
    );
    assert.equal(res.status, 502);
    const body = JSON.parse(res.body.toString()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'ScoringHostUnreachable');
    assert.match(body.error.message, new RegExp(`127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
  });

  it('answers 503 once closed', async () => {
    const scorer = createRemoteScorer({ url: `${base}/score` });
    await scorer.close();
    const res = await scorer.score({ body: Buffer.from('{}'), headers: {} }, new AbortController().signal);
    assert.equal(res.status, 503);
  });
});
