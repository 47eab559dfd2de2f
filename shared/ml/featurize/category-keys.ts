/**
 * How a categorical column's cells become category keys, in TypeScript and in the graph, for both
 * kinds of storage: strings (the usual case) and numbers (a numeric column declared Categorical in
 * `column_name_and_types`).
 *
 * A missing cell (null, '' or NaN) has the key MISSING (''), a category of its own, unless the
 * column has a categorical imputer: then it takes the fill value's key. Number keys are the
 * float32 value's decimal text, since the graph sees numbers as float32.
 *
 * The encoders ask the graph two things: indicators (a float [N,K] of key = cats[k]) and a lookup
 * (a float [N,1] of value[key], or a default for keys not in the table).
 */
import type { OnnxGraphBuilder } from '../onnx/builder.js';
import type { Column } from '../types.js';
import {
  binary,
  cast,
  concatColumns,
  floatScalar,
  nanIndicator,
  ONNX_FLOAT,
  one,
  rowSum,
  toMatrix,
  unary,
} from './onnx-ops.js';

export const MISSING = '';

export interface CategoryKeys {
  readonly storage: 'string' | 'number';
  /** The key missing cells take: MISSING, or the imputer's fill key. */
  readonly missingKey: string;
  /** The key of every row. */
  keysOf(column: Column): string[];
  /** float [N, cats.length]: 1 where the row's key is cats[k]. */
  indicators(g: OnnxGraphBuilder, input: string, cats: readonly string[]): string;
  /** float [N,1]: values[k] where the row's key is keys[k], else `otherwise` (all float32). */
  lookup(
    g: OnnxGraphBuilder,
    input: string,
    keys: readonly string[],
    values: readonly number[],
    otherwise: number,
  ): string;
}

/** Readable text of a key for feature names. */
export function keyLabel(key: string): string {
  return key === MISSING ? '__missing__' : key;
}

/** Keys of a string column; `fill` is what a missing cell becomes (undefined: MISSING). */
export function stringKeys(fill: string | undefined): CategoryKeys {
  const missingKey = fill ?? MISSING;
  return {
    storage: 'string',
    missingKey,
    keysOf(column) {
      const values = column.values as readonly (string | null)[];
      return values.map((v) => (v === null || v === '' ? missingKey : v));
    },
    indicators(g, input, cats) {
      // OneHotEncoder matches the raw strings; the graph gets missing cells as ''. When missing
      // cells take another key, '' gets its own column that MatMul folds into the fill's column
      // (or drops, when the fill is not among `cats`: then the row is in none of them).
      const fold = missingKey !== MISSING && !cats.includes(MISSING);
      const encoded = fold ? [...cats, MISSING] : [...cats];
      const onehot = toMatrix(
        g,
        one(
          g.node(
            'OneHotEncoder',
            [input],
            [g.fresh('onehot')],
            { cats_strings: { strings: encoded }, zeros: { i: 1 } },
            'ai.onnx.ml',
          ),
        ),
        encoded.length,
      );
      if (!fold) return onehot;
      const k = cats.length;
      const target = cats.indexOf(missingKey);
      const merge = new Array<number>((k + 1) * k).fill(0);
      for (let i = 0; i < k; i++) merge[i * k + i] = 1;
      if (target >= 0) merge[k * k + target] = 1;
      const m = g.constant('fold_missing', { type: 'float', dims: [k + 1, k], data: merge });
      return binary(g, 'MatMul', onehot, m);
    },
    lookup(g, input, keys, values, otherwise) {
      const k = [...keys];
      const v = [...values];
      if (missingKey !== MISSING && !k.includes(MISSING)) {
        const at = k.indexOf(missingKey);
        k.push(MISSING);
        v.push(at >= 0 ? (v[at] as number) : otherwise);
      }
      return one(
        g.node(
          'LabelEncoder',
          [input],
          [g.fresh('lookup')],
          { keys_strings: { strings: k }, values_floats: { floats: v }, default_float: { f: otherwise } },
          'ai.onnx.ml',
        ),
      );
    },
  };
}

/** Keys of a numeric column treated as categorical; `fill` is the float32 value missing cells take. */
export function numberKeys(fill: number | undefined): CategoryKeys {
  const missingKey = fill === undefined ? MISSING : String(Math.fround(fill));
  return {
    storage: 'number',
    missingKey,
    keysOf(column) {
      const values = column.values as Float64Array;
      const out = new Array<string>(values.length);
      for (let r = 0; r < values.length; r++) {
        const v = Math.fround(values[r] as number);
        out[r] = Number.isNaN(v) ? missingKey : String(v);
      }
      return out;
    },
    indicators(g, input, cats) {
      // Equal against a [1,K] row of the float32 category values; NaN equals nothing, so the
      // missing category (kept last by the encoders) is IsNaN, and an imputed column is
      // Where(IsNaN, fill, x) first.
      let x = input;
      if (fill !== undefined) {
        x = one(
          g.node(
            'Where',
            [unary(g, 'IsNaN', input), floatScalar(g, Math.fround(fill), 'fill'), input],
            [g.fresh('imputed')],
          ),
        );
      }
      const values = cats.filter((c) => c !== MISSING);
      const parts: string[] = [];
      if (values.length > 0) {
        const row = g.constant('cats', { type: 'float', dims: [1, values.length], data: values.map(Number) });
        parts.push(cast(g, binary(g, 'Equal', x, row), ONNX_FLOAT, 'onehot'));
      }
      if (cats.includes(MISSING)) {
        if (cats[cats.length - 1] !== MISSING) throw new TypeError('the missing category must come last');
        parts.push(nanIndicator(g, x));
      }
      return concatColumns(g, parts);
    },
    lookup(g, input, keys, values, otherwise) {
      const ordered = [...keys.filter((k) => k !== MISSING), ...keys.filter((k) => k === MISSING)];
      const byKey = new Map(keys.map((k, i) => [k, values[i] as number]));
      const ind = this.indicators(g, input, ordered);
      const table = g.constant('lookup', {
        type: 'float',
        dims: [ordered.length, 1],
        data: ordered.map((k) => byKey.get(k) as number),
      });
      // value = ind · table + (1 − Σ ind) · otherwise; ind has one 1 at most, so this is exact.
      const found = binary(g, 'MatMul', ind, table);
      const none = binary(g, 'Sub', floatScalar(g, 1), rowSum(g, ind));
      return binary(g, 'Add', found, binary(g, 'Mul', none, floatScalar(g, otherwise)));
    },
  };
}

/** Counts of each key, in first-seen order. */
export function countKeys(keys: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return counts;
}

/** Keys by count (descending), then by text; MISSING last. */
export function rankKeys(counts: ReadonlyMap<string, number>): string[] {
  return [...counts.keys()].sort((a, b) => {
    if (a === MISSING || b === MISSING) return a === MISSING ? (b === MISSING ? 0 : 1) : -1;
    const d = (counts.get(b) ?? 0) - (counts.get(a) ?? 0);
    return d !== 0 ? d : a < b ? -1 : a > b ? 1 : 0;
  });
}
