import { ValidationError } from '../../errors.js';

/**
 * The reference syntaxes of Azure ML specs, parsed and formatted without I/O:
 *
 * - asset references: `azureml:name:version`, `azureml:name@label`, `name:version`, `name@label`,
 *   `azureml:name` (a compute, or an asset whose version the caller picks), and registry assets
 *   `azureml://registries/<registry>/<type>/<name>/versions/<v>` or `/labels/<label>`;
 * - data URIs: `azureml://datastores/<ds>/paths/<p>`, the same under
 *   `azureml://subscriptions/<s>/resourcegroups/<rg>/workspaces/<w>/`, and job outputs
 *   `azureml://jobs/<job>/outputs/<output>/paths/<p>`.
 *
 * Bad input throws a ValidationError that quotes the reference and shows the accepted forms.
 */

/** A named asset, by version or by label (neither: the caller decides, e.g. a compute name). */
export interface AssetReference {
  name: string;
  version?: string;
  label?: string;
  /** Set for `azureml://registries/<registry>/...` references. */
  registry?: string;
  /** The asset collection of a registry reference: `components`, `environments`, `models`, `data`. */
  assetType?: string;
}

/** A parsed `azureml://` URI. */
export type AzureMlUri =
  | { kind: 'datastore'; datastore: string; path: string; workspace?: WorkspaceScope }
  | { kind: 'job-output'; job: string; output: string; path: string }
  | { kind: 'registry-asset'; registry: string; assetType: string; name: string; version?: string; label?: string };

/** The workspace named by `azureml://subscriptions/<s>/resourcegroups/<rg>/workspaces/<w>/...`. */
export interface WorkspaceScope {
  subscription: string;
  resourceGroup: string;
  workspace: string;
}

const REFERENCE_FORMS =
  'azureml:<name>:<version>, azureml:<name>@<label>, or azureml://registries/<registry>/<type>/<name>/versions/<version>';
const URI_FORMS =
  'azureml://datastores/<datastore>/paths/<path>, azureml://subscriptions/<s>/resourcegroups/<rg>/workspaces/<w>/datastores/<datastore>/paths/<path>, azureml://jobs/<job>/outputs/<output>/paths/<path>, or azureml://registries/<registry>/<type>/<name>/versions/<version>';

/** Names and versions: no separators, no whitespace. Labels: letters, digits, `_ - .`. */
const NAME = /^[^\s:@/\\]+$/;
const LABEL = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

export interface ReferenceOptions {
  /** Where the reference came from (a key path such as `jobs.train.component`), used as the error target. */
  target?: string;
}

/** Parses an asset reference. Throws ValidationError for anything else (a URL, a path, an empty part). */
export function parseAssetReference(reference: string, options: ReferenceOptions = {}): AssetReference {
  const fail = (why: string): never => {
    throw new ValidationError(
      `${JSON.stringify(reference)} is not a valid asset reference: ${why} — write ${REFERENCE_FORMS}`,
      { target: options.target ?? 'reference' },
    );
  };
  const text = reference.trim();
  if (text === '') fail('it is empty');
  if (/^azureml:\/\//i.test(text)) {
    const uri = parseAzureMlUri(text, options);
    if (uri.kind !== 'registry-asset') {
      return fail(`it is a ${uri.kind === 'datastore' ? 'datastore path' : 'job output'} URI, not an asset`);
    }
    const out: AssetReference = { name: uri.name, registry: uri.registry, assetType: uri.assetType };
    if (uri.version !== undefined) out.version = uri.version;
    if (uri.label !== undefined) out.label = uri.label;
    return out;
  }
  const body = /^azureml:/i.test(text) ? text.slice('azureml:'.length) : text;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(body) || body.startsWith('/') || body.startsWith('.')) {
    fail('it is a URL or path, not a name');
  }
  const at = body.indexOf('@');
  const colon = body.indexOf(':');
  if (at >= 0 && colon >= 0) fail('give a version (:) or a label (@), not both');
  if (at >= 0) {
    const name = body.slice(0, at);
    const label = body.slice(at + 1);
    if (name === '') fail('the name before @ is empty');
    if (!NAME.test(name)) fail(`the name ${JSON.stringify(name)} contains whitespace or a separator (: @ / \\)`);
    if (label === '') fail('the label after @ is empty');
    if (!LABEL.test(label)) fail(`the label ${JSON.stringify(label)} may hold only letters, digits, _ - .`);
    return { name, label };
  }
  if (colon >= 0) {
    const name = body.slice(0, colon);
    const version = body.slice(colon + 1);
    if (name === '') fail('the name before : is empty');
    if (!NAME.test(name)) fail(`the name ${JSON.stringify(name)} contains whitespace or a separator (: @ / \\)`);
    if (version === '') fail('the version after : is empty');
    if (!NAME.test(version))
      fail(`the version ${JSON.stringify(version)} contains whitespace or a separator (: @ / \\)`);
    return { name, version };
  }
  if (!NAME.test(body)) fail(`the name ${JSON.stringify(body)} contains whitespace or a separator`);
  return { name: body };
}

/** Formats a reference the way specs write it: `azureml:name:version`, `azureml:name@label`, or a registry URI. */
export function formatAssetReference(reference: AssetReference): string {
  if (reference.version !== undefined && reference.label !== undefined) {
    throw new ValidationError('An asset reference has a version or a label, not both.', { target: 'reference' });
  }
  if (!NAME.test(reference.name)) {
    throw new ValidationError(`The asset name ${JSON.stringify(reference.name)} is not valid in a reference.`, {
      target: 'reference.name',
    });
  }
  if (reference.registry !== undefined) {
    return formatAzureMlUri({
      kind: 'registry-asset',
      registry: reference.registry,
      assetType: reference.assetType ?? 'components',
      name: reference.name,
      ...(reference.version !== undefined ? { version: reference.version } : {}),
      ...(reference.label !== undefined ? { label: reference.label } : {}),
    });
  }
  if (reference.version !== undefined) return `azureml:${reference.name}:${reference.version}`;
  if (reference.label !== undefined) return `azureml:${reference.name}@${reference.label}`;
  return `azureml:${reference.name}`;
}

/**
 * Parses an `azureml://` URI. Path parts keep their text (a trailing `/` marks a folder); `..`
 * segments are refused so a path cannot climb out of its datastore.
 */
export function parseAzureMlUri(uri: string, options: ReferenceOptions = {}): AzureMlUri {
  const fail = (why: string): never => {
    throw new ValidationError(`${JSON.stringify(uri)} is not a valid azureml:// URI: ${why} — write ${URI_FORMS}`, {
      target: options.target ?? 'uri',
    });
  };
  const match = /^azureml:\/\/(.*)$/i.exec(uri.trim());
  if (match === null) return fail('it does not start with azureml://');
  const rest = match[1] ?? '';
  const segments = rest.split('/');
  const lower = (i: number): string => (segments[i] ?? '').toLowerCase();
  const part = (i: number, what: string): string => {
    const value = segments[i];
    if (value === undefined || value === '') fail(`the ${what} is missing`);
    return value as string;
  };
  const pathFrom = (i: number): string => {
    const path = segments.slice(i).join('/');
    if (path.split('/').some((s) => s === '..')) fail('the path must not contain .. segments');
    return path;
  };

  let scope: WorkspaceScope | undefined;
  let at = 0;
  if (lower(0) === 'subscriptions') {
    if (lower(2) !== 'resourcegroups' || lower(4) !== 'workspaces') {
      fail('after subscriptions/<s>/ come resourcegroups/<rg>/workspaces/<w>/');
    }
    scope = {
      subscription: part(1, 'subscription'),
      resourceGroup: part(3, 'resource group'),
      workspace: part(5, 'workspace'),
    };
    at = 6;
    if (lower(at) !== 'datastores') fail('a workspace-scoped URI continues with datastores/<datastore>/paths/<path>');
  }

  switch (lower(at)) {
    case 'datastores': {
      const datastore = part(at + 1, 'datastore name');
      if (lower(at + 2) !== 'paths') fail('after datastores/<datastore>/ comes paths/<path>');
      const result: AzureMlUri = { kind: 'datastore', datastore, path: pathFrom(at + 3) };
      if (scope !== undefined) result.workspace = scope;
      return result;
    }
    case 'jobs': {
      const job = part(at + 1, 'job name');
      if (lower(at + 2) !== 'outputs') fail('after jobs/<job>/ comes outputs/<output>');
      const output = part(at + 3, 'output name');
      const trailingSlash = segments.length === at + 5 && segments[at + 4] === '';
      if (segments.length > at + 4 && !trailingSlash && lower(at + 4) !== 'paths') {
        fail('after outputs/<output>/ comes paths/<path>');
      }
      return { kind: 'job-output', job, output, path: pathFrom(at + 5) };
    }
    case 'registries': {
      const registry = part(at + 1, 'registry name');
      const assetType = part(at + 2, 'asset type (components, environments, models, data)');
      const name = part(at + 3, 'asset name');
      if (!NAME.test(name)) fail(`the asset name ${JSON.stringify(name)} is not valid`);
      const selector = lower(at + 4);
      if (segments.length > at + 6) fail('nothing may follow the version or label');
      if (selector === '') return { kind: 'registry-asset', registry, assetType, name };
      if (selector === 'versions')
        return { kind: 'registry-asset', registry, assetType, name, version: part(at + 5, 'version') };
      if (selector === 'labels')
        return { kind: 'registry-asset', registry, assetType, name, label: part(at + 5, 'label') };
      return fail('after the asset name comes versions/<version> or labels/<label>');
    }
    default:
      return fail(`${JSON.stringify(segments[at] ?? '')} is not datastores, jobs, registries or subscriptions`);
  }
}

/** Formats a parsed URI back to its canonical text (`resourcegroups` in lower case). */
export function formatAzureMlUri(uri: AzureMlUri): string {
  switch (uri.kind) {
    case 'datastore': {
      const scope =
        uri.workspace === undefined
          ? ''
          : `subscriptions/${uri.workspace.subscription}/resourcegroups/${uri.workspace.resourceGroup}/workspaces/${uri.workspace.workspace}/`;
      return `azureml://${scope}datastores/${uri.datastore}/paths/${uri.path}`;
    }
    case 'job-output':
      return `azureml://jobs/${uri.job}/outputs/${uri.output}/paths/${uri.path}`;
    case 'registry-asset': {
      const selector =
        uri.version !== undefined ? `/versions/${uri.version}` : uri.label !== undefined ? `/labels/${uri.label}` : '';
      return `azureml://registries/${uri.registry}/${uri.assetType}/${uri.name}${selector}`;
    }
  }
}
