/** Small constructors for the constants that ai.onnx nodes take as inputs (axes, shapes, scalars). */
import type { OnnxGraphBuilder } from '../onnx/builder.js';

export function int64Constant(g: OnnxGraphBuilder, prefix: string, values: readonly number[]): string {
  return g.constant(prefix, { type: 'int64', dims: [values.length], data: values });
}

export function floatScalar(g: OnnxGraphBuilder, prefix: string, value: number): string {
  return g.constant(prefix, { type: 'float', dims: [], data: [value] });
}

export function floatTensor(g: OnnxGraphBuilder, prefix: string, dims: number[], values: ArrayLike<number>): string {
  return g.constant(prefix, { type: 'float', dims, data: Array.from(values) });
}

export function doubleTensor(g: OnnxGraphBuilder, prefix: string, dims: number[], values: ArrayLike<number>): string {
  return g.constant(prefix, { type: 'double', dims, data: Array.from(values) });
}

/** TensorProto element types, for Cast's `to`. */
const ELEMENT_TYPE = { float: 1, double: 11 } as const;

/** Cast `x` to float or double; returns the output's name. */
export function cast(g: OnnxGraphBuilder, x: string, to: keyof typeof ELEMENT_TYPE, prefix: string): string {
  return op(g, 'Cast', [x], prefix, { to: { i: ELEMENT_TYPE[to] } });
}

/** One node with one output named from `prefix`; returns the output's name. */
export function op(
  g: OnnxGraphBuilder,
  opType: string,
  inputs: readonly string[],
  prefix: string,
  attributes?: Parameters<OnnxGraphBuilder['node']>[3],
): string {
  const out = g.fresh(prefix);
  g.node(opType, inputs, [out], attributes);
  return out;
}
