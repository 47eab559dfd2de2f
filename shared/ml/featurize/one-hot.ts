/**
 * One-hot encoding with a cap: the `maxCategories` most frequent training categories (ties by
 * text) each get a column, and one more column, `<col>=__other__`, is 1 for everything else: rare
 * training categories beyond the cap and categories never seen in training. Missing values are a
 * category of their own (`<col>=__missing__`, kept last) unless the column has an imputer.
 * ONNX: OneHotEncoder (ai.onnx.ml, cats_strings, zeros=1), and __other__ = 1 − ReduceSum.
 */
import type { OnnxGraphBuilder } from '../onnx/builder.js';
import type { Column } from '../types.js';
import { countKeys, keyLabel, MISSING, rankKeys } from './category-keys.js';
import type { CategoryKeys } from './category-keys.js';
import type { ColumnTransform, FittedColumn } from './column-transform.js';
import { binary, concatColumns, floatScalar, rowSum } from './onnx-ops.js';

export const DEFAULT_MAX_ONE_HOT_CATEGORIES = 32;

export function fitOneHot(
  name: string,
  column: Column,
  keys: CategoryKeys,
  options: { maxCategories?: number } = {},
): FittedColumn {
  const max = options.maxCategories ?? DEFAULT_MAX_ONE_HOT_CATEGORIES;
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxCategories must be a positive integer; got ${max}`);
  const ranked = rankKeys(countKeys(keys.keysOf(column)));
  let cats = ranked.filter((k) => k !== MISSING).slice(0, ranked.includes(MISSING) ? max - 1 : max);
  if (ranked.includes(MISSING)) cats = [...cats, MISSING];
  return { transform: new OneHotTransform(name, column.kind, keys, cats) };
}

export class OneHotTransform implements ColumnTransform {
  readonly transformer = 'OneHotEncoder';
  readonly encoding;
  readonly featureNames: readonly string[];
  private readonly index: Map<string, number>;

  constructor(
    readonly column: string,
    readonly storage: Column['kind'],
    readonly keys: CategoryKeys,
    readonly categories: readonly string[],
  ) {
    this.encoding = keys.storage === 'string' ? ('string' as const) : ('float32' as const);
    this.index = new Map(categories.map((c, i) => [c, i]));
    this.featureNames = [...categories.map((c) => `${column}=${keyLabel(c)}`), `${column}=__other__`];
  }

  write(column: Column, out: Float64Array, stride: number, offset: number): void {
    const k = this.categories.length;
    const rowKeys = this.keys.keysOf(column);
    for (let r = 0; r < rowKeys.length; r++) {
      const base = r * stride + offset;
      for (let j = 0; j <= k; j++) out[base + j] = 0;
      const at = this.index.get(rowKeys[r] as string);
      out[base + (at ?? k)] = 1;
    }
  }

  exportOnnx(g: OnnxGraphBuilder, input: string): string {
    const ind = this.keys.indicators(g, input, this.categories);
    const other = binary(g, 'Sub', floatScalar(g, 1), rowSum(g, ind));
    return concatColumns(g, [ind, other]);
  }
}
