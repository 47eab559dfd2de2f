import { resolve } from 'node:path';
import type { Asset } from '../shared/contracts/assets.js';
import type { AssetKind } from '../shared/contracts/azureml/index.js';
import { loadSpecFile } from '../shared/services/spec-file.js';
import { localPathOf, SpecError } from '../shared/domain/azureml/spec-loader.js';
import { checkLocalPaths, uploadOne, uploadSpecLocalPaths } from './local-uploads.js';
import type { MLClient } from './sdk/ml-client.js';
import type { ResourceOperations, VersionedAssetOperations } from './sdk/asset-operations.js';
import { render, table } from './output.js';
import type { OutputFormat } from './output.js';
import { CliUsageError } from './usage-error.js';

export { CliUsageError } from './usage-error.js';

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
  /** `model create` without --file: the model's file or folder (local path or URI) and type. */
  path?: string;
  type?: string;
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
  if (options.file === undefined) {
    if (group === 'model' && options.path !== undefined) return createModelFromPath(options, ctx);
    throw new CliUsageError(
      group === 'model' ? 'model create: --file or --path is required' : `${group} create: --file is required`,
    );
  }
  if (options.path !== undefined || options.type !== undefined) {
    throw new CliUsageError(`${group} create: --path and --type are for 'model create' without --file`);
  }
  const set = [...options.set];
  if (options.name !== undefined) set.push(`name=${options.name}`);
  if (options.version !== undefined) set.push(`version=${options.version}`);
  const loaded = await loadSpecFile(options.file, { expectedKind: ASSET_GROUPS[group], set });
  if (loaded.kind !== ASSET_GROUPS[group]) {
    throw new CliUsageError(
      `${options.file} is a ${loaded.kind} spec, not ${group}: use 'tessera ${loaded.kind} create'.`,
    );
  }
  const spec = await uploadSpecLocalPaths(ctx, loaded, options.progress);
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

/** The model types `model create --type` accepts, as az ml. */
const MODEL_TYPES = ['custom_model', 'mlflow_model', 'triton_model'] as const;

/**
 * `tessera model create --name N --path P` (as `az ml model create` without a file): P is a job
 * output (`azureml://jobs/<job>/outputs/<output>`, which the server resolves), a datastore or
 * storage URI, or a local file or folder, uploaded first as `create --file` does.
 */
async function createModelFromPath(options: AssetCommandOptions, ctx: AssetCommandContext): Promise<Asset> {
  if (options.set.length > 0) throw new CliUsageError('model create: --set needs --file');
  if (options.name === undefined || options.name === '')
    throw new CliUsageError('model create: --name (-n) is required with --path');
  const type = options.type ?? 'custom_model';
  if (!(MODEL_TYPES as readonly string[]).includes(type))
    throw new CliUsageError(`model create: --type must be one of ${MODEL_TYPES.join(', ')}, got '${type}'`);
  let path = options.path ?? '';
  const local = localPathOf(path);
  if (local !== undefined) {
    const ref = { keyPath: 'path', path: resolve(local) };
    await checkLocalPaths('model create', [ref], 'fix --path (a relative path starts from the current folder)');
    path = (await uploadOne(ctx, ref.path, 'path', options.progress)).uri;
  }
  return ctx.client.models.createOrUpdate({
    name: options.name,
    type,
    path,
    ...(options.version === undefined ? {} : { version: options.version }),
    ...(options.description === undefined ? {} : { description: options.description }),
  });
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
      if (group === 'datastore') {
        if (options.path === undefined || options.path === '')
          throw new CliUsageError('datastore download: --path is required (a file, or a folder ending in /)');
        return print(
          await ctx.client.datastores.download(name(), options.path, {
            ...(options.downloadPath === undefined ? {} : { downloadPath: options.downloadPath }),
          }),
        );
      }
      if (group !== 'model')
        throw new CliUsageError(`Unknown command '${group} download': only models and datastore paths are downloaded.`);
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
