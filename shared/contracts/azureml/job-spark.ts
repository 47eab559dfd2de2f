import { z } from 'zod';
import {
  byShape,
  isRecord,
  jobInputs,
  jobOutputs,
  reference,
  scalarMap,
  sparkResources,
  yamlBoolean,
  yamlCount,
} from './common.js';
import { environmentField } from './environment.js';
import { baseJobFields } from './job-command.js';

/**
 * Spark jobs: a PySpark file (or JVM class) run on a Spark pool — serverless (`resources:`) or an
 * attached Synapse pool (`compute:`). Driver and executor sizes are given either as keys or in
 * `conf:` (`spark.executor.cores: 2`).
 */

/** `entry:` — the Python file (relative to `code`) or the JVM class to run. */
export const sparkEntry = byShape(
  [z.strictObject({ file: z.string().min(1) }), z.strictObject({ class_name: z.string().min(1) })],
  (v) =>
    isRecord(v) && 'class_name' in v
      ? z.strictObject({ class_name: z.string().min(1) })
      : z.strictObject({ file: z.string().min(1) }),
);

/** The keys that say what Spark runs and with how much: shared by Spark jobs, components and nodes. */
export const sparkFields = {
  code: reference.optional(),
  entry: sparkEntry.optional(),
  py_files: z.array(z.string()).optional(),
  jars: z.array(z.string()).optional(),
  files: z.array(z.string()).optional(),
  archives: z.array(z.string()).optional(),
  conf: scalarMap.optional(),
  args: z.string().optional(),
  environment: environmentField.optional(),
  driver_cores: yamlCount.optional(),
  driver_memory: z.string().optional(),
  executor_cores: yamlCount.optional(),
  executor_memory: z.string().optional(),
  executor_instances: yamlCount.optional(),
  dynamic_allocation_enabled: yamlBoolean.optional(),
  dynamic_allocation_min_executors: yamlCount.optional(),
  dynamic_allocation_max_executors: yamlCount.optional(),
};

export const sparkJobSchema = z.strictObject({
  type: z.literal('spark'),
  ...baseJobFields,
  ...sparkFields,
  code: reference,
  entry: sparkEntry,
  resources: sparkResources.optional(),
  inputs: jobInputs.optional(),
  outputs: jobOutputs.optional(),
});
export type SparkJobSpec = z.output<typeof sparkJobSchema>;
