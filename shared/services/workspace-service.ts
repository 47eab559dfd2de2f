import { ConflictError, NotFoundError, PreconditionFailedError, ValidationError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { DocumentContainer, MetadataStore, WithMeta } from '../ports/metadata-store.js';
import { parseOrThrow } from '../contracts/validation.js';
import {
  DEFAULT_WORKSPACE,
  WORKSPACES_CONTAINER,
  toWorkspace,
  workspaceDocumentSchema,
  workspaceNameSchema,
  workspacePutBodySchema,
} from '../contracts/workspace.js';
import type { Workspace, WorkspaceDocument, WorkspaceList, WorkspacePutBody } from '../contracts/workspace.js';

export interface WorkspaceServiceDeps {
  store: MetadataStore;
  clock: Clock;
}

export interface ListWorkspacesOptions {
  /** Page size (default 100, at most 1000). */
  limit?: number;
  continuation?: string;
  /** Only these workspaces (what a restricted principal may see); omit for all. */
  names?: readonly string[];
}

export interface PutWorkspaceOptions {
  /** Update only if the workspace still has this etag (the client's If-Match). */
  ifMatch?: string;
}

export interface PutWorkspaceResult {
  workspace: Workspace;
  created: boolean;
}

/**
 * Workspaces are the unit of access and of partitioning: one document per workspace in the
 * 'workspaces' container, partitioned by its name. Updates are etag-conditioned.
 */
export interface WorkspaceService {
  /** NotFoundError if absent. */
  get(name: string): Promise<Workspace>;
  find(name: string): Promise<Workspace | undefined>;
  list(options?: ListWorkspacesOptions): Promise<WorkspaceList>;
  /** Create, or update the fields present in `body` (omitted fields keep their value). */
  put(name: string, body: WorkspacePutBody, options?: PutWorkspaceOptions): Promise<PutWorkspaceResult>;
  /** The 'default' workspace, created if missing. */
  ensureDefault(): Promise<Workspace>;
  /** Names of the workspaces whose `members` include this Entra object id. */
  namesForMember(oid: string): Promise<string[]>;
}

const MAX_WRITE_ATTEMPTS = 5;

export function createWorkspaceService({ store, clock }: WorkspaceServiceDeps): WorkspaceService {
  let containerPromise: Promise<DocumentContainer> | undefined;
  const container = (): Promise<DocumentContainer> => {
    containerPromise ??= store.container(WORKSPACES_CONTAINER).catch((err: unknown) => {
      containerPromise = undefined;
      throw err;
    });
    return containerPromise;
  };

  const readDoc = async (name: string): Promise<{ doc: WorkspaceDocument; etag: string } | undefined> => {
    const stored = await (await container()).read<WorkspaceDocument>(name, name);
    return stored === undefined ? undefined : fromStored(stored);
  };

  const find = async (name: string): Promise<Workspace | undefined> => {
    const valid = parseOrThrow(workspaceNameSchema, name, 'name');
    const found = await readDoc(valid);
    return found && toWorkspace(found.doc, found.etag);
  };

  const get = async (name: string): Promise<Workspace> => {
    const found = await find(name);
    if (found === undefined) {
      throw new NotFoundError(
        `Workspace '${name}' does not exist. Create it with PUT /api/workspaces/${name} (tessera workspace create --name ${name}).`,
        {
          target: 'name',
        },
      );
    }
    return found;
  };

  const list = async (options: ListWorkspacesOptions = {}): Promise<WorkspaceList> => {
    if (options.names !== undefined && options.names.length === 0) return { value: [] };
    const page = await (
      await container()
    ).query<WorkspaceDocument>({
      filters: [
        { path: 'kind', op: '=', value: 'workspace' },
        ...(options.names === undefined ? [] : [{ path: 'name', op: 'in' as const, value: [...options.names] }]),
      ],
      orderBy: [{ path: 'name' }],
      ...(options.limit === undefined ? {} : { limit: options.limit }),
      ...(options.continuation === undefined ? {} : { continuation: options.continuation }),
    });
    const value = page.items.map((item) => {
      const { doc, etag } = fromStored(item);
      return toWorkspace(doc, etag);
    });
    return page.continuation === undefined ? { value } : { value, continuation: page.continuation };
  };

  const put = async (
    name: string,
    body: WorkspacePutBody,
    options: PutWorkspaceOptions = {},
  ): Promise<PutWorkspaceResult> => {
    const valid = parseOrThrow(workspaceNameSchema, name, 'name');
    const update = parseOrThrow(workspacePutBodySchema, body, 'body');
    if (update.name !== undefined && update.name !== valid) {
      throw new ValidationError(
        `The body names workspace '${update.name}' but the URL names '${valid}'; they must match.`,
        {
          target: 'name',
        },
      );
    }
    const c = await container();
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const existing = await readDoc(valid);
      const now = clock.now();
      if (existing === undefined) {
        if (options.ifMatch !== undefined && options.ifMatch !== '*') {
          throw new PreconditionFailedError(
            `Workspace '${valid}' does not exist, so it cannot match If-Match ${options.ifMatch}.`,
          );
        }
        const doc: WorkspaceDocument = {
          id: valid,
          pk: valid,
          kind: 'workspace',
          schemaVersion: 1,
          name: valid,
          displayName: update.displayName ?? valid,
          description: update.description ?? '',
          tags: update.tags ?? {},
          members: update.members ?? [],
          createdAt: now,
          updatedAt: now,
        };
        try {
          const created = await c.create(doc);
          return { workspace: toWorkspace(doc, created._etag), created: true };
        } catch (err) {
          if (err instanceof ConflictError) continue; // created concurrently: update it instead
          throw err;
        }
      }
      if (options.ifMatch !== undefined && options.ifMatch !== '*' && options.ifMatch !== existing.etag) {
        throw new PreconditionFailedError(
          `Workspace '${valid}' was changed since etag ${options.ifMatch}; read it again and retry.`,
        );
      }
      const doc: WorkspaceDocument = {
        ...existing.doc,
        ...(update.displayName === undefined ? {} : { displayName: update.displayName }),
        ...(update.description === undefined ? {} : { description: update.description }),
        ...(update.tags === undefined ? {} : { tags: update.tags }),
        ...(update.members === undefined ? {} : { members: update.members }),
        updatedAt: Math.max(now, existing.doc.updatedAt),
      };
      try {
        const replaced = await c.replace(doc, { ifMatch: existing.etag });
        return { workspace: toWorkspace(doc, replaced._etag), created: false };
      } catch (err) {
        // Someone else wrote in between: a client-conditioned write must fail, ours re-reads and retries.
        if (err instanceof PreconditionFailedError && options.ifMatch === undefined) continue;
        if (err instanceof NotFoundError && options.ifMatch === undefined) continue;
        throw err;
      }
    }
    throw new ConflictError(`Workspace '${valid}' is being changed concurrently; retry the request.`, {
      retryable: true,
    });
  };

  const ensureDefault = async (): Promise<Workspace> => {
    const existing = await find(DEFAULT_WORKSPACE);
    if (existing !== undefined) return existing;
    return (await put(DEFAULT_WORKSPACE, { displayName: 'Default', description: 'Created on first start.' })).workspace;
  };

  const namesForMember = async (oid: string): Promise<string[]> => {
    const c = await container();
    const names: string[] = [];
    let continuation: string | undefined;
    do {
      const page = await c.query<WorkspaceDocument>({
        filters: [
          { path: 'kind', op: '=', value: 'workspace' },
          { path: 'members', op: 'contains', value: oid },
        ],
        orderBy: [{ path: 'name' }],
        limit: 1000,
        ...(continuation === undefined ? {} : { continuation }),
      });
      for (const item of page.items) {
        const { doc } = fromStored(item);
        // 'contains' also matches substrings of a string field; membership must be exact.
        if (doc.members.includes(oid)) names.push(doc.name);
      }
      continuation = page.continuation;
    } while (continuation !== undefined);
    return names;
  };

  return { get, find, list, put, ensureDefault, namesForMember };
}

function fromStored(stored: WithMeta<WorkspaceDocument>): { doc: WorkspaceDocument; etag: string } {
  return { doc: workspaceDocumentSchema.parse(stored), etag: stored._etag };
}
