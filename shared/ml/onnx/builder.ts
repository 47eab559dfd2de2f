/**
 * Builds one ONNX model (a single graph, opsets ai.onnx and ai.onnx.ml) in memory and serializes
 * it to the protobuf bytes onnxruntime loads. Tensor names are unique within a graph (`fresh`).
 * Attribute values are typed explicitly, since ONNX tells INT from FLOAT attributes.
 */

export type TensorElementType = 'float' | 'double' | 'int64' | 'string' | 'bool';

/** A dimension: a fixed size or a symbolic one such as 'N'. */
export type Dim = number | string;

export interface TensorValue {
  type: TensorElementType;
  dims: number[];
  /** float/double: numbers; int64: numbers or bigints; string: strings; bool: booleans. */
  data: readonly number[] | readonly bigint[] | readonly string[] | readonly boolean[];
}

export type AttributeValue =
  | { f: number }
  | { i: number }
  | { s: string }
  | { floats: readonly number[] }
  | { ints: readonly number[] }
  | { strings: readonly string[] }
  | { t: TensorValue }
  /** A subgraph (Loop's body, If's branches), made with `OnnxGraphBuilder.subgraph`. */
  | { g: OnnxGraphBuilder };

/** Operator domains: '' is ai.onnx (the default domain). */
export type OnnxDomain = '' | 'ai.onnx.ml';

export interface OnnxGraphBuilder {
  /** Declares a graph input; returns its name. */
  input(name: string, type: TensorElementType, shape: readonly Dim[]): string;
  /** Declares a graph output (a tensor some node produces). */
  output(name: string, type: TensorElementType, shape: readonly Dim[]): void;
  /** A new tensor name not used yet in the graph, starting with `prefix`. */
  fresh(prefix: string): string;
  /** Adds a node; returns its outputs' names. */
  node(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attributes?: Readonly<Record<string, AttributeValue>>,
    domain?: OnnxDomain,
  ): readonly string[];
  /** Adds an initializer (a constant tensor); returns its name. */
  constant(prefix: string, value: TensorValue): string;
  /**
   * A subgraph for a control-flow node's graph attribute. Its nodes may read this graph's tensors
   * (outer scope); its names never repeat one of this graph's, as ONNX requires.
   */
  subgraph(name: string): OnnxGraphBuilder;
  /** Model metadata (doc strings, e.g. the manifest). */
  metadata(key: string, value: string): void;
  /** The serialized ModelProto (IR version 8, opset 17 for ai.onnx, 3 for ai.onnx.ml). */
  toBytes(): Uint8Array;
}
