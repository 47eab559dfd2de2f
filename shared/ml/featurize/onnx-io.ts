/**
 * The raw inputs of a featurizer's ONNX graph: one per raw column it reads, named like the column,
 * typed by how the column travels (column-transform.ts, InputEncoding), and the feeds that carry a
 * table's rows into them. A model's scorer builds its feeds with `toOnnxFeeds`, so missing values
 * and text tokens reach the graph exactly as the TypeScript transform sees them.
 */
import type { RuntimeTensor } from '../../ports/model-runtime.js';
import type { Dim, OnnxGraphBuilder, TensorElementType } from '../onnx/builder.js';
import type { Column, Table } from '../types.js';
import type { InputEncoding } from './column-transform.js';
import { tokenize } from './text.js';

export interface OnnxInputSpec {
  /** Raw column, and the graph input's name. */
  column: string;
  encoding: InputEncoding;
  type: TensorElementType;
  shape: readonly Dim[];
}

export function inputSpec(column: string, encoding: InputEncoding): OnnxInputSpec {
  switch (encoding) {
    case 'float32':
      return { column, encoding, type: 'float', shape: ['N', 1] };
    case 'epoch-ms':
      return { column, encoding, type: 'double', shape: ['N', 1] };
    case 'string':
      return { column, encoding, type: 'string', shape: ['N', 1] };
    case 'tokens':
      return { column, encoding, type: 'string', shape: ['N', `${column}:tokens`] };
  }
}

/** Declares the inputs on `g`; returns column → graph input name (what exportOnnx takes). */
export function declareOnnxInputs(g: OnnxGraphBuilder, specs: readonly OnnxInputSpec[]): Map<string, string> {
  return new Map(specs.map((s) => [s.column, g.input(s.column, s.type, s.shape)]));
}

/** The feeds of `specs` from the table's columns, for a ModelSession (shared/ports/model-runtime.ts). */
export function toOnnxFeeds(table: Table, specs: readonly OnnxInputSpec[]): Record<string, RuntimeTensor> {
  const byName = new Map(table.columns.map((c) => [c.name, c]));
  const feeds: Record<string, RuntimeTensor> = {};
  for (const spec of specs) {
    const column = byName.get(spec.column);
    if (column === undefined) throw new TypeError(`table has no column '${spec.column}'`);
    feeds[spec.column] = toFeed(column, spec, table.rows);
  }
  return feeds;
}

function toFeed(column: Column, spec: OnnxInputSpec, rows: number): RuntimeTensor {
  switch (spec.encoding) {
    case 'float32':
      return { type: 'float', dims: [rows, 1], data: Float32Array.from(column.values as Float64Array) };
    case 'epoch-ms':
      return { type: 'double', dims: [rows, 1], data: Float64Array.from(column.values as Float64Array) };
    case 'string':
      return {
        type: 'string',
        dims: [rows, 1],
        data: (column.values as readonly (string | null)[]).map((v) => v ?? ''),
      };
    case 'tokens': {
      const tokens = (column.values as readonly (string | null)[]).map(tokenize);
      let width = 1;
      for (const t of tokens) width = Math.max(width, t.length);
      const data = new Array<string>(rows * width).fill('');
      tokens.forEach((t, r) => t.forEach((tok, j) => (data[r * width + j] = tok)));
      return { type: 'string', dims: [rows, width], data };
    }
  }
}
