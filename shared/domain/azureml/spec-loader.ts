import { posix, win32 } from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parse, parseDocument, visit } from 'yaml';
import type { Document, Node, Pair, ParsedNode, ScalarTag, Tags } from 'yaml';
import { isRecord } from '../../contracts/azureml/common.js';
import { parseSpec, SPEC_KINDS } from '../../contracts/azureml/index.js';
import type { JobKind, SpecKind } from '../../contracts/azureml/index.js';
import { describeValue, SpecError } from '../../contracts/azureml/spec-error.js';

/**
 * Loads Azure ML CLI v2 YAML specs the way `az ml` does, without touching the file system: parses
 * the text (YAML 1.1, as PyYAML), applies `--set` overrides, works out the kind (from `$schema` —
 * also in a `# yaml-language-server: $schema=` comment —, else `type`, else the kind asked for),
 * validates it against the contracts in shared/contracts/azureml, and turns every relative local
 * path into an absolute `file:` path so the CLI can upload what the spec needs. Every problem is a
 * SpecError naming the file, the key path and what to do.
 */

export { SpecError };

/** A local file or folder that the spec refers to, resolved against the YAML's folder. */
export interface LocalPathRef {
  /** Where in the spec: `code`, `jobs.train.component`, `environment.build.path`, ... */
  keyPath: string;
  /** The absolute path. */
  path: string;
}

export interface LoadedSpec {
  kind: SpecKind;
  /** The job's `type` (command when the YAML gives none), for kind 'job'. */
  jobKind?: JobKind;
  /** The validated spec: YAML keys as written, `$schema` removed, local paths made absolute `file:` paths. */
  spec: Record<string, unknown>;
  file: string;
  /** The `$schema` URL, from the key or from a yaml-language-server comment. */
  schemaUrl?: string;
  /** Every local path the spec refers to (code, data and model paths, conda files, build contexts, component files). */
  localPaths: LocalPathRef[];
}

export interface LoadSpecOptions {
  /** The file's path: named in errors, and its folder is where relative paths start from. */
  file: string;
  /** The kind the caller expects (`az ml data create` knows it loads data); used when the YAML does not say. */
  expectedKind?: SpecKind;
  /** `--set key.path=value` overrides, applied before validation. */
  set?: readonly string[];
  /** Folder that relative paths are resolved against; the folder of `file` unless given. */
  baseDir?: string;
}

/** Parses, overrides, detects, validates and resolves one spec. Throws SpecError. */
export function loadSpecText(text: string, options: LoadSpecOptions): LoadedSpec {
  const file = options.file;
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lineCounter = new LineCounter();
  const doc = parseYaml(source, file, lineCounter);
  let raw = toPlainMapping(doc, file, lineCounter);

  const schemaKey = raw['$schema'];
  if (schemaKey !== undefined && typeof schemaKey !== 'string') {
    throw new SpecError({
      file,
      keyPath: '$schema',
      problem: `expected a URL string, found ${describeValue(schemaKey)}`,
      hint: 'use the schema URL, e.g. https://azuremlschemas.azureedge.net/latest/commandJob.schema.json',
    });
  }
  const schemaUrl = typeof schemaKey === 'string' ? schemaKey.trim() : modelineSchema(source);
  if ('$schema' in raw) {
    raw = { ...raw };
    delete raw['$schema'];
  }
  if (options.set !== undefined && options.set.length > 0) raw = applySetOverrides(raw, options.set, file);

  const detected = detectKind(raw, { file, schemaUrl, expectedKind: options.expectedKind });
  if (detected.kind === 'onlineDeployment' && detected.onlineVariant !== undefined && raw['type'] == null) {
    // The $schema says which kind of deployment a file without `type` is.
    raw = { ...raw, type: detected.onlineVariant };
  }
  let spec: Record<string, unknown>;
  try {
    spec = parseSpec(detected.kind, raw, { file }) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof SpecError) throw withPosition(error, doc, lineCounter);
    throw error;
  }

  let jobKind: JobKind | undefined;
  if (detected.kind === 'job') {
    jobKind = spec['type'] as JobKind;
    if (detected.jobKind !== undefined && detected.jobKind !== jobKind) {
      throw new SpecError({
        file,
        keyPath: 'type',
        problem: `the $schema is a ${detected.jobKind} job's, but type is ${JSON.stringify(jobKind)}`,
        hint: `make them agree: type: ${detected.jobKind}, or the $schema of a ${jobKind} job`,
      });
    }
  }
  if (
    detected.kind === 'component' &&
    detected.componentType !== undefined &&
    spec['type'] !== detected.componentType
  ) {
    throw new SpecError({
      file,
      keyPath: 'type',
      problem: `the $schema is a ${detected.componentType} component's, but type is ${JSON.stringify(spec['type'])}`,
      hint: `make them agree: type: ${detected.componentType}, or the matching $schema`,
    });
  }

  if (detected.onlineVariant !== undefined) checkOnlineVariant(detected, spec, file);

  const localPaths: LocalPathRef[] = [];
  const resolver = new PathResolver(options.baseDir ?? dirnameOf(file), localPaths);
  resolver.spec(detected.kind, spec);

  const loaded: LoadedSpec = { kind: detected.kind, spec, file, localPaths };
  if (jobKind !== undefined) loaded.jobKind = jobKind;
  if (schemaUrl !== undefined) loaded.schemaUrl = schemaUrl;
  return loaded;
}

/** The $schema of an online endpoint or deployment and what the spec says it is must agree. */
function checkOnlineVariant(detected: SchemaKind, spec: Record<string, unknown>, file: string): void {
  const expected = detected.onlineVariant;
  if (detected.kind === 'onlineDeployment') {
    if (spec['type'] === expected) return;
    throw new SpecError({
      file,
      keyPath: 'type',
      problem: `the $schema is a ${expected} online deployment's, but type is ${JSON.stringify(spec['type'])}`,
      hint: `make them agree: type: ${String(expected)}, or the matching $schema`,
    });
  }
  if (detected.kind !== 'onlineEndpoint') return;
  const kubernetes = spec['compute'] !== undefined;
  if (expected === 'kubernetes' && !kubernetes) {
    throw new SpecError({
      file,
      keyPath: 'compute',
      problem: 'a Kubernetes online endpoint needs compute (the attached Kubernetes compute that serves it)',
      hint: 'add compute: azureml:<kubernetes-compute>, or use the managedOnlineEndpoint $schema',
    });
  }
  if (expected === 'managed' && kubernetes) {
    throw new SpecError({
      file,
      keyPath: 'compute',
      problem: "the $schema is a managed online endpoint's, but compute names a Kubernetes compute",
      hint: 'remove compute for a managed endpoint, or use the kubernetesOnlineEndpoint $schema',
    });
  }
}

// ---------------------------------------------------------------------------------------------
// YAML parsing.
// ---------------------------------------------------------------------------------------------

/**
 * YAML 1.1 as PyYAML (which az ml uses) reads it: `yes`/`on`/`True` are booleans, `010` is octal. Two
 * 1.1 resolutions are left out so values stay as written: timestamps (`2021-03-10T21:21:07` stays a
 * string) and base-60 numbers (`10:30` stays a string, not 630). Single-letter `y`/`n` are strings,
 * as in PyYAML.
 */
function yaml11Tags(tags: Tags): Tags {
  const out: Tags = [];
  for (const tag of tags) {
    if (typeof tag === 'string') {
      out.push(tag);
      continue;
    }
    if (tag.tag === 'tag:yaml.org,2002:timestamp' || tag.format === 'TIME') continue;
    if (
      tag.tag === 'tag:yaml.org,2002:float' &&
      tag.test !== undefined &&
      tag.format !== 'EXP' &&
      tag.test.test('.5')
    ) {
      // PyYAML needs a digit: `.` (as in `code: .`) is a string, not NaN.
      out.push({ ...tag, test: /^[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*)$/ });
      continue;
    }
    if (tag.tag === 'tag:yaml.org,2002:float' && tag.format === 'EXP') {
      out.push({ ...(tag as ScalarTag), test: /^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)[eE][-+]?[0-9]+$/ });
      continue;
    }
    if (tag.tag === 'tag:yaml.org,2002:bool' && tag.test !== undefined) {
      const isTrue = tag.test.test('true');
      out.push({
        ...tag,
        test: isTrue ? /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/ : /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/,
      });
      continue;
    }
    out.push(tag);
  }
  return out;
}

const PLACEHOLDER = /(?<!\$)\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/;
const UPPER_PLACEHOLDER = /(?<!\$)\{\{\s*([A-Z_][A-Z0-9_]*)\s*\}\}/;

function parseYaml(source: string, file: string, lineCounter: LineCounter): Document.Parsed {
  const doc = parseDocument(source, {
    version: '1.1',
    customTags: yaml11Tags,
    lineCounter,
    uniqueKeys: true,
    keepSourceTokens: false,
  });
  const error = doc.errors[0];
  if (error !== undefined) {
    const position = error.linePos?.[0];
    const line = position === undefined ? undefined : source.split(/\r?\n/)[position.line - 1];
    const placeholder = line === undefined ? null : PLACEHOLDER.exec(line);
    const what = error.message.split(' at line ')[0]?.split('\n')[0] ?? error.message;
    throw new SpecError({
      file,
      keyPath: '',
      line: position?.line,
      column: position?.col,
      showPosition: true,
      problem:
        placeholder === null
          ? `YAML syntax error: ${what}`
          : `unfilled template placeholder ${placeholder[0]} (not valid YAML as it stands)`,
      hint:
        placeholder === null
          ? 'fix the YAML at that line and column'
          : 'substitute the placeholder first, as the example scripts do with sed',
      cause: error,
    });
  }

  // Mapping keys must be plain scalars; `version: {{X}}` parses as a mapping with a mapping key.
  visit(doc, {
    Pair(_key, pair, path) {
      if (pair.key === null || isScalar(pair.key)) return;
      const start = (pair.key as ParsedNode).range[0];
      const position = lineCounter.linePos(start);
      const line = source.split(/\r?\n/)[position.line - 1] ?? '';
      const placeholder = PLACEHOLDER.exec(line);
      throw new SpecError({
        file,
        keyPath: keyPathOf(path),
        line: position.line,
        column: position.col,
        showPosition: true,
        problem:
          placeholder === null
            ? 'a mapping key must be a plain string, found a mapping or list used as a key'
            : `unfilled template placeholder ${placeholder[0]} (it reads as a mapping, not a value)`,
        hint:
          placeholder === null
            ? 'quote the key or fix the indentation'
            : 'substitute the placeholder first, as the example scripts do with sed',
      });
    },
  });

  // `version: 1.0` must stay "1.0", not become 1 — keep the text of numeric versions as written.
  visit(doc, {
    Pair(_key, pair) {
      if (!isScalar(pair.key) || pair.key.value !== 'version') return;
      const value = pair.value;
      if (isScalar(value) && typeof value.value === 'number' && typeof value.source === 'string') {
        value.value = value.source;
      }
    },
  });
  return doc;
}

/** The key path of the node at the end of a yaml `visit` path. */
function keyPathOf(path: readonly (Node | Document | Pair)[]): string {
  const parts: string[] = [];
  for (let i = 0; i < path.length; i++) {
    const item = path[i];
    if (isPair(item) && isScalar(item.key)) parts.push(String(item.key.value));
    else if (isSeq(item)) {
      const child = path[i + 1];
      const index = child === undefined ? -1 : item.items.indexOf(child as never);
      if (index >= 0) parts.push(String(index));
    }
  }
  return parts.join('.');
}

function toPlainMapping(doc: Document.Parsed, file: string, lineCounter: LineCounter): Record<string, unknown> {
  if (doc.contents === null) {
    throw new SpecError({
      file,
      keyPath: '',
      problem: 'the file has no YAML content (it is empty or holds only comments)',
      hint: 'write the spec into it, or point at the right file',
    });
  }
  const value: unknown = doc.toJS({ maxAliasCount: 1000 });
  if (!isRecord(value)) {
    const position = lineCounter.linePos(doc.contents.range[0]);
    throw new SpecError({
      file,
      keyPath: '',
      line: position.line,
      column: position.col,
      problem: `expected a mapping of keys to values at the top level, found ${describeValue(value)}`,
      hint: 'an Azure ML spec is a YAML mapping (name: ..., type: ...)',
    });
  }
  const placeholder = findPlaceholder(value, []);
  if (placeholder !== undefined) {
    throw withPosition(
      new SpecError({
        file,
        keyPath: placeholder.keyPath,
        problem: `unfilled template placeholder ${placeholder.text}`,
        hint: 'substitute the placeholder first, as the example scripts do with sed',
      }),
      doc,
      lineCounter,
    );
  }
  return value;
}

function findPlaceholder(value: unknown, path: string[]): { keyPath: string; text: string } | undefined {
  if (typeof value === 'string') {
    const match = UPPER_PLACEHOLDER.exec(value);
    return match === null ? undefined : { keyPath: path.join('.'), text: match[0] };
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findPlaceholder(value[i], [...path, String(i)]);
      if (found !== undefined) return found;
    }
  } else if (isRecord(value)) {
    for (const [k, v] of Object.entries(value)) {
      const found = findPlaceholder(v, [...path, k]);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

const MODELINE = /^[ \t]*#[ \t]*yaml-language-server:[ \t]*\$schema=(\S+)/m;

function modelineSchema(source: string): string | undefined {
  return MODELINE.exec(source)?.[1];
}

/** Adds the line and column of the offending key to a validation error (the message keeps its form). */
function withPosition(error: SpecError, doc: Document.Parsed, lineCounter: LineCounter): SpecError {
  if (error.line !== undefined) return error;
  const segments = error.keyPath === '' ? [] : error.keyPath.split('.');
  for (let n = segments.length; n >= 0; n--) {
    const offset = offsetOf(doc, segments.slice(0, n));
    if (offset !== undefined) {
      const position = lineCounter.linePos(offset);
      return new SpecError({
        file: error.file,
        keyPath: error.keyPath,
        problem: error.problem,
        hint: error.hint,
        details: error.details,
        line: position.line,
        column: position.col,
        cause: error.cause,
      });
    }
  }
  return error;
}

/** Source offset of the key (or item) at a path, if the document has it. */
function offsetOf(doc: Document.Parsed, segments: readonly string[]): number | undefined {
  if (segments.length === 0) return (doc.contents as ParsedNode | null)?.range[0];
  let node: unknown = doc.contents;
  let offset: number | undefined;
  for (const segment of segments) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
      if (pair === undefined) return undefined;
      offset = (pair.key as ParsedNode).range[0];
      node = pair.value;
    } else if (isSeq(node)) {
      const item = /^\d+$/.test(segment) ? node.items[Number(segment)] : undefined;
      if (item === undefined || item === null) return undefined;
      offset = (item as ParsedNode).range[0];
      node = item;
    } else {
      return undefined;
    }
  }
  return offset;
}

// ---------------------------------------------------------------------------------------------
// --set overrides.
// ---------------------------------------------------------------------------------------------

/**
 * Applies `--set a.b=c` overrides as az ml does: dotted key paths, list items by index
 * (`jobs.train.inputs.0.path=...`), values read as YAML scalars (`--set limits.timeout=60` is the
 * number 60, `--set flag=True` the boolean). Missing mappings on the way are created. Returns a new
 * object; `obj` is not changed. Throws SpecError for a malformed override or an impossible path.
 */
export function applySetOverrides(
  obj: Record<string, unknown>,
  set: readonly string[],
  file = '(--set)',
): Record<string, unknown> {
  const root = structuredClone(obj);
  for (const override of set) {
    const eq = override.indexOf('=');
    const keyPath = eq < 0 ? override : override.slice(0, eq);
    const fail = (problem: string, hint: string): never => {
      throw new SpecError({ file, keyPath: `--set ${keyPath}`, problem, hint });
    };
    if (eq <= 0) fail(`expected key.path=value, found ${JSON.stringify(override)}`, 'write it as --set key.path=value');
    const segments = keyPath.split('.');
    if (segments.some((s) => s.trim() === ''))
      fail('the key path has an empty part', 'write it as a.b.c, without doubled or trailing dots');
    const value = overrideValue(override.slice(eq + 1));

    let container: unknown = root;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i] ?? '';
      const last = i === segments.length - 1;
      const where = segments.slice(0, i).join('.') || '(top level)';
      if (Array.isArray(container)) {
        if (!/^\d+$/.test(segment))
          fail(
            `${where} is a list; expected an item index, found ${JSON.stringify(segment)}`,
            'use a number, e.g. a.0.b',
          );
        const index = Number(segment);
        if (index > container.length || (!last && index >= container.length)) {
          fail(`${where} has ${container.length} item(s); there is no item ${index}`, 'use an existing index');
        }
        if (last) {
          container[index] = value;
        } else {
          if (container[index] === null || container[index] === undefined) container[index] = {};
          container = container[index];
        }
      } else if (isRecord(container)) {
        if (last) {
          container[segment] = value;
        } else {
          if (container[segment] === null || container[segment] === undefined) container[segment] = {};
          container = container[segment];
        }
      } else {
        fail(
          `${where} is ${describeValue(container)}, not a mapping or list`,
          'set the value itself, or a key that exists',
        );
      }
    }
  }
  return root;
}

function overrideValue(text: string): unknown {
  if (text.trim() === '') return text;
  try {
    const value: unknown = parse(text, { version: '1.1', customTags: yaml11Tags });
    return value === null && !/^\s*(?:~|null|Null|NULL)\s*$/.test(text) ? text : value;
  } catch {
    return text;
  }
}

// ---------------------------------------------------------------------------------------------
// Kind detection.
// ---------------------------------------------------------------------------------------------

interface SchemaKind {
  kind: SpecKind;
  jobKind?: JobKind;
  componentType?: string;
  /** managed or kubernetes, for online endpoints and deployments whose $schema says which. */
  onlineVariant?: 'managed' | 'kubernetes';
}

/** Supported `$schema` basenames (lower case, without `.schema.json` / `.json`). */
const SCHEMA_KINDS: Record<string, SchemaKind> = {
  commandjob: { kind: 'job', jobKind: 'command' },
  sweepjob: { kind: 'job', jobKind: 'sweep' },
  pipelinejob: { kind: 'job', jobKind: 'pipeline' },
  automljob: { kind: 'job', jobKind: 'automl' },
  sparkjob: { kind: 'job', jobKind: 'spark' },
  commandcomponent: { kind: 'component', componentType: 'command' },
  pipelinecomponent: { kind: 'component', componentType: 'pipeline' },
  sparkcomponent: { kind: 'component', componentType: 'spark' },
  parallelcomponent: { kind: 'component', componentType: 'parallel' },
  data: { kind: 'data' },
  model: { kind: 'model' },
  environment: { kind: 'environment' },
  azureblob: { kind: 'datastore' },
  azurefile: { kind: 'datastore' },
  azuredatalakegen1: { kind: 'datastore' },
  azuredatalakegen2: { kind: 'datastore' },
  amlcompute: { kind: 'compute' },
  computeinstance: { kind: 'compute' },
  vmcompute: { kind: 'compute' },
  virtualmachinecompute: { kind: 'compute' },
  kubernetescompute: { kind: 'compute' },
  synapsesparkcompute: { kind: 'compute' },
  mltable: { kind: 'mltable' },
  managedonlineendpoint: { kind: 'onlineEndpoint', onlineVariant: 'managed' },
  kubernetesonlineendpoint: { kind: 'onlineEndpoint', onlineVariant: 'kubernetes' },
  onlineendpoint: { kind: 'onlineEndpoint' },
  managedonlinedeployment: { kind: 'onlineDeployment', onlineVariant: 'managed' },
  kubernetesonlinedeployment: { kind: 'onlineDeployment', onlineVariant: 'kubernetes' },
  onlinedeployment: { kind: 'onlineDeployment' },
};

/** `$schema` basenames of Azure ML kinds that Tessera does not load yet, with what they are. */
const UNSUPPORTED_SCHEMAS: Record<string, string> = {
  batchendpoint: 'batch endpoints',
  batchdeployment: 'batch deployments',
  modelbatchdeployment: 'model batch deployments',
  pipelinecomponentbatchdeployment: 'pipeline component batch deployments',
  schedule: 'schedules',
  connection: 'workspace connections',
  workspaceconnection: 'workspace connections',
  workspace: 'workspaces',
  registry: 'registries',
  dataimport: 'data imports',
  modelversionpackage: 'model packages',
  flow: 'prompt flows',
  run: 'prompt flow runs',
  featurestore: 'feature stores',
  featureset: 'feature sets',
  featurestoreentity: 'feature store entities',
  datatransferjob: 'data transfer jobs',
  datatransfercomponent: 'data transfer components',
  importjob: 'import jobs',
  finetuningjob: 'fine-tuning jobs',
  distillationjob: 'distillation jobs',
  serverlessendpoint: 'serverless endpoints',
  marketplacesubscription: 'marketplace subscriptions',
  capabilityhost: 'capability hosts',
  index: 'indexes',
  aiservices: 'AI services connections',
  hub: 'hubs',
  project: 'projects',
  onelake: 'OneLake datastores',
};

/** The `$schema` basename normalised for lookup: `.../latest/autoMLJob.schema.json` → `automljob`. */
export function schemaBasename(url: string): string {
  const last = url.split(/[?#]/)[0]?.split('/').pop() ?? '';
  return last
    .replace(/\.schema\.json$/i, '')
    .replace(/\.json$/i, '')
    .toLowerCase();
}

/** `type` values and the kinds they can belong to; the first is assumed when nothing else says. */
const TYPE_KINDS: Record<string, readonly SpecKind[]> = {
  command: ['job', 'component'],
  sweep: ['job'],
  pipeline: ['job', 'component'],
  automl: ['job'],
  spark: ['job', 'component'],
  parallel: ['component'],
  finetuning: ['job'],
  distillation: ['job'],
  data_transfer: ['job', 'component'],
  import: ['job'],
  uri_file: ['data'],
  uri_folder: ['data'],
  mltable: ['data', 'mltable'],
  custom_model: ['model'],
  mlflow_model: ['model'],
  triton_model: ['model'],
  azure_blob: ['datastore'],
  azure_file: ['datastore'],
  azure_data_lake_gen1: ['datastore'],
  azure_data_lake_gen2: ['datastore'],
  one_lake: ['datastore'],
  amlcompute: ['compute'],
  computeinstance: ['compute'],
  kubernetes: ['compute', 'onlineDeployment'],
  managed: ['onlineDeployment'],
  virtualmachine: ['compute'],
  synapsespark: ['compute'],
  local: ['compute'],
};

/** `type` values of Azure ML kinds that Tessera does not load yet (files without `$schema`). */
const UNSUPPORTED_TYPES: Record<string, string> = {
  git: 'workspace connections',
  python_feed: 'workspace connections',
  container_registry: 'workspace connections',
  s3: 'workspace connections',
  snowflake: 'workspace connections',
  azure_sql_db: 'workspace connections',
  azure_open_ai: 'workspace connections',
  azure_ai_search: 'workspace connections',
  api_key: 'workspace connections',
  custom: 'workspace connections',
  model: 'model batch deployments',
};

const KIND_WORDS: Record<SpecKind, string> = {
  datastore: 'a datastore',
  data: 'a data asset',
  model: 'a model',
  environment: 'an environment',
  component: 'a component',
  compute: 'a compute',
  job: 'a job',
  mltable: 'an MLTable file',
  onlineEndpoint: 'an online endpoint',
  onlineDeployment: 'an online deployment',
};

interface DetectOptions {
  file: string;
  schemaUrl: string | undefined;
  expectedKind: SpecKind | undefined;
}

function detectKind(raw: Record<string, unknown>, options: DetectOptions): SchemaKind {
  const { file, schemaUrl, expectedKind } = options;
  if (expectedKind !== undefined && !SPEC_KINDS.includes(expectedKind)) {
    throw new TypeError(`expectedKind must be one of ${SPEC_KINDS.join(', ')}; got ${String(expectedKind)}`);
  }
  if (schemaUrl !== undefined) {
    const name = schemaBasename(schemaUrl);
    const unsupported = UNSUPPORTED_SCHEMAS[name];
    if (unsupported !== undefined) {
      throw new SpecError({
        file,
        keyPath: '$schema',
        problem: `${unsupported} are not supported by Tessera yet (the $schema is ${JSON.stringify(schemaUrl)})`,
        hint: 'this file cannot be loaded until Tessera supports them',
      });
    }
    const known = SCHEMA_KINDS[name];
    if (known === undefined) {
      throw new SpecError({
        file,
        keyPath: '$schema',
        problem: `not an Azure ML CLI v2 schema Tessera knows: ${JSON.stringify(schemaUrl)}`,
        hint: 'use an azuremlschemas URL such as https://azuremlschemas.azureedge.net/latest/commandJob.schema.json, or remove $schema',
      });
    }
    if (expectedKind !== undefined && expectedKind !== known.kind) {
      throw new SpecError({
        file,
        keyPath: '$schema',
        problem: `this is ${KIND_WORDS[known.kind]} spec (by its $schema), but ${KIND_WORDS[expectedKind]} was asked for`,
        hint: `load it as ${KIND_WORDS[known.kind]}, or point at the right file`,
      });
    }
    return known;
  }

  const type = typeof raw['type'] === 'string' ? raw['type'].trim().toLowerCase() : undefined;
  const candidates = type === undefined ? undefined : TYPE_KINDS[type];
  if (candidates !== undefined) {
    if (expectedKind === undefined) {
      if (type === 'mltable' && 'paths' in raw && !('path' in raw)) return { kind: 'mltable' };
      if (type === 'kubernetes' && looksLikeDeployment(raw)) return { kind: 'onlineDeployment' };
      return { kind: candidates[0] ?? 'job' };
    }
    if (candidates.includes(expectedKind)) return { kind: expectedKind };
    throw new SpecError({
      file,
      keyPath: 'type',
      problem: `type ${JSON.stringify(raw['type'])} makes this ${KIND_WORDS[candidates[0] ?? 'job']} spec, but ${KIND_WORDS[expectedKind]} was asked for`,
      hint: `load it as ${KIND_WORDS[candidates[0] ?? 'job']}, or point at the right file`,
    });
  }
  const unsupportedType = type === undefined ? undefined : UNSUPPORTED_TYPES[type];
  if (unsupportedType !== undefined && expectedKind === undefined) {
    throw new SpecError({
      file,
      keyPath: 'type',
      problem: `${unsupportedType} are not supported by Tessera yet (type ${JSON.stringify(raw['type'])})`,
      hint: 'this file cannot be loaded until Tessera supports them',
    });
  }
  if (expectedKind !== undefined) return { kind: expectedKind };
  if (/(^|[/\\])MLTable$/.test(file)) return { kind: 'mltable' };
  if (type !== undefined) {
    throw new SpecError({
      file,
      keyPath: 'type',
      problem: `cannot tell what kind of spec this is: type ${JSON.stringify(raw['type'])} is not one Tessera knows`,
      hint: 'add $schema (e.g. https://azuremlschemas.azureedge.net/latest/commandJob.schema.json) or load it as a specific kind',
    });
  }
  if ('command' in raw && 'environment' in raw) return { kind: 'job', jobKind: 'command' };
  if (looksLikeDeployment(raw)) return { kind: 'onlineDeployment' };
  if ('auth_mode' in raw || 'traffic' in raw || 'mirror_traffic' in raw) return { kind: 'onlineEndpoint' };
  const [problem, hint] = notASpec(raw);
  throw new SpecError({ file, keyPath: '', problem, hint });
}

/** The keys only an online deployment has (files written without `$schema`, as the SDK tests are). */
function looksLikeDeployment(raw: Record<string, unknown>): boolean {
  return 'endpoint_name' in raw || 'code_configuration' in raw || ('model' in raw && 'instance_type' in raw);
}

/** Why a mapping with neither `$schema` nor `type` is not a spec, naming the common look-alikes. */
function notASpec(raw: Record<string, unknown>): [string, string] {
  if ('python' in raw && ('build_dependencies' in raw || 'dependencies' in raw)) {
    return [
      "this is an MLflow model's python_env.yaml, not an Azure ML spec (no $schema, no type)",
      'it belongs inside an MLflow model folder; load the model spec that points at that folder',
    ];
  }
  if ('channels' in raw || 'dependencies' in raw) {
    return [
      'this is a conda environment file, not an Azure ML spec (no $schema, no type)',
      "reference it from an environment's conda_file instead of loading it",
    ];
  }
  return [
    'cannot tell what kind of spec this is: it has no $schema and no type',
    'add $schema (e.g. https://azuremlschemas.azureedge.net/latest/commandJob.schema.json) or load it as a specific kind',
  ];
}

// ---------------------------------------------------------------------------------------------
// Local paths.
// ---------------------------------------------------------------------------------------------

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const WINDOWS_ABSOLUTE = /^[A-Za-z]:[\\/]/;
const ARM_ID = /^\/subscriptions\/[^/]+\/resourcegroups\//i;

/**
 * The local path inside a spec value, or undefined when the value is not local: a `${{...}}`
 * binding, an `azureml:` reference, a URL or other URI, or an ARM id. `file:` prefixes are removed.
 */
export function localPathOf(value: string): string | undefined {
  if (value.includes('${{')) return undefined;
  if (/^file:/i.test(value)) {
    const rest = value.slice(5);
    if (rest.startsWith('///')) return rest.slice(2);
    if (rest.startsWith('//')) {
      const slash = rest.indexOf('/', 2);
      return slash < 0 ? '/' : rest.slice(slash);
    }
    return rest === '' ? '.' : rest;
  }
  if (WINDOWS_ABSOLUTE.test(value)) return value;
  if (SCHEME.test(value) || ARM_ID.test(value)) return undefined;
  return value === '' ? undefined : value;
}

function dirnameOf(file: string): string {
  return usesWindowsPaths(file) ? win32.dirname(file) : posix.dirname(file);
}

function usesWindowsPaths(path: string): boolean {
  return WINDOWS_ABSOLUTE.test(path) || (path.includes('\\') && !path.includes('/'));
}

/** Rewrites the local paths of a validated spec in place and records them. */
class PathResolver {
  constructor(
    private readonly baseDir: string,
    private readonly found: LocalPathRef[],
  ) {}

  spec(kind: SpecKind, spec: Record<string, unknown>): void {
    switch (kind) {
      case 'data':
      case 'model':
        this.field(spec, 'path', '');
        return;
      case 'environment':
        this.environmentBody(spec, '');
        return;
      case 'component':
        this.component(spec, '');
        return;
      case 'job':
        this.job(spec);
        return;
      case 'onlineDeployment':
        this.deployment(spec);
        return;
      case 'datastore':
      case 'compute':
      case 'mltable':
      case 'onlineEndpoint':
        return;
    }
  }

  /** An online deployment's model folder or file, scoring code and conda file. */
  private deployment(spec: Record<string, unknown>): void {
    const model = spec['model'];
    if (isRecord(model)) this.field(model, 'path', 'model');
    const code = spec['code_configuration'];
    if (isRecord(code)) this.field(code, 'code', 'code_configuration');
    this.environment(spec, 'environment', '');
  }

  private resolve(value: string, keyPath: string): string {
    const local = localPathOf(value);
    if (local === undefined) return value;
    const windows = usesWindowsPaths(this.baseDir) || WINDOWS_ABSOLUTE.test(local);
    const api = windows ? win32 : posix;
    let absolute = api.isAbsolute(local) ? api.normalize(local) : api.join(this.baseDir, local);
    if (/[\\/]$/.test(local) && !/[\\/]$/.test(absolute)) absolute += windows ? '\\' : '/';
    this.found.push({ keyPath, path: absolute });
    return `file:${windows ? absolute.replace(/\\/g, '/') : absolute}`;
  }

  private field(obj: Record<string, unknown>, key: string, prefix: string): void {
    const value = obj[key];
    if (typeof value === 'string') obj[key] = this.resolve(value, join(prefix, key));
  }

  private environment(obj: Record<string, unknown>, key: string, prefix: string): void {
    const env = obj[key];
    if (isRecord(env)) this.environmentBody(env, join(prefix, key));
  }

  private environmentBody(env: Record<string, unknown>, prefix: string): void {
    this.field(env, 'conda_file', prefix);
    const build = env['build'];
    if (isRecord(build)) this.field(build, 'path', join(prefix, 'build'));
  }

  private inputs(obj: Record<string, unknown>, prefix: string): void {
    const inputs = obj['inputs'];
    if (!isRecord(inputs)) return;
    for (const [name, input] of Object.entries(inputs)) {
      if (isRecord(input) && input['type'] !== undefined && !isPrimitive(input['type'])) {
        this.field(input, 'path', join(prefix, `inputs.${name}`));
      }
    }
  }

  private component(spec: Record<string, unknown>, prefix: string): void {
    this.field(spec, 'code', prefix);
    this.environment(spec, 'environment', prefix);
    const includes = spec['additional_includes'];
    if (Array.isArray(includes)) {
      includes.forEach((item, i) => {
        if (typeof item === 'string') includes[i] = this.resolve(item, join(prefix, `additional_includes.${i}`));
      });
    }
    const task = spec['task'];
    if (isRecord(task)) {
      this.field(task, 'code', join(prefix, 'task'));
      this.environment(task, 'environment', join(prefix, 'task'));
    }
    this.nodes(spec, prefix);
  }

  private job(spec: Record<string, unknown>): void {
    switch (spec['type']) {
      case 'command':
      case 'spark':
        this.field(spec, 'code', '');
        this.environment(spec, 'environment', '');
        this.inputs(spec, '');
        return;
      case 'sweep': {
        const trial = spec['trial'];
        if (isRecord(trial)) {
          this.field(trial, 'code', 'trial');
          this.environment(trial, 'environment', 'trial');
        }
        this.inputs(spec, '');
        return;
      }
      case 'automl':
        this.automlData(spec, '');
        return;
      case 'pipeline':
        this.inputs(spec, '');
        this.field(spec, 'component', '');
        this.nodes(spec, '');
        return;
    }
  }

  private automlData(spec: Record<string, unknown>, prefix: string): void {
    for (const key of ['training_data', 'validation_data', 'test_data']) {
      const data = spec[key];
      if (isRecord(data)) this.field(data, 'path', join(prefix, key));
    }
  }

  /** `jobs:` of a pipeline job or pipeline component. */
  private nodes(spec: Record<string, unknown>, prefix: string): void {
    const jobs = spec['jobs'];
    if (!isRecord(jobs)) return;
    for (const [name, node] of Object.entries(jobs)) {
      if (!isRecord(node)) continue;
      const at = join(prefix, `jobs.${name}`);
      this.inputs(node, at);
      if (node['type'] === 'automl') {
        this.automlData(node, at);
        continue;
      }
      for (const key of ['component', 'trial']) {
        const ref = node[key];
        if (typeof ref === 'string') this.field(node, key, at);
        else if (isRecord(ref)) this.component(ref, join(at, key));
      }
      this.field(node, 'code', at);
      this.environment(node, 'environment', at);
      const task = node['task'];
      if (isRecord(task)) {
        this.field(task, 'code', join(at, 'task'));
        this.environment(task, 'environment', join(at, 'task'));
      }
    }
  }
}

function isPrimitive(type: unknown): boolean {
  return type === 'string' || type === 'integer' || type === 'number' || type === 'boolean';
}

function join(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix}.${key}`;
}
