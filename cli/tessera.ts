#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolveCredentials } from './sdk/credentials.js';
import { MLClient, MLClientError } from './sdk/ml-client.js';
import { ASSET_GROUPS, runAssetCommand } from './asset-commands.js';
import type { AssetGroup } from './asset-commands.js';
import { runJobCommand } from './job-commands.js';
import { runOnlineDeploymentCommand, runOnlineEndpointCommand } from './online-commands.js';
import { CliUsageError } from './usage-error.js';
import { parseOutputFormat, render } from './output.js';
import { SpecError } from '../shared/domain/azureml/spec-loader.js';

/**
 * The `tessera` command. Prints JSON on success; on failure prints the server's message to stderr
 * and exits non-zero (1 for errors the server reported, 2 for usage errors).
 */

const USAGE = `Usage: tessera <command> [options]

Commands:
  health                                   Show host status
  workspace list                           List the workspaces you can use
  workspace show [--name N]                Show a workspace (default: the current one) and its mlflow_tracking_uri
  workspace create --name N [--display-name D] [--description D]
  token create [--workspace W] [--description D] [--expires-in-days N]
                                           Create an API token (W may be '*' or a comma-separated list)
  token list                               List tokens (no secrets)
  token revoke --id ID                     Revoke a token

Assets (as az ml): GROUP is data, model, environment, component, datastore or compute
  GROUP create --file F [--set k=v ...] [--name N] [--version V]
                                           Register from an Azure ML YAML spec; local paths are uploaded
  model create --name N [--version V] --path P [--type custom_model|mlflow_model|triton_model]
               [--description D]           P: azureml://jobs/<job>/outputs/<output>, a datastore URI or a local path
  GROUP show -n NAME [-v VERSION | -l LABEL]
  GROUP list [-n NAME] [--tag k[=v]] [--archived true|false|all] [--limit N] [--continuation T]
  GROUP update -n NAME -v VERSION [--description D] [--tags k=v ...]
  GROUP archive|restore -n NAME [-v VERSION]
  GROUP label -n NAME -l LABEL -v VERSION  Point a label at a version
  data preview -n NAME [-v VERSION | -l LABEL] [--rows N]
                                           First rows and inferred column types
  model download -n NAME [-v VERSION | -l LABEL] [--download-path DIR]
                                           Files into DIR/NAME/ (default ./NAME/)
  datastore|compute delete -n NAME
  datastore download -n NAME --path P [--download-path DIR]
                                           A file, or a folder (P ending in /), into DIR (default .); e.g.
                                           -n workspaceblobstore --path modelDataCollector/<endpoint>/
                                           for what online deployments' data_collector wrote

Jobs (as az ml job): command jobs
  job create --file F [--set k=v ...] [--name N] [--stream]
                                           Upload local paths (code, inputs) and submit; --stream follows the log
  job show -n NAME
  job list [--experiment E] [--status S] [--archived true|false|all] [--limit N] [--continuation T]
  job stream -n NAME                       Print the log until the job ends; exit 0 only if it completed
  job cancel -n NAME
  job download -n NAME [--download-path DIR] [--output-name O] [--all]
                                           Outputs into DIR/named-outputs/<output>/; --all adds DIR/artifacts/
  job archive|restore -n NAME

Online endpoints (as az ml online-endpoint / online-deployment)
  online-endpoint create --file F [--name N] [--set k=v ...] | --name N [--auth-mode key|aml_token]
  online-endpoint update -n NAME [--traffic "blue=90 green=10"] [--mirror-traffic "green=20"] [--file F]
                                           Traffic: whole percents summing to 100 (or all 0), changed atomically
  online-endpoint show|delete|get-credentials -n NAME
  online-endpoint list
  online-endpoint regenerate-keys -n NAME --key-type primary|secondary
  online-endpoint invoke -n NAME --request-file F [--deployment-name D]
                                           POST F to the scoring URI with the endpoint's key or token
  online-deployment create|update --file F [--name N] [--endpoint-name E] [--all-traffic] [--no-wait]
                                           Upload local paths (model, code, conda file), then wait until it is
                                           Succeeded (or print why it Failed, with its logs)
  online-deployment show|delete|get-logs -n NAME --endpoint-name E [--lines N]
  online-deployment list --endpoint-name E

  -o, --output json|yaml|table             Output format (default json)

Global options:
  --endpoint URL   Host URL (default: TESSERA_ENDPOINT, credentials.json, http://127.0.0.1:7071)
  --token T        API token (default: TESSERA_TOKEN, credentials.json)
  --workspace W    Workspace (default: TESSERA_WORKSPACE, credentials.json, 'default')
  --data-dir D     Data folder holding credentials.json (default: TESSERA_DATA_DIR or .tessera)
`;

class UsageError extends Error {}

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env?: Readonly<Record<string, string | undefined>>;
  fetch?: typeof fetch;
  /** Milliseconds between job log polls (tests shorten it; default 500). */
  pollMs?: number;
}

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        endpoint: { type: 'string' },
        token: { type: 'string' },
        workspace: { type: 'string' },
        'data-dir': { type: 'string' },
        name: { type: 'string', short: 'n' },
        file: { type: 'string', short: 'f' },
        set: { type: 'string', multiple: true },
        version: { type: 'string', short: 'v' },
        label: { type: 'string', short: 'l' },
        tag: { type: 'string' },
        tags: { type: 'string', multiple: true },
        archived: { type: 'string' },
        limit: { type: 'string' },
        continuation: { type: 'string' },
        output: { type: 'string', short: 'o' },
        rows: { type: 'string' },
        'download-path': { type: 'string' },
        'display-name': { type: 'string' },
        description: { type: 'string' },
        'expires-in-days': { type: 'string' },
        id: { type: 'string' },
        path: { type: 'string', short: 'p' },
        type: { type: 'string' },
        stream: { type: 'boolean' },
        experiment: { type: 'string' },
        status: { type: 'string' },
        'output-name': { type: 'string' },
        all: { type: 'boolean' },
        'endpoint-name': { type: 'string', short: 'e' },
        'auth-mode': { type: 'string' },
        traffic: { type: 'string', short: 'r' },
        'mirror-traffic': { type: 'string' },
        'key-type': { type: 'string' },
        'all-traffic': { type: 'boolean' },
        'no-wait': { type: 'boolean' },
        lines: { type: 'string' },
        'request-file': { type: 'string' },
        'deployment-name': { type: 'string', short: 'd' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const [command, sub] = positionals;
    if (values.help === true || command === undefined || command === 'help') {
      io.stdout(USAGE);
      return command === undefined && values.help !== true ? 2 : 0;
    }
    const credentials = await resolveCredentials({
      ...(values.endpoint === undefined ? {} : { endpoint: values.endpoint }),
      ...(values.token === undefined ? {} : { token: values.token }),
      ...(values.workspace === undefined ? {} : { workspace: values.workspace }),
      ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] }),
      ...(io.env === undefined ? {} : { env: io.env }),
    });
    const client = new MLClient({
      endpoint: credentials.endpoint,
      workspace: credentials.workspace,
      ...(credentials.token === undefined ? {} : { token: credentials.token }),
      ...(io.fetch === undefined ? {} : { fetch: io.fetch }),
    });
    // What every command group is given: the client, the credentials it was made with, the output.
    const context = {
      client,
      endpoint: credentials.endpoint,
      token: credentials.token,
      workspace: credentials.workspace,
      ...(io.fetch === undefined ? {} : { fetch: io.fetch }),
      stdout: io.stdout,
      stderr: io.stderr,
    };
    const format = parseOutputFormat(values.output);
    const print = (value: unknown, columns: readonly string[] = ['name', 'description', 'createdAt']): number => {
      io.stdout(render(value, format, columns));
      return 0;
    };
    const required = (name: string, value: string | undefined): string => {
      if (value === undefined || value === '') throw new UsageError(`${command} ${sub ?? ''}: --${name} is required`);
      return value;
    };

    const archived = values.archived;
    if (archived !== undefined && archived !== 'true' && archived !== 'false' && archived !== 'all') {
      throw new UsageError(`--archived must be true, false or all, got '${archived}'`);
    }
    const limit = values.limit === undefined ? undefined : Number(values.limit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
      throw new UsageError(`--limit must be a positive whole number, got '${values.limit}'`);

    if (command === 'job') {
      return await runJobCommand(
        sub ?? '',
        {
          set: values.set ?? [],
          stream: values.stream === true,
          all: values.all === true,
          output: format,
          ...(values.file === undefined ? {} : { file: values.file }),
          ...(values.name === undefined ? {} : { name: values.name }),
          ...(values.experiment === undefined ? {} : { experiment: values.experiment }),
          ...(values.status === undefined ? {} : { status: values.status }),
          ...(archived === undefined ? {} : { archived }),
          ...(limit === undefined ? {} : { limit }),
          ...(values.continuation === undefined ? {} : { continuation: values.continuation }),
          ...(values['download-path'] === undefined ? {} : { downloadPath: values['download-path'] }),
          ...(values['output-name'] === undefined ? {} : { outputName: values['output-name'] }),
          ...(io.pollMs === undefined ? {} : { pollMs: io.pollMs }),
          progress: (text) => io.stderr(text),
        },
        context,
      );
    }

    if (command === 'online-endpoint' || command === 'online-deployment') {
      const lines = values.lines === undefined ? undefined : Number(values.lines);
      if (lines !== undefined && (!Number.isInteger(lines) || lines < 1))
        throw new UsageError(`--lines must be a positive whole number, got '${values.lines}'`);
      const run = command === 'online-endpoint' ? runOnlineEndpointCommand : runOnlineDeploymentCommand;
      return await run(
        sub ?? '',
        {
          set: values.set ?? [],
          allTraffic: values['all-traffic'] === true,
          noWait: values['no-wait'] === true,
          output: format,
          ...(values.file === undefined ? {} : { file: values.file }),
          ...(values.name === undefined ? {} : { name: values.name }),
          ...(values['endpoint-name'] === undefined ? {} : { endpointName: values['endpoint-name'] }),
          ...(values['auth-mode'] === undefined ? {} : { authMode: values['auth-mode'] }),
          ...(values.description === undefined ? {} : { description: values.description }),
          ...(values.traffic === undefined ? {} : { traffic: values.traffic }),
          ...(values['mirror-traffic'] === undefined ? {} : { mirrorTraffic: values['mirror-traffic'] }),
          ...(values['key-type'] === undefined ? {} : { keyType: values['key-type'] }),
          ...(lines === undefined ? {} : { lines }),
          ...(values['request-file'] === undefined ? {} : { requestFile: values['request-file'] }),
          ...(values['deployment-name'] === undefined ? {} : { deploymentName: values['deployment-name'] }),
          ...(io.pollMs === undefined ? {} : { pollMs: io.pollMs }),
          progress: (text) => io.stderr(text),
        },
        context,
      );
    }

    if (command in ASSET_GROUPS) {
      const rows = values.rows === undefined ? undefined : Number(values.rows);
      if (rows !== undefined && (!Number.isInteger(rows) || rows < 1))
        throw new UsageError(`--rows must be a positive whole number, got '${values.rows}'`);
      return await runAssetCommand(
        command as AssetGroup,
        sub ?? '',
        {
          set: values.set ?? [],
          tags: values.tags ?? [],
          output: format,
          ...(values.file === undefined ? {} : { file: values.file }),
          ...(values.name === undefined ? {} : { name: values.name }),
          ...(values.version === undefined ? {} : { version: values.version }),
          ...(values.label === undefined ? {} : { label: values.label }),
          ...(values.tag === undefined ? {} : { tag: values.tag }),
          ...(values.description === undefined ? {} : { description: values.description }),
          ...(archived === undefined ? {} : { archived }),
          ...(limit === undefined ? {} : { limit }),
          ...(values.continuation === undefined ? {} : { continuation: values.continuation }),
          ...(rows === undefined ? {} : { rows }),
          ...(values['download-path'] === undefined ? {} : { downloadPath: values['download-path'] }),
          ...(values.path === undefined ? {} : { path: values.path }),
          ...(values.type === undefined ? {} : { type: values.type }),
          progress: (text) => io.stderr(text),
        },
        context,
      );
    }

    switch (`${command} ${sub ?? ''}`.trim()) {
      case 'health':
        return print(await client.health());
      case 'workspace list':
        return print(await client.workspaces.list());
      case 'workspace show':
        return print(await client.workspaces.get(values.name ?? credentials.workspace));
      case 'workspace create':
        return print(
          await client.workspaces.put(required('name', values.name), {
            ...(values['display-name'] === undefined ? {} : { displayName: values['display-name'] }),
            ...(values.description === undefined ? {} : { description: values.description }),
          }),
        );
      case 'token create': {
        const days = values['expires-in-days'];
        if (days !== undefined && !/^\d+$/.test(days))
          throw new UsageError(`--expires-in-days must be a whole number, got '${days}'`);
        const scope = (values.workspace ?? credentials.workspace)
          .split(',')
          .map((w) => w.trim())
          .filter((w) => w !== '');
        return print(
          await client.tokens.create({
            workspaces: scope,
            ...(values.description === undefined ? {} : { description: values.description }),
            ...(days === undefined ? {} : { expiresInDays: Number(days) }),
          }),
        );
      }
      case 'token list':
        return print(await client.tokens.list(), ['id', 'workspaces', 'description', 'status', 'expiresAt']);
      case 'token revoke':
        return print(await client.tokens.revoke(required('id', values.id)));
      default:
        throw new UsageError(`Unknown command '${positionals.join(' ')}'.`);
    }
  } catch (err) {
    if (
      err instanceof UsageError ||
      err instanceof CliUsageError ||
      (err instanceof TypeError && err.message.startsWith('--output')) ||
      (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      io.stderr(`tessera: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof MLClientError) {
      io.stderr(`tessera: ${err.code}${err.target === undefined ? '' : ` (${err.target})`}: ${err.message}\n`);
      return 1;
    }
    if (err instanceof SpecError) {
      io.stderr(`tessera: ${err.message}\n`);
      return 1;
    }
    io.stderr(`tessera: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

// Run only when executed as a program, so tests can import runCli.
// npm and npx start it through a symlink (node_modules/.bin/tessera), so compare real paths.
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  const code = await runCli(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  });
  process.exitCode = code;
}
