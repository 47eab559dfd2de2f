import { z } from 'zod';
import { byShape, isRecord, properties, yamlBoolean, yamlCount, yamlInt, yamlNumber } from './common.js';

/**
 * MLTable files: where a table's files are (`paths:`, relative to the MLTable file's folder or
 * absolute URIs) and the transformations that turn them into rows. Data assets of type `mltable`
 * point at the folder that holds one.
 */

/** One entry of `paths:` — a file, a folder, or a glob pattern. */
export const mltablePath = byShape(
  [
    z.strictObject({ file: z.string().min(1) }),
    z.strictObject({ folder: z.string().min(1) }),
    z.strictObject({ pattern: z.string().min(1) }),
  ],
  (v) =>
    isRecord(v) && 'folder' in v
      ? z.strictObject({ folder: z.string().min(1) })
      : isRecord(v) && 'pattern' in v
        ? z.strictObject({ pattern: z.string().min(1) })
        : z.strictObject({ file: z.string().min(1) }),
);

const encoding = z.enum(['utf8', 'iso88591', 'latin1', 'ascii', 'utf16', 'utf32', 'utf8bom', 'windows1252']);
const headerMode = z.enum(['no_header', 'from_first_file', 'all_files_different_headers', 'all_files_same_headers']);
const columns = z.union([z.string(), z.array(z.string())]);

const readDelimited = z.strictObject({
  delimiter: z.string().optional(),
  encoding: encoding.optional(),
  header: headerMode.optional(),
  empty_as_string: yamlBoolean.optional(),
  include_path_column: yamlBoolean.optional(),
  infer_column_types: yamlBoolean.optional(),
  path_column: z.string().optional(),
  support_multi_line: yamlBoolean.optional(),
  partition_size: yamlCount.optional(),
});

const readParquet = z.strictObject({
  include_path_column: yamlBoolean.optional(),
  path_column: z.string().optional(),
});

const readJsonLines = z.strictObject({
  encoding: encoding.optional(),
  include_path_column: yamlBoolean.optional(),
  path_column: z.string().optional(),
  invalid_lines: z.enum(['error', 'drop']).optional(),
  partition_size: yamlCount.optional(),
});

const columnType = z.union([
  z.enum(['int', 'float', 'string', 'boolean', 'stream_info']),
  z.strictObject({ datetime: z.strictObject({ formats: z.array(z.string()) }) }),
  z.strictObject({
    boolean: z.strictObject({
      true_values: z.array(z.string()).optional(),
      false_values: z.array(z.string()).optional(),
      mismatch_as: z.enum(['true', 'false', 'error']).optional(),
    }),
  }),
]);

/** Each transformation is a one-key mapping (`- read_delimited: {...}`) or, without options, its bare name. */
const TRANSFORMATIONS = {
  read_delimited: readDelimited,
  read_parquet: readParquet,
  read_json_lines: readJsonLines,
  read_delta_lake: z.strictObject({
    timestamp_as_of: z.string().optional(),
    version_as_of: yamlInt.optional(),
  }),
  take: yamlCount,
  take_random_sample: z.strictObject({ probability: yamlNumber, seed: yamlInt.optional() }),
  skip: yamlCount,
  drop_columns: columns,
  keep_columns: columns,
  filter: z.string(),
  convert_column_types: z.array(z.strictObject({ columns, column_type: columnType })),
  extract_columns_from_partition_format: z.union([z.string(), z.strictObject({ partition_format: z.string() })]),
} as const;

const transformation = z.union([
  z.enum(['read_delimited', 'read_parquet', 'read_json_lines', 'read_delta_lake']),
  z.strictObject(
    Object.fromEntries(Object.entries(TRANSFORMATIONS).map(([k, v]) => [k, v.optional()])) as {
      [K in keyof typeof TRANSFORMATIONS]: z.ZodOptional<(typeof TRANSFORMATIONS)[K]>;
    },
  ),
]);

export const mltableSpecSchema = z.strictObject({
  type: z.literal('mltable').optional(),
  paths: z.array(mltablePath).min(1),
  transformations: z.array(transformation).optional(),
  traits: z.strictObject({ index_columns: columns.optional(), timestamp_column: z.string().optional() }).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  properties: properties.optional(),
});
export type MLTableSpec = z.output<typeof mltableSpecSchema>;
