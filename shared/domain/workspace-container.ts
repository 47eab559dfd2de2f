import { createHash } from 'node:crypto';

/**
 * The artifact container that holds a workspace's built-in datastores (one container per workspace,
 * each datastore under `<datastoreName>/`): `ws-<workspace>`, the name lowercased with every
 * character outside [a-z0-9-] replaced by '-', trimmed to 60.
 *
 * That mapping alone would give `Team`, `team` and `te_am`/`te-am` one container, and names such
 * as `a__b` or `ab-` would give invalid container names (Blob Storage refuses '--' and a trailing
 * '-'). So when the workspace name is not already lowercase [a-z0-9-] with single inner hyphens, the
 * mapped name is cleaned (runs of '-' collapsed, trailing '-' dropped) and suffixed with
 * `-<8 hex digits of sha256(name)>`: distinct workspaces never share a container.
 */
export function workspaceContainerName(workspace: string): string {
  if (/^[a-z0-9]+(-[a-z0-9]+)*$/.test(workspace)) return `ws-${workspace}`.slice(0, 60);
  const digest = createHash('sha256').update(workspace, 'utf8').digest('hex').slice(0, 8);
  const cleaned = workspace
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  const base = `ws-${cleaned}`.slice(0, 60 - digest.length - 1).replace(/-+$/, '');
  return `${base}-${digest}`;
}
