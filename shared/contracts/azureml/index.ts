import type { z } from 'zod';
import { byType, isRecord } from './common.js';
import { commandComponentSchema, parallelComponentSchema, sparkComponentSchema } from './component.js';
import { computeSpecSchema } from './compute.js';
import type { ComputeSpec } from './compute.js';
import { dataSpecSchema } from './data.js';
import type { DataSpec } from './data.js';
import { datastoreSpecSchema } from './datastore.js';
import type { DatastoreSpec } from './datastore.js';
import { environmentSpecSchema } from './environment.js';
import type { EnvironmentSpec } from './environment.js';
import { automlJobSchema } from './job-automl.js';
import { commandJobSchema } from './job-command.js';
import { pipelineComponentSchema, pipelineJobSchema } from './job-pipeline.js';
import { sparkJobSchema } from './job-spark.js';
import { sweepJobSchema } from './job-sweep.js';
import { mltableSpecSchema } from './mltable.js';
import type { MLTableSpec } from './mltable.js';
import { modelSpecSchema } from './model.js';
import { onlineDeploymentSpecSchema, onlineEndpointSpecSchema } from './online.js';
import type { OnlineDeploymentSpec, OnlineEndpointSpec } from './online.js';
import type { ModelSpec } from './model.js';
import { SpecError, specErrorFromZod } from './spec-error.js';

/**
 * Azure ML CLI v2 spec contracts: the zod schemas that YAML specs (after loading) and REST request
 * bodies are validated with. Keys are snake_case exactly as in YAML, `$schema` is removed, and
 * local paths have been made absolute (`file:/...`) by the loader (shared/domain/azureml/spec-loader.ts).
 */

/** Kinds of asset Tessera stores, versioned or named (what `az ml <kind> create` makes). */
export type AssetKind = 'datastore' | 'data' | 'model' | 'environment' | 'component' | 'compute';
/** Job kinds Tessera validates; `type` of a job spec (a job with no `type` is a command job). */
export type JobKind = 'command' | 'sweep' | 'pipeline' | 'automl' | 'spark';
/** Online endpoint kinds (`az ml online-endpoint create`, `az ml online-deployment create`). */
export type OnlineKind = 'onlineEndpoint' | 'onlineDeployment';
/**
 * What a spec file is: an asset, a job, an online endpoint or deployment, or an MLTable file (the
 * `MLTable` file inside the folder of a data asset of type mltable, loaded to read the table it
 * describes).
 */
export type SpecKind = AssetKind | 'job' | 'mltable' | OnlineKind;

export const ASSET_KINDS: readonly AssetKind[] = ['datastore', 'data', 'model', 'environment', 'component', 'compute'];
export const JOB_KINDS: readonly JobKind[] = ['command', 'sweep', 'pipeline', 'automl', 'spark'];
export const ONLINE_KINDS: readonly OnlineKind[] = ['onlineEndpoint', 'onlineDeployment'];
export const SPEC_KINDS: readonly SpecKind[] = [...ASSET_KINDS, 'job', 'mltable', ...ONLINE_KINDS];

/** A component of any kind, chosen by `type` (command when absent, as in az ml). */
export const componentSpecSchema = byType(
  {
    command: commandComponentSchema,
    pipeline: pipelineComponentSchema,
    spark: sparkComponentSchema,
    parallel: parallelComponentSchema,
  },
  {
    default: 'command',
    unsupported: {
      data_transfer: 'data transfer components are not supported by Tessera yet',
      import: 'import components are not supported by Tessera yet',
      flow: 'prompt flow components are not supported by Tessera yet',
    },
  },
);
export type ComponentSpec = z.output<typeof componentSpecSchema>;

/** A job of any kind, chosen by `type` (command when absent, as in az ml). */
export const jobSpecSchema = byType(
  {
    command: commandJobSchema,
    sweep: sweepJobSchema,
    pipeline: pipelineJobSchema,
    automl: automlJobSchema,
    spark: sparkJobSchema,
  },
  {
    default: 'command',
    unsupported: {
      finetuning: 'fine-tuning jobs are not supported by Tessera yet',
      distillation: 'distillation jobs are not supported by Tessera yet',
      data_transfer: 'data transfer jobs are not supported by Tessera yet',
      import: 'import jobs are not supported by Tessera yet',
      parallel: 'parallel steps run only as nodes of a pipeline job, not as jobs of their own',
    },
  },
);
export type JobSpec = z.output<typeof jobSpecSchema>;

/** Asset spec schemas by kind: what the REST API validates request bodies with. */
export const assetSpecSchemas: Record<AssetKind, z.ZodType> = {
  datastore: datastoreSpecSchema,
  data: dataSpecSchema,
  model: modelSpecSchema,
  environment: environmentSpecSchema,
  component: componentSpecSchema,
  compute: computeSpecSchema,
};

/** Every spec schema by kind, jobs and MLTable files included. */
export const specSchemas: Record<SpecKind, z.ZodType> = {
  ...assetSpecSchemas,
  job: jobSpecSchema,
  mltable: mltableSpecSchema,
  onlineEndpoint: onlineEndpointSpecSchema,
  onlineDeployment: onlineDeploymentSpecSchema,
};

export type { DatastoreSpec, DataSpec, ModelSpec, EnvironmentSpec, ComputeSpec, MLTableSpec };

/** The parsed spec of each asset kind. */
export interface AssetSpecByKind {
  datastore: DatastoreSpec;
  data: DataSpec;
  model: ModelSpec;
  environment: EnvironmentSpec;
  component: ComponentSpec;
  compute: ComputeSpec;
}
export type AssetSpec = AssetSpecByKind[AssetKind];

/** The parsed spec of each spec kind. */
export interface SpecByKind extends AssetSpecByKind {
  job: JobSpec;
  mltable: MLTableSpec;
  onlineEndpoint: OnlineEndpointSpec;
  onlineDeployment: OnlineDeploymentSpec;
}

/**
 * Validates a spec of the given kind; throws a SpecError naming `source.file` (or "(request body)")
 * and the key path. A `$schema` key is dropped first: it says which schema the document follows,
 * it is not part of the spec.
 */
export function parseSpec<K extends SpecKind>(kind: K, value: unknown, source: { file?: string } = {}): SpecByKind[K] {
  const input = isRecord(value) && '$schema' in value ? withoutSchemaKey(value) : value;
  const schema = specSchemas[kind];
  const result = schema.safeParse(input);
  if (!result.success) {
    throw specErrorFromZod(result.error, { file: source.file ?? '(request body)', input, schema });
  }
  return result.data as SpecByKind[K];
}

/** Validates an asset spec of the given kind (a YAML document after loading, or a REST body). */
export function parseAssetSpec<K extends AssetKind>(
  kind: K,
  value: unknown,
  source: { file?: string } = {},
): AssetSpecByKind[K] {
  return parseSpec(kind, value, source);
}

function withoutSchemaKey(value: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...value };
  delete copy['$schema'];
  return copy;
}

export { SpecError };
export type { SpecErrorOptions } from './spec-error.js';
export type { CommandJobSpec } from './job-command.js';
export type { SweepJobSpec, SearchDistribution, SamplingAlgorithm, EarlyTermination } from './job-sweep.js';
export type { PipelineJobSpec, PipelineComponentSpec, PipelineNodeSpec } from './job-pipeline.js';
export type { AutomlJobSpec } from './job-automl.js';
export type { SparkJobSpec } from './job-spark.js';
export type { CommandComponentSpec, SparkComponentSpec, ParallelComponentSpec } from './component.js';
export type { DatastoreCredentials } from './datastore.js';
export type { JobInput, JobOutput, InputPort, OutputPort } from './common.js';
export type {
  OnlineEndpointSpec,
  OnlineDeploymentSpec,
  ManagedOnlineEndpointSpec,
  KubernetesOnlineEndpointSpec,
  ManagedOnlineDeploymentSpec,
  KubernetesOnlineDeploymentSpec,
} from './online.js';
