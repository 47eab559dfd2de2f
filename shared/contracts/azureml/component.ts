import { z } from 'zod';
import {
  assetVersion,
  byType,
  distribution,
  environmentVariables,
  inputPort,
  jobResources,
  outputPort,
  properties,
  queueSettings,
  reference,
  resourceName,
  tags,
  yamlBoolean,
  yamlCount,
  yamlInt,
} from './common.js';
import { environmentField } from './environment.js';
import { sparkEntry, sparkFields } from './job-spark.js';

/**
 * Component specs (`az ml component create`): reusable, versioned steps with typed input and
 * output ports. This file holds the leaf kinds — command, Spark and parallel; pipeline components
 * (which contain nodes) live with pipelines in job-pipeline.ts, and index.ts joins them into
 * `componentSpecSchema`. A component without `name` is anonymous: it is only used inline.
 */

/** Keys every component has. `$schema` may remain on components written inline in a pipeline. */
export const componentMetadata = {
  $schema: z.string().optional(),
  name: resourceName.optional(),
  version: assetVersion.optional(),
  display_name: z.string().optional(),
  description: z.string().optional(),
  tags: tags.optional(),
  properties: properties.optional(),
  is_deterministic: yamlBoolean.optional(),
  inputs: z.record(z.string(), inputPort).optional(),
  outputs: z.record(z.string(), outputPort).optional(),
};

export const commandComponentSchema = z.strictObject({
  type: z.literal('command'),
  ...componentMetadata,
  command: z.string().min(1),
  code: reference.optional(),
  environment: environmentField,
  environment_variables: environmentVariables.optional(),
  resources: jobResources.optional(),
  distribution: distribution.optional(),
  queue_settings: queueSettings.optional(),
  additional_includes: z.array(z.string().min(1)).optional(),
  instance_count: yamlCount.optional(),
});
export type CommandComponentSpec = z.output<typeof commandComponentSchema>;

export const sparkComponentSchema = z.strictObject({
  type: z.literal('spark'),
  ...componentMetadata,
  ...sparkFields,
  code: reference,
  entry: sparkEntry,
  additional_includes: z.array(z.string().min(1)).optional(),
});
export type SparkComponentSpec = z.output<typeof sparkComponentSchema>;

/** `task:` of a parallel step: the entry script run once per mini-batch. */
export const parallelTask = z.strictObject({
  type: z.preprocess((v) => (v === undefined ? 'run_function' : v), z.enum(['run_function', 'function'])),
  code: reference.optional(),
  entry_script: z.string().min(1),
  program_arguments: z.string().optional(),
  environment: environmentField,
  append_row_to: z.string().optional(),
  model: z.string().optional(),
});

/** What a parallel step does and how it splits its input: shared by components and pipeline nodes. */
export const parallelFields = {
  task: parallelTask,
  input_data: z.string().optional(),
  mini_batch_size: z.union([z.string(), z.number()]).optional(),
  partition_keys: z.array(z.string()).optional(),
  resources: jobResources.optional(),
  retry_settings: z.strictObject({ max_retries: yamlCount.optional(), timeout: yamlCount.optional() }).optional(),
  max_concurrency_per_instance: yamlCount.optional(),
  error_threshold: yamlInt.optional(),
  mini_batch_error_threshold: yamlInt.optional(),
  logging_level: z.string().optional(),
  environment_variables: environmentVariables.optional(),
};

export const parallelComponentSchema = z.strictObject({
  type: z.literal('parallel'),
  ...componentMetadata,
  ...parallelFields,
});
export type ParallelComponentSpec = z.output<typeof parallelComponentSchema>;

/** A command component written inline in a pipeline node or sweep `trial:` (`type` defaults to command). */
export const inlineCommandComponent = byType({ command: commandComponentSchema }, { default: 'command' });
/** A Spark component written inline in a pipeline node. */
export const inlineSparkComponent = byType({ spark: sparkComponentSchema }, { default: 'spark' });
/** A parallel component written inline in a pipeline node. */
export const inlineParallelComponent = byType({ parallel: parallelComponentSchema }, { default: 'parallel' });
