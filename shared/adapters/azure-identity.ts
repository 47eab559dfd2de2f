import type { TokenCredential } from '@azure/core-auth';

/**
 * The credential of identity-based connections: the managed identity on Azure, a developer's
 * sign-in (az login, VS Code) on a workstation. Loaded lazily so an embedded host never loads it.
 */
export async function createDefaultAzureCredential(): Promise<TokenCredential> {
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new DefaultAzureCredential();
}
