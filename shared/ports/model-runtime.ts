/**
 * Runs exported models. A runtime loads the bytes of one ONNX model (as `shared/ml/onnx` writes
 * them) into a session; a session checks feeds against the inputs the graph declares, runs the
 * graph and returns every output. Tensors use the element-type names of the ONNX graph builder.
 */
import type { TensorElementType } from '../ml/onnx/builder.js';

/** A tensor crossing the runtime boundary; `data` is row-major and holds exactly prod(dims) elements. */
export type RuntimeTensor =
  | { type: 'float'; dims: readonly number[]; data: Float32Array }
  | { type: 'double'; dims: readonly number[]; data: Float64Array }
  | { type: 'int64'; dims: readonly number[]; data: BigInt64Array }
  | { type: 'string'; dims: readonly number[]; data: readonly string[] }
  /** One byte per element, 0 or 1. */
  | { type: 'bool'; dims: readonly number[]; data: Uint8Array };

/** An input or output as the graph declares it: symbolic dimensions are strings, unknown ones null. */
export interface ModelValueInfo {
  name: string;
  type: TensorElementType;
  shape: readonly (number | string | null)[];
}

export interface ModelSession {
  /** The graph's inputs, in declaration order. */
  inputs(): readonly ModelValueInfo[];
  /** The graph's outputs, in declaration order. */
  outputs(): readonly ModelValueInfo[];
  /**
   * Runs the graph. Every declared input must be fed, with its declared type and a shape that fits
   * the declared one; a feed that does not is a ValidationError naming the input.
   */
  run(feeds: Readonly<Record<string, RuntimeTensor>>): Promise<Record<string, RuntimeTensor>>;
  /** Releases the native session; further runs fail. Idempotent. */
  close(): Promise<void>;
}

export interface ModelRuntime {
  readonly kind: string;
  /** Loads a serialized ONNX model; bytes that are not a valid model are a ValidationError. */
  load(model: Uint8Array): Promise<ModelSession>;
}
