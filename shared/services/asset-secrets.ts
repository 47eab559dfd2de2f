import { SECRET_MASK } from '../contracts/assets.js';
import type { UnversionedKind } from '../contracts/assets.js';

/**
 * The secret parts of datastore and compute specs. They are taken out of a spec before it is
 * stored, kept in the SecretStore as one JSON object per resource (`{ "<dotted path>": value }`),
 * and shown as SECRET_MASK at the same paths in responses.
 */

/** Spec paths whose value (a string, or an object of strings) is secret. */
export const SECRET_PATHS: Readonly<Record<UnversionedKind, readonly (readonly string[])[]>> = {
  datastore: [['credentials']],
  compute: [['ssh_settings', 'admin_password']],
};

/** `datastore--<ws>--<name>` / `compute--<ws>--<name>`: the SecretStore name of a resource's secrets. */
export function secretNameOf(kind: UnversionedKind, workspace: string, name: string): string {
  return `${kind}--${workspace}--${name}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Splits a spec into the spec without its secrets and the secret leaves by dotted path. */
export function extractSecrets(
  kind: UnversionedKind,
  spec: Readonly<Record<string, unknown>>,
): { spec: Record<string, unknown>; secrets: Record<string, string> } {
  const clean = structuredClone(spec) as Record<string, unknown>;
  const secrets: Record<string, string> = {};
  for (const path of SECRET_PATHS[kind]) {
    let parent: Record<string, unknown> | undefined = clean;
    for (const segment of path.slice(0, -1)) {
      const next: unknown = parent[segment];
      parent = isRecord(next) ? next : undefined;
      if (parent === undefined) break;
    }
    const last = path[path.length - 1];
    if (parent === undefined || last === undefined || !(last in parent)) continue;
    const value = parent[last];
    delete parent[last];
    collectLeaves(value, path.join('.'), secrets);
  }
  return { spec: clean, secrets };
}

function collectLeaves(value: unknown, path: string, out: Record<string, string>): void {
  if (value === undefined || value === null) return;
  if (isRecord(value)) {
    for (const [key, child] of Object.entries(value)) collectLeaves(child, `${path}.${key}`, out);
    return;
  }
  out[path] = typeof value === 'string' ? value : JSON.stringify(value);
}

/** The spec with SECRET_MASK at each secret path (e.g. `credentials: { account_key: '***' }`). */
export function maskSecrets(
  spec: Readonly<Record<string, unknown>>,
  paths: readonly string[],
): Record<string, unknown> {
  const masked = structuredClone(spec) as Record<string, unknown>;
  for (const path of paths) {
    const segments = path.split('.');
    let parent = masked;
    for (const segment of segments.slice(0, -1)) {
      const next = parent[segment];
      if (isRecord(next)) parent = next;
      else {
        const created: Record<string, unknown> = {};
        parent[segment] = created;
        parent = created;
      }
    }
    const last = segments[segments.length - 1];
    if (last !== undefined) parent[last] = SECRET_MASK;
  }
  return masked;
}

/** A datastore's `credentials` fields from its stored secrets; undefined when it has none. */
export function credentialsOf(secrets: Readonly<Record<string, string>>): Record<string, string> | undefined {
  const entries = Object.entries(secrets)
    .filter(([path]) => path.startsWith('credentials.'))
    .map(([path, value]) => [path.slice('credentials.'.length), value] as const);
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
}
