// The protobuf writer against byte vectors from the wire-format spec, and the ONNX graph builder's
// ModelProto read back with an independent reader (test/support/proto-reader.ts). That onnxruntime
// accepts and runs these graphs is checked in test/integration/onnx-runtime.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProtoWriter } from '../../shared/ml/onnx/protobuf.js';
import { createOnnxGraph, InvalidOnnxGraphError } from '../../shared/ml/onnx/graph-builder.js';
import type { OnnxGraphBuilder, TensorValue } from '../../shared/ml/onnx/builder.js';
import {
  int,
  message,
  messages,
  packedInts,
  packedReals,
  parseMessage,
  string,
  strings,
  type ProtoFields,
} from '../support/proto-reader.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const written = (build: (w: ProtoWriter) => void): string => {
  const w = new ProtoWriter(1);
  build(w);
  return hex(w.finish());
};

describe('ProtoWriter', () => {
  const varints: { value: number | bigint; bytes: string }[] = [
    { value: 0, bytes: '00' },
    { value: 1, bytes: '01' },
    { value: 127, bytes: '7f' },
    { value: 128, bytes: '8001' },
    { value: 150, bytes: '9601' },
    { value: 300, bytes: 'ac02' },
    { value: 2 ** 31, bytes: '8080808008' },
    { value: 2 ** 32, bytes: '8080808010' },
    { value: Number.MAX_SAFE_INTEGER, bytes: 'ffffffffffffff0f' },
    // int64 negatives are their 64-bit two's complement: always 10 bytes.
    { value: -1, bytes: 'ffffffffffffffffff01' },
    { value: -1n, bytes: 'ffffffffffffffffff01' },
    { value: -2, bytes: 'feffffffffffffffff01' },
    { value: -(2n ** 63n), bytes: '80808080808080808001' },
    { value: 2n ** 64n - 1n, bytes: 'ffffffffffffffffff01' },
    { value: 2n ** 53n + 1n, bytes: '8180808080808010' },
  ];
  for (const c of varints) {
    it(`writes the varint ${c.value} as ${c.bytes}`, () => {
      assert.equal(
        written((w) => w.rawVarint(c.value)),
        c.bytes,
      );
    });
  }

  for (const value of [1.5, 2 ** 53, NaN, 2n ** 64n, -(2n ** 63n) - 1n]) {
    it(`refuses the varint ${String(value)}`, () => {
      assert.throws(() => new ProtoWriter().rawVarint(value), RangeError);
    });
  }

  // Examples from https://protobuf.dev/programming-guides/encoding/ and hand-checked IEEE bytes.
  const fields: { name: string; build: (w: ProtoWriter) => void; bytes: string }[] = [
    { name: 'a varint field', build: (w) => w.varint(1, 150), bytes: '089601' },
    { name: 'a field number above 15', build: (w) => w.varint(20, 3), bytes: 'a00103' },
    { name: 'a string field', build: (w) => w.string(2, 'testing'), bytes: '120774657374696e67' },
    { name: 'a UTF-8 string', build: (w) => w.string(2, 'hé'), bytes: '120368c3a9' },
    { name: 'an empty string', build: (w) => w.string(2, ''), bytes: '1200' },
    { name: 'a nested message', build: (w) => w.message(3, (m) => m.varint(1, 150)), bytes: '1a03089601' },
    { name: 'a float', build: (w) => w.float(2, 1), bytes: '150000803f' },
    { name: 'a float that rounds to float32', build: (w) => w.float(2, 0.1), bytes: '15cdcccc3d' },
    { name: 'a NaN float', build: (w) => w.float(2, NaN), bytes: '150000c07f' },
    { name: 'a double', build: (w) => w.double(1, 1), bytes: '09000000000000f03f' },
    { name: 'a double -2.5', build: (w) => w.double(10, -2.5), bytes: '5100000000000004c0' },
    { name: 'packed varints', build: (w) => w.packedVarints(4, [3, 270, 86942]), bytes: '2206038e029ea705' },
    { name: 'packed floats', build: (w) => w.packedFloats(4, [1, -2]), bytes: '22080000803f000000c0' },
    {
      name: 'packed doubles',
      build: (w) => w.packedDoubles(10, [1, -2]),
      bytes: '5210000000000000f03f00000000000000c0',
    },
    { name: 'no packed field when empty', build: (w) => w.packedVarints(4, []).packedFloats(5, []), bytes: '' },
  ];
  for (const c of fields) {
    it(`writes ${c.name}`, () => assert.equal(written(c.build), c.bytes));
  }

  it('refuses field numbers outside [1, 2^29 - 1]', () => {
    assert.throws(() => new ProtoWriter().varint(0, 1), /field number/);
    assert.throws(() => new ProtoWriter().varint(2 ** 29, 1), /field number/);
  });

  it('grows its buffer across many writes and nested messages', () => {
    const w = new ProtoWriter(1);
    const values = Array.from({ length: 50_000 }, (_, k) => k * 37);
    w.message(1, (m) => m.packedVarints(1, values));
    const outer = parseMessage(w.finish());
    assert.deepEqual(packedInts(message(outer, 1), 1).map(Number), values);
  });
});

// ---- the graph builder ----

const MODEL = { irVersion: 1, producerName: 2, graph: 7, opsetImport: 8, metadataProps: 14 };
const GRAPH = { node: 1, name: 2, initializer: 5, input: 11, output: 12 };
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 };
const ATTR = { name: 1, f: 2, i: 3, s: 4, t: 5, floats: 7, ints: 8, strings: 9, type: 20 };
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

function identityGraph(): OnnxGraphBuilder {
  const g = createOnnxGraph('identity');
  const x = g.input('x', 'float', ['N', 3]);
  const [y] = g.node('Identity', [x], [g.fresh('y')]);
  g.output(y as string, 'float', ['N', 3]);
  return g;
}

function graphOf(model: ProtoFields): ProtoFields {
  return message(model, MODEL.graph);
}

function attributes(node: ProtoFields): Map<string, ProtoFields> {
  return new Map(messages(node, NODE.attribute).map((a) => [string(a, ATTR.name) ?? '', a]));
}

describe('createOnnxGraph: the ModelProto', () => {
  it('has IR version 8, producer tessera, opsets ai.onnx 17 and ai.onnx.ml 3, and the metadata', () => {
    const g = identityGraph();
    g.metadata('manifest', '{"a":1}');
    g.metadata('author', 'x');
    g.metadata('author', 'tessera automl'); // a key set twice keeps its last value
    const model = parseMessage(g.toBytes());
    assert.equal(int(model, MODEL.irVersion), 8n);
    assert.equal(string(model, MODEL.producerName), 'tessera');
    const opsets = messages(model, MODEL.opsetImport).map((o) => [string(o, 1) ?? '', int(o, 2)]);
    assert.deepEqual(opsets, [
      ['', 17n],
      ['ai.onnx.ml', 3n],
    ]);
    const meta = messages(model, MODEL.metadataProps).map((e) => [string(e, 1), string(e, 2)]);
    assert.deepEqual(meta, [
      ['manifest', '{"a":1}'],
      ['author', 'tessera automl'],
    ]);
    assert.equal(string(graphOf(model), GRAPH.name), 'identity');
  });

  it('declares inputs and outputs with element types and fixed or symbolic dimensions', () => {
    const g = createOnnxGraph('io');
    g.input('num', 'float', ['N', 1]);
    g.input('cat', 'string', ['batch', 1]);
    g.input('flag', 'bool', [4]);
    g.node('Identity', ['num'], ['out']);
    g.output('out', 'float', ['N', 1]);
    const graph = graphOf(parseMessage(g.toBytes()));
    const describe = (vi: ProtoFields): [string, bigint, (bigint | string)[]] => {
      const tensorType = message(message(vi, 2), 1);
      const dims = messages(message(tensorType, 2), 1).map((d) => int(d, 1) ?? string(d, 2) ?? '?');
      return [string(vi, 1) ?? '', int(tensorType, 1) ?? -1n, dims];
    };
    assert.deepEqual(messages(graph, GRAPH.input).map(describe), [
      ['num', 1n, ['N', 1n]],
      ['cat', 8n, ['batch', 1n]],
      ['flag', 9n, [4n]],
    ]);
    assert.deepEqual(messages(graph, GRAPH.output).map(describe), [['out', 1n, ['N', 1n]]]);
  });

  it('writes nodes with inputs, outputs, op type, a unique name and the ai.onnx.ml domain', () => {
    const g = createOnnxGraph('nodes');
    const x = g.input('x', 'float', ['N', 2]);
    const scaled = g.fresh('scaled');
    g.node('Scaler', [x], [scaled], { offset: { floats: [1, 2] }, scale: { floats: [0.5, 4] } }, 'ai.onnx.ml');
    const out = g.fresh('out');
    g.node('Identity', [scaled], [out]);
    g.output(out, 'float', ['N', 2]);
    const nodes = messages(graphOf(parseMessage(g.toBytes())), GRAPH.node);
    assert.deepEqual(
      nodes.map((n) => [
        string(n, NODE.opType),
        string(n, NODE.name),
        strings(n, NODE.input),
        strings(n, NODE.output),
        string(n, NODE.domain),
      ]),
      [
        ['Scaler', 'Scaler_1', ['x'], ['scaled'], 'ai.onnx.ml'],
        ['Identity', 'Identity_1', ['scaled'], ['out'], undefined],
      ],
    );
    const scaler = attributes(nodes[0] as ProtoFields);
    assert.deepEqual(packedReals(scaler.get('offset') as ProtoFields, ATTR.floats, 4), [1, 2]);
    assert.deepEqual(packedReals(scaler.get('scale') as ProtoFields, ATTR.floats, 4), [0.5, 4]);
  });

  it('writes each attribute kind with its AttributeType', () => {
    const g = createOnnxGraph('attrs');
    g.input('x', 'float', ['N']);
    g.node(
      'Custom',
      ['x'],
      ['y'],
      {
        f: { f: 0.25 },
        nan: { f: NaN },
        i: { i: -3 },
        s: { s: 'SOFTMAX' },
        fs: { floats: [1.5, -2] },
        is: { ints: [0, -1, 2 ** 40] },
        ss: { strings: ['a', 'é', ''] },
        t: { t: { type: 'int64', dims: [2], data: [7, -8] } },
      },
      'ai.onnx.ml',
    );
    g.output('y', 'float', ['N']);
    const node = messages(graphOf(parseMessage(g.toBytes())), GRAPH.node)[0] as ProtoFields;
    const a = attributes(node);
    const get = (name: string): ProtoFields => a.get(name) as ProtoFields;
    assert.deepEqual(
      [...a.keys()].map((k) => [k, int(get(k), ATTR.type)]),
      [
        ['f', 1n],
        ['nan', 1n],
        ['i', 2n],
        ['s', 3n],
        ['fs', 6n],
        ['is', 7n],
        ['ss', 8n],
        ['t', 4n],
      ],
    );
    assert.deepEqual(packedReals(get('f'), ATTR.f, 4), [0.25]);
    assert.ok(Number.isNaN(packedReals(get('nan'), ATTR.f, 4)[0]));
    assert.equal(int(get('i'), ATTR.i), -3n);
    assert.equal(string(get('s'), ATTR.s), 'SOFTMAX');
    assert.deepEqual(packedReals(get('fs'), ATTR.floats, 4), [1.5, -2]);
    assert.deepEqual(packedInts(get('is'), ATTR.ints), [0n, -1n, 2n ** 40n]);
    assert.deepEqual(strings(get('ss'), ATTR.strings), ['a', 'é', '']);
    const t = message(get('t'), ATTR.t);
    assert.deepEqual(packedInts(t, TENSOR.int64Data), [7n, -8n]);
    assert.equal(int(t, TENSOR.dataType), 7n);
  });

  const initializers: {
    type: string;
    value: TensorValue;
    check: (t: ProtoFields) => void;
  }[] = [
    {
      type: 'float',
      value: { type: 'float', dims: [2, 2], data: [1, 2.5, -3, NaN] },
      check: (t) => {
        assert.equal(int(t, TENSOR.dataType), 1n);
        assert.deepEqual(packedReals(t, TENSOR.floatData, 4), [1, 2.5, -3, NaN]);
      },
    },
    {
      type: 'double',
      value: { type: 'double', dims: [3], data: [0.1, -1e300, 5e-324] },
      check: (t) => {
        assert.equal(int(t, TENSOR.dataType), 11n);
        assert.deepEqual(packedReals(t, TENSOR.doubleData, 8), [0.1, -1e300, 5e-324]);
      },
    },
    {
      type: 'int64',
      value: { type: 'int64', dims: [4], data: [0n, -1n, 2n ** 62n, -(2n ** 63n)] },
      check: (t) => {
        assert.equal(int(t, TENSOR.dataType), 7n);
        assert.deepEqual(packedInts(t, TENSOR.int64Data), [0n, -1n, 2n ** 62n, -(2n ** 63n)]);
      },
    },
    {
      type: 'string',
      value: { type: 'string', dims: [3, 1], data: ['a', '', 'ünï'] },
      check: (t) => {
        assert.equal(int(t, TENSOR.dataType), 8n);
        assert.deepEqual(strings(t, TENSOR.stringData), ['a', '', 'ünï']);
      },
    },
    {
      type: 'bool',
      value: { type: 'bool', dims: [3], data: [true, false, true] },
      check: (t) => {
        assert.equal(int(t, TENSOR.dataType), 9n);
        assert.deepEqual(packedInts(t, TENSOR.int32Data), [1n, 0n, 1n]);
      },
    },
    {
      type: 'float scalar',
      value: { type: 'float', dims: [], data: [4] },
      check: (t) => {
        assert.deepEqual(packedInts(t, TENSOR.dims), []);
        assert.deepEqual(packedReals(t, TENSOR.floatData, 4), [4]);
      },
    },
  ];
  for (const c of initializers) {
    it(`writes a ${c.type} initializer with its name, dims and data`, () => {
      const g = identityGraph();
      const name = g.constant('k', c.value);
      const tensors = messages(graphOf(parseMessage(g.toBytes())), GRAPH.initializer);
      assert.equal(tensors.length, 1);
      const t = tensors[0] as ProtoFields;
      assert.equal(string(t, TENSOR.name), name);
      assert.deepEqual(packedInts(t, TENSOR.dims).map(Number), c.value.dims);
      c.check(t);
    });
  }

  it('hands out fresh names that never collide with declared ones', () => {
    const g = createOnnxGraph('names');
    g.input('x', 'float', ['N']);
    assert.equal(g.fresh('y'), 'y');
    assert.equal(g.fresh('y'), 'y_1');
    assert.equal(g.fresh('x'), 'x_1');
    g.node('Identity', ['x'], ['z_1']);
    assert.equal(g.fresh('z'), 'z');
    assert.equal(g.fresh('z'), 'z_2');
    const c = g.constant('z', { type: 'float', dims: [1], data: [1] });
    assert.equal(c, 'z_3');
  });

  it('sorts nodes added out of order topologically, keeping the order they were added otherwise', () => {
    const g = createOnnxGraph('order');
    g.input('x', 'float', ['N']);
    g.node('Neg', ['b'], ['c']);
    g.node('Abs', ['x'], ['a']);
    g.node('Exp', ['x'], ['e']);
    g.node('Identity', ['a'], ['b']);
    g.output('c', 'float', ['N']);
    g.output('e', 'float', ['N']);
    const ops = messages(graphOf(parseMessage(g.toBytes())), GRAPH.node).map((n) => string(n, NODE.opType));
    assert.deepEqual(ops, ['Abs', 'Exp', 'Identity', 'Neg']);
  });
});

describe('createOnnxGraph: refusals', () => {
  const invalid: { name: string; build: (g: OnnxGraphBuilder) => void; problems: RegExp[] }[] = [
    {
      name: 'a node input nothing defines',
      build: (g) => {
        g.input('x', 'float', ['N']);
        g.node('Add', ['x', 'w'], ['y']);
        g.output('y', 'float', ['N']);
      },
      problems: [/input 1 'w' of node Add_1 \(Add\) is not a graph input, an initializer or a node output/],
    },
    {
      name: 'an output no node produces',
      build: (g) => {
        g.input('x', 'float', ['N']);
        g.output('nowhere', 'float', ['N']);
      },
      problems: [/graph output 'nowhere' is not produced by any node/],
    },
    {
      name: 'no outputs',
      build: (g) => {
        g.input('x', 'float', ['N']);
      },
      problems: [/no outputs/],
    },
    {
      name: 'a cycle',
      build: (g) => {
        g.input('x', 'float', ['N']);
        g.node('Add', ['x', 'b'], ['a']);
        g.node('Neg', ['a'], ['b']);
        g.output('b', 'float', ['N']);
      },
      problems: [/Add_1 \(Add\), Neg_1 \(Neg\) form a cycle/],
    },
    {
      name: 'several problems at once',
      build: (g) => {
        g.node('Neg', ['p'], ['q']);
        g.output('r', 'float', ['N']);
      },
      problems: [/'p' of node Neg_1/, /graph output 'r'/],
    },
  ];
  for (const c of invalid) {
    it(`toBytes() refuses ${c.name}, listing every problem`, () => {
      const g = createOnnxGraph('bad');
      c.build(g);
      assert.throws(
        () => g.toBytes(),
        (err: unknown) => {
          assert.ok(err instanceof InvalidOnnxGraphError, String(err));
          assert.equal(err.problems.length, c.problems.length, err.problems.join('\n'));
          c.problems.forEach((p, k) => assert.match(err.problems[k] as string, p));
          assert.match(err.message, /^ONNX graph 'bad' is not valid: /);
          return true;
        },
      );
    });
  }

  const badCalls: { name: string; call: (g: OnnxGraphBuilder) => unknown; error: RegExp }[] = [
    { name: 'an empty input name', call: (g) => g.input('', 'float', ['N']), error: /name must be a non-empty/ },
    {
      name: 'an unknown element type',
      call: (g) => g.input('x', 'int32' as 'float', ['N']),
      error: /type must be one of float, double, int64, string, bool; got 'int32'/,
    },
    { name: 'a negative dimension', call: (g) => g.input('x', 'float', [-1]), error: /shape\[0\] must be/ },
    { name: 'a fractional dimension', call: (g) => g.output('x', 'float', ['N', 1.5]), error: /shape\[1\]/ },
    {
      name: 'an input declared twice',
      call: (g) => {
        g.input('x', 'float', ['N']);
        g.input('x', 'float', ['N']);
      },
      error: /'x' is already defined \(as graph input 'x'\)/,
    },
    {
      name: 'a tensor produced twice',
      call: (g) => {
        g.node('Neg', ['a'], ['y']);
        g.node('Abs', ['a'], ['y']);
      },
      error: /'y' is already defined \(as output of node Neg_1\)/,
    },
    {
      name: 'an output declared twice',
      call: (g) => {
        g.output('y', 'float', ['N']);
        g.output('y', 'float', ['N']);
      },
      error: /'y' is already a graph output/,
    },
    { name: 'a node with no outputs', call: (g) => g.node('Neg', ['a'], []), error: /outputs of Neg must name/ },
    {
      name: 'an unknown domain',
      call: (g) => g.node('Neg', ['a'], ['b'], {}, 'com.microsoft' as 'ai.onnx.ml'),
      error: /domain must be/,
    },
    {
      name: 'a fractional int attribute',
      call: (g) => g.node('Flatten', ['a'], ['b'], { axis: { i: 1.5 } }),
      error: /attribute 'axis' of Flatten: i must be an integer; got 1.5/,
    },
    {
      name: 'an attribute with two kinds',
      call: (g) => g.node('Flatten', ['a'], ['b'], { axis: { i: 1, f: 2 } as unknown as { i: number } }),
      error: /exactly one of/,
    },
    {
      name: 'a tensor whose data does not fill its dims',
      call: (g) => g.constant('w', { type: 'float', dims: [2, 3], data: [1, 2, 3] }),
      error: /value.data has 3 elements, but dims \[2, 3\] need 6/,
    },
    {
      name: 'an int64 tensor holding a fraction',
      call: (g) => g.constant('w', { type: 'int64', dims: [2], data: [1, 0.5] }),
      error: /value.data\[1\] is not a valid int64 element: 0.5/,
    },
    {
      name: 'a bool tensor holding numbers',
      call: (g) => g.constant('w', { type: 'bool', dims: [1], data: [1] as unknown as boolean[] }),
      error: /not a valid bool element/,
    },
    { name: 'an empty fresh prefix', call: (g) => g.fresh(''), error: /prefix must be/ },
    { name: 'an empty metadata key', call: (g) => g.metadata('', 'v'), error: /key must be/ },
  ];
  for (const c of badCalls) {
    it(`refuses ${c.name}, naming the parameter`, () => {
      assert.throws(() => c.call(createOnnxGraph('g')), c.error);
    });
  }

  it('a subgraph reads the outer tensors, but not undefined ones, nor redefines them', () => {
    const g = createOnnxGraph('outer');
    g.input('x', 'float', ['N']);
    const body = g.subgraph('body');
    body.input('i', 'int64', []);
    body.input('cond', 'bool', []);
    body.node('Identity', ['cond'], ['cond_out']);
    body.node('Add', ['x', 'missing'], ['y']);
    body.output('cond_out', 'bool', []);
    body.output('y', 'float', ['N']);
    assert.throws(() => body.node('Neg', ['x'], ['x']), /'x' is already defined \(as a tensor of an enclosing graph\)/);
    assert.throws(() => body.toBytes(), /'body' is a subgraph: serialize the graph that holds it/);
    assert.equal(body.fresh('x'), 'x_1', 'fresh() avoids the outer names');
    const trips = g.constant('trips', { type: 'int64', dims: [], data: [2] });
    g.node('Loop', [trips, ''], ['ys'], { body: { g: body } });
    g.output('ys', 'float', [2, 'N']);
    assert.throws(
      () => g.toBytes(),
      (err: unknown) =>
        err instanceof InvalidOnnxGraphError &&
        err.problems.length === 1 &&
        /input 1 'missing' of node Add_1 \(Add\)/.test(err.problems[0] as string),
    );
    const other = createOnnxGraph('other');
    assert.throws(
      () => other.node('Loop', [], ['z'], { body: { g: {} as OnnxGraphBuilder } }),
      /g must come from subgraph\(\)/,
    );
  });

  it('refuses an empty graph name', () => {
    assert.throws(() => createOnnxGraph(''), /^TypeError: name must be a non-empty string/);
  });
});
