import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_WORKSPACE } from '../contracts/workspace.js';
import type { TokenService } from './token-service.js';
import type { WorkspaceService } from './workspace-service.js';

/** credentials.json: what the CLI, the SDK and local jobs read to reach the embedded host. */
export const credentialsFileSchema = z.object({
  endpoint: z.string(),
  workspace: z.string(),
  token: z.string(),
  tokenId: z.string(),
  createdAt: z.string(),
});
export type CredentialsFile = z.infer<typeof credentialsFileSchema>;

export const CREDENTIALS_FILE = 'credentials.json';

export interface BootstrapEmbeddedOptions {
  services: { workspaces: Pick<WorkspaceService, 'ensureDefault'>; tokens: Pick<TokenService, 'create' | 'verify'> };
  dataDir: string;
  /** The URL clients use (TESSERA_PUBLIC_URL). */
  endpoint: string;
}

export interface BootstrapResult {
  /** True when a new admin token was created and credentials.json written. */
  created: boolean;
  credentialsPath: string;
}

/**
 * First-start setup of the embedded host: the `default` workspace, and an admin token ('*')
 * written to <dataDir>/credentials.json (mode 0600). The token is replaced when the file is missing
 * or no longer works (expired, revoked, or the metadata database was deleted), so a local install
 * never locks its owner out; an existing working token is kept, with the endpoint brought up to date.
 */
export async function bootstrapEmbedded({
  services,
  dataDir,
  endpoint,
}: BootstrapEmbeddedOptions): Promise<BootstrapResult> {
  await services.workspaces.ensureDefault();
  const credentialsPath = join(dataDir, CREDENTIALS_FILE);

  const existing = await readCredentials(credentialsPath);
  if (existing !== undefined && (await services.tokens.verify(existing.token)) !== undefined) {
    if (existing.endpoint !== endpoint) await writeCredentials(credentialsPath, { ...existing, endpoint });
    return { created: false, credentialsPath };
  }

  const created = await services.tokens.create(
    { workspaces: ['*'], description: 'Embedded host administrator (credentials.json)' },
    { createdBy: 'bootstrap' },
  );
  await writeCredentials(credentialsPath, {
    endpoint,
    workspace: DEFAULT_WORKSPACE,
    token: created.token,
    tokenId: created.id,
    createdAt: created.createdAt,
  });
  return { created: true, credentialsPath };
}

async function readCredentials(path: string): Promise<CredentialsFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const parsed = credentialsFileSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // unreadable: replaced by a fresh one
  }
}

/** Write to a private temporary file, then rename over the target: readers never see half a file. */
async function writeCredentials(path: string, credentials: CredentialsFile): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(temp, 0o600);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
