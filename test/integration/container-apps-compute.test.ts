// ContainerAppsCompute through the real @azure/arm-appcontainers client, against the
// recorded-protocol ARM fake in test/support/container-apps-fake.ts (not against Azure).
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TokenCredential } from '@azure/core-auth';
import {
  ContainerAppsCompute,
  createContainerAppsCompute,
  createMissingContainerAppsCompute,
  parseExecutionId,
} from '../../shared/adapters/container-apps-compute.js';
import type { ContainerAppsComputeOptions } from '../../shared/adapters/container-apps-compute.js';
import { parseTrainerExecutionHint, TRAINER_ENV } from '../../shared/contracts/trainer-launch.js';
import { AppError } from '../../shared/errors.js';
import type { ErrorCode } from '../../shared/errors.js';
import type { ComputeTarget, TrainerLaunch } from '../../shared/ports/compute.js';
import { ARM_API_VERSION, ContainerAppsFake } from '../support/container-apps-fake.js';
import type { FakeContainer, RecordedRequest } from '../support/container-apps-fake.js';

const CPU_JOB = 'tessera-trainer';
const GPU_JOB = 'tessera-trainer-gpu';

const TRAINER: FakeContainer = {
  name: 'trainer',
  image: 'tesseraacr.azurecr.io/tessera-trainer:1.0.0',
  command: ['node', 'dist/trainer/main.js'],
  env: [
    { name: 'TESSERA_STORE', value: 'azure' },
    { name: 'COSMOS_ENDPOINT', value: 'https://acct.documents.azure.com:443/' },
    { name: 'AZURE_CLIENT_ID', value: 'trainer-identity-client-id' },
    // A stale launch variable in the job template must be replaced, not duplicated.
    { name: 'TESSERA_JOB_ATTEMPT', value: '0' },
  ],
  resources: { cpu: 1, memory: '2Gi' },
};

const CPU: ComputeTarget = { name: 'cpu-cluster', type: 'amlcompute', maxInstances: 4, size: 'Standard_DS3_v2' };
const GPU: ComputeTarget = {
  name: 'gpu-cluster',
  type: 'amlcompute',
  maxInstances: 2,
  size: 'Standard_NC6s_v3',
  gpu: true,
};

function launch(target: ComputeTarget, job = 'job-1', attempt = 1, workspace = 'ws'): TrainerLaunch {
  return { workspace, job, attempt, target };
}

async function rejectsWith(
  promise: Promise<unknown>,
  code: ErrorCode,
  target?: string,
  message?: RegExp,
): Promise<AppError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof AppError, `expected an AppError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (target !== undefined) assert.equal(err.target, target);
    if (message !== undefined) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected a ${code}`);
}

function envOf(container: FakeContainer | undefined): Record<string, string | undefined> {
  return Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value]));
}

describe('ContainerAppsCompute against the ARM fake', () => {
  let fake: ContainerAppsFake;
  const scopes: string[] = [];

  function credential(token?: string): TokenCredential {
    return {
      getToken: async (requested) => {
        scopes.push(...[requested].flat());
        return { token: token ?? fake.token, expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    };
  }

  function compute(options: Partial<ContainerAppsComputeOptions> = {}): ContainerAppsCompute {
    return new ContainerAppsCompute({
      subscriptionId: fake.subscriptionId,
      resourceGroup: fake.resourceGroup,
      trainerJobName: CPU_JOB,
      gpuTrainerJobName: GPU_JOB,
      armEndpoint: fake.endpoint,
      credential: credential(),
      pollIntervalMs: 5,
      http: { agent: fake.agent, retryOptions: { maxRetries: 1, retryDelayInMs: 1, maxRetryDelayInMs: 5 } },
      ...options,
    });
  }

  function startRequests(job = CPU_JOB): RecordedRequest[] {
    return fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/jobs/${job}/start`));
  }

  before(async () => {
    fake = await ContainerAppsFake.start();
  });
  after(async () => {
    await fake.stop();
  });
  beforeEach(() => {
    fake.reset();
    fake.addJob(CPU_JOB, { containers: [TRAINER] });
    fake.addJob(
      GPU_JOB,
      { containers: [{ ...TRAINER, resources: { cpu: 8, memory: '56Gi' } }] },
      'gpu', // a serverless GPU profile takes other sizes than Consumption
    );
    scopes.length = 0;
  });

  it('starts an execution of the CPU job with the launch variables and the mapped resources', async () => {
    const notices: string[] = [];
    const id = await compute({ onNotice: (n) => notices.push(n) }).submit(launch(CPU, 'job-1', 2));
    const [jobName, executionName] = id.split('/');
    assert.equal(jobName, CPU_JOB);
    assert.match(executionName ?? '', /^tessera-trainer-[a-z0-9]{7}$/);

    const [start] = startRequests();
    assert.ok(start, 'one start request');
    const body = start.body as { containers: FakeContainer[]; initContainers?: unknown };
    assert.equal(body.containers.length, 1);
    const [trainer] = body.containers;
    assert.equal(trainer?.name, 'trainer');
    assert.equal(trainer?.image, TRAINER.image);
    assert.deepEqual(trainer?.command, ['node', 'dist/trainer/main.js']);
    // Standard_DS3_v2 has 4 vCPUs: the largest Consumption replica.
    assert.deepEqual(trainer?.resources, { cpu: 4, memory: '8Gi' });
    const env = envOf(trainer);
    assert.equal(env.TESSERA_STORE, 'azure', "the job's own settings stay");
    assert.equal(env.COSMOS_ENDPOINT, 'https://acct.documents.azure.com:443/');
    assert.equal(env.AZURE_CLIENT_ID, 'trainer-identity-client-id');
    assert.equal(env[TRAINER_ENV.workspace], 'ws');
    assert.equal(env[TRAINER_ENV.job], 'job-1');
    assert.equal(env[TRAINER_ENV.attempt], '2');
    assert.equal(trainer?.env?.filter((e) => e.name === TRAINER_ENV.attempt).length, 1, 'no duplicate variable');
    assert.deepEqual(parseTrainerExecutionHint(env[TRAINER_ENV.executionHint]), {
      compute: 'container-apps',
      target: 'cpu-cluster',
      runner: CPU_JOB,
      resources: { cpu: 4, memory: '8Gi' },
    });
    assert.deepEqual(notices, []);
    assert.equal(fake.execution(CPU_JOB, executionName ?? '')?.status, 'Running');
  });

  it('follows the long-running start operation to its result', async () => {
    fake.lro = { mode: 'async', polls: 3, retryAfterSeconds: 0 };
    const id = await compute().submit(launch(CPU));
    const polls = fake.requests.filter((r) => r.path.includes('/containerappsjobOperationResults/'));
    assert.equal(polls.length, 4, '3 polls answered 202, then the result');
    assert.equal(id.split('/')[1], fake.executionsOf(CPU_JOB).at(-1)?.name);
  });

  it('takes a synchronous 200 start as well', async () => {
    fake.lro = { mode: 'sync', polls: 0, retryAfterSeconds: 0 };
    const id = await compute().submit(launch(CPU));
    assert.equal(fake.requests.filter((r) => r.path.includes('OperationResults')).length, 0);
    assert.deepEqual(await compute().status(id), { state: 'running' });
  });

  it('sends the bearer token and the SDK api-version on every call, with the ARM scope', async () => {
    const id = await compute().submit(launch(CPU));
    await compute().status(id);
    await compute().stop(id);
    assert.ok(fake.requests.length >= 5);
    for (const r of fake.requests) {
      assert.equal(r.authorization, `Bearer ${fake.token}`, `${r.method} ${r.path}`);
      assert.deepEqual([...new Set(r.query.getAll('api-version'))], [ARM_API_VERSION], `${r.method} ${r.path}`);
    }
    assert.deepEqual([...new Set(scopes)], [`${fake.endpoint}/.default`]);
  });

  it("keeps the job's resources for a size it cannot map, and says so", async () => {
    const notices: string[] = [];
    const target = { ...CPU, size: 'Standard_L8s_v3' };
    await compute({ onNotice: (n) => notices.push(n) }).submit(launch(target));
    const trainer = (startRequests()[0]?.body as { containers: FakeContainer[] }).containers[0];
    assert.deepEqual(trainer?.resources, { cpu: 1, memory: '2Gi' });
    assert.equal(notices.length, 1);
    assert.match(notices[0] ?? '', /Standard_L8s_v3.*no Container Apps mapping/);
    const hint = parseTrainerExecutionHint(envOf(trainer)[TRAINER_ENV.executionHint]);
    assert.deepEqual(hint?.notices, notices);
  });

  it('runs a target without a size with the job defaults and no notice', async () => {
    const notices: string[] = [];
    const { size: _size, ...noSize } = CPU;
    await compute({ onNotice: (n) => notices.push(n) }).submit(launch(noSize));
    const trainer = (startRequests()[0]?.body as { containers: FakeContainer[] }).containers[0];
    assert.deepEqual(trainer?.resources, { cpu: 1, memory: '2Gi' });
    assert.deepEqual(notices, []);
  });

  it('routes GPU targets to the GPU job with its own resources', async () => {
    const id = await compute().submit(launch(GPU));
    assert.equal(id.split('/')[0], GPU_JOB);
    assert.equal(startRequests(CPU_JOB).length, 0);
    const trainer = (startRequests(GPU_JOB)[0]?.body as { containers: FakeContainer[] }).containers[0];
    assert.deepEqual(trainer?.resources, { cpu: 8, memory: '56Gi' });
    assert.deepEqual(await compute().status(id), { state: 'running' });
  });

  it('refuses a GPU target without a GPU job, before calling Azure', async () => {
    const cpuOnly = compute({ gpuTrainerJobName: undefined });
    await rejectsWith(
      cpuOnly.submit(launch(GPU)),
      'ValidationError',
      'compute',
      /TRAINER_GPU_JOB_NAME.*Standard_NC6s_v3|Standard_NC6s_v3.*TRAINER_GPU_JOB_NAME/s,
    );
    assert.equal(fake.requests.length, 0);
  });

  it('maps every execution status', async () => {
    const c = compute();
    const id = await c.submit(launch(CPU));
    const name = id.split('/')[1] ?? '';
    const cases: [string, string, RegExp?][] = [
      ['Running', 'running'],
      ['Processing', 'running'],
      ['Succeeded', 'ended'],
      [
        'Failed',
        'lost',
        /tessera-trainer\/tessera-trainer-\w+ is Failed \(BackoffLimitExceeded: Job has reached the specified backoff limit\)/,
      ],
      ['Stopped', 'lost', /tessera-trainer-\w+ was stopped/],
      ['Degraded', 'lost', /is Degraded/],
      ['Unknown', 'lost', /in state 'Unknown'/],
      ['Hibernating', 'lost', /in state 'Hibernating', which Tessera does not know/],
    ];
    for (const [status, state, detail] of cases) {
      fake.setStatus(
        CPU_JOB,
        name,
        status,
        status === 'Failed'
          ? { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }
          : {},
      );
      const result = await c.status(id);
      assert.equal(result.state, state, status);
      if (detail === undefined) assert.equal(result.detail, undefined, status);
      else {
        assert.match(result.detail ?? '', detail, status);
        assert.ok(result.detail?.includes(id), `${status}: the detail names the execution`);
      }
    }
  });

  it('reports an execution Azure does not know as lost', async () => {
    const missing = await compute().status(`${CPU_JOB}/tessera-trainer-gone000`);
    assert.equal(missing.state, 'lost');
    assert.match(missing.detail ?? '', /tessera-trainer\/tessera-trainer-gone000 does not exist/);
    const noJob = await compute().status('deleted-job/deleted-job-abc');
    assert.equal(noJob.state, 'lost');
  });

  it('refuses an execution id it did not make', async () => {
    for (const id of ['', 'no-slash', 'UPPER/x', 'job/', 'job/a/b']) {
      await rejectsWith(compute().status(id), 'ValidationError', 'executionId');
      await rejectsWith(compute().stop(id), 'ValidationError', 'executionId');
    }
    assert.deepEqual(parseExecutionId('tessera-trainer/tessera-trainer-x1y2z3'), {
      jobName: 'tessera-trainer',
      executionName: 'tessera-trainer-x1y2z3',
    });
  });

  it('stops an execution, and stopping again or stopping the unknown is fine', async () => {
    const c = compute();
    const id = await c.submit(launch(CPU));
    await c.stop(id);
    const name = id.split('/')[1] ?? '';
    assert.equal(fake.execution(CPU_JOB, name)?.status, 'Stopped');
    const stopCalls = () => fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/stop')).length;
    assert.equal(stopCalls(), 1);
    await c.stop(id);
    assert.equal(stopCalls(), 2);
    await c.stop(`${CPU_JOB}/tessera-trainer-gone000`);
    await c.stop('deleted-job/deleted-job-abc');
    assert.deepEqual((await c.status(id)).state, 'lost');
  });

  it('stops synchronously too', async () => {
    fake.lro = { mode: 'sync', polls: 0, retryAfterSeconds: 0 };
    const c = compute();
    const id = await c.submit(launch(CPU));
    await c.stop(id);
    assert.equal(fake.execution(CPU_JOB, id.split('/')[1] ?? '')?.status, 'Stopped');
  });

  it('treats a refused stop of an ended execution as done, but not of a running one', async () => {
    const c = compute();
    const id = await c.submit(launch(CPU));
    const name = id.split('/')[1] ?? '';
    fake.setStatus(CPU_JOB, name, 'Succeeded');
    fake.failNext('POST', /\/stop$/, 400, { error: { code: 'BadRequest', message: 'Job execution is not running.' } });
    await c.stop(id);

    fake.setStatus(CPU_JOB, name, 'Running');
    fake.failNext('POST', /\/stop$/, 409, {
      error: { code: 'Conflict', message: 'Another operation is in progress.' },
    });
    await rejectsWith(c.stop(id), 'Transient', undefined, /stop execution/);
  });

  it('names the setting and the role when ARM refuses the identity', async () => {
    fake.deny('Microsoft.App/jobs/start/action');
    const err = await rejectsWith(
      compute().submit(launch(CPU)),
      'ConfigError',
      'TRAINER_JOB_NAME',
      /may not start Container Apps job 'tessera-trainer'.*403 AuthorizationFailed.*Container Apps Jobs Operator/s,
    );
    assert.equal(err.retryable, false);
    await rejectsWith(compute().submit(launch(GPU)), 'ConfigError', 'TRAINER_GPU_JOB_NAME', /403/);
  });

  it('surfaces a denied read of executions on status', async () => {
    const id = await compute().submit(launch(CPU));
    fake.deny('Microsoft.App/jobs/executions/read');
    await rejectsWith(compute().status(id), 'ConfigError', 'TRAINER_JOB_NAME', /read execution.*403/s);
  });

  it('says when the token is refused (401)', async () => {
    await rejectsWith(
      compute({ credential: credential('someone-elses-token') }).submit(launch(CPU)),
      'ConfigError',
      'CONTAINER_APPS_SUBSCRIPTION_ID',
      /refused the app's token \(401 InvalidAuthenticationToken\)/,
    );
  });

  it('says when there is no credential at all', async () => {
    const unavailable: TokenCredential = {
      getToken: async () => {
        const err = new Error('DefaultAzureCredential failed to retrieve a token from the included credentials.');
        err.name = 'CredentialUnavailableError';
        throw err;
      },
    };
    await rejectsWith(
      compute({ credential: unavailable }).submit(launch(CPU)),
      'ConfigError',
      undefined,
      /No token for Azure Resource Manager/,
    );
    assert.equal(fake.requests.length, 0);
  });

  it('names the setting when the job or the resource group does not exist', async () => {
    await rejectsWith(
      compute({ trainerJobName: 'no-such-job' }).submit(launch(CPU)),
      'ConfigError',
      'TRAINER_JOB_NAME',
      /no-such-job.*was not found.*Check TRAINER_JOB_NAME/s,
    );
    await rejectsWith(
      compute({ resourceGroup: 'rg-other' }).submit(launch(CPU)),
      'ConfigError',
      'CONTAINER_APPS_RESOURCE_GROUP',
      /ResourceGroupNotFound/,
    );
    // A wrong resource group is not a lost execution, nor a stopped one.
    const id = await compute().submit(launch(CPU));
    await rejectsWith(
      compute({ resourceGroup: 'rg-other' }).status(id),
      'ConfigError',
      'CONTAINER_APPS_RESOURCE_GROUP',
    );
    await rejectsWith(compute({ resourceGroup: 'rg-other' }).stop(id), 'ConfigError', 'CONTAINER_APPS_RESOURCE_GROUP');
    await rejectsWith(
      compute({ subscriptionId: '99999999-1111-2222-3333-444444444444' }).status(id),
      'ConfigError',
      'CONTAINER_APPS_SUBSCRIPTION_ID',
    );
  });

  it('turns a refused start template into a ValidationError', async () => {
    fake.failNext('POST', /\/start$/, 400, {
      error: { code: 'InvalidParameterValue', message: 'The total requested CPU and memory resources are invalid.' },
    });
    await rejectsWith(
      compute().submit(launch(CPU)),
      'ValidationError',
      'compute',
      /refused to start.*InvalidParameterValue/s,
    );
  });

  it('retries a passing outage and reports a lasting one as transient', async () => {
    fake.failNext('GET', /\/jobs\/tessera-trainer$/, 503, {
      error: { code: 'ServiceUnavailable', message: 'Try again.' },
    });
    assert.match(await compute().submit(launch(CPU)), /^tessera-trainer\//);

    for (let i = 0; i < 2; i++) {
      fake.failNext('POST', /\/start$/, 503, { error: { code: 'ServiceUnavailable', message: 'Try again.' } });
    }
    const err = await rejectsWith(compute().submit(launch(CPU)), 'Transient', undefined, /could not start.*503/s);
    assert.equal(err.retryable, true);
    assert.doesNotMatch(err.message, /accepted/, 'a start ARM refused started nothing');
  });

  it('fails the start when its long-running operation fails', async () => {
    fake.lro = { mode: 'async', polls: 1, retryAfterSeconds: 0 };
    fake.failNext('GET', /containerappsjobOperationResults/, 500, {
      error: { code: 'InternalServerError', message: 'The operation failed.' },
    });
    fake.failNext('GET', /containerappsjobOperationResults/, 500, {
      error: { code: 'InternalServerError', message: 'The operation failed.' },
    });
    await rejectsWith(
      compute().submit(launch(CPU)),
      'Transient',
      undefined,
      /500.*ARM had accepted the start, so an execution of 'tessera-trainer' may be running/s,
    );
    assert.equal(fake.executionsOf(CPU_JOB).length, 1);
  });

  it("enforces max_instances per workspace and target, from the executions' launch variables", async () => {
    fake.pageSize = 1; // count across pages
    const c = compute();
    const one = { ...CPU, maxInstances: 2 };
    const first = await c.submit(launch(one, 'a'));
    await c.submit(launch(one, 'b'));
    // Executions of other targets, workspaces or tools do not count.
    await c.submit(launch({ ...one, name: 'other-cluster' }, 'c'));
    await c.submit(launch(one, 'd', 1, 'other-ws'));
    fake.addExecution({
      name: 'tessera-trainer-manual1',
      job: CPU_JOB,
      status: 'Running',
      startTime: new Date().toISOString(),
      template: { containers: [TRAINER] },
    });

    const busy = await rejectsWith(
      c.submit(launch(one, 'e')),
      'Transient',
      'maxInstances',
      /'cpu-cluster' of workspace 'ws' already runs 2 trainers.*max_instances \(2\)/s,
    );
    assert.equal(busy.retryable, true);
    assert.equal(startRequests().length, 4, 'the refused launch started nothing');

    fake.setStatus(CPU_JOB, first.split('/')[1] ?? '', 'Succeeded');
    assert.match(await c.submit(launch(one, 'e')), /^tessera-trainer\//);
  });

  it('cannot count executions whose environment Azure does not return, and then does not block', async () => {
    fake.echoTemplateEnv = false;
    const c = compute();
    const one = { ...CPU, maxInstances: 1 };
    await c.submit(launch(one, 'a'));
    assert.match(await c.submit(launch(one, 'b')), /^tessera-trainer\//);
  });

  it('builds from config with the factory', async () => {
    const c = await createContainerAppsCompute(
      {
        subscriptionId: fake.subscriptionId,
        resourceGroup: fake.resourceGroup,
        trainerJobName: CPU_JOB,
        armEndpoint: fake.endpoint,
      },
      { credential: credential(), pollIntervalMs: 5, http: { agent: fake.agent } },
    );
    assert.equal(c.kind, 'container-apps');
    const id = await c.submit(launch(CPU));
    assert.deepEqual(await c.status(id), { state: 'running' });
    await rejectsWith(c.submit(launch(GPU)), 'ValidationError', 'compute');
    await c.close();
  });
});

describe('the Container Apps compute when it is not configured', () => {
  it('refuses to start and names the settings; knows no execution', async () => {
    const c = createMissingContainerAppsCompute();
    await rejectsWith(
      c.submit(launch(CPU)),
      'ConfigError',
      'TRAINER_JOB_NAME',
      /CONTAINER_APPS_SUBSCRIPTION_ID, CONTAINER_APPS_RESOURCE_GROUP and TRAINER_JOB_NAME/,
    );
    assert.equal((await c.status('tessera-trainer/x')).state, 'lost');
    await c.stop('tessera-trainer/x');
    await c.close();
  });
});
