import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, createServer } from 'node:https';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';

/**
 * An in-process fake of the Azure Resource Manager REST calls that @azure/arm-appcontainers 3.0.0
 * makes for Container Apps jobs and apps, so ContainerAppsCompute and ContainerAppsDeployments run
 * against the real SDK client. Jobs:
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
 * Apps (Python online deployments):
 *
 * - GET  …/managedEnvironments/{env} (location, defaultDomain)
 * - GET  …/containerApps/{app}; PUT (create or replace) → 200, or 201 with Azure-AsyncOperation
 *   polled at …/containerappOperationStatuses/{id} ({status: InProgress | Succeeded}), after which
 *   the SDK reads the app; PATCH (each given part of `configuration`, and `template`, replaced) and
 *   DELETE → 200, or 202 with a Location polled as for jobs
 * - GET  …/containerApps/{app}/revisions (paged), GET …/revisions/{revision},
 *   POST …/revisions/{revision}/deactivate → 200
 *
 * A template whose containers, scale or revisionSuffix differ from the latest revision's makes a
 * revision `<app>--<revisionSuffix>` (a random suffix without one); its states come from
 * `newRevisions`. Traffic is checked as the REST reference describes it: weights summing to 100,
 * unique labels, entries naming existing revisions, one entry in single-revision mode. Secrets
 * come back without their values.
 *
 * What is our reading, not a recording: the names of the operation-status paths and the 400 codes
 * of refused traffic, revisions and secrets; that a PATCH keeps the parts of `configuration` it
 * does not give; that a new revision may be referenced by the traffic of the same request; that
 * deactivating a revision that has traffic is refused (400). For jobs: that an execution's
 * `template` comes back with the environment it was started with; the 404 code for a missing
 * execution; what stopping an ended
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

export interface FakeAppTemplate {
  revisionSuffix?: string;
  containers?: FakeContainer[];
  scale?: { minReplicas?: number; maxReplicas?: number };
}

export interface FakeTrafficWeight {
  revisionName?: string;
  latestRevision?: boolean;
  label?: string;
  weight?: number;
}

export interface FakeAppConfiguration {
  activeRevisionsMode?: string;
  ingress?: {
    external?: boolean;
    targetPort?: number;
    transport?: string;
    allowInsecure?: boolean;
    traffic?: FakeTrafficWeight[];
  };
  secrets?: { name: string; value?: string }[];
  registries?: { server: string; identity?: string }[];
}

export interface FakeRevision {
  name: string;
  createdTime: string;
  template: FakeAppTemplate;
  active: boolean;
  provisioningState: string;
  runningState: string;
  healthState: string;
  provisioningError?: string;
  /** Reads left that answer provisioningState 'Provisioning' (see `newRevisions`). */
  readsUntilReady: number;
}

export interface FakeApp {
  name: string;
  location: string;
  tags: Record<string, string>;
  environmentId: string;
  identity?: unknown;
  configuration: FakeAppConfiguration;
  template: FakeAppTemplate;
  revisions: FakeRevision[];
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
  private readonly environments = new Map<string, { location: string; defaultDomain: string }>();
  private readonly apps = new Map<string, FakeApp>();
  private readonly statuses = new Map<string, Operation>();
  /**
   * What the next revisions become: their provisioning, running and health states, the error a
   * failed one reports, and how many reads answer 'Provisioning' first.
   */
  newRevisions: {
    provisioningState: string;
    runningState: string;
    healthState: string;
    provisioningError?: string;
    readsUntilReady: number;
  } = { ...READY_REVISION };

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
    this.environments.clear();
    this.apps.clear();
    this.statuses.clear();
    this.newRevisions = { ...READY_REVISION };
  }

  /** Declares a Container Apps environment in the fake's resource group; returns its resource id. */
  addEnvironment(name: string, defaultDomain = 'kindbay-1a2b3c4d.swedencentral.azurecontainerapps.io'): string {
    this.environments.set(name, { location: LOCATION, defaultDomain });
    return this.environmentIdOf(name);
  }

  environmentIdOf(name: string): string {
    return `/subscriptions/${this.subscriptionId}/resourceGroups/${this.resourceGroup}/providers/Microsoft.App/managedEnvironments/${name}`;
  }

  /** A Container App as the fake holds it (undefined if none). */
  app(name: string): FakeApp | undefined {
    return this.apps.get(name);
  }

  /** Adds an app directly, as if made by someone else. */
  addApp(app: FakeApp): void {
    this.apps.set(app.name, structuredClone(app));
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
      /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.App\/locations\/[^/]+\/(containerappsjobOperationResults|containerappOperationResults|containerappOperationStatuses)\/([^/]+)$/i.exec(
        url.pathname,
      );
    if (operation?.[3] !== undefined && method === 'GET') {
      return operation[2]?.toLowerCase() === 'containerappoperationstatuses'
        ? this.pollStatus(res, operation[3])
        : this.pollOperation(res, operation[3]);
    }

    const appRoute =
      /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.App\/(containerApps|managedEnvironments)\/([^/]+)(?:\/(revisions)(?:\/([^/]+)(?:\/(deactivate))?)?)?$/i.exec(
        url.pathname,
      );
    if (appRoute !== null) return this.handleApps(req, res, method, url, body, appRoute);

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

  /** Container Apps (not jobs): environments, apps with their revisions, and revision deactivation. */
  private handleApps(
    _req: IncomingMessage,
    res: ServerResponse,
    method: string,
    url: URL,
    body: unknown,
    route: RegExpExecArray,
  ): void {
    const [, subscription, group, kind = '', name = '', revisions, revisionName, deactivate] = route;
    if (subscription !== this.subscriptionId) {
      return sendError(res, 404, 'SubscriptionNotFound', `The subscription '${subscription}' could not be found.`);
    }
    if (group?.toLowerCase() !== this.resourceGroup.toLowerCase()) {
      return sendError(res, 404, 'ResourceGroupNotFound', `Resource group '${group}' could not be found.`);
    }
    const isEnvironment = kind.toLowerCase() === 'managedenvironments';
    const action = isEnvironment
      ? 'Microsoft.App/managedEnvironments/read'
      : deactivate !== undefined
        ? 'Microsoft.App/containerApps/revisions/deactivate/action'
        : revisions !== undefined
          ? 'Microsoft.App/containerApps/revisions/read'
          : method === 'GET'
            ? 'Microsoft.App/containerApps/read'
            : method === 'DELETE'
              ? 'Microsoft.App/containerApps/delete'
              : 'Microsoft.App/containerApps/write';
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
    const notFound = (type: string, what: string): void =>
      sendError(
        res,
        404,
        'ResourceNotFound',
        `The Resource 'Microsoft.App/${type}/${what}' under resource group '${this.resourceGroup}' was not found. ` +
          'For more details please go to https://aka.ms/ARMResourceNotFoundFix',
      );

    if (isEnvironment) {
      const environment = this.environments.get(name);
      if (environment === undefined) return notFound('managedEnvironments', name);
      if (method !== 'GET')
        return sendError(res, 405, 'MethodNotAllowed', `${method} is not allowed on ${url.pathname}.`);
      return send(res, 200, {
        id: this.environmentIdOf(name),
        name,
        type: 'Microsoft.App/managedEnvironments',
        location: environment.location,
        properties: { provisioningState: 'Succeeded', defaultDomain: environment.defaultDomain, staticIp: '20.0.0.1' },
      });
    }

    const app = this.apps.get(name);
    if (revisions === undefined) {
      if (method === 'GET')
        return app === undefined ? notFound('containerApps', name) : send(res, 200, this.appBody(app));
      if (method === 'PUT') return this.putApp(res, name, body);
      if (method === 'PATCH') {
        if (app === undefined) return notFound('containerApps', name);
        return this.patchApp(res, app, body);
      }
      if (method === 'DELETE') {
        if (app === undefined) return send(res, 204, undefined);
        this.apps.delete(name);
        return this.answerLro(res, undefined);
      }
      return sendError(res, 405, 'MethodNotAllowed', `${method} is not allowed on ${url.pathname}.`);
    }
    if (app === undefined) return notFound('containerApps', name);
    if (revisionName === undefined) {
      if (method !== 'GET')
        return sendError(res, 405, 'MethodNotAllowed', `${method} is not allowed on ${url.pathname}.`);
      const skip = Number(url.searchParams.get('$skipToken') ?? '0');
      const page = app.revisions.slice(skip, skip + this.pageSize);
      const next = skip + this.pageSize < app.revisions.length ? skip + this.pageSize : undefined;
      return send(res, 200, {
        value: page.map((r) => this.revisionBody(app, r, false)),
        nextLink:
          next === undefined
            ? null
            : `${this.endpoint}${url.pathname}?api-version=${ARM_API_VERSION}&$skipToken=${next}`,
      });
    }
    const revision = app.revisions.find((r) => r.name === revisionName);
    if (revision === undefined) return notFound('containerApps/revisions', `${name}/${revisionName}`);
    if (deactivate === undefined && method === 'GET') return send(res, 200, this.revisionBody(app, revision, true));
    if (deactivate !== undefined && method === 'POST') {
      const weight = weightOf(app, revision.name);
      if (weight > 0) {
        return sendError(
          res,
          400,
          'ContainerAppRevisionInUse',
          `Revision '${revision.name}' has ${weight}% of the traffic and cannot be deactivated; move its traffic first.`,
        );
      }
      revision.active = false;
      revision.runningState = 'Stopped';
      return send(res, 200, undefined);
    }
    return sendError(res, 405, 'MethodNotAllowed', `${method} is not allowed on ${url.pathname}.`);
  }

  private putApp(res: ServerResponse, name: string, body: unknown): void {
    const envelope = (body ?? {}) as {
      location?: string;
      tags?: Record<string, string>;
      identity?: unknown;
      properties?: {
        environmentId?: string;
        managedEnvironmentId?: string;
        configuration?: FakeAppConfiguration;
        template?: FakeAppTemplate;
      };
    };
    const environmentId = envelope.properties?.environmentId ?? envelope.properties?.managedEnvironmentId;
    const environment = [...this.environments.keys()].find(
      (e) => this.environmentIdOf(e).toLowerCase() === environmentId?.toLowerCase(),
    );
    if (environment === undefined) {
      return sendError(
        res,
        400,
        'ManagedEnvironmentNotFound',
        `The environment '${environmentId ?? ''}' was not found.`,
      );
    }
    if (envelope.location === undefined)
      return sendError(res, 400, 'LocationRequired', 'The location property is required for this definition.');
    const existing = this.apps.get(name);
    const next: FakeApp = {
      name,
      location: envelope.location,
      tags: envelope.tags ?? {},
      environmentId: this.environmentIdOf(environment),
      ...(envelope.identity === undefined ? {} : { identity: envelope.identity }),
      configuration: structuredClone(envelope.properties?.configuration ?? {}),
      template: structuredClone(envelope.properties?.template ?? {}),
      revisions: existing?.revisions ?? [],
    };
    const invalid = this.apply(next, existing);
    if (invalid !== undefined) return sendError(res, 400, invalid.code, invalid.message);
    this.apps.set(name, next);
    this.answerPut(res, next);
  }

  private patchApp(res: ServerResponse, app: FakeApp, body: unknown): void {
    const envelope = (body ?? {}) as {
      tags?: Record<string, string>;
      properties?: { configuration?: FakeAppConfiguration; template?: FakeAppTemplate };
    };
    const next: FakeApp = structuredClone(app);
    if (envelope.tags !== undefined) next.tags = envelope.tags;
    const configuration = envelope.properties?.configuration;
    if (configuration !== undefined) {
      // Each given part of the configuration replaces that part; the others stay.
      next.configuration = { ...next.configuration, ...structuredClone(configuration) };
    }
    if (envelope.properties?.template !== undefined) next.template = structuredClone(envelope.properties.template);
    const invalid = this.apply(next, app);
    if (invalid !== undefined) return sendError(res, 400, invalid.code, invalid.message);
    this.apps.set(app.name, next);
    this.answerLro(res, this.appBody(next));
  }

  /** Validates an app's new state and makes the revision its template asks for. */
  private apply(next: FakeApp, previous: FakeApp | undefined): { code: string; message: string } | undefined {
    const template = next.template;
    const invalid = validateTemplate({ containers: template.containers ?? [] }, 'Consumption');
    if (invalid !== undefined) return { code: 'ContainerAppInvalidResourceTotal', message: invalid };
    const secrets = next.configuration.secrets ?? [];
    for (const secret of secrets) {
      if (secret.value === undefined) {
        return { code: 'ContainerAppSecretInvalid', message: `Secret '${secret.name}' has no value.` };
      }
    }
    for (const container of template.containers ?? []) {
      for (const e of container.env ?? []) {
        if (e.secretRef !== undefined && !secrets.some((s) => s.name === e.secretRef)) {
          return {
            code: 'ContainerAppSecretRefNotFound',
            message: `Container '${container.name}' references secret '${e.secretRef}', which is not defined.`,
          };
        }
      }
    }
    const latest = previous?.revisions[previous.revisions.length - 1];
    const changed = latest === undefined || JSON.stringify(latest.template) !== JSON.stringify(template);
    const created: FakeRevision[] = [];
    if (changed) {
      const name = `${next.name}--${template.revisionSuffix ?? randomName()}`;
      if (next.revisions.some((r) => r.name === name)) {
        return {
          code: 'ContainerAppRevisionAlreadyExists',
          message: `Revision '${name}' already exists with another template; use another revision suffix.`,
        };
      }
      created.push({
        name,
        createdTime: new Date().toISOString(),
        template: structuredClone(template),
        active: true,
        ...structuredClone(this.newRevisions),
      });
    }
    const all = [...next.revisions, ...created];
    const traffic = next.configuration.ingress?.traffic ?? [];
    const mode = next.configuration.activeRevisionsMode ?? 'Single';
    if (traffic.length > 0) {
      const sum = traffic.reduce((total, t) => total + (t.weight ?? 0), 0);
      if (sum !== 100) {
        return {
          code: 'ContainerAppInvalidTrafficWeight',
          message: `The traffic weights add up to ${sum}; they must add up to 100.`,
        };
      }
      const labels = traffic.flatMap((t) => (t.label === undefined ? [] : [t.label]));
      if (new Set(labels).size !== labels.length) {
        return { code: 'ContainerAppDuplicateLabel', message: `A traffic label is used twice (${labels.join(', ')}).` };
      }
      for (const label of labels) {
        if (!/^[a-z](?:[a-z0-9]|-(?!-))*[a-z0-9]$/.test(label)) {
          return {
            code: 'ContainerAppInvalidLabel',
            message: `Label '${label}' must be lower-case letters, digits and single '-', starting with a letter.`,
          };
        }
      }
      for (const t of traffic) {
        if (t.latestRevision === true) continue;
        const target = all.find((r) => r.name === t.revisionName);
        if (target === undefined || !target.active) {
          return {
            code: 'ContainerAppRevisionNotFound',
            message: `Traffic names revision '${t.revisionName ?? ''}', which is not an active revision of '${next.name}'.`,
          };
        }
      }
      if (mode === 'Single' && traffic.length > 1) {
        return {
          code: 'ContainerAppSingleRevisionMode',
          message: 'An app in single-revision mode takes one traffic entry.',
        };
      }
    }
    next.revisions = all;
    if (mode === 'Single' && created.length > 0) {
      for (const r of next.revisions) if (r !== created[0]) r.active = false;
    }
    return undefined;
  }

  private appBody(app: FakeApp): unknown {
    const environment = this.environments.get(app.environmentId.split('/').pop() ?? '');
    const domain = environment?.defaultDomain ?? 'unknown';
    const latest = app.revisions[app.revisions.length - 1];
    const { secrets, ingress, ...configuration } = app.configuration;
    return {
      id: `/subscriptions/${this.subscriptionId}/resourceGroups/${this.resourceGroup}/providers/Microsoft.App/containerApps/${app.name}`,
      name: app.name,
      type: 'Microsoft.App/containerApps',
      location: app.location,
      tags: app.tags,
      ...(app.identity === undefined ? {} : { identity: app.identity }),
      properties: {
        provisioningState: 'Succeeded',
        runningStatus: 'Running',
        environmentId: app.environmentId,
        managedEnvironmentId: app.environmentId,
        workloadProfileName: 'Consumption',
        ...(latest === undefined
          ? {}
          : {
              latestRevisionName: latest.name,
              latestReadyRevisionName: latest.name,
              latestRevisionFqdn: `${latest.name}.${domain}`,
            }),
        configuration: {
          ...configuration,
          // ARM never returns a secret's value.
          ...(secrets === undefined ? {} : { secrets: secrets.map((s) => ({ name: s.name })) }),
          ...(ingress === undefined ? {} : { ingress: { ...ingress, fqdn: `${app.name}.${domain}` } }),
        },
        template: app.template,
      },
    };
  }

  private revisionBody(app: FakeApp, revision: FakeRevision, read: boolean): unknown {
    const environment = this.environments.get(app.environmentId.split('/').pop() ?? '');
    let provisioningState = revision.provisioningState;
    if (revision.readsUntilReady > 0) {
      provisioningState = 'Provisioning';
      if (read) revision.readsUntilReady--;
    }
    return {
      id: `/subscriptions/${this.subscriptionId}/resourceGroups/${this.resourceGroup}/providers/Microsoft.App/containerApps/${app.name}/revisions/${revision.name}`,
      name: revision.name,
      type: 'Microsoft.App/containerApps/revisions',
      properties: {
        createdTime: revision.createdTime,
        fqdn: `${revision.name}.${environment?.defaultDomain ?? 'unknown'}`,
        template: revision.template,
        active: revision.active,
        replicas: revision.active ? (revision.template.scale?.minReplicas ?? 0) : 0,
        trafficWeight: weightOf(app, revision.name),
        healthState: revision.healthState,
        provisioningState,
        runningState: provisioningState === 'Provisioning' ? 'Processing' : revision.runningState,
        ...(revision.provisioningError === undefined ? {} : { provisioningError: revision.provisioningError }),
      },
    };
  }

  /** A PUT: 200 now, or 201 with Azure-AsyncOperation to poll (Container Apps' create/update). */
  private answerPut(res: ServerResponse, app: FakeApp): void {
    if (this.lro.mode === 'sync') return send(res, 200, this.appBody(app));
    const id = randomBytes(8).toString('hex');
    this.statuses.set(id, { remainingPolls: this.lro.polls, result: undefined });
    const body = this.appBody(app) as { properties: Record<string, unknown> };
    body.properties['provisioningState'] = 'InProgress';
    send(res, 201, body, {
      'Azure-AsyncOperation': `${this.endpoint}/subscriptions/${this.subscriptionId}/providers/Microsoft.App/locations/${LOCATION}/containerappOperationStatuses/${id}?api-version=${ARM_API_VERSION}`,
      'Retry-After': String(this.lro.retryAfterSeconds),
    });
  }

  private pollStatus(res: ServerResponse, id: string): void {
    const status = this.statuses.get(id);
    if (status === undefined) return sendError(res, 404, 'ResourceNotFound', `Operation ${id} was not found.`);
    const done = status.remainingPolls <= 0;
    if (!done) status.remainingPolls--;
    else this.statuses.delete(id);
    send(
      res,
      200,
      { id, name: id, status: done ? 'Succeeded' : 'InProgress', startTime: new Date().toISOString() },
      done ? {} : { 'Retry-After': String(this.lro.retryAfterSeconds) },
    );
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

const READY_REVISION = {
  provisioningState: 'Provisioned',
  runningState: 'Running',
  healthState: 'Healthy',
  readsUntilReady: 0,
} as const;

/** The percent of an app's traffic that goes to a revision. */
function weightOf(app: FakeApp, revision: string): number {
  const latest = app.revisions[app.revisions.length - 1]?.name;
  return (app.configuration.ingress?.traffic ?? [])
    .filter((t) => t.revisionName === revision || (t.latestRevision === true && latest === revision))
    .reduce((sum, t) => sum + (t.weight ?? 0), 0);
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
