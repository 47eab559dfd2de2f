import { stat } from 'node:fs/promises';
import type { Asset } from '../shared/contracts/assets.js';
import type { AssetKind } from '../shared/contracts/azureml/index.js';
import { loadSpecFile } from '../shared/services/spec-file.js';
import { SpecError } from '../shared/domain/azureml/spec-loader.js';
import { uploadLocalPath } from '../shared/services/upload-service.js';
import { createHttpUploadTarget } from './sdk/upload-target.js';
import type { MLClient } from './sdk/ml-client.js';
import type { ResourceOperations, VersionedAssetOperations } from './sdk/asset-operations.js';
import { render, table } from './output.js';
import type { OutputFormat } from './output.js';

/** The `tessera <kind>` groups and the asset kind each manages, as `az ml <group>`. */
export const ASSET_GROUPS = {
  data: 'data',
  model: 'model',
  environment: 'environment',
  component: 'component',
  datastore: 'datastore',
  compute: 'compute',
} as const satisfies Record<string, AssetKind>;
export type AssetGroup = keyof typeof ASSET_GROUPS;

export class CliUsageError extends Error {}

export interface AssetCommandOptions {
  file?: string;
  set: string[];
  name?: string;
  version?: string;
  label?: string;
  tag?: string;
  tags: string[];
  description?: string;
  archived?: 'false' | 'true' | 'all';
  limit?: number;
  continuation?: string;
  output: OutputFormat;
  rows?: number;
  downloadPath?: string;
  /** Draw upload progress (uploads over a few MB) on this stream. */
  progress?: (text: string) => void;
}

export interface AssetCommandContext {
  client: MLClient;
  endpoint: string;
  token: string | undefined;
  workspace: string;
  fetch?: typeof fetch;
  stdout(text: string): void;
}

const LIST_COLUMNS: Record<AssetGroup, string[]> = {
  data: ['name', 'version', 'description', 'createdAt'],
  model: ['name', 'version', 'description', 'createdAt'],
  environment: ['name', 'version', 'description', 'createdAt'],
  component: ['name', 'version', 'description', 'createdAt'],
  datastore: ['name', 'builtin', 'description', 'createdAt'],
  compute: ['name', 'description', 'createdAt'],
};

/** Progress is drawn only for uploads at least this large. */
const PROGRESS_MIN_BYTES = 4 * 1024 * 1024;

function setAtPath(target: Record<string, unknown>, keyPath: string, value: unknown): void {
  const parts = keyPath.split('.');
  let node: unknown = target;
  for (let i = 0; i < parts.length - 1; i++) {
    const key = parts[i] as string;
    node = Array.isArray(node) ? node[Number(key)] : (node as Record<string, unknown>)[key];
    if (node === null || typeof node !== 'object')
      throw new Error(`internal: no object at ${parts.slice(0, i + 1).join('.')}`);
  }
  const last = parts[parts.length - 1] as string;
  if (Array.isArray(node)) node[Number(last)] = value;
  else (node as Record<string, unknown>)[last] = value;
}

function progressBar(draw: (text: string) => void, label: string): (done: number, total: number) => void {
  let lastPercent = -1;
  return (done, total) => {
    if (total < PROGRESS_MIN_BYTES) return;
    const percent = Math.floor((done / total) * 100);
    if (percent === lastPercent) return;
    lastPercent = percent;
    const width = 30;
    const filled = Math.round((percent / 100) * width);
    const mb = (n: number) => (n / (1024 * 1024)).toFixed(1);
    draw(
      `\r${label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${percent}% ${mb(done)}/${mb(total)} MB${percent === 100 ? '\n' : ''}`,
    );
  };
}

function operations(client: MLClient, group: AssetGroup): VersionedAssetOperations | ResourceOperations {
  switch (group) {
    case 'data':
      return client.data;
    case 'model':
      return client.models;
    case 'environment':
      return client.environments;
    case 'component':
      return client.components;
    case 'datastore':
      return client.datastores;
    case 'compute':
      return client.computes;
  }
}

function isVersioned(ops: VersionedAssetOperations | ResourceOperations): ops is VersionedAssetOperations {
  return 'listVersions' in ops;
}

function parseTags(pairs: readonly string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new CliUsageError(`--tags takes key=value pairs, got '${pair}'`);
    tags[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return tags;
}

/**
 * `tessera <group> create --file spec.yml`: load and validate the YAML as `az ml` does, upload the
 * local files it names to the workspace's default datastore (content-addressed, so unchanged files
 * are not sent again), then register it. Nothing is registered when validation or an upload fails.
 */
async function create(group: AssetGroup, options: AssetCommandOptions, ctx: AssetCommandContext): Promise<Asset> {
  if (options.file === undefined) throw new CliUsageError(`${group} create: --file is required`);
  const set = [...options.set];
  if (options.name !== undefined) set.push(`name=${options.name}`);
  if (options.version !== undefined) set.push(`version=${options.version}`);
  const loaded = await loadSpecFile(options.file, { expectedKind: ASSET_GROUPS[group], set });
  if (loaded.kind !== ASSET_GROUPS[group]) {
    throw new CliUsageError(
      `${options.file} is a ${loaded.kind} spec, not ${group}: use 'tessera ${loaded.kind} create'.`,
    );
  }
  const spec = structuredClone(loaded.spec);
  // Check every local path before sending anything, so a typo never leaves a half-done upload.
  for (const ref of loaded.localPaths) {
    try {
      await stat(ref.path);
    } catch {
      throw new SpecError({
        file: options.file,
        keyPath: ref.keyPath,
        problem: `the local path ${ref.path} does not exist`,
        hint: "fix the path in the spec (relative paths start from the YAML file's folder) or create it",
      });
    }
  }
  for (const ref of loaded.localPaths) {
    const target = createHttpUploadTarget({
      endpoint: ctx.endpoint,
      workspace: ctx.workspace,
      ...(ctx.token === undefined ? {} : { token: ctx.token }),
      ...(ctx.fetch === undefined ? {} : { fetch: ctx.fetch }),
    });
    const result = await uploadLocalPath({
      localPath: ref.path,
      target,
      ...(options.progress ? { onProgress: progressBar(options.progress, `uploading ${ref.keyPath}`) } : {}),
    });
    setAtPath(spec, ref.keyPath, result.uri);
  }
  if (typeof spec.name !== 'string' || spec.name === '') {
    throw new SpecError({
      file: options.file,
      keyPath: 'name',
      problem: 'required key is missing',
      hint: "add 'name:' to the file or pass --name",
    });
  }
  return operations(ctx.client, group).createOrUpdate(spec as { name: string });
}

/** Runs `tessera <group> <verb>`; returns the exit code. */
export async function runAssetCommand(
  group: AssetGroup,
  verb: string,
  options: AssetCommandOptions,
  ctx: AssetCommandContext,
): Promise<number> {
  const ops = operations(ctx.client, group);
  const name = (): string => {
    if (options.name === undefined || options.name === '')
      throw new CliUsageError(`${group} ${verb}: --name (-n) is required`);
    return options.name;
  };
  const print = (value: unknown): number => {
    ctx.stdout(render(value, options.output, LIST_COLUMNS[group]));
    return 0;
  };
  const page = {
    ...(options.limit === undefined ? {} : { limit: options.limit }),
    ...(options.continuation === undefined ? {} : { continuation: options.continuation }),
  };
  switch (verb) {
    case 'create':
      return print(await create(group, options, ctx));
    case 'show':
      if (isVersioned(ops)) {
        return print(
          await ops.get(name(), {
            ...(options.version === undefined ? {} : { version: options.version }),
            ...(options.label === undefined ? {} : { label: options.label }),
          }),
        );
      }
      return print(await ops.get(name()));
    case 'list':
      if (isVersioned(ops) && options.name !== undefined) {
        return print(
          await ops.listVersions(options.name, {
            ...page,
            ...(options.archived ? { archived: options.archived } : {}),
          }),
        );
      }
      return print(
        await ops.list({
          ...page,
          ...(options.name === undefined ? {} : { name: options.name }),
          ...(options.tag === undefined ? {} : { tag: options.tag }),
          ...(options.archived ? { archived: options.archived } : {}),
        }),
      );
    case 'update': {
      if (!isVersioned(ops))
        throw new CliUsageError(`${group} update: use '${group} create --file' to change a ${group}`);
      if (options.version === undefined) throw new CliUsageError(`${group} update: --version (-v) is required`);
      return print(
        await ops.update(name(), options.version, {
          ...(options.description === undefined ? {} : { description: options.description }),
          ...(options.tags.length === 0 ? {} : { tags: parseTags(options.tags) }),
        }),
      );
    }
    case 'archive':
    case 'restore': {
      if (!isVersioned(ops)) {
        if (options.version !== undefined) throw new CliUsageError(`${group} ${verb}: ${group}s have no versions`);
        return print(verb === 'archive' ? await ops.archive(name()) : await ops.restore(name()));
      }
      const selector = options.version === undefined ? {} : { version: options.version };
      return print(verb === 'archive' ? await ops.archive(name(), selector) : await ops.restore(name(), selector));
    }
    case 'label': {
      if (!isVersioned(ops)) throw new CliUsageError(`${group} label: only versioned kinds have labels`);
      if (options.label === undefined || options.version === undefined)
        throw new CliUsageError(`${group} label: --label and --version are required`);
      return print(await ops.setLabel(name(), options.label, options.version));
    }
    case 'download': {
      if (group !== 'model')
        throw new CliUsageError(`Unknown command '${group} download': only models are downloaded.`);
      return print(
        await ctx.client.models.download(name(), {
          ...(options.version === undefined ? {} : { version: options.version }),
          ...(options.label === undefined ? {} : { label: options.label }),
          ...(options.downloadPath === undefined ? {} : { downloadPath: options.downloadPath }),
        }),
      );
    }
    case 'preview': {
      if (group !== 'data')
        throw new CliUsageError(`Unknown command '${group} preview': only data assets are previewed.`);
      const preview = await ctx.client.data.preview(name(), {
        ...(options.version === undefined ? {} : { version: options.version }),
        ...(options.label === undefined ? {} : { label: options.label }),
        ...(options.rows === undefined ? {} : { rows: options.rows }),
      });
      if (options.output !== 'table') return print(preview);
      const columns = preview.columns.map((c) => c.name);
      const records = preview.rows.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i]])));
      ctx.stdout(`${preview.name}:${preview.version} (${preview.type}) ${preview.path}\n\n`);
      ctx.stdout(table(preview.columns, ['name', 'type']) + '\n');
      ctx.stdout(table(records, columns));
      return 0;
    }
    case 'delete':
      if (isVersioned(ops)) throw new CliUsageError(`${group} delete: versions are immutable; use '${group} archive'`);
      await ops.delete(name());
      return 0;
    default:
      throw new CliUsageError(`Unknown command '${group} ${verb}'.`);
  }
}
