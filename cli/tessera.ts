#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { resolveCredentials } from './sdk/credentials.js';
import { MLClient, MLClientError } from './sdk/ml-client.js';

/**
 * The `tessera` command. Prints JSON on success; on failure prints the server's message to stderr
 * and exits non-zero (1 for errors the server reported, 2 for usage errors).
 */

const USAGE = `Usage: tessera <command> [options]

Commands:
  health                                   Show host status
  workspace list                           List the workspaces you can use
  workspace show [--name N]                Show a workspace (default: the current one)
  workspace create --name N [--display-name D] [--description D]
  token create [--workspace W] [--description D] [--expires-in-days N]
                                           Create an API token (W may be '*' or a comma-separated list)
  token list                               List tokens (no secrets)
  token revoke --id ID                     Revoke a token

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
        name: { type: 'string' },
        'display-name': { type: 'string' },
        description: { type: 'string' },
        'expires-in-days': { type: 'string' },
        id: { type: 'string' },
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
    const print = (value: unknown): number => {
      io.stdout(`${JSON.stringify(value, null, 2)}\n`);
      return 0;
    };
    const required = (name: string, value: string | undefined): string => {
      if (value === undefined || value === '') throw new UsageError(`${command} ${sub ?? ''}: --${name} is required`);
      return value;
    };

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
        return print(await client.tokens.list());
      case 'token revoke':
        return print(await client.tokens.revoke(required('id', values.id)));
      default:
        throw new UsageError(`Unknown command '${positionals.join(' ')}'.`);
    }
  } catch (err) {
    if (
      err instanceof UsageError ||
      (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      io.stderr(`tessera: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof MLClientError) {
      io.stderr(`tessera: ${err.code}${err.target === undefined ? '' : ` (${err.target})`}: ${err.message}\n`);
      return 1;
    }
    io.stderr(`tessera: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

// Run only when executed as a program, so tests can import runCli.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const code = await runCli(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  });
  process.exitCode = code;
}
