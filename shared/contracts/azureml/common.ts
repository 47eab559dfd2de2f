import { z } from 'zod';

/**
 * Building blocks shared by every Azure ML CLI v2 spec contract: YAML-tolerant scalars, names,
 * references, tags, identities, resources, distributions and the input/output entries of jobs and
 * components. All objects are strict: an unknown key is an error that names its path, never
 * silently dropped.
 */

// ---------------------------------------------------------------------------------------------
// Branch selection. zod's plain unions report every branch's failure; a spec author wants the one
// that matches what they wrote. `byType` picks the branch from the `type` key (case-insensitive,
// with az ml's default), `byShape` from a predicate; both keep their branches in a registry so
// that error reporting can suggest the keys of the chosen branch.
// ---------------------------------------------------------------------------------------------

export interface BranchInfo {
  /** The branch schema that `value` is validated against, if any. */
  pick(value: unknown): z.ZodType | undefined;
}

/** Schemas built by byType/byShape, with how they choose a branch (read by spec-error.ts). */
export const branchRegistry = new WeakMap<z.ZodType, BranchInfo>();

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

type Branches = Record<string, z.ZodType>;

export interface ByTypeOptions {
  /** The `type` assumed when the key is absent or null (az ml's default). */
  default?: string;
  /** Known values that Tessera does not support yet, with the reason shown to the user. */
  unsupported?: Record<string, string>;
  /** Discriminator key; `type` unless told. */
  key?: string;
}

/**
 * A union chosen by the (case-insensitive) `type` key. The parsed value carries the lower-case
 * `type`, including a defaulted one, so consumers can switch on it.
 */
export function byType<B extends Branches>(branches: B, options: ByTypeOptions = {}) {
  const key = options.key ?? 'type';
  const names = Object.keys(branches);
  const normalise = (value: unknown): unknown => {
    if (!isRecord(value)) return value;
    const t = value[key];
    if (typeof t === 'string') return { ...value, [key]: t.trim().toLowerCase() };
    if ((t === undefined || t === null) && options.default !== undefined) return { ...value, [key]: options.default };
    return value;
  };
  const schema = z.unknown().transform((raw, ctx): z.output<B[keyof B]> => {
    const value = normalise(raw);
    if (!isRecord(value)) {
      ctx.issues.push({ code: 'invalid_type', expected: 'object', input: raw, message: 'expected a mapping' });
      return z.NEVER;
    }
    const t = value[key];
    if (t === undefined || t === null) {
      ctx.issues.push({
        code: 'invalid_type',
        expected: 'string',
        input: undefined,
        path: [key],
        message: `required key is missing (one of ${names.join(', ')})`,
      });
      return z.NEVER;
    }
    if (typeof t !== 'string') {
      ctx.issues.push({
        code: 'invalid_type',
        expected: 'string',
        input: t,
        path: [key],
        message: 'expected a string',
      });
      return z.NEVER;
    }
    const branch = branches[t];
    if (branch === undefined) {
      const reason = options.unsupported?.[t];
      if (reason !== undefined) {
        ctx.issues.push({ code: 'custom', input: t, path: [key], message: reason, params: { unsupported: true } });
      } else {
        ctx.issues.push({ code: 'invalid_value', values: names, input: t, path: [key], message: 'invalid option' });
      }
      return z.NEVER;
    }
    const result = branch.safeParse(value);
    if (!result.success) {
      for (const issue of result.error.issues) ctx.issues.push({ ...issue, input: undefined });
      return z.NEVER;
    }
    return result.data as z.output<B[keyof B]>;
  });
  branchRegistry.set(schema, {
    pick: (value) => {
      const v = normalise(value);
      const t = isRecord(v) ? v[key] : undefined;
      return typeof t === 'string' ? branches[t] : undefined;
    },
  });
  return schema;
}

/** A union whose branch is chosen by looking at the value (`pick` returns the branch). */
export function byShape<S extends readonly z.ZodType[]>(branches: S, pick: (value: unknown) => S[number]) {
  const schema = z.unknown().transform((value, ctx): z.output<S[number]> => {
    const result = pick(value).safeParse(value);
    if (!result.success) {
      for (const issue of result.error.issues) ctx.issues.push({ ...issue, input: undefined });
      return z.NEVER;
    }
    return result.data as z.output<S[number]>;
  });
  branchRegistry.set(schema, { pick });
  return schema;
}

// ---------------------------------------------------------------------------------------------
// YAML-tolerant scalars. az ml (marshmallow) accepts 'True' for a boolean and "5" for an integer;
// so do we, and the parsed value has the proper JSON type.
// ---------------------------------------------------------------------------------------------

const TRUE_WORDS = new Set(['true', 'yes', 'on', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'off', '0']);

function toBoolean(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return value;
}

function toNumber(value: unknown): unknown {
  if (typeof value !== 'string' || value.trim() === '') return value;
  const n = Number(value.trim());
  return Number.isFinite(n) ? n : value;
}

/** A boolean; 'True', 'false', 'yes', 'off' (any case) are accepted as az ml accepts them. */
export const yamlBoolean = z.preprocess(toBoolean, z.boolean());

/** An integer; a numeric string ("5") is accepted. */
export const yamlInt = z.preprocess(toNumber, z.number().int());

/** A non-negative integer; a numeric string is accepted. */
export const yamlCount = z.preprocess(toNumber, z.number().int().nonnegative());

/** A number; a numeric string ("0.5") is accepted. */
export const yamlNumber = z.preprocess(toNumber, z.number());

/** A string; YAML numbers and booleans (`version: 1`, `year: 2021`) become their string form. */
export const yamlString = z.preprocess(
  (v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v),
  z.string(),
);

/** A non-empty string; YAML numbers become strings. */
export const nonEmptyString = z.preprocess(
  (v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v),
  z.string().min(1),
);

/** An enum compared case-insensitively (az ml's StringTransformedEnum); the result is lower case. */
export function ciEnum<const T extends readonly [string, ...string[]]>(values: T) {
  return z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), z.enum(values));
}

// ---------------------------------------------------------------------------------------------
// Names, versions, bindings and references.
// ---------------------------------------------------------------------------------------------

/**
 * An asset or resource name. Names become parts of references (`azureml:name:version`) and URLs, so
 * whitespace and the separators `: @ / \` are refused; anything else (including `<PLACEHOLDER>`
 * text that example scripts substitute) is left to the service.
 */
export const resourceName = nonEmptyString.pipe(referencePart());

/** An asset version. YAML may give a number (`version: 1`); it is normalised to the string "1". */
export const assetVersion = nonEmptyString.pipe(referencePart());

function referencePart() {
  return z
    .string()
    .max(255)
    .regex(/^[^\s:@/\\]+$/, 'must not contain whitespace or any of : @ / \\');
}

/** A `${{...}}` data binding, kept verbatim as a string; it is resolved when the job runs. */
export const BINDING_PATTERN = /^\$\{\{\s*[^{}]+?\s*\}\}$/;
export const binding = z.string().regex(BINDING_PATTERN, 'expected a ${{...}} binding');

/**
 * A reference to something stored elsewhere: `azureml:name:version`, `azureml:name@label`,
 * `azureml://...`, an ARM id, a URL, or a local path (made absolute by the loader). Validated in
 * depth where it is used (shared/domain/azureml/references.ts); here it is a non-empty string.
 */
export const reference = z.string().min(1);

/** A compute target: `azureml:cpu-cluster`, `cpu-cluster`, `local`, or an ARM id. */
export const computeTarget = nonEmptyString;

const stringValue = z.preprocess(
  (v) => (v === null || v === undefined ? '' : typeof v === 'number' || typeof v === 'boolean' ? String(v) : v),
  z.string(),
);

/** `tags:` — string to string; scalar values are turned into strings, a missing value into "". */
export const tags = z.record(z.string(), stringValue);
/** `properties:` — string to string, as tags. */
export const properties = z.record(z.string(), stringValue);
/** `environment_variables:` — string to string; `'True'` stays the string "True". */
export const environmentVariables = z.record(z.string(), stringValue);

/** Spark `conf:` and similar free-form settings: scalar values only. */
export const scalarMap = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

/** Keys every asset spec may carry. */
export const assetMetadata = {
  name: resourceName,
  version: assetVersion.optional(),
  description: z.string().optional(),
  tags: tags.optional(),
  properties: properties.optional(),
};

// ---------------------------------------------------------------------------------------------
// Identities.
// ---------------------------------------------------------------------------------------------

/** The identity a job runs as. `managed_identity` is the SDK's alias of `managed`. */
const managedIdentity = z.strictObject({
  type: z.enum(['managed', 'managed_identity']),
  client_id: z.string().optional(),
  object_id: z.string().optional(),
  msi_resource_id: z.string().optional(),
});
export const jobIdentity = byType({
  managed: managedIdentity,
  managed_identity: managedIdentity,
  aml_token: z.strictObject({ type: z.literal('aml_token') }),
  user_identity: z.strictObject({ type: z.literal('user_identity') }),
});
export type JobIdentity = z.output<typeof jobIdentity>;

/** The managed identity of a resource (compute, endpoint). */
export const resourceIdentity = z.strictObject({
  type: ciEnum(['system_assigned', 'user_assigned', 'system_assigned,user_assigned', 'none']),
  user_assigned_identities: z
    .array(
      z.strictObject({
        resource_id: z.string().min(1),
        client_id: z.string().optional(),
        principal_id: z.string().optional(),
      }),
    )
    .optional(),
});

// ---------------------------------------------------------------------------------------------
// Resources, distribution, limits, services, queue settings.
// ---------------------------------------------------------------------------------------------

/** `resources:` of a command job or component: how many nodes of which size. */
export const jobResources = z.strictObject({
  instance_count: yamlCount.optional(),
  instance_type: z.union([z.string(), z.array(z.string())]).optional(),
  shm_size: yamlString.optional(),
  docker_args: z.union([z.string(), z.array(z.string())]).optional(),
  max_instance_count: yamlCount.optional(),
  locations: z.array(z.string()).optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
});
export type JobResources = z.output<typeof jobResources>;

/** `resources:` of a Spark job or node: a serverless Spark pool size and runtime. */
export const sparkResources = z.strictObject({
  instance_type: z.string().min(1),
  runtime_version: yamlString,
});

/** `distribution:` — how a multi-node or multi-process job is launched. */
export const distribution = byType({
  pytorch: z.strictObject({ type: z.literal('pytorch'), process_count_per_instance: yamlCount.optional() }),
  mpi: z.strictObject({ type: z.literal('mpi'), process_count_per_instance: yamlCount.optional() }),
  tensorflow: z.strictObject({
    type: z.literal('tensorflow'),
    worker_count: yamlCount.optional(),
    parameter_server_count: yamlCount.optional(),
  }),
  ray: z.strictObject({
    type: z.literal('ray'),
    port: yamlCount.optional(),
    address: z.string().optional(),
    include_dashboard: yamlBoolean.optional(),
    dashboard_port: yamlCount.optional(),
    head_node_additional_args: z.string().optional(),
    worker_node_additional_args: z.string().optional(),
  }),
});
export type Distribution = z.output<typeof distribution>;

/** `limits:` of a command job: wall-clock timeout in seconds. */
export const commandJobLimits = z.strictObject({ timeout: yamlCount.optional() });

/** `services:` — interactive endpoints a job exposes while it runs. */
export const jobService = z.strictObject({
  type: ciEnum(['jupyter_lab', 'ssh', 'tensor_board', 'vs_code', 'custom']).optional(),
  job_service_type: z.string().optional(),
  nodes: z.string().optional(),
  port: yamlCount.optional(),
  log_dir: z.string().optional(),
  ssh_public_keys: z.string().optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
});

/** `queue_settings:` — job tier and priority. */
export const queueSettings = z.strictObject({
  job_tier: ciEnum(['null', 'spot', 'basic', 'standard', 'premium']).optional(),
  priority: ciEnum(['low', 'medium', 'high']).optional(),
});

/** The notice a job with `queue_settings` gets: they are accepted, and nothing here reads them. */
export const QUEUE_SETTINGS_NOTICE = 'queue_settings has no effect: Tessera has no job tiers or priorities.';

// ---------------------------------------------------------------------------------------------
// Inputs and outputs.
// ---------------------------------------------------------------------------------------------

export const DATA_TYPES = ['uri_file', 'uri_folder', 'mltable'] as const;
export const MODEL_TYPES = ['custom_model', 'mlflow_model', 'triton_model'] as const;
export const ASSET_IO_TYPES = [...DATA_TYPES, ...MODEL_TYPES] as const;
export const PRIMITIVE_TYPES = ['string', 'integer', 'number', 'boolean'] as const;
export const INPUT_MODES = ['ro_mount', 'download', 'direct', 'eval_mount', 'eval_download'] as const;
export const OUTPUT_MODES = ['rw_mount', 'upload', 'direct', 'mount'] as const;

/** A literal value: `learning_rate: 0.01`, `name: x`, `flag: true`, or a `${{...}}` binding string. */
export const literalValue = z.union([z.string(), z.number(), z.boolean()]);
export type LiteralValue = z.output<typeof literalValue>;

/**
 * A data or model input of a job or pipeline node: where the data is and how it reaches the job.
 * `type` defaults to uri_folder as in az ml. `path` is an asset reference, URL, datastore URI,
 * `${{...}}` binding, or local path (made absolute by the loader).
 */
export const assetInput = z.strictObject({
  type: ciEnum(ASSET_IO_TYPES).default('uri_folder'),
  path: reference.optional(),
  mode: ciEnum(INPUT_MODES).optional(),
  datastore: z.string().optional(),
  description: z.string().optional(),
  optional: yamlBoolean.optional(),
});
export type AssetInput = z.output<typeof assetInput>;

/** A literal input written out in full: `{type: integer, value: 3}` or `{value: 42}`. */
export const literalInput = z.strictObject({
  type: ciEnum(PRIMITIVE_TYPES).optional(),
  value: literalValue.optional(),
  default: literalValue.optional(),
  description: z.string().optional(),
  optional: yamlBoolean.optional(),
});
export type LiteralInput = z.output<typeof literalInput>;

function isPrimitiveObject(value: unknown): boolean {
  if (!isRecord(value)) return false;
  const t = value['type'];
  if (typeof t === 'string') return (PRIMITIVE_TYPES as readonly string[]).includes(t.trim().toLowerCase());
  return !('path' in value) && !('mode' in value) && ('value' in value || 'default' in value);
}

/** One entry of a job's or node's `inputs:` — a literal, a literal written out, or a data/model input. */
export const jobInput = byShape([literalValue, literalInput, assetInput], (v) =>
  !isRecord(v) ? literalValue : isPrimitiveObject(v) ? literalInput : assetInput,
);
export type JobInput = z.output<typeof jobInput>;

/** `inputs:` of a job or pipeline node. */
export const jobInputs = z.record(z.string(), jobInput);

/**
 * One entry of a job's `outputs:`: where the output goes and how it is written. A null entry
 * (`model_output:` with nothing after it) is an output with every default, normalised to `{}`.
 */
export const jobOutputObject = z.strictObject({
  type: ciEnum(ASSET_IO_TYPES).optional(),
  path: reference.optional(),
  mode: ciEnum(OUTPUT_MODES).optional(),
  name: resourceName.optional(),
  version: assetVersion.optional(),
  description: z.string().optional(),
  datastore: z.string().optional(),
});
export const jobOutput = z.preprocess((v) => (v === null ? {} : v), jobOutputObject);
export type JobOutput = z.output<typeof jobOutput>;

/** `outputs:` of a job. */
export const jobOutputs = z.record(z.string(), jobOutput);

/** An output of a pipeline node: a full output, or a binding to the parent's output. */
export const nodeOutput = byShape([binding, jobOutput], (v) => (typeof v === 'string' ? binding : jobOutput));
export const nodeOutputs = z.record(z.string(), nodeOutput);

/** A primitive input port of a component: a parameter with a type, default, range or choices. */
export const primitiveInputPort = z.strictObject({
  type: ciEnum(PRIMITIVE_TYPES),
  default: literalValue.optional(),
  optional: yamlBoolean.optional(),
  description: z.string().optional(),
  min: yamlNumber.optional(),
  max: yamlNumber.optional(),
  enum: z.array(literalValue).optional(),
});

/** A data or model input port of a component. `path` is az ml's legacy name of uri_folder. */
export const assetInputPort = z.strictObject({
  type: ciEnum([...ASSET_IO_TYPES, 'path']),
  optional: yamlBoolean.optional(),
  description: z.string().optional(),
  mode: ciEnum(INPUT_MODES).optional(),
  default: reference.optional(),
  datastore: z.string().optional(),
});

/** One entry of a component's `inputs:`. */
export const inputPort = byShape([primitiveInputPort, assetInputPort], (v) =>
  isPrimitiveObject(v) ? primitiveInputPort : assetInputPort,
);
export type InputPort = z.output<typeof inputPort>;

/**
 * One entry of a component's `outputs:`. Primitive outputs exist only as control outputs
 * (`is_control: true`) that drive do_while / if_else nodes.
 */
export const outputPort = z.preprocess(
  (v) => (v === null ? {} : v),
  z.strictObject({
    type: ciEnum([...ASSET_IO_TYPES, ...PRIMITIVE_TYPES, 'path']).default('uri_folder'),
    description: z.string().optional(),
    mode: ciEnum(OUTPUT_MODES).optional(),
    is_control: yamlBoolean.optional(),
    early_available: yamlBoolean.optional(),
    path: reference.optional(),
  }),
);
export type OutputPort = z.output<typeof outputPort>;
