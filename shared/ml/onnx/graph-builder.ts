/**
 * The OnnxGraphBuilder implementation: collects inputs, nodes, initializers and outputs in memory,
 * checks that the graph is well formed, and writes the ModelProto with `protobuf.ts`.
 *
 * Field numbers are those of onnx/onnx.proto (IR version 8). Nodes may be added in any order:
 * `toBytes()` sorts them topologically (keeping the order they were added where it can), as ONNX
 * requires, and reports every dangling reference at once in an `InvalidOnnxGraphError`.
 */
import type { AttributeValue, Dim, OnnxDomain, OnnxGraphBuilder, TensorElementType, TensorValue } from './builder.js';
import { ProtoWriter } from './protobuf.js';

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;
export const ONNX_ML_OPSET = 3;
export const ONNX_PRODUCER = 'tessera';

/** TensorProto.DataType values. */
export const ONNX_DATA_TYPE: Readonly<Record<TensorElementType, number>> = {
  float: 1,
  int64: 7,
  string: 8,
  bool: 9,
  double: 11,
};

/** AttributeProto.AttributeType values. */
const ATTRIBUTE_TYPE = { f: 1, i: 2, s: 3, t: 4, g: 5, floats: 6, ints: 7, strings: 8 } as const;

// Field numbers, by message (onnx.proto).
const MODEL = { irVersion: 1, producerName: 2, producerVersion: 3, graph: 7, opsetImport: 8, metadataProps: 14 };
const OPSET_ID = { domain: 1, version: 2 };
const ENTRY = { key: 1, value: 2 };
const GRAPH = { node: 1, name: 2, initializer: 5, input: 11, output: 12 };
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 };
const ATTRIBUTE = { name: 1, f: 2, i: 3, s: 4, t: 5, g: 6, floats: 7, ints: 8, strings: 9, type: 20 };
const TENSOR = {
  dims: 1,
  dataType: 2,
  floatData: 4,
  int32Data: 5,
  stringData: 6,
  int64Data: 7,
  name: 8,
  doubleData: 10,
};
const VALUE_INFO = { name: 1, type: 2 };
const TYPE = { tensorType: 1 };
const TENSOR_TYPE = { elemType: 1, shape: 2 };
const SHAPE = { dim: 1 };
const DIMENSION = { value: 1, param: 2 };

const ELEMENT_TYPES: readonly TensorElementType[] = ['float', 'double', 'int64', 'string', 'bool'];
const UTF8 = new TextEncoder();

/** A graph that cannot be serialized; `problems` lists every reason found, one sentence each. */
export class InvalidOnnxGraphError extends Error {
  readonly problems: readonly string[];

  constructor(graph: string, problems: readonly string[]) {
    super(`ONNX graph '${graph}' is not valid: ${problems.join('; ')}`);
    this.name = 'InvalidOnnxGraphError';
    this.problems = problems;
  }
}

interface ValueInfo {
  name: string;
  type: TensorElementType;
  shape: readonly Dim[];
}

interface NodeEntry {
  name: string;
  opType: string;
  domain: OnnxDomain;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes: readonly [string, AttributeValue][];
}

interface Initializer {
  name: string;
  value: TensorValue;
}

/** Starts an empty graph named `name`. */
export function createOnnxGraph(name: string): OnnxGraphBuilder {
  if (typeof name !== 'string' || name === '') {
    throw new TypeError('name must be a non-empty string');
  }
  return new GraphBuilder(name);
}

class GraphBuilder implements OnnxGraphBuilder {
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly nodes: NodeEntry[] = [];
  private readonly initializers: Initializer[] = [];
  private readonly meta = new Map<string, string>();
  /** Every name handed out or declared, in this graph and its subgraphs: fresh() avoids them. */
  private readonly used: Set<string>;
  /** Names with a definition: graph inputs, initializers and node outputs (each defined once). */
  private readonly defined = new Map<string, string>();
  private readonly counters: Map<string, number>;
  private readonly opCounters: Map<string, number>;

  constructor(
    private readonly name: string,
    /** The graph whose node holds this one as an attribute (its tensors are in scope here). */
    private readonly outer?: GraphBuilder,
  ) {
    this.used = outer?.used ?? new Set<string>();
    this.counters = outer?.counters ?? new Map<string, number>();
    this.opCounters = outer?.opCounters ?? new Map<string, number>();
  }

  subgraph(name: string): OnnxGraphBuilder {
    if (typeof name !== 'string' || name === '') throw new TypeError('name must be a non-empty string');
    return new GraphBuilder(name, this);
  }

  /** Whether `name` is defined here or in an enclosing graph. */
  private inScope(name: string): boolean {
    return this.defined.has(name) || (this.outer?.inScope(name) ?? false);
  }

  input(name: string, type: TensorElementType, shape: readonly Dim[]): string {
    checkTensorName(name, 'name');
    checkElementType(type, 'type');
    checkShape(shape, 'shape');
    this.define(name, `graph input '${name}'`);
    this.inputs.push({ name, type, shape: [...shape] });
    return name;
  }

  output(name: string, type: TensorElementType, shape: readonly Dim[]): void {
    checkTensorName(name, 'name');
    checkElementType(type, 'type');
    checkShape(shape, 'shape');
    if (this.outputs.some((o) => o.name === name)) {
      throw new RangeError(`name: '${name}' is already a graph output`);
    }
    this.used.add(name);
    this.outputs.push({ name, type, shape: [...shape] });
  }

  fresh(prefix: string): string {
    if (typeof prefix !== 'string' || prefix === '') {
      throw new TypeError('prefix must be a non-empty string');
    }
    let candidate = prefix;
    let n = this.counters.get(prefix) ?? 0;
    while (this.used.has(candidate)) {
      n += 1;
      candidate = `${prefix}_${n}`;
    }
    this.counters.set(prefix, n);
    this.used.add(candidate);
    return candidate;
  }

  node(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attributes: Readonly<Record<string, AttributeValue>> = {},
    domain: OnnxDomain = '',
  ): readonly string[] {
    if (typeof opType !== 'string' || opType === '') {
      throw new TypeError('opType must be a non-empty string');
    }
    if (domain !== '' && domain !== 'ai.onnx.ml') {
      throw new RangeError(`domain must be '' (ai.onnx) or 'ai.onnx.ml'; got '${String(domain)}'`);
    }
    inputs.forEach((input, k) => {
      // '' stands for an optional input left out.
      if (typeof input !== 'string') throw new TypeError(`inputs[${k}] of ${opType} must be a string`);
    });
    if (outputs.length === 0) throw new RangeError(`outputs of ${opType} must name at least one tensor`);
    outputs.forEach((output, k) => checkTensorName(output, `outputs[${k}] of ${opType}`));
    const entries = Object.entries(attributes);
    for (const [attrName, value] of entries) checkAttribute(attrName, value, opType);

    const count = (this.opCounters.get(opType) ?? 0) + 1;
    this.opCounters.set(opType, count);
    const nodeName = `${opType}_${count}`;
    for (const output of outputs) this.define(output, `output of node ${nodeName}`);
    this.nodes.push({
      name: nodeName,
      opType,
      domain,
      inputs: [...inputs],
      outputs: [...outputs],
      attributes: entries,
    });
    return [...outputs];
  }

  constant(prefix: string, value: TensorValue): string {
    checkTensorValue(value, 'value');
    const name = this.fresh(prefix);
    this.define(name, `initializer '${name}'`);
    this.initializers.push({ name, value });
    return name;
  }

  metadata(key: string, value: string): void {
    if (typeof key !== 'string' || key === '') throw new TypeError('key must be a non-empty string');
    if (typeof value !== 'string') throw new TypeError(`value of metadata '${key}' must be a string`);
    this.meta.set(key, value);
  }

  toBytes(): Uint8Array {
    if (this.outer !== undefined)
      throw new TypeError(`'${this.name}' is a subgraph: serialize the graph that holds it`);
    const ordered = this.checkedNodeOrder();
    const w = new ProtoWriter(1024);
    w.varint(MODEL.irVersion, ONNX_IR_VERSION);
    w.string(MODEL.producerName, ONNX_PRODUCER);
    w.message(MODEL.graph, (g) => this.writeGraph(g, ordered));
    for (const [domain, version] of [
      ['', ONNX_OPSET],
      ['ai.onnx.ml', ONNX_ML_OPSET],
    ] as const) {
      w.message(MODEL.opsetImport, (o) => {
        if (domain !== '') o.string(OPSET_ID.domain, domain);
        o.varint(OPSET_ID.version, version);
      });
    }
    for (const [key, value] of this.meta) {
      w.message(MODEL.metadataProps, (e) => e.string(ENTRY.key, key).string(ENTRY.value, value));
    }
    return w.finish();
  }

  private define(name: string, what: string): void {
    const previous =
      this.defined.get(name) ?? (this.outer?.inScope(name) === true ? 'a tensor of an enclosing graph' : undefined);
    if (previous !== undefined) {
      throw new RangeError(`'${name}' is already defined (as ${previous}); use fresh() for new tensor names`);
    }
    this.defined.set(name, what);
    this.used.add(name);
  }

  /** Checks every reference and returns the nodes in a topological order (stable). */
  private checkedNodeOrder(): NodeEntry[] {
    const problems: string[] = [];
    const producer = new Map<string, number>();
    this.nodes.forEach((n, k) => n.outputs.forEach((o) => producer.set(o, k)));
    const available = new Set<string>([...this.inputs.map((i) => i.name), ...this.initializers.map((i) => i.name)]);
    // A subgraph's nodes may read the enclosing graphs' tensors: those are ready before it runs.
    for (const n of this.nodes) {
      for (const input of n.inputs)
        if (!producer.has(input) && this.outer?.inScope(input) === true) available.add(input);
    }

    for (const n of this.nodes) {
      n.inputs.forEach((input, k) => {
        if (input !== '' && !available.has(input) && !producer.has(input)) {
          problems.push(
            `input ${k} '${input}' of node ${n.name} (${n.opType}) is not a graph input, an initializer or a node output`,
          );
        }
      });
    }
    if (this.outputs.length === 0) problems.push('the graph has no outputs (declare them with output())');
    for (const o of this.outputs) {
      if (!available.has(o.name) && !producer.has(o.name)) {
        problems.push(`graph output '${o.name}' is not produced by any node`);
      }
    }
    if (problems.length > 0) throw new InvalidOnnxGraphError(this.name, problems);

    // Kahn's algorithm in passes over the nodes in the order they were added: a graph built in
    // order comes out unchanged after one pass.
    const consumers = new Map<string, number[]>();
    const pending = this.nodes.map((n, k) => {
      const needs = new Set(n.inputs.filter((i) => i !== '' && !available.has(i)));
      for (const i of needs) consumers.set(i, [...(consumers.get(i) ?? []), k]);
      return needs.size;
    });
    const done = new Array<boolean>(this.nodes.length).fill(false);
    const ordered: NodeEntry[] = [];
    let progressed = true;
    while (ordered.length < this.nodes.length && progressed) {
      progressed = false;
      this.nodes.forEach((n, k) => {
        if (done[k] || pending[k] !== 0) return;
        done[k] = true;
        ordered.push(n);
        progressed = true;
        for (const o of n.outputs) for (const c of consumers.get(o) ?? []) pending[c] = (pending[c] ?? 0) - 1;
      });
    }
    if (ordered.length < this.nodes.length) {
      const stuck = this.nodes.filter((_, k) => !done[k]).map((n) => `${n.name} (${n.opType})`);
      throw new InvalidOnnxGraphError(this.name, [`the nodes ${stuck.join(', ')} form a cycle`]);
    }
    return ordered;
  }

  /** The GraphProto of a subgraph, checked like a model's graph. */
  writeSubgraph(g: ProtoWriter): void {
    this.writeGraph(g, this.checkedNodeOrder());
  }

  private writeGraph(g: ProtoWriter, nodes: readonly NodeEntry[]): void {
    for (const n of nodes) g.message(GRAPH.node, (w) => writeNode(w, n));
    g.string(GRAPH.name, this.name);
    for (const init of this.initializers) g.message(GRAPH.initializer, (w) => writeTensor(w, init.value, init.name));
    for (const i of this.inputs) g.message(GRAPH.input, (w) => writeValueInfo(w, i));
    for (const o of this.outputs) g.message(GRAPH.output, (w) => writeValueInfo(w, o));
  }
}

function writeNode(w: ProtoWriter, n: NodeEntry): void {
  for (const i of n.inputs) w.string(NODE.input, i);
  for (const o of n.outputs) w.string(NODE.output, o);
  w.string(NODE.name, n.name);
  w.string(NODE.opType, n.opType);
  for (const [name, value] of n.attributes) w.message(NODE.attribute, (a) => writeAttribute(a, name, value));
  if (n.domain !== '') w.string(NODE.domain, n.domain);
}

function writeAttribute(w: ProtoWriter, name: string, value: AttributeValue): void {
  w.string(ATTRIBUTE.name, name);
  if ('f' in value) {
    w.varint(ATTRIBUTE.type, ATTRIBUTE_TYPE.f).float(ATTRIBUTE.f, value.f);
  } else if ('i' in value) {
    w.varint(ATTRIBUTE.type, ATTRIBUTE_TYPE.i).varint(ATTRIBUTE.i, value.i);
  } else if ('s' in value) {
    w.varint(ATTRIBUTE.type, ATTRIBUTE_TYPE.s).string(ATTRIBUTE.s, value.s);
  } else if ('t' in value) {
    w.varint(ATTRIBUTE.type, ATTRIBUTE_TYPE.t).message(ATTRIBUTE.t, (t) => writeTensor(t, value.t));
  } else if ('g' in value) {
    const sub = value.g as GraphBuilder;
    w.varint(ATTRIBUTE.type, ATTRIBUTE_TYPE.g).message(ATTRIBUTE.g, (g) => sub.writeSubgraph(g));
  } else if ('floats' in value) {
    w.varint(ATTRIBUTE.type, ATTRIBUTE_TYPE.floats).packedFloats(ATTRIBUTE.floats, value.floats);
  } else if ('ints' in value) {
    w.varint(ATTRIBUTE.type, ATTRIBUTE_TYPE.ints).packedVarints(ATTRIBUTE.ints, value.ints);
  } else {
    w.varint(ATTRIBUTE.type, ATTRIBUTE_TYPE.strings);
    for (const s of value.strings) w.string(ATTRIBUTE.strings, s);
  }
}

function writeTensor(w: ProtoWriter, value: TensorValue, name?: string): void {
  w.packedVarints(TENSOR.dims, value.dims);
  w.varint(TENSOR.dataType, ONNX_DATA_TYPE[value.type]);
  switch (value.type) {
    case 'float':
      w.packedFloats(TENSOR.floatData, value.data as readonly number[]);
      break;
    case 'double':
      w.packedDoubles(TENSOR.doubleData, value.data as readonly number[]);
      break;
    case 'int64':
      w.packedVarints(TENSOR.int64Data, value.data as readonly (number | bigint)[]);
      break;
    case 'bool':
      // BOOL elements travel in int32_data, one 0/1 each.
      w.packedVarints(
        TENSOR.int32Data,
        (value.data as readonly boolean[]).map((b) => (b ? 1 : 0)),
      );
      break;
    case 'string':
      for (const s of value.data as readonly string[]) w.bytes(TENSOR.stringData, UTF8.encode(s));
      break;
  }
  if (name !== undefined) w.string(TENSOR.name, name);
}

function writeValueInfo(w: ProtoWriter, info: ValueInfo): void {
  w.string(VALUE_INFO.name, info.name);
  w.message(VALUE_INFO.type, (t) =>
    t.message(TYPE.tensorType, (tt) => {
      tt.varint(TENSOR_TYPE.elemType, ONNX_DATA_TYPE[info.type]);
      tt.message(TENSOR_TYPE.shape, (s) => {
        for (const d of info.shape) {
          s.message(SHAPE.dim, (dim) => {
            if (typeof d === 'number') dim.varint(DIMENSION.value, d);
            else dim.string(DIMENSION.param, d);
          });
        }
      });
    }),
  );
}

// ---- argument checks (TypeError/RangeError naming the parameter) ----

function checkTensorName(name: unknown, param: string): void {
  if (typeof name !== 'string' || name === '') throw new TypeError(`${param} must be a non-empty string`);
}

function checkElementType(type: unknown, param: string): void {
  if (!ELEMENT_TYPES.includes(type as TensorElementType)) {
    throw new RangeError(`${param} must be one of ${ELEMENT_TYPES.join(', ')}; got '${String(type)}'`);
  }
}

function checkShape(shape: readonly Dim[], param: string): void {
  if (!Array.isArray(shape)) throw new TypeError(`${param} must be an array of dimensions`);
  shape.forEach((d, k) => {
    if (typeof d === 'number' ? !Number.isSafeInteger(d) || d < 0 : typeof d !== 'string' || d === '') {
      throw new RangeError(
        `${param}[${k}] must be a non-negative integer or a symbolic name such as 'N'; got ${String(d)}`,
      );
    }
  });
}

function checkTensorValue(value: TensorValue, param: string): void {
  checkElementType(value.type, `${param}.type`);
  value.dims.forEach((d, k) => {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new RangeError(`${param}.dims[${k}] must be a non-negative integer; got ${d}`);
    }
  });
  const size = value.dims.reduce((a, b) => a * b, 1);
  if (value.data.length !== size) {
    throw new RangeError(
      `${param}.data has ${value.data.length} elements, but dims [${value.dims.join(', ')}] need ${size}`,
    );
  }
  const bad = (value.data as readonly unknown[]).findIndex((x) => !elementFits(value.type, x));
  if (bad >= 0) {
    throw new TypeError(
      `${param}.data[${bad}] is not a valid ${value.type} element: ${String((value.data as readonly unknown[])[bad])}`,
    );
  }
}

function elementFits(type: TensorElementType, x: unknown): boolean {
  switch (type) {
    case 'float':
    case 'double':
      return typeof x === 'number';
    case 'int64':
      return (
        (typeof x === 'number' && Number.isSafeInteger(x)) ||
        (typeof x === 'bigint' && x >= -(1n << 63n) && x < 1n << 63n)
      );
    case 'string':
      return typeof x === 'string';
    case 'bool':
      return typeof x === 'boolean';
  }
}

function checkAttribute(name: string, value: AttributeValue, opType: string): void {
  const where = `attribute '${name}' of ${opType}`;
  if (name === '') throw new TypeError(`attribute names of ${opType} must be non-empty`);
  if (typeof value !== 'object' || value === null) throw new TypeError(`${where} must be an object such as { i: 1 }`);
  const keys = Object.keys(value);
  if (keys.length !== 1) {
    throw new TypeError(
      `${where} must have exactly one of f, i, s, t, g, floats, ints, strings; got {${keys.join(', ')}}`,
    );
  }
  if ('f' in value) {
    if (typeof value.f !== 'number') throw new TypeError(`${where}: f must be a number`);
  } else if ('i' in value) {
    if (!Number.isSafeInteger(value.i)) throw new RangeError(`${where}: i must be an integer; got ${value.i}`);
  } else if ('s' in value) {
    if (typeof value.s !== 'string') throw new TypeError(`${where}: s must be a string`);
  } else if ('t' in value) {
    checkTensorValue(value.t, `${where}: t`);
  } else if ('g' in value) {
    if (!(value.g instanceof GraphBuilder)) throw new TypeError(`${where}: g must come from subgraph()`);
  } else if ('floats' in value) {
    if (!value.floats.every((x) => typeof x === 'number')) throw new TypeError(`${where}: floats must be numbers`);
  } else if ('ints' in value) {
    const bad = value.ints.find((x) => !Number.isSafeInteger(x));
    if (bad !== undefined) throw new RangeError(`${where}: ints must be integers; got ${bad}`);
  } else if ('strings' in value) {
    if (!value.strings.every((x) => typeof x === 'string')) throw new TypeError(`${where}: strings must be strings`);
  } else {
    throw new TypeError(`${where} must have one of f, i, s, t, g, floats, ints, strings; got {${keys.join(', ')}}`);
  }
}
