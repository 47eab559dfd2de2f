/**
 * Reading the errors of the Azure Resource Manager SDKs (@azure/core-rest-pipeline's RestError,
 * @azure/identity's credential errors) without depending on their classes: the Container Apps
 * adapters map them onto Tessera's errors the same way.
 */

export function statusOf(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

export function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function messageOf(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message.trim() : String(err);
}

const SCOPE_NOT_FOUND = new Set(['ResourceGroupNotFound', 'SubscriptionNotFound', 'InvalidSubscriptionId']);

/** The setting to check when a 404 says the resource group or subscription is missing. */
export function missingScopeSetting(
  code: string | undefined,
): 'CONTAINER_APPS_RESOURCE_GROUP' | 'CONTAINER_APPS_SUBSCRIPTION_ID' | undefined {
  if (code === 'ResourceGroupNotFound') return 'CONTAINER_APPS_RESOURCE_GROUP';
  return SCOPE_NOT_FOUND.has(code ?? '') ? 'CONTAINER_APPS_SUBSCRIPTION_ID' : undefined;
}

/** A 404 for the resource itself; a missing resource group or subscription is a configuration error instead. */
export function isMissingResource(err: unknown): boolean {
  return statusOf(err) === 404 && !SCOPE_NOT_FOUND.has(codeOf(err) ?? '');
}

export function isRestError(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === 'RestError';
}

/** Failures of the TokenCredential (@azure/identity names them so). */
export function isCredentialError(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === 'string' && /Credential|Authentication/.test(name);
}
