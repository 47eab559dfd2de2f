import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';

/**
 * Where the CLI and SDK find the host and their token, in the order explicit option > environment
 * variable (TESSERA_ENDPOINT, TESSERA_TOKEN, TESSERA_WORKSPACE) > credentials.json in the data folder
 * (TESSERA_DATA_DIR or .tessera) > built-in default. The CLI is its own program, so it reads the
 * environment here.
 */

export interface ResolveCredentialsOptions {
  endpoint?: string;
  token?: string;
  workspace?: string;
  dataDir?: string;
  env?: Readonly<Record<string, string | undefined>>;
}

export interface ResolvedCredentials {
  endpoint: string;
  token: string | undefined;
  workspace: string;
  /** Where each value came from, for error messages. */
  sources: { endpoint: string; token: string; workspace: string };
}

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:7071';

const credentialsFileSchema = z.object({
  endpoint: z.string().optional(),
  workspace: z.string().optional(),
  token: z.string().optional(),
});

export async function resolveCredentials(options: ResolveCredentialsOptions = {}): Promise<ResolvedCredentials> {
  const env = options.env ?? process.env;
  const dataDir = resolve(options.dataDir ?? nonEmpty(env.TESSERA_DATA_DIR) ?? '.tessera');
  const file = join(dataDir, 'credentials.json');
  const stored = await readCredentialsFile(file);

  const pick = (
    explicit: string | undefined,
    envKey: string,
    fromFile: string | undefined,
    fallback?: string,
  ): [string | undefined, string] => {
    if (nonEmpty(explicit) !== undefined) return [explicit, 'option'];
    const fromEnv = nonEmpty(env[envKey]);
    if (fromEnv !== undefined) return [fromEnv, envKey];
    if (fromFile !== undefined) return [fromFile, file];
    return [fallback, 'default'];
  };
  const [endpoint = DEFAULT_ENDPOINT, endpointSource] = pick(
    options.endpoint,
    'TESSERA_ENDPOINT',
    stored?.endpoint,
    DEFAULT_ENDPOINT,
  );
  const [token, tokenSource] = pick(options.token, 'TESSERA_TOKEN', stored?.token);
  const [workspace = 'default', workspaceSource] = pick(
    options.workspace,
    'TESSERA_WORKSPACE',
    stored?.workspace,
    'default',
  );
  return {
    endpoint,
    token,
    workspace,
    sources: {
      endpoint: endpointSource,
      token: token === undefined ? 'none' : tokenSource,
      workspace: workspaceSource,
    },
  };
}

async function readCredentialsFile(file: string): Promise<z.infer<typeof credentialsFileSchema> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`Cannot read ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(
      `${file} is not valid JSON (${(err as Error).message}); delete it and restart the host to recreate it.`,
    );
  }
  const parsed = credentialsFileSchema.safeParse(json);
  if (!parsed.success)
    throw new Error(`${file} is not a Tessera credentials file: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
