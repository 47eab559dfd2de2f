/**
 * The scoring front of an endpoint: checks the caller, picks the deployment (the
 * `azureml-model-deployment` header, else a weighted draw over `traffic`), runs the request through
 * that deployment's gate and scorer, records it, and copies a `mirror_traffic` share to the mirror
 * deployment without waiting for it. Routing tables are rebuilt only when the endpoint's revision
 * moves, and a request holds the table and the scorer it started with, so a traffic change or a
 * new revision never fails a request in flight.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { isAppError } from '../errors.js';
import { isNewerRevision, type LiveDeployment, type ScorerRegistry } from './registry.js';
import { errorResponse, MAX_BODY_BYTES, type ScoreRequest, type ScoreResponse } from './scorer.js';
import {
  SILENT_LOGGER,
  type ServingDeployment,
  type ServingDirectory,
  type ServingEndpoint,
  type ServingLogger,
} from './types.js';

export const DEPLOYMENT_HEADER = 'azureml-model-deployment';
/** Names a request in the data collector's records (their `correlationid`), as Azure ML's. */
export const REQUEST_ID_HEADER = 'x-request-id';

export interface RouterDeps {
  directory: ServingDirectory;
  registry: ScorerRegistry;
  /** Uniform in [0, 1); tests inject a seeded one. */
  random?: () => number;
  logger?: ServingLogger;
  maxBodyBytes?: number;
}

/** An endpoint's traffic as cumulative percents: deployment i takes draws below upTo[i]. */
export interface RouteTable {
  revision: number;
  names: readonly string[];
  upTo: Float64Array;
  total: number;
  mirror: { name: string; percent: number } | undefined;
}

export function buildRouteTable(endpoint: ServingEndpoint): RouteTable {
  const names: string[] = [];
  const cumulative: number[] = [];
  let total = 0;
  for (const [name, percent] of Object.entries(endpoint.traffic)) {
    if (!(percent > 0)) continue;
    total += percent;
    names.push(name);
    cumulative.push(total);
  }
  let mirror: RouteTable['mirror'];
  for (const [name, percent] of Object.entries(endpoint.mirror_traffic)) {
    if (percent > 0) mirror = { name, percent };
  }
  return { revision: endpoint.revision, names, upTo: Float64Array.from(cumulative), total, mirror };
}

/** The deployment a draw u ∈ [0, 1) lands on; undefined when nothing takes traffic. */
export function pick(table: RouteTable, u: number): string | undefined {
  if (table.total <= 0) return undefined;
  const x = u * table.total;
  const upTo = table.upTo;
  for (let i = 0; i < upTo.length; i++) if (x < (upTo[i] as number)) return table.names[i];
  return table.names[table.names.length - 1];
}

export class EndpointRouter {
  private readonly tables = new Map<string, RouteTable>();
  private readonly random: () => number;
  private readonly logger: ServingLogger;
  private readonly maxBodyBytes: number;

  constructor(private readonly deps: RouterDeps) {
    this.random = deps.random ?? Math.random;
    this.logger = deps.logger ?? SILENT_LOGGER;
    this.maxBodyBytes = deps.maxBodyBytes ?? MAX_BODY_BYTES;
  }

  /** Scores a request for `endpointName`; always resolves with an answer (errors included). */
  async score(endpointName: string, req: ScoreRequest): Promise<ScoreResponse> {
    try {
      const verified = this.deps.directory.verifyCaller(endpointName, req.headers['authorization']);
      if (verified !== undefined) await verified;
      if (req.body.length > this.maxBodyBytes) {
        return errorResponse(
          413,
          'PayloadTooLarge',
          `the request body is ${req.body.length} bytes; the limit is ${this.maxBodyBytes}. Send fewer rows per request`,
        );
      }
      const found = await this.deps.directory.lookup(endpointName);
      if (found === undefined) return errorResponse(404, 'NotFound', `endpoint '${endpointName}' does not exist`);
      const table = this.table(found.endpoint);
      const requested = req.headers[DEPLOYMENT_HEADER];
      let name: string | undefined;
      if (requested !== undefined && requested !== '') {
        name = requested;
        if (!found.deployments.some((d) => d.name === name)) {
          return errorResponse(
            404,
            'DeploymentNotFound',
            `endpoint '${endpointName}' has no deployment '${requested}'; its deployments are ${names(found.deployments)}`,
          );
        }
      } else {
        name = pick(table, this.random());
        if (name === undefined) {
          return errorResponse(
            404,
            'NoTraffic',
            `no deployment takes traffic on endpoint '${endpointName}': set its traffic, or name a deployment (${names(found.deployments)}) in the ${DEPLOYMENT_HEADER} header`,
          );
        }
      }
      const deployment = found.deployments.find((d) => d.name === name);
      if (deployment === undefined) {
        return errorResponse(
          503,
          'DeploymentNotReady',
          `deployment '${name}' of endpoint '${endpointName}' is not available`,
        );
      }
      const mirror = requested === undefined || requested === '' ? table.mirror : undefined;
      if (mirror !== undefined && mirror.name !== name && this.random() * 100 < mirror.percent) {
        const target = found.deployments.find((d) => d.name === mirror.name);
        if (target !== undefined) this.mirror(target, req);
      }
      return await this.dispatch(deployment, req);
    } catch (error) {
      return this.failure(endpointName, error);
    }
  }

  private table(endpoint: ServingEndpoint): RouteTable {
    const cached = this.tables.get(endpoint.name);
    if (cached !== undefined && cached.revision === endpoint.revision) return cached;
    const table = buildRouteTable(endpoint);
    this.tables.set(endpoint.name, table);
    return table;
  }

  private async live(deployment: ServingDeployment): Promise<LiveDeployment | ScoreResponse> {
    const live = this.deps.registry.get(deployment.endpoint_name, deployment.name);
    if (live !== undefined && !isNewerRevision(deployment.revision, live.revision)) return live;
    try {
      return await this.deps.registry.ensure(deployment);
    } catch (error) {
      return errorResponse(
        503,
        'DeploymentNotReady',
        `deployment '${deployment.name}' could not be loaded: ${(error as Error).message}`,
        { 'Retry-After': '5' },
      );
    }
  }

  private async dispatch(deployment: ServingDeployment, req: ScoreRequest): Promise<ScoreResponse> {
    let live = this.deps.registry.get(deployment.endpoint_name, deployment.name);
    if (live === undefined || isNewerRevision(deployment.revision, live.revision)) {
      const loaded = await this.live(deployment);
      if (!('gate' in loaded)) return loaded;
      // Read again with no await before the gate: a swap during the load may have retired `loaded`.
      live = this.deps.registry.get(deployment.endpoint_name, deployment.name) ?? loaded;
    }
    const t0 = performance.now();
    const target = live;
    let res: ScoreResponse;
    try {
      res = await target.gate.run((signal) => target.scorer.score(req, signal));
    } catch (error) {
      res = this.failure(deployment.endpoint_name, error);
    }
    target.stats.record(res.status, performance.now() - t0);
    if (res.headers === undefined) res.headers = { [DEPLOYMENT_HEADER]: target.name };
    else res.headers[DEPLOYMENT_HEADER] = target.name;
    if (target.collector !== undefined && res.status < 400) {
      // The collected records' correlationid: the caller's x-request-id, else a new one it is told.
      const id = req.headers[REQUEST_ID_HEADER] || randomUUID();
      target.collector.collect(id, req.body, res.status, res.body);
      res.headers[REQUEST_ID_HEADER] = id;
    }
    return res;
  }

  /** Sends a copy to the mirror deployment; its answer is dropped, its failures counted and logged. */
  private mirror(deployment: ServingDeployment, req: ScoreRequest): void {
    const copy: ScoreRequest = { body: req.body, headers: req.headers };
    if (req.contentType !== undefined) copy.contentType = req.contentType;
    void (async () => {
      let failed: string | undefined;
      let live: LiveDeployment | ScoreResponse | undefined;
      try {
        live = await this.live(deployment);
        if (!('gate' in live)) failed = `${live.status}`;
        else {
          const target = live;
          const res = await target.gate.run((signal) => target.scorer.score(copy, signal));
          if (res.status >= 500)
            failed = `${res.status}: ${typeof res.body === 'string' ? res.body : res.body.toString('utf8')}`;
        }
      } catch (error) {
        failed = (error as Error).message;
      }
      this.deps.registry.get(deployment.endpoint_name, deployment.name)?.stats.recordMirror(failed !== undefined);
      if (failed !== undefined) {
        this.logger.warn('mirrored request failed', {
          endpoint: deployment.endpoint_name,
          deployment: deployment.name,
          error: failed.slice(0, 500),
        });
      }
    })();
  }

  private failure(endpointName: string, error: unknown): ScoreResponse {
    if (isAppError(error)) return errorResponse(error.status, error.code, error.message);
    const correlationId = randomUUID();
    this.logger.error('scoring failed', { endpoint: endpointName, correlationId, error: (error as Error).stack });
    return errorResponse(500, 'InternalError', `scoring failed unexpectedly (correlation id ${correlationId})`);
  }
}

function names(deployments: readonly ServingDeployment[]): string {
  return deployments.length === 0 ? '(none)' : deployments.map((d) => `'${d.name}'`).join(', ');
}
