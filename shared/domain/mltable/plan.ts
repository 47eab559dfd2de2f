import type { BooleanOptions } from './values.js';

/**
 * What an MLTable file asks for, checked and with every default filled in: where the files are,
 * how to read them, and the transformations after the read, in order. The reader executes it.
 */
export interface MLTablePlan {
  paths: PathSpec[];
  read: ReadStep;
  steps: TransformStep[];
  /** traits.timestamp_column / traits.index_columns, kept for consumers (forecasting). */
  traits: { timestampColumn?: string; indexColumns?: string[] };
}

/** A `paths:` entry: one file, every file under a folder (recursively), or a glob. Relative to the MLTable's folder. */
export interface PathSpec {
  kind: 'file' | 'folder' | 'pattern';
  value: string;
}

export const MLTABLE_ENCODINGS = [
  'utf8',
  'utf8bom',
  'ascii',
  'latin1',
  'iso88591',
  'windows1252',
  'utf16',
  'utf32',
] as const;
export type MLTableEncoding = (typeof MLTABLE_ENCODINGS)[number];

export const DELIMITED_HEADERS = [
  'all_files_same_headers',
  'all_files_different_headers',
  'from_first_file',
  'no_header',
] as const;
export type DelimitedHeader = (typeof DELIMITED_HEADERS)[number];

/** The column a read adds with each row's file URI when `include_path_column` is set (unless `path_column` names another). */
export const PATH_COLUMN = 'Path';

export type ReadStep =
  | {
      kind: 'delimited';
      delimiter: string;
      header: DelimitedHeader;
      encoding: MLTableEncoding;
      /** Keep empty fields as '' in string columns (otherwise they are null). */
      emptyAsString: boolean;
      includePathColumn: boolean;
      pathColumn: string;
      inferColumnTypes: boolean;
      /**
       * Whether quoted fields may span lines. Tessera's parser always accepts them, so false
       * reads such files too (Azure ML would split the record).
       */
      supportMultiLine: boolean;
    }
  | {
      kind: 'json_lines';
      encoding: MLTableEncoding;
      includePathColumn: boolean;
      pathColumn: string;
      invalidLines: 'error' | 'drop';
    }
  | { kind: 'parquet'; includePathColumn: boolean; pathColumn: string }
  /** No read transformation: the table is the list of files, one row each, in column `Path`. */
  | { kind: 'paths' };

export type ColumnConversion =
  | { type: 'int' | 'float' | 'string' }
  | { type: 'boolean'; boolean: BooleanOptions }
  | { type: 'datetime'; formats: string[] };

export type TransformStep =
  | { kind: 'take'; count: number }
  | { kind: 'skip'; count: number }
  | { kind: 'take_random_sample'; probability: number; seed?: number }
  | { kind: 'drop_columns'; columns: string[] }
  | { kind: 'keep_columns'; columns: string[] }
  | { kind: 'convert_column_types'; conversions: { columns: string[]; to: ColumnConversion }[] }
  | { kind: 'extract_columns_from_partition_format'; format: string };
