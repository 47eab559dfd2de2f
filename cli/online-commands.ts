import { readFile } from 'node:fs/promises';
import type { OnlineDeployment } from '../shared/contracts/endpoint.js';
import { loadSpecFile } from '../shared/services/spec-file.js';
import { parseTrafficText } from '../shared/domain/traffic.js';
import { uploadSpecLocalPaths } from './local-uploads.js';
import type { UploadContext } from './local-uploads.js';
import type { MLClient } from './sdk/ml-client.js';
import { endpointMetricsTable, metricsTable } from './metrics-table.js';
import { render } from './output.js';
import type { OutputFormat } from './output.js';
import { CliUsageError } from './usage-error.js';

/** `tessera online-endpoint <verb>` and `tessera online-deployment <verb>`, as `az ml`. */

export interface OnlineCommandOptions {
  file?: string;
  set: string[];
  name?: string;
  /** `online-deployment ... --endpoint-name`. */
  endpointName?: string;
  /** `online-endpoint create --auth-mode key|aml_token`. */
  authMode?: string;
  description?: string;
  /** `update --traffic "blue=90 green=10"`. */
  traffic?: string;
  /** `update --mirror-traffic "green=20"`. */
  mirrorTraffic?: string;
  /** `regenerate-keys --key-type primary|secondary`. */
  keyType?: string;
  /** `online-deployment create --all-traffic`: once it has Succeeded, send it all live traffic. */
  allTraffic: boolean;
  /** Return once stored, without waiting for provisioning. */
  noWait: boolean;
  /** `get-logs --lines N`. */
  lines?: number;
  /** `invoke --request-file F`. */
  requestFile?: string;
  /** `invoke --deployment-name D`. */
  deploymentName?: string;
  output: OutputFormat;
  progress?: (text: string) => void;
  /** Milliseconds between provisioning polls (tests shorten it). */
  pollMs?: number;
}

export interface OnlineCommandContext extends UploadContext {
  client: MLClient;
  stdout(text: string): void;
  stderr(text: string): void;
}

/** What a deployment's counters are (GET of an endpoint says it in `metrics.note`). */
const HOST_COUNTS = "this host's, in memory since it started serving the deployment (other instances not included)";

const ENDPOINT_COLUMNS = ['name', 'auth_mode', 'traffic', 'provisioning_state', 'scoring_uri'];
const DEPLOYMENT_COLUMNS = [
  'name',
  'endpoint_name',
  'kind',
  'provisioning_state',
  'generation',
  'serving_generation',
  'instance_count',
  'updated_at',
];

function required(group: string, verb: string, flag: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new CliUsageError(`${group} ${verb}: --${flag} is required`);
  return value;
}

/** Runs `tessera online-endpoint <verb>`; returns the exit code. */
export async function runOnlineEndpointCommand(
  verb: string,
  options: OnlineCommandOptions,
  ctx: OnlineCommandContext,
): Promise<number> {
  const endpoints = ctx.client.onlineEndpoints;
  const print = (value: unknown): number => {
    ctx.stdout(render(value, options.output, ENDPOINT_COLUMNS));
    return 0;
  };
  const name = (): string => required('online-endpoint', verb, 'name', options.name);
  switch (verb) {
    case 'create':
    case 'update': {
      if (options.file !== undefined || verb === 'create') {
        const spec = await endpointSpec(verb, options);
        if (verb === 'update') await endpoints.get(spec.name); // update changes an endpoint that exists
        let endpoint = await endpoints.createOrUpdate(spec);
        if (options.traffic !== undefined || options.mirrorTraffic !== undefined) {
          endpoint = await endpoints.update(endpoint.name, trafficPatch(options));
        }
        return print(endpoint);
      }
      if (options.traffic === undefined && options.mirrorTraffic === undefined && options.description === undefined) {
        throw new CliUsageError(
          'online-endpoint update: give --file, --traffic "blue=90 green=10", --mirror-traffic "green=20" or --description',
        );
      }
      return print(
        await endpoints.update(name(), {
          ...trafficPatch(options),
          ...(options.description === undefined ? {} : { description: options.description }),
        }),
      );
    }
    case 'show': {
      const endpoint = await endpoints.get(name());
      if (options.output !== 'table' || endpoint.metrics === undefined) return print(endpoint);
      const { metrics, ...fields } = endpoint;
      ctx.stdout(`${render(fields, 'table', ENDPOINT_COLUMNS)}\n${endpointMetricsTable(metrics)}`);
      return 0;
    }
    case 'list':
      return print(await endpoints.list());
    case 'delete':
      await endpoints.delete(name());
      ctx.stderr(`Online endpoint ${name()} deleted, with its deployments.\n`);
      return 0;
    case 'get-credentials':
      return print(await endpoints.getCredentials(name()));
    case 'regenerate-keys': {
      const keyType = required('online-endpoint', verb, 'key-type', options.keyType).toLowerCase();
      if (keyType !== 'primary' && keyType !== 'secondary') {
        throw new CliUsageError(
          `online-endpoint regenerate-keys: --key-type must be primary or secondary, got '${keyType}'`,
        );
      }
      await endpoints.regenerateKeys(name(), keyType);
      ctx.stderr(`The ${keyType} key of ${name()} was regenerated; get it with get-credentials.\n`);
      return 0;
    }
    case 'invoke': {
      const file = required('online-endpoint', verb, 'request-file', options.requestFile);
      const body = await readFile(file);
      const result = await endpoints.invoke(name(), {
        body,
        ...(options.deploymentName === undefined ? {} : { deploymentName: options.deploymentName }),
      });
      ctx.stdout(result.body.endsWith('\n') ? result.body : `${result.body}\n`);
      if (result.status >= 400) {
        ctx.stderr(`tessera: the endpoint answered HTTP ${result.status}\n`);
        return 1;
      }
      return 0;
    }
    default:
      throw new CliUsageError(`Unknown command 'online-endpoint ${verb}'.`);
  }
}

/** The endpoint spec of `create`/`update`: from --file (with --name and --set), or from --name and --auth-mode. */
async function endpointSpec(
  verb: string,
  options: OnlineCommandOptions,
): Promise<Record<string, unknown> & { name: string }> {
  if (options.file === undefined) {
    const spec: Record<string, unknown> & { name: string } = {
      name: required('online-endpoint', verb, 'name', options.name),
      auth_mode: options.authMode ?? 'key',
    };
    if (options.description !== undefined) spec.description = options.description;
    return spec;
  }
  const set = [...options.set];
  if (options.name !== undefined) set.push(`name=${options.name}`);
  if (options.authMode !== undefined) set.push(`auth_mode=${options.authMode}`);
  if (options.description !== undefined) set.push(`description=${options.description}`);
  const loaded = await loadSpecFile(options.file, { expectedKind: 'onlineEndpoint', set });
  return loaded.spec as Record<string, unknown> & { name: string };
}

function trafficPatch(options: OnlineCommandOptions): {
  traffic?: Record<string, number>;
  mirror_traffic?: Record<string, number>;
} {
  return {
    ...(options.traffic === undefined ? {} : { traffic: parseTrafficText(options.traffic, '--traffic') }),
    ...(options.mirrorTraffic === undefined
      ? {}
      : { mirror_traffic: parseTrafficText(options.mirrorTraffic, '--mirror-traffic') }),
  };
}

/** Runs `tessera online-deployment <verb>`; returns the exit code. */
export async function runOnlineDeploymentCommand(
  verb: string,
  options: OnlineCommandOptions,
  ctx: OnlineCommandContext,
): Promise<number> {
  const deployments = ctx.client.onlineDeployments;
  const print = (value: unknown): number => {
    ctx.stdout(render(value, options.output, DEPLOYMENT_COLUMNS));
    return 0;
  };
  const name = (): string => required('online-deployment', verb, 'name', options.name);
  const endpointName = (): string => required('online-deployment', verb, 'endpoint-name', options.endpointName);
  switch (verb) {
    case 'create':
    case 'update': {
      if (options.file === undefined) throw new CliUsageError(`online-deployment ${verb}: --file is required`);
      const set = [...options.set];
      if (options.name !== undefined) set.push(`name=${options.name}`);
      if (options.endpointName !== undefined) set.push(`endpoint_name=${options.endpointName}`);
      const loaded = await loadSpecFile(options.file, { expectedKind: 'onlineDeployment', set });
      const dName = loaded.spec['name'];
      const eName = loaded.spec['endpoint_name'];
      if (typeof dName !== 'string')
        throw new CliUsageError(`online-deployment ${verb}: the spec has no name; give --name`);
      if (typeof eName !== 'string') {
        throw new CliUsageError(`online-deployment ${verb}: the spec has no endpoint_name; give --endpoint-name`);
      }
      if (verb === 'update') await deployments.get(eName, dName); // update changes a deployment that exists
      const spec = await uploadSpecLocalPaths(ctx, loaded, options.progress);
      const stored = await deployments.createOrUpdate({ ...spec, name: dName, endpoint_name: eName });
      if (options.noWait) return print(stored);
      ctx.stderr(
        `Online deployment ${eName}/${dName} ${stored.provisioning_state}; waiting for it to be provisioned...\n`,
      );
      const done = await deployments.waitForProvisioning(eName, dName, {
        ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
      });
      if (done.provisioning_state === 'Failed') return failed(done, ctx);
      if (options.allTraffic) {
        const endpoint = await ctx.client.onlineEndpoints.get(eName);
        const traffic: Record<string, number> = {};
        for (const other of Object.keys(endpoint.traffic)) traffic[other] = 0;
        traffic[dName] = 100;
        await ctx.client.onlineEndpoints.update(eName, { traffic });
        ctx.stderr(`All the live traffic of ${eName} now goes to ${dName}.\n`);
      }
      return print(done);
    }
    case 'show': {
      const deployment = await deployments.get(endpointName(), name());
      if (options.output !== 'table' || deployment.metrics === undefined) return print(deployment);
      const { metrics, ...fields } = deployment;
      ctx.stdout(
        `${render(fields, 'table', DEPLOYMENT_COLUMNS)}\n${metricsTable({ [deployment.name]: metrics }, `Counts: ${HOST_COUNTS}.`)}`,
      );
      return 0;
    }
    case 'list':
      return print(await deployments.list(endpointName()));
    case 'delete':
      await deployments.delete(endpointName(), name());
      ctx.stderr(`Online deployment ${endpointName()}/${name()} deleted.\n`);
      return 0;
    case 'get-logs':
      ctx.stdout(
        await deployments.getLogs(endpointName(), name(), options.lines === undefined ? {} : { lines: options.lines }),
      );
      return 0;
    default:
      throw new CliUsageError(`Unknown command 'online-deployment ${verb}'.`);
  }

  async function failed(deployment: OnlineDeployment, c: OnlineCommandContext): Promise<number> {
    c.stderr(
      `tessera: online deployment ${deployment.endpoint_name}/${deployment.name} Failed: ${deployment.error?.reason ?? 'no reason given'}\n`,
    );
    if (deployment.serving_generation !== undefined) {
      c.stderr(`Generation ${deployment.serving_generation} keeps serving its requests.\n`);
    }
    const logs = await c.client.onlineDeployments.getLogs(deployment.endpoint_name, deployment.name, { lines: 50 });
    if (logs !== '') c.stderr(`--- logs (last lines) ---\n${logs}`);
    return 1;
  }
}
