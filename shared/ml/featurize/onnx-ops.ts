/**
 * Small helpers over OnnxGraphBuilder for the featurizers: typed scalar constants, Cast with the
 * TensorProto type codes, and the few ai.onnx patterns every transformer repeats.
 */
import type { OnnxGraphBuilder } from '../onnx/builder.js';

/** TensorProto.DataType codes (onnx.proto) that Cast's `to` takes. */
export const ONNX_FLOAT = 1;
export const ONNX_BOOL = 9;
export const ONNX_DOUBLE = 11;

export function cast(g: OnnxGraphBuilder, x: string, to: number, prefix = 'cast'): string {
  return one(g.node('Cast', [x], [g.fresh(prefix)], { to: { i: to } }));
}

export function floatScalar(g: OnnxGraphBuilder, value: number, prefix = 'c'): string {
  return g.constant(prefix, { type: 'float', dims: [], data: [value] });
}

export function doubleScalar(g: OnnxGraphBuilder, value: number, prefix = 'c'): string {
  return g.constant(prefix, { type: 'double', dims: [], data: [value] });
}

export function int64s(g: OnnxGraphBuilder, values: readonly number[], prefix = 'i'): string {
  return g.constant(prefix, { type: 'int64', dims: [values.length], data: values });
}

/** A binary ai.onnx op (Add, Sub, Mul, Div, Max, Equal, MatMul...). */
export function binary(g: OnnxGraphBuilder, op: string, a: string, b: string, prefix?: string): string {
  return one(g.node(op, [a, b], [g.fresh(prefix ?? op.toLowerCase())]));
}

export function unary(g: OnnxGraphBuilder, op: string, x: string, prefix?: string): string {
  return one(g.node(op, [x], [g.fresh(prefix ?? op.toLowerCase())]));
}

/** Concatenates along axis 1; one input is passed through. */
export function concatColumns(g: OnnxGraphBuilder, parts: readonly string[], prefix = 'concat'): string {
  if (parts.length === 1) return parts[0] as string;
  return one(g.node('Concat', parts, [g.fresh(prefix)], { axis: { i: 1 } }));
}

/** Sums along axis 1, keeping it: [N,K] → [N,1]. */
export function rowSum(g: OnnxGraphBuilder, x: string): string {
  return one(g.node('ReduceSum', [x, int64s(g, [1], 'axes')], [g.fresh('rowsum')], { keepdims: { i: 1 } }));
}

/** float [N,1] 1 where `x` is NaN, else 0. */
export function nanIndicator(g: OnnxGraphBuilder, x: string): string {
  return cast(g, unary(g, 'IsNaN', x), ONNX_FLOAT, 'missing');
}

/** Reshapes to [N, width]. */
export function toMatrix(g: OnnxGraphBuilder, x: string, width: number): string {
  return one(g.node('Reshape', [x, int64s(g, [-1, width], 'shape')], [g.fresh('reshape')]));
}

export function one(outputs: readonly string[]): string {
  const first = outputs[0];
  if (first === undefined) throw new TypeError('the node has no outputs');
  return first;
}
