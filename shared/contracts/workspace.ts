import { z } from 'zod';

/**
 * Workspaces: the REST body of PUT /workspaces/{name}, the stored document, and the view the API returns.
 */

export const WORKSPACES_CONTAINER = 'workspaces';
export const DEFAULT_WORKSPACE = 'default';

/** Azure ML's rule: 3-33 characters, letters, digits, '-' and '_', starting with a letter or digit. */
export const WORKSPACE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{2,32}$/;

export const workspaceNameSchema = z.string().regex(WORKSPACE_NAME_PATTERN, {
  error: 'A workspace name has 3-33 characters (letters, digits, - and _) and starts with a letter or digit',
});

const tagsSchema = z.record(z.string().min(1).max(256), z.string().max(256));

/** Body of PUT /workspaces/{name}. Omitted fields keep their current value on update. */
export const workspacePutBodySchema = z.strictObject({
  /** Optional; when present it must equal the name in the URL. */
  name: workspaceNameSchema.optional(),
  displayName: z.string().max(256).optional(),
  description: z.string().max(4096).optional(),
  tags: tagsSchema.optional(),
  /** Microsoft Entra object ids (oid) allowed to use this workspace. */
  members: z.array(z.string().min(1).max(128)).max(1000).optional(),
});
export type WorkspacePutBody = z.infer<typeof workspacePutBodySchema>;

export const workspaceDocumentSchema = z.object({
  id: workspaceNameSchema,
  pk: workspaceNameSchema,
  kind: z.literal('workspace'),
  schemaVersion: z.literal(1),
  name: workspaceNameSchema,
  displayName: z.string(),
  description: z.string(),
  tags: z.record(z.string(), z.string()),
  members: z.array(z.string()),
  /** Epoch milliseconds. */
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});
export type WorkspaceDocument = z.infer<typeof workspaceDocumentSchema>;

/** What the API returns. */
export const workspaceSchema = z.object({
  name: z.string(),
  displayName: z.string(),
  description: z.string(),
  tags: z.record(z.string(), z.string()),
  members: z.array(z.string()),
  /** ISO 8601. */
  createdAt: z.string(),
  updatedAt: z.string(),
  etag: z.string(),
});
export type Workspace = z.infer<typeof workspaceSchema>;

export const workspaceListSchema = z.object({
  value: z.array(workspaceSchema),
  /** Pass back as `continuation` to get the next page. */
  continuation: z.string().optional(),
});
export type WorkspaceList = z.infer<typeof workspaceListSchema>;

/**
 * What the REST API returns for a workspace: the workspace and where MLflow clients reach its
 * tracking server. The URI depends on the host's public URL, so the HTTP layer adds it.
 */
export const workspaceViewSchema = workspaceSchema.extend({
  /** `<public URL>/api/workspaces/<name>/mlflow`: set MLFLOW_TRACKING_URI to it. */
  mlflow_tracking_uri: z.string(),
});
export type WorkspaceView = z.infer<typeof workspaceViewSchema>;

export const workspaceViewListSchema = z.object({
  value: z.array(workspaceViewSchema),
  continuation: z.string().optional(),
});
export type WorkspaceViewList = z.infer<typeof workspaceViewListSchema>;

/** The MLflow tracking URI of a workspace; MLflow clients append `/api/2.0/mlflow/...` to it. */
export function mlflowTrackingUri(publicUrl: string, workspace: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/api/workspaces/${encodeURIComponent(workspace)}/mlflow`;
}

export function toWorkspaceView(workspace: Workspace, publicUrl: string): WorkspaceView {
  return { ...workspace, mlflow_tracking_uri: mlflowTrackingUri(publicUrl, workspace.name) };
}

export function toWorkspaceViewList(list: WorkspaceList, publicUrl: string): WorkspaceViewList {
  const value = list.value.map((w) => toWorkspaceView(w, publicUrl));
  return list.continuation === undefined ? { value } : { value, continuation: list.continuation };
}

export function toWorkspace(doc: WorkspaceDocument, etag: string): Workspace {
  return {
    name: doc.name,
    displayName: doc.displayName,
    description: doc.description,
    tags: doc.tags,
    members: doc.members,
    createdAt: new Date(doc.createdAt).toISOString(),
    updatedAt: new Date(doc.updatedAt).toISOString(),
    etag,
  };
}
