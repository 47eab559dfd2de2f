import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, createServer } from 'node:https';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';

/**
 * An in-process fake of the Azure Resource Manager REST calls that @azure/arm-appcontainers 3.0.0
 * makes for Container Apps jobs, so ContainerAppsCompute runs against the real SDK client:
 *
 * - GET  …/providers/Microsoft.App/jobs/{job}
 * - POST …/jobs/{job}/start (body: JobExecutionTemplate) → 200 {name, id}, or 202 with a Location
 *   that answers 202 `lroPolls` times, then 200 {name, id} (the long-running operation)
 * - GET  …/jobs/{job}/executions (paged with nextLink), GET …/jobs/{job}/executions/{execution}
 * - POST …/jobs/{job}/executions/{execution}/stop → 200, or 202 + Location as above
 *
 * Shapes follow the REST reference and the examples of the API spec (Job_Start.json,
 * Job_Execution_Get.json, Job_Executions_Get.json, Job_Stop_Execution.json; api-version
 * 2025-07-01, the SDK's default): resources carry `properties`, errors are
 * `{ error: { code, message } }` with ARM's codes (AuthenticationFailed, InvalidAuthenticationToken,
 * AuthorizationFailed, ResourceGroupNotFound, ResourceNotFound, NoRegisteredProviderFound).
 *
 * It is HTTPS because the SDK's bearer-token policy refuses plain http; the server uses the
 * self-signed certificate that @vercel/cosmosdb-server ships, and `agent` trusts it. Every request
 * must carry `Authorization: Bearer <token>` and the SDK's api-version.
 *
 * What is our reading, not a recording: that an execution's `template` comes back with the
 * environment it was started with; the 404 code for a missing execution; what stopping an ended
 * execution answers (here 200, no change); the Consumption resource rule enforced on start
 * (cpu 0.25-4 in steps of 0.25, memory = 2 GiB per vCPU) and the 400 code it answers with.
 */

export const ARM_API_VERSION = '2025-07-01';

export interface FakeContainer {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; secretRef?: string }[];
  resources?: { cpu: number; memory: string };
}

export interface FakeTemplate {
  containers?: FakeContainer[];
  initContainers?: FakeContainer[];
}

export interface FakeExecution {
  name: string;
  job: string;
  status: string;
  startTime: string;
  endTime?: string;
  template: FakeTemplate;
  reason?: string;
  message?: string;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query. */
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
  body: unknown;
}

interface Failure {
  method: string;
  path: RegExp;
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

interface Operation {
  remainingPolls: number;
  result: unknown;
}

const LOCATION = 'swedencentral';

export class ContainerAppsFake {
  readonly endpoint: string;
  /** Trusts the fake's self-signed certificate; give it to the SDK client (`agent`). */
  readonly agent: Agent;
  readonly token = 'fake-arm-token';
  readonly subscriptionId = '00000000-1111-2222-3333-444444444444';
  readonly resourceGroup = 'rg-tessera';
  /** Every request, in order. */
  readonly requests: RecordedRequest[] = [];
  /** How start and stop answer: at once (200) or as a long-running operation (202 + Location). */
  lro: { mode: 'sync' | 'async'; polls: number; retryAfterSeconds: number } = {
    mode: 'async',
    polls: 2,
    retryAfterSeconds: 0,
  };
  /** Executions listed per page. */
  pageSize = 50;
  /** Whether listed and read executions carry their template's environment (see the class comment). */
  echoTemplateEnv = true;

  private readonly server: Server;
  private readonly jobs = new Map<string, { template: FakeTemplate; workloadProfileName: string }>();
  private readonly executions = new Map<string, FakeExecution>();
  private readonly operations = new Map<string, Operation>();
  private readonly denied = new Set<string>();
  private readonly failures: Failure[] = [];

  private constructor(server: Server, endpoint: string) {
    this.server = server;
    this.endpoint = endpoint;
    this.agent = new Agent({ rejectUnauthorized: false, keepAlive: true });
  }

  static async start(): Promise<ContainerAppsFake> {
    const require = createRequire(import.meta.url);
    const certDir = dirname(require.resolve('@vercel/cosmosdb-server/package.json'));
    const created: { fake?: ContainerAppsFake } = {};
    const server = createServer(
      { cert: readFileSync(join(certDir, 'cert.pem')), key: readFileSync(join(certDir, 'key.pem')) },
      (req, res) => {
        created.fake?.handle(req, res).catch((err: unknown) => {
          if (!res.headersSent) sendError(res, 500, 'InternalServerError', `The fake failed: ${String(err)}`);
        });
      },
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const fake = new ContainerAppsFake(server, `https://127.0.0.1:${port}`);
    created.fake = fake;
    return fake;
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Forgets jobs, executions, operations, denials, queued failures and recorded requests. */
  reset(): void {
    this.jobs.clear();
    this.executions.clear();
    this.operations.clear();
    this.denied.clear();
    this.failures.length = 0;
    this.requests.length = 0;
    this.lro = { mode: 'async', polls: 2, retryAfterSeconds: 0 };
    this.pageSize = 50;
    this.echoTemplateEnv = true;
  }

  /** Declares a pre-provisioned manual-trigger job. */
  addJob(name: string, template: FakeTemplate, workloadProfileName = 'Consumption'): void {
    this.jobs.set(name, { template: structuredClone(template), workloadProfileName });
  }

  /** An execution as the fake holds it (undefined if none). */
  execution(job: string, name: string): FakeExecution | undefined {
    return this.executions.get(`${job}/${name}`);
  }

  /** All executions of a job, oldest first. */
  executionsOf(job: string): FakeExecution[] {
    return [...this.executions.values()].filter((e) => e.job === job);
  }

  /** Adds an execution directly, as if started by someone else. */
  addExecution(execution: FakeExecution): void {
    this.executions.set(`${execution.job}/${execution.name}`, structuredClone(execution));
  }

  /** Moves an execution to another status (as Container Apps would as it runs). */
  setStatus(job: string, name: string, status: string, why: { reason?: string; message?: string } = {}): void {
    const execution = this.execution(job, name);
    if (execution === undefined) throw new Error(`no execution ${job}/${name}`);
    execution.status = status;
    if (why.reason !== undefined) execution.reason = why.reason;
    if (why.message !== undefined) execution.message = why.message;
    if (!['Running', 'Processing'].includes(status)) execution.endTime = new Date().toISOString();
  }

  /** Answers 403 AuthorizationFailed to requests that need this ARM action (e.g. 'Microsoft.App/jobs/start/action'). */
  deny(action: string): void {
    this.denied.add(action);
  }

  /** Makes the next request matching `method` and `path` answer this instead. */
  failNext(method: string, path: RegExp, status: number, body: unknown, headers: Record<string, string> = {}): void {
    this.failures.push({ method, path, status, body, headers });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.endpoint);
    const method = req.method ?? 'GET';
    const text = await readBody(req);
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    this.requests.push({
      method,
      path: url.pathname,
      query: url.searchParams,
      authorization: req.headers.authorization,
      body,
    });

    const failure = this.failures.findIndex((f) => f.method === method && f.path.test(url.pathname));
    if (failure >= 0) {
      const [f] = this.failures.splice(failure, 1);
      if (f !== undefined) return send(res, f.status, f.body, f.headers);
    }

    const authorization = req.headers.authorization;
    if (authorization === undefined) {
      return sendError(
        res,
        401,
        'AuthenticationFailed',
        "Authentication failed. The 'Authorization' header is missing.",
        {
          'WWW-Authenticate':
            'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token"',
        },
      );
    }
    if (authorization !== `Bearer ${this.token}`) {
      return sendError(res, 401, 'InvalidAuthenticationToken', 'The access token is invalid.', {
        'WWW-Authenticate':
          'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", ' +
          'error_description="The access token is invalid"',
      });
    }
    const versions = url.searchParams.getAll('api-version');
    if (versions.length === 0) {
      return sendError(
        res,
        400,
        'MissingApiVersionParameter',
        'The api-version query parameter (?api-version=) is required for all requests.',
      );
    }
    if (versions.some((v) => v !== ARM_API_VERSION)) {
      return sendError(
        res,
        400,
        'NoRegisteredProviderFound',
        `No registered resource provider found for location '${LOCATION}' and API version '${versions.join(',')}' ` +
          `for type 'jobs'. The fake supports '${ARM_API_VERSION}'.`,
      );
    }

    const operation =
      /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.App\/locations\/[^/]+\/containerappsjobOperationResults\/([^/]+)$/i.exec(
        url.pathname,
      );
    if (operation?.[2] !== undefined && method === 'GET') return this.pollOperation(res, operation[2]);

    const match =
      /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.App\/jobs\/([^/]+)(?:\/(start|executions)(?:\/([^/]+)(?:\/(stop))?)?)?$/i.exec(
        url.pathname,
      );
    if (match === null) return sendError(res, 404, 'NotFound', `No route for ${method} ${url.pathname}.`);
    const [, subscription, group, jobName = '', verb, executionName, stopVerb] = match;
    if (subscription !== this.subscriptionId) {
      return sendError(res, 404, 'SubscriptionNotFound', `The subscription '${subscription}' could not be found.`);
    }
    if (group?.toLowerCase() !== this.resourceGroup.toLowerCase()) {
      return sendError(res, 404, 'ResourceGroupNotFound', `Resource group '${group}' could not be found.`);
    }

    const action =
      verb === undefined
        ? 'Microsoft.App/jobs/read'
        : verb === 'start'
          ? 'Microsoft.App/jobs/start/action'
          : stopVerb !== undefined
            ? 'Microsoft.App/jobs/stop/action'
            : 'Microsoft.App/jobs/executions/read';
    if (this.denied.has(action)) {
      return sendError(
        res,
        403,
        'AuthorizationFailed',
        `The client '11111111-2222-3333-4444-555555555555' with object id '11111111-2222-3333-4444-555555555555' does ` +
          `not have authorization to perform action '${action}' over scope '${url.pathname}' or the scope is invalid. ` +
          'If access was recently granted, please refresh your credentials.',
      );
    }

    const job = this.jobs.get(jobName);
    if (job === undefined) {
      return sendError(
        res,
        404,
        'ResourceNotFound',
        `The Resource 'Microsoft.App/jobs/${jobName}' under resource group '${this.resourceGroup}' was not found. ` +
          'For more details please go to https://aka.ms/ARMResourceNotFoundFix',
      );
    }
    const jobId = `/subscriptions/${this.subscriptionId}/resourceGroups/${this.resourceGroup}/providers/Microsoft.App/jobs/${jobName}`;

    if (verb === undefined && method === 'GET') {
      return send(res, 200, {
        id: jobId,
        name: jobName,
        type: 'Microsoft.App/jobs',
        location: LOCATION,
        properties: {
          provisioningState: 'Succeeded',
          environmentId: `/subscriptions/${this.subscriptionId}/resourceGroups/${this.resourceGroup}/providers/Microsoft.App/managedEnvironments/cae-tessera`,
          workloadProfileName: job.workloadProfileName,
          configuration: {
            triggerType: 'Manual',
            replicaTimeout: 86400,
            replicaRetryLimit: 0,
            manualTriggerConfig: { parallelism: 1, replicaCompletionCount: 1 },
          },
          template: job.template,
        },
      });
    }

    if (verb?.toLowerCase() === 'start' && method === 'POST') {
      const template = (body ?? {}) as FakeTemplate;
      const invalid = validateTemplate(template, job.workloadProfileName);
      if (invalid !== undefined) return sendError(res, 400, 'InvalidParameterValue', invalid);
      const name = `${jobName}-${randomName()}`;
      this.executions.set(`${jobName}/${name}`, {
        name,
        job: jobName,
        status: 'Running',
        startTime: new Date().toISOString(),
        template: template.containers === undefined ? structuredClone(job.template) : structuredClone(template),
      });
      return this.answerLro(res, { name, id: `${jobId}/executions/${name}` });
    }

    if (verb?.toLowerCase() === 'executions' && executionName === undefined && method === 'GET') {
      const all = this.executionsOf(jobName);
      const skip = Number(url.searchParams.get('$skipToken') ?? '0');
      const page = all.slice(skip, skip + this.pageSize);
      const next = skip + this.pageSize < all.length ? skip + this.pageSize : undefined;
      return send(res, 200, {
        value: page.map((e) => this.executionBody(jobId, e)),
        nextLink:
          next === undefined
            ? null
            : `${this.endpoint}${url.pathname}?api-version=${ARM_API_VERSION}&$skipToken=${next}`,
      });
    }

    if (verb?.toLowerCase() === 'executions' && executionName !== undefined) {
      const execution = this.execution(jobName, executionName);
      if (execution === undefined) {
        return sendError(
          res,
          404,
          'ResourceNotFound',
          `The Resource 'Microsoft.App/jobs/${jobName}/executions/${executionName}' under resource group ` +
            `'${this.resourceGroup}' was not found.`,
        );
      }
      if (stopVerb === undefined && method === 'GET') return send(res, 200, this.executionBody(jobId, execution));
      if (stopVerb !== undefined && method === 'POST') {
        if (['Running', 'Processing'].includes(execution.status)) {
          execution.status = 'Stopped';
          execution.endTime = new Date().toISOString();
        }
        return this.answerLro(res, undefined);
      }
    }
    return sendError(res, 405, 'MethodNotAllowed', `${method} is not allowed on ${url.pathname}.`);
  }

  private executionBody(jobId: string, e: FakeExecution): unknown {
    const template = this.echoTemplateEnv ? e.template : withoutEnv(e.template);
    return {
      id: `${jobId}/executions/${e.name}`,
      name: e.name,
      type: 'Microsoft.App/jobs/executions',
      properties: {
        status: e.status,
        startTime: e.startTime,
        ...(e.endTime === undefined ? {} : { endTime: e.endTime }),
        ...(e.reason === undefined ? {} : { reason: e.reason }),
        ...(e.message === undefined ? {} : { message: e.message }),
        template,
      },
    };
  }

  /** 200 with the result now, or 202 with a Location to poll. */
  private answerLro(res: ServerResponse, result: unknown): void {
    if (this.lro.mode === 'sync') return send(res, 200, result);
    const id = randomBytes(8).toString('hex');
    this.operations.set(id, { remainingPolls: this.lro.polls, result });
    send(res, 202, undefined, this.lroHeaders(id));
  }

  private pollOperation(res: ServerResponse, id: string): void {
    const operation = this.operations.get(id);
    if (operation === undefined) return sendError(res, 404, 'ResourceNotFound', `Operation ${id} was not found.`);
    if (operation.remainingPolls > 0) {
      operation.remainingPolls--;
      return send(res, 202, undefined, this.lroHeaders(id));
    }
    this.operations.delete(id);
    send(res, 200, operation.result);
  }

  private lroHeaders(id: string): Record<string, string> {
    return {
      Location: `${this.endpoint}/subscriptions/${this.subscriptionId}/providers/Microsoft.App/locations/${LOCATION}/containerappsjobOperationResults/${id}?api-version=${ARM_API_VERSION}`,
      'Retry-After': String(this.lro.retryAfterSeconds),
    };
  }
}

/** The checks the fake makes of a start template (see the class comment). */
function validateTemplate(template: FakeTemplate, workloadProfileName: string): string | undefined {
  for (const container of [...(template.containers ?? []), ...(template.initContainers ?? [])]) {
    if (typeof container.name !== 'string' || typeof container.image !== 'string') {
      return 'Each container of a job execution template needs a name and an image.';
    }
    const r = container.resources;
    if (r !== undefined && workloadProfileName === 'Consumption') {
      const gi = /^(\d+(?:\.\d+)?)Gi$/.exec(r.memory);
      const valid =
        r.cpu >= 0.25 &&
        r.cpu <= 4 &&
        Number.isInteger(r.cpu * 4) &&
        gi?.[1] !== undefined &&
        Number(gi[1]) === r.cpu * 2;
      if (!valid) {
        return (
          `The total requested CPU and memory resources for this application (CPU: ${r.cpu}, memory: ${r.memory}) is ` +
          'invalid. Total CPU and memory for all containers defined in a Container App must add up to one of the ' +
          'following CPU - Memory combinations: [cpu: 0.25, memory: 0.5Gi]; ... [cpu: 4.0, memory: 8.0Gi]'
        );
      }
    }
  }
  return undefined;
}

function withoutEnv(template: FakeTemplate): FakeTemplate {
  const strip = (c: FakeContainer): FakeContainer => {
    const { env: _env, ...rest } = c;
    return rest;
  };
  return {
    ...(template.containers === undefined ? {} : { containers: template.containers.map(strip) }),
    ...(template.initContainers === undefined ? {} : { initContainers: template.initContainers.map(strip) }),
  };
}

function randomName(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(7), (b) => alphabet[b % alphabet.length]).join('');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(text === '' ? {} : { 'Content-Type': 'application/json; charset=utf-8' }),
    'x-ms-request-id': randomBytes(8).toString('hex'),
    ...headers,
  });
  res.end(text);
}

function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  send(res, status, { error: { code, message } }, headers);
}
