import { ValidationError } from '../errors.js';

/**
 * The storage URIs a data or model spec may name, parsed into one discriminated union. Pure: no
 * I/O and no Node built-ins, so specs can be checked anywhere (orchestrators included).
 *
 * Paths inside remote URIs (datastore, Blob, ADLS) are normalised: empty and '.' segments drop
 * out, '..' is resolved and may never climb above the root, and a trailing '/' marks a folder.
 * Local paths are kept as written; the data-access service resolves and confines them.
 */
export type DataUri = LocalDataUri | HttpDataUri | BlobDataUri | AdlsDataUri | DatastoreDataUri;

export interface LocalDataUri {
  scheme: 'file';
  /** As written, without a `file:` or `file://` prefix; relative paths stay relative. */
  path: string;
}

export interface HttpDataUri {
  scheme: 'http';
  /** The whole http: or https: URL. */
  url: string;
}

export interface BlobDataUri {
  scheme: 'wasbs' | 'wasb';
  account: string;
  container: string;
  /** Normalised path inside the container; '' is the container itself, a trailing '/' a folder. */
  path: string;
  /** DNS suffix after `<account>.blob.`, e.g. 'core.windows.net'. */
  endpointSuffix: string;
}

export interface AdlsDataUri {
  scheme: 'abfss' | 'abfs';
  account: string;
  filesystem: string;
  /** Normalised path inside the file system; '' is its root, a trailing '/' a folder. */
  path: string;
  /** DNS suffix after `<account>.dfs.`, e.g. 'core.windows.net'. */
  endpointSuffix: string;
}

export interface DatastoreDataUri {
  scheme: 'azureml-datastore';
  datastore: string;
  /** Normalised path inside the datastore; '' is its root, a trailing '/' a folder. */
  path: string;
  /** Present in the long form azureml://subscriptions/<s>/resourcegroups/<rg>/workspaces/<w>/datastores/... */
  workspace?: string;
  subscription?: string;
  resourceGroup?: string;
}

/** What an error about an unsupported URI lists. */
export const SUPPORTED_DATA_URI_FORMS: readonly string[] = [
  'a local path (./data, /abs/path, file:./data, file:///abs/path)',
  'http:// or https:// URLs',
  'wasbs://<container>@<account>.blob.core.windows.net/<path> (and wasb://)',
  'abfss://<filesystem>@<account>.dfs.core.windows.net/<path> (and abfs://)',
  'azureml://datastores/<name>/paths/<path>',
  'azureml://subscriptions/<id>/resourcegroups/<group>/workspaces/<workspace>/datastores/<name>/paths/<path>',
];

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const DRIVE_PATH = /^[A-Za-z]:([\\/]|$)/;
const DATASTORE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,254}$/;
const ACCOUNT_NAME = /^[a-z0-9]{3,24}$/;
const CONTAINER_NAME = /^(?:\$root|[a-z0-9](?:[a-z0-9-]{1,61})[a-z0-9])$/;
/** Characters a path segment may carry unencoded (RFC 3986 pchar, less '%'). */
const PCHAR_SAFE = /[A-Za-z0-9\-._~!$&'()*+,;=:@]/;

function invalid(uri: string, why: string): never {
  throw new ValidationError(`Invalid data URI ${JSON.stringify(uri)}: ${why}`, { target: 'path' });
}

function unsupported(uri: string, what: string): never {
  throw new ValidationError(
    `Unsupported data URI ${JSON.stringify(uri)}: ${what}. Supported: ${SUPPORTED_DATA_URI_FORMS.join('; ')}.`,
    { target: 'path' },
  );
}

/** Parses a data URI or local path; anything else is a ValidationError naming it and the supported forms. */
export function parseDataUri(uri: string): DataUri {
  if (typeof uri !== 'string' || uri.trim() === '') invalid(String(uri), 'it is empty.');
  if (uri !== uri.trim()) invalid(uri, 'it has leading or trailing spaces.');
  if (DRIVE_PATH.test(uri)) return { scheme: 'file', path: uri };
  const m = SCHEME.exec(uri);
  if (m === null) return { scheme: 'file', path: uri };
  const scheme = (m[1] ?? '').toLowerCase();
  const rest = uri.slice(m[0].length);
  switch (scheme) {
    case 'file':
      return parseFile(uri, rest);
    case 'http':
    case 'https':
      return parseHttp(uri);
    case 'wasb':
    case 'wasbs':
      return parseBlob(uri, scheme, rest);
    case 'abfs':
    case 'abfss':
      return parseAdls(uri, scheme, rest);
    case 'azureml':
      return parseAzureml(uri, rest);
    default:
      return unsupported(uri, `the scheme '${scheme}:' is not supported`);
  }
}

function parseFile(uri: string, rest: string): LocalDataUri {
  let path = rest;
  if (path.startsWith('//')) {
    path = path.slice(2);
    // file:///C:/data → C:/data
    if (/^\/[A-Za-z]:([\\/]|$)/.test(path)) path = path.slice(1);
    // file://localhost/abs → /abs
    else if (path.startsWith('localhost/')) path = path.slice('localhost'.length);
  }
  if (path === '') invalid(uri, 'it names no file or folder.');
  return { scheme: 'file', path };
}

function parseHttp(uri: string): HttpDataUri {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return invalid(uri, 'it is not a valid http(s) URL.');
  }
  if (url.hostname === '') invalid(uri, 'the URL has no host.');
  return { scheme: 'http', url: url.href };
}

function parseBlob(uri: string, scheme: 'wasb' | 'wasbs', rest: string): BlobDataUri {
  const m = /^\/\/([^@/]+)@([^./]+)\.blob\.([^/]+)(\/.*)?$/.exec(rest);
  if (m === null) invalid(uri, `expected ${scheme}://<container>@<account>.blob.core.windows.net/<path>.`);
  const [, container = '', account = '', endpointSuffix = '', rawPath = ''] = m;
  if (!CONTAINER_NAME.test(container)) invalid(uri, `'${container}' is not a valid Blob container name.`);
  if (!ACCOUNT_NAME.test(account)) invalid(uri, `'${account}' is not a valid storage account name.`);
  return { scheme, account, container, path: normalizeRemotePath(uri, rawPath), endpointSuffix };
}

function parseAdls(uri: string, scheme: 'abfs' | 'abfss', rest: string): AdlsDataUri {
  const m = /^\/\/([^@/]+)@([^./]+)\.dfs\.([^/]+)(\/.*)?$/.exec(rest);
  if (m === null) invalid(uri, `expected ${scheme}://<filesystem>@<account>.dfs.core.windows.net/<path>.`);
  const [, filesystem = '', account = '', endpointSuffix = '', rawPath = ''] = m;
  if (!CONTAINER_NAME.test(filesystem)) invalid(uri, `'${filesystem}' is not a valid file system name.`);
  if (!ACCOUNT_NAME.test(account)) invalid(uri, `'${account}' is not a valid storage account name.`);
  return { scheme, account, filesystem, path: normalizeRemotePath(uri, rawPath), endpointSuffix };
}

function parseAzureml(uri: string, rest: string): DatastoreDataUri {
  if (!rest.startsWith('//')) {
    return unsupported(
      uri,
      "'azureml:<name>:<version>' and 'azureml:<name>@<label>' name an asset, not a storage location; resolve the asset to its path first",
    );
  }
  const body = rest.slice(2);
  const slash = body.search(/\/paths(\/|$)/i);
  if (slash < 0) {
    return unsupported(uri, "only datastore URIs (…/datastores/<name>/paths/<path>) are supported under 'azureml://'");
  }
  const head = body.slice(0, slash).split('/');
  const rawPath = body.slice(slash + '/paths'.length);
  const out: Partial<DatastoreDataUri> = {};
  const lower = head.map((s) => s.toLowerCase());
  let i = 0;
  if (lower[0] === 'subscriptions') {
    if (lower[2] !== 'resourcegroups') invalid(uri, "expected 'resourcegroups/<group>' after the subscription.");
    out.subscription = nonEmpty(uri, head[1], 'subscription');
    out.resourceGroup = nonEmpty(uri, head[3], 'resource group');
    i = 4;
    if (lower[i] === 'providers') {
      if (lower[i + 1] !== 'microsoft.machinelearningservices')
        invalid(uri, "expected 'providers/Microsoft.MachineLearningServices'.");
      i += 2;
    }
    if (lower[i] !== 'workspaces') invalid(uri, "expected 'workspaces/<workspace>' after the resource group.");
    out.workspace = nonEmpty(uri, head[i + 1], 'workspace');
    i += 2;
  }
  if (lower[i] !== 'datastores' || head.length !== i + 2) {
    return unsupported(uri, "only datastore URIs (…/datastores/<name>/paths/<path>) are supported under 'azureml://'");
  }
  const datastore = nonEmpty(uri, head[i + 1], 'datastore');
  if (!DATASTORE_NAME.test(datastore)) invalid(uri, `'${datastore}' is not a valid datastore name.`);
  return {
    scheme: 'azureml-datastore',
    datastore,
    path: normalizeRemotePath(uri, rawPath),
    ...(out.workspace === undefined ? {} : { workspace: out.workspace }),
    ...(out.subscription === undefined ? {} : { subscription: out.subscription }),
    ...(out.resourceGroup === undefined ? {} : { resourceGroup: out.resourceGroup }),
  };
}

function nonEmpty(uri: string, value: string | undefined, what: string): string {
  if (value === undefined || value === '') invalid(uri, `the ${what} is missing.`);
  return decodeSegment(uri, value);
}

function decodeSegment(uri: string, segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return invalid(uri, `'${segment}' has a malformed %-escape.`);
  }
}

/**
 * 'a//b/./c/../d/' → 'a/b/d/'. '..' above the root is refused; a trailing '/' (a folder) is kept;
 * the root itself is ''.
 */
function normalizeRemotePath(uri: string, raw: string, decode = true): string {
  const segments: string[] = [];
  for (const encoded of raw.split('/')) {
    const s = decode ? decodeSegment(uri, encoded) : encoded;
    if (s === '' || s === '.') continue;
    if (s === '..') {
      if (segments.length === 0) invalid(uri, "'..' climbs above the root of the store.");
      segments.pop();
      continue;
    }
    if (s.includes('/')) invalid(uri, "a path segment contains an encoded '/'.");
    segments.push(s);
  }
  if (segments.length === 0) return '';
  // 'a/', 'a/.' and 'a/b/..' all name a folder.
  const trailing = /\/\.{0,2}$/.test(raw);
  return segments.join('/') + (trailing ? '/' : '');
}

function encodePath(path: string): string {
  let out = '';
  for (const ch of path) {
    if (ch === '/' || PCHAR_SAFE.test(ch)) out += ch;
    else out += encodeURIComponent(ch);
  }
  return out;
}

/** The short datastore URI of a path: azureml://datastores/<name>/paths/<path>. */
export function formatDatastoreUri(datastore: string, path: string): string {
  if (!DATASTORE_NAME.test(datastore)) {
    throw new ValidationError(`Invalid datastore name ${JSON.stringify(datastore)}.`, { target: 'datastore' });
  }
  const p = path.replace(/^\/+/, '');
  return `azureml://datastores/${datastore}/paths/${encodePath(p)}`;
}

/** The URI text of a parsed URI; `parseDataUri(formatDataUri(u))` equals `u`. */
export function formatDataUri(u: DataUri): string {
  switch (u.scheme) {
    case 'file':
      return u.path;
    case 'http':
      return u.url;
    case 'wasb':
    case 'wasbs':
      return `${u.scheme}://${u.container}@${u.account}.blob.${u.endpointSuffix}/${encodePath(u.path)}`;
    case 'abfs':
    case 'abfss':
      return `${u.scheme}://${u.filesystem}@${u.account}.dfs.${u.endpointSuffix}/${encodePath(u.path)}`;
    case 'azureml-datastore':
      if (u.workspace === undefined) return formatDatastoreUri(u.datastore, u.path);
      return (
        `azureml://subscriptions/${encodeURIComponent(u.subscription ?? '')}` +
        `/resourcegroups/${encodeURIComponent(u.resourceGroup ?? '')}` +
        `/workspaces/${encodeURIComponent(u.workspace)}/datastores/${u.datastore}/paths/${encodePath(u.path)}`
      );
  }
}

/** True when the URI names a folder: a trailing '/' (or '\\' for local paths), or a store root. */
export function isFolderUri(u: DataUri): boolean {
  switch (u.scheme) {
    case 'file':
      return /[\\/]$/.test(u.path);
    case 'http':
      return new URL(u.url).pathname.endsWith('/');
    default:
      return u.path === '' || u.path.endsWith('/');
  }
}

/** The same location with another path inside the same store (for listings). */
export function withDataPath<U extends BlobDataUri | AdlsDataUri | DatastoreDataUri>(u: U, path: string): U {
  return { ...u, path };
}

/**
 * Resolves `reference` against the folder `base` (how MLTable `paths:` entries are read): a
 * reference with its own scheme, or an absolute local path, stands alone; a relative one is
 * joined to the folder, and '..' may not climb above the store's root.
 */
export function resolveDataUri(base: string, reference: string): string {
  const ref = parseDataUri(reference);
  const refIsRelative = ref.scheme === 'file' && !SCHEME.test(reference) && !isAbsoluteLocal(ref.path);
  if (!refIsRelative) return reference;
  const rel = ref.path.replace(/\\/g, '/');
  const b = parseDataUri(base);
  switch (b.scheme) {
    case 'file': {
      const folder = /[\\/]$/.test(b.path) ? b.path : `${b.path}/`;
      return folder + rel;
    }
    case 'http':
      return new URL(encodePath(rel), b.url.endsWith('/') ? b.url : `${b.url}/`).href;
    default: {
      const folder = b.path === '' || b.path.endsWith('/') ? b.path : `${b.path}/`;
      const joined = normalizeRemotePath(reference, `${folder}${rel}`, false);
      return formatDataUri(withDataPath(b, joined));
    }
  }
}

function isAbsoluteLocal(path: string): boolean {
  return path.startsWith('/') || path.startsWith('\\') || DRIVE_PATH.test(path);
}

// ---------------------------------------------------------------------------------------------
// Globs: '*' (within one folder), '**' (any depth), '?' (one character).
// ---------------------------------------------------------------------------------------------

const GLOB_CHARS = /[*?]/;

export function hasGlob(text: string): boolean {
  return GLOB_CHARS.test(text);
}

/** A RegExp matching whole '/'-separated relative paths. 'a/**' matches everything under a; '**' + '/' matches zero folders. */
export function compileGlob(pattern: string): RegExp {
  const p = pattern.replace(/\\/g, '/').replace(/^\.\//, '').replace(/^\/+/, '');
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const ch = p[i] ?? '';
    if (ch === '*') {
      if (p[i + 1] === '*') {
        i++;
        if (p[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else {
          re += '.*';
        }
      } else {
        re += '[^/]*';
      }
    } else if (ch === '?') {
      re += '[^/]';
    } else {
      re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`, 's');
}

/**
 * Splits a pattern URI into the folder before its first wildcard and the glob after it:
 * 'azureml://datastores/d/paths/logs/2024-*\/*.csv' → folder '…/paths/logs/', pattern '2024-*\/*.csv'.
 */
export function splitGlobUri(uri: string): { folder: string; pattern: string } {
  const first = uri.search(GLOB_CHARS);
  if (first < 0) throw new ValidationError(`${JSON.stringify(uri)} has no wildcard ('*', '**' or '?').`);
  const cut = Math.max(uri.lastIndexOf('/', first), uri.lastIndexOf('\\', first));
  if (cut < 0) return { folder: './', pattern: uri };
  return { folder: uri.slice(0, cut + 1), pattern: uri.slice(cut + 1) };
}
