/**
 * Frequency encoding: a category becomes the share of training rows that have it (float32); a
 * category never seen in training becomes 0. Missing values are a category unless imputed.
 * ONNX: LabelEncoder (ai.onnx.ml, keys_strings → values_floats, default_float 0).
 */
import type { OnnxGraphBuilder } from '../onnx/builder.js';
import type { Column } from '../types.js';
import { countKeys } from './category-keys.js';
import type { CategoryKeys } from './category-keys.js';
import type { ColumnTransform, FittedColumn } from './column-transform.js';

export function fitFrequency(name: string, column: Column, keys: CategoryKeys): FittedColumn {
  const rowKeys = keys.keysOf(column);
  const counts = countKeys(rowKeys);
  const table = new Map<string, number>();
  for (const [k, c] of counts) table.set(k, Math.fround(c / rowKeys.length));
  return { transform: new FrequencyTransform(name, column.kind, keys, table) };
}

export class FrequencyTransform implements ColumnTransform {
  readonly transformer = 'FrequencyEncoder';
  readonly encoding;
  readonly featureNames: readonly string[];

  constructor(
    readonly column: string,
    readonly storage: Column['kind'],
    readonly keys: CategoryKeys,
    /** key → float32 share of training rows. */
    readonly table: ReadonlyMap<string, number>,
  ) {
    this.encoding = keys.storage === 'string' ? ('string' as const) : ('float32' as const);
    this.featureNames = [`${column}:frequency`];
  }

  write(column: Column, out: Float64Array, stride: number, offset: number): void {
    const rowKeys = this.keys.keysOf(column);
    for (let r = 0; r < rowKeys.length; r++) out[r * stride + offset] = this.table.get(rowKeys[r] as string) ?? 0;
  }

  exportOnnx(g: OnnxGraphBuilder, input: string): string {
    return this.keys.lookup(g, input, [...this.table.keys()], [...this.table.values()], 0);
  }
}
