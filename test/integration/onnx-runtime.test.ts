// Graphs written by the ONNX graph builder, loaded and run by onnxruntime-node through the
// OnnxModelSession adapter: table-driven over small graphs (ai.onnx and ai.onnx.ml operators), each
// with its expected outputs computed here by hand; then the adapter's own checks and refusals.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OnnxModelRuntime, OnnxModelSession } from '../../shared/adapters/onnx-runtime.js';
import { AppError } from '../../shared/errors.js';
import { createOnnxGraph } from '../../shared/ml/onnx/graph-builder.js';
import type { OnnxGraphBuilder } from '../../shared/ml/onnx/builder.js';
import type { RuntimeTensor } from '../../shared/ports/model-runtime.js';

const f32 = (values: readonly number[]): Float32Array => Float32Array.from(values);
const floatTensor = (dims: number[], values: readonly number[]): RuntimeTensor => ({
  type: 'float',
  dims,
  data: f32(values),
});
const ML = 'ai.onnx.ml';

/** Float32 agreement: relative 1e-6 of the larger magnitude, with an absolute floor of 1e-6. */
function assertClose(actual: ArrayLike<number>, expected: readonly number[], label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let k = 0; k < expected.length; k++) {
    const a = actual[k] as number;
    const e = expected[k] as number;
    if (Number.isNaN(e)) {
      assert.ok(Number.isNaN(a), `${label}[${k}]: expected NaN, got ${a}`);
      continue;
    }
    const tol = 1e-6 * Math.max(1, Math.abs(a), Math.abs(e));
    assert.ok(Math.abs(a - e) <= tol, `${label}[${k}]: expected ${e}, got ${a}`);
  }
}

interface GraphCase {
  name: string;
  build: (g: OnnxGraphBuilder) => void;
  feeds: Record<string, RuntimeTensor>;
  /** Expected outputs: dims and data (numbers compared with assertClose, others exactly). */
  expect: Record<string, { type: RuntimeTensor['type']; dims: number[]; data: readonly (number | string | bigint)[] }>;
}

// Two trees, hand-built. Tree 0: x0 <= 0.5 ? 1 : (x1 < 2 ? 2 : 3). Tree 1: x1 <= 1 ? 10 : 20.
// Base value 0.5. A missing x0 (NaN) goes to the true branch in tree 0 (missing_value_tracks_true).
function twoTrees(x0: number, x1: number): number {
  const t0 = Number.isNaN(x0) || x0 <= 0.5 ? 1 : x1 < 2 ? 2 : 3;
  const t1 = x1 <= 1 ? 10 : 20;
  return 0.5 + t0 + t1;
}
const treeRows = [
  [0, 0],
  [0.5, 1],
  [0.6, 1.5],
  [2, 2],
  [NaN, 5],
  [-3, 1.0000001],
];

const cases: GraphCase[] = [
  {
    name: 'MatMul, Add, Concat, Cast and Identity',
    build: (g) => {
      const x = g.input('x', 'float', ['N', 2]);
      const w = g.constant('w', { type: 'float', dims: [2, 3], data: [1, 2, 3, -1, 0.5, 0] });
      const b = g.constant('b', { type: 'float', dims: [3], data: [0.25, 0, -1] });
      const [xw] = g.node('MatMul', [x, w], [g.fresh('xw')]);
      const [y] = g.node('Add', [xw as string, b], [g.fresh('y')]);
      const [joined] = g.node('Concat', [x, y as string], [g.fresh('joined')], { axis: { i: 1 } });
      const [asDouble] = g.node('Cast', [joined as string], [g.fresh('as_double')], { to: { i: 11 } });
      g.node('Identity', [asDouble as string], ['out']);
      g.output('out', 'double', ['N', 5]);
    },
    feeds: { x: floatTensor([2, 2], [1, 2, -0.5, 4]) },
    expect: {
      // row 1: [1,2] · W = [1-2, 2+1, 3] = [-1, 3, 3] + b; row 2: [-0.5,4] · W = [-4.5, 1, -1.5] + b
      out: { type: 'double', dims: [2, 5], data: [1, 2, -0.75, 3, 2, -0.5, 4, -4.25, 1, -2.5] },
    },
  },
  {
    name: 'Scaler (offset then scale, per column)',
    build: (g) => {
      g.input('x', 'float', ['N', 2]);
      g.node('Scaler', ['x'], ['y'], { offset: { floats: [1, -2] }, scale: { floats: [0.5, 3] } }, ML);
      g.output('y', 'float', ['N', 2]);
    },
    feeds: { x: floatTensor([2, 2], [3, 0, -1, 1]) },
    expect: { y: { type: 'float', dims: [2, 2], data: [1, 6, -1, 9] } },
  },
  {
    name: 'Imputer (NaN replaced per column)',
    build: (g) => {
      g.input('x', 'float', ['N', 3]);
      g.node(
        'Imputer',
        ['x'],
        ['y'],
        { imputed_value_floats: { floats: [10, 20, 30] }, replaced_value_float: { f: NaN } },
        ML,
      );
      g.output('y', 'float', ['N', 3]);
    },
    feeds: { x: floatTensor([2, 3], [NaN, 1, NaN, 4, NaN, 6]) },
    expect: { y: { type: 'float', dims: [2, 3], data: [10, 1, 30, 4, 20, 6] } },
  },
  {
    name: 'OneHotEncoder over string categories (unknown → all zeros), flattened to [N, K]',
    build: (g) => {
      const c = g.input('color', 'string', ['N', 1]);
      const [hot] = g.node(
        'OneHotEncoder',
        [c],
        [g.fresh('hot')],
        { cats_strings: { strings: ['red', 'green', 'blue'] }, zeros: { i: 1 } },
        ML,
      );
      g.node('Flatten', [hot as string], ['onehot'], { axis: { i: 1 } });
      g.output('onehot', 'float', ['N', 3]);
    },
    feeds: { color: { type: 'string', dims: [4, 1], data: ['blue', 'red', 'purple', 'green'] } },
    expect: { onehot: { type: 'float', dims: [4, 3], data: [0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0] } },
  },
  {
    name: 'LinearRegressor (one target)',
    build: (g) => {
      g.input('x', 'float', ['N', 3]);
      g.node(
        'LinearRegressor',
        ['x'],
        ['y'],
        { coefficients: { floats: [0.5, -1, 2] }, intercepts: { floats: [3] }, targets: { i: 1 } },
        ML,
      );
      g.output('y', 'float', ['N', 1]);
    },
    feeds: { x: floatTensor([2, 3], [1, 1, 1, 2, 0, -1]) },
    expect: { y: { type: 'float', dims: [2, 1], data: [4.5, 2] } },
  },
  {
    name: 'LinearClassifier (3 string classes, SOFTMAX)',
    build: (g) => {
      g.input('x', 'float', ['N', 2]);
      g.node(
        'LinearClassifier',
        ['x'],
        ['label', 'proba'],
        {
          classlabels_strings: { strings: ['cat', 'dog', 'eel'] },
          coefficients: { floats: [1, 0, 0, 1, -1, -1] },
          intercepts: { floats: [0, 0.5, 0] },
          multi_class: { i: 1 },
          post_transform: { s: 'SOFTMAX' },
        },
        ML,
      );
      g.output('label', 'string', ['N']);
      g.output('proba', 'float', ['N', 3]);
    },
    feeds: { x: floatTensor([2, 2], [2, 0, -1, -1]) },
    expect: {
      label: { type: 'string', dims: [2], data: ['cat', 'eel'] },
      proba: {
        type: 'float',
        dims: [2, 3],
        data: [...softmax([2, 0.5, -2]), ...softmax([-1, -0.5, 2])],
      },
    },
  },
  {
    name: 'LinearClassifier (binary, one coefficient row, LOGISTIC)',
    build: (g) => {
      g.input('x', 'float', ['N', 2]);
      g.node(
        'LinearClassifier',
        ['x'],
        ['label', 'proba'],
        {
          classlabels_strings: { strings: ['no', 'yes'] },
          coefficients: { floats: [1, -1] },
          intercepts: { floats: [0.5] },
          post_transform: { s: 'LOGISTIC' },
        },
        ML,
      );
      g.output('label', 'string', ['N']);
      g.output('proba', 'float', ['N', 2]);
    },
    feeds: { x: floatTensor([2, 2], [1, 2, 3, 1]) },
    expect: {
      label: { type: 'string', dims: [2], data: ['no', 'yes'] },
      proba: { type: 'float', dims: [2, 2], data: [1 - sigmoid(-0.5), sigmoid(-0.5), 1 - sigmoid(2.5), sigmoid(2.5)] },
    },
  },
  {
    name: 'TreeEnsembleRegressor (two hand-built trees, a base value, a missing value)',
    build: (g) => {
      g.input('x', 'float', ['N', 2]);
      g.node(
        'TreeEnsembleRegressor',
        ['x'],
        ['y'],
        {
          n_targets: { i: 1 },
          aggregate_function: { s: 'SUM' },
          base_values: { floats: [0.5] },
          nodes_treeids: { ints: [0, 0, 0, 0, 0, 1, 1, 1] },
          nodes_nodeids: { ints: [0, 1, 2, 3, 4, 0, 1, 2] },
          nodes_featureids: { ints: [0, 0, 1, 0, 0, 1, 0, 0] },
          nodes_modes: {
            strings: ['BRANCH_LEQ', 'LEAF', 'BRANCH_LT', 'LEAF', 'LEAF', 'BRANCH_LEQ', 'LEAF', 'LEAF'],
          },
          nodes_values: { floats: [0.5, 0, 2, 0, 0, 1, 0, 0] },
          nodes_truenodeids: { ints: [1, 0, 3, 0, 0, 1, 0, 0] },
          nodes_falsenodeids: { ints: [2, 0, 4, 0, 0, 2, 0, 0] },
          nodes_missing_value_tracks_true: { ints: [1, 0, 0, 0, 0, 0, 0, 0] },
          target_treeids: { ints: [0, 0, 0, 1, 1] },
          target_nodeids: { ints: [1, 3, 4, 1, 2] },
          target_ids: { ints: [0, 0, 0, 0, 0] },
          target_weights: { floats: [1, 2, 3, 10, 20] },
        },
        ML,
      );
      g.output('y', 'float', ['N', 1]);
    },
    feeds: { x: floatTensor([treeRows.length, 2], treeRows.flat()) },
    expect: {
      y: {
        type: 'float',
        dims: [treeRows.length, 1],
        data: treeRows.map(([a, b]) => twoTrees(a as number, b as number)),
      },
    },
  },
  {
    name: 'TreeEnsembleClassifier (one tree, three string classes, votes at the leaves)',
    build: (g) => {
      g.input('x', 'float', ['N', 2]);
      g.node(
        'TreeEnsembleClassifier',
        ['x'],
        ['label', 'scores'],
        {
          classlabels_strings: { strings: ['a', 'b', 'c'] },
          nodes_treeids: { ints: [0, 0, 0] },
          nodes_nodeids: { ints: [0, 1, 2] },
          nodes_featureids: { ints: [0, 0, 0] },
          nodes_modes: { strings: ['BRANCH_LEQ', 'LEAF', 'LEAF'] },
          nodes_values: { floats: [0, 0, 0] },
          nodes_truenodeids: { ints: [1, 0, 0] },
          nodes_falsenodeids: { ints: [2, 0, 0] },
          class_treeids: { ints: [0, 0, 0] },
          class_nodeids: { ints: [1, 1, 2] },
          class_ids: { ints: [0, 1, 2] },
          class_weights: { floats: [0.8, 0.2, 1] },
          post_transform: { s: 'NONE' },
        },
        ML,
      );
      g.output('label', 'string', ['N']);
      g.output('scores', 'float', ['N', 3]);
    },
    feeds: { x: floatTensor([2, 2], [-1, 5, 1, 5]) },
    expect: {
      label: { type: 'string', dims: [2], data: ['a', 'c'] },
      scores: { type: 'float', dims: [2, 3], data: [0.8, 0.2, 0, 0, 0, 1] },
    },
  },
  {
    name: 'Normalizer (L1, L2 and MAX)',
    build: (g) => {
      g.input('x', 'float', ['N', 2]);
      for (const norm of ['L1', 'L2', 'MAX']) g.node('Normalizer', ['x'], [norm], { norm: { s: norm } }, ML);
      for (const norm of ['L1', 'L2', 'MAX']) g.output(norm, 'float', ['N', 2]);
    },
    feeds: { x: floatTensor([2, 2], [3, 4, -1, 1]) },
    expect: {
      L1: { type: 'float', dims: [2, 2], data: [3 / 7, 4 / 7, -0.5, 0.5] },
      L2: { type: 'float', dims: [2, 2], data: [0.6, 0.8, -Math.SQRT1_2, Math.SQRT1_2] },
      MAX: { type: 'float', dims: [2, 2], data: [0.75, 1, -1, 1] },
    },
  },
  {
    name: 'LabelEncoder and CategoryMapper (strings to int64, unknown to the default)',
    build: (g) => {
      g.input('s', 'string', ['N']);
      g.node(
        'LabelEncoder',
        ['s'],
        ['encoded'],
        { keys_strings: { strings: ['lo', 'hi'] }, values_int64s: { ints: [10, 20] }, default_int64: { i: -1 } },
        ML,
      );
      g.node(
        'CategoryMapper',
        ['s'],
        ['mapped'],
        { cats_strings: { strings: ['lo', 'hi'] }, cats_int64s: { ints: [0, 1] }, default_int64: { i: 99 } },
        ML,
      );
      g.output('encoded', 'int64', ['N']);
      g.output('mapped', 'int64', ['N']);
    },
    feeds: { s: { type: 'string', dims: [3], data: ['hi', 'mid', 'lo'] } },
    expect: {
      encoded: { type: 'int64', dims: [3], data: [20n, -1n, 10n] },
      mapped: { type: 'int64', dims: [3], data: [1n, 99n, 0n] },
    },
  },
  {
    name: 'ArrayFeatureExtractor (columns by an int64 initializer) and FeatureVectorizer',
    build: (g) => {
      g.input('x', 'float', ['N', 3]);
      g.input('z', 'float', ['N', 1]);
      const picks = g.constant('picks', { type: 'int64', dims: [2], data: [2n, 0n] });
      const [picked] = g.node('ArrayFeatureExtractor', ['x', picks], [g.fresh('picked')], {}, ML);
      g.node('FeatureVectorizer', ['z', picked as string], ['joined'], { inputdimensions: { ints: [1, 2] } }, ML);
      g.output('joined', 'float', ['N', 3]);
    },
    feeds: { x: floatTensor([2, 3], [1, 2, 3, 4, 5, 6]), z: floatTensor([2, 1], [-1, -2]) },
    expect: { joined: { type: 'float', dims: [2, 3], data: [-1, 3, 1, -2, 6, 4] } },
  },
  {
    name: 'initializers of every element type passed through',
    build: (g) => {
      g.input('x', 'float', ['N']);
      g.node('Identity', ['x'], ['x_out']);
      const i64 = g.constant('i64', { type: 'int64', dims: [3], data: [-5n, 0n, 2n ** 40n] });
      const dbl = g.constant('dbl', { type: 'double', dims: [2], data: [0.1, -2e-300] });
      const str = g.constant('str', { type: 'string', dims: [2], data: ['α', ''] });
      const bools = g.constant('bools', { type: 'bool', dims: [2], data: [true, false] });
      g.node('Identity', [i64], ['i64_out']);
      g.node('Identity', [dbl], ['dbl_out']);
      g.node('Identity', [str], ['str_out']);
      g.node('Not', [bools], ['not_out']);
      g.output('x_out', 'float', ['N']);
      g.output('i64_out', 'int64', [3]);
      g.output('dbl_out', 'double', [2]);
      g.output('str_out', 'string', [2]);
      g.output('not_out', 'bool', [2]);
    },
    feeds: { x: floatTensor([1], [7]) },
    expect: {
      x_out: { type: 'float', dims: [1], data: [7] },
      i64_out: { type: 'int64', dims: [3], data: [-5n, 0n, 2n ** 40n] },
      dbl_out: { type: 'double', dims: [2], data: [0.1, -2e-300] },
      str_out: { type: 'string', dims: [2], data: ['α', ''] },
      not_out: { type: 'bool', dims: [2], data: [0, 1] },
    },
  },
];

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

function softmax(z: readonly number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

describe('ONNX graphs from the builder, run by onnxruntime-node', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const g = createOnnxGraph('case');
      c.build(g);
      const session = await OnnxModelSession.load(g.toBytes());
      try {
        const out = await session.run(c.feeds);
        assert.deepEqual(Object.keys(out).sort(), Object.keys(c.expect).sort());
        for (const [name, want] of Object.entries(c.expect)) {
          const got = out[name] as RuntimeTensor;
          assert.equal(got.type, want.type, `${name}: type`);
          assert.deepEqual([...got.dims], want.dims, `${name}: dims`);
          if (got.type === 'float' || got.type === 'double') {
            if (got.type === 'double') assert.deepEqual([...got.data], want.data, `${name}: exact doubles`);
            else assertClose(got.data, want.data as number[], name);
          } else {
            assert.deepEqual([...got.data], want.data, `${name}: data`);
          }
        }
      } finally {
        await session.close();
      }
    });
  }
});

describe('OnnxModelSession', () => {
  let session: OnnxModelSession;

  before(async () => {
    const g = createOnnxGraph('two-inputs');
    g.input('num', 'float', ['N', 2]);
    g.input('cat', 'string', ['N', 1]);
    g.node('Identity', ['num'], ['num_out']);
    g.node('Identity', ['cat'], ['cat_out']);
    g.output('num_out', 'float', ['N', 2]);
    g.output('cat_out', 'string', ['N', 1]);
    session = await OnnxModelSession.load(g.toBytes());
  });
  after(async () => {
    await session.close();
  });

  it('reports the inputs and outputs as the graph declares them', () => {
    assert.deepEqual(session.inputs(), [
      { name: 'num', type: 'float', shape: ['N', 2] },
      { name: 'cat', type: 'string', shape: ['N', 1] },
    ]);
    assert.deepEqual(session.outputs(), [
      { name: 'num_out', type: 'float', shape: ['N', 2] },
      { name: 'cat_out', type: 'string', shape: ['N', 1] },
    ]);
  });

  const ok = {
    num: floatTensor([2, 2], [1, 2, 3, 4]),
    cat: { type: 'string', dims: [2, 1], data: ['a', 'b'] } as RuntimeTensor,
  };

  it('runs with well-formed feeds', async () => {
    const out = await session.run(ok);
    assert.deepEqual([...(out.cat_out?.data ?? [])], ['a', 'b']);
  });

  const badFeeds: { name: string; feeds: Record<string, RuntimeTensor>; target: string; message: RegExp }[] = [
    {
      name: 'a missing input',
      feeds: { num: ok.num },
      target: 'cat',
      message: /input 'cat' \(string \[N, 1\]\) is not fed/,
    },
    {
      name: 'an unknown input',
      feeds: { ...ok, extra: ok.num },
      target: 'extra',
      message: /unknown model input\(s\) 'extra'; the model's inputs are 'num', 'cat'/,
    },
    {
      name: 'the wrong element type',
      feeds: { ...ok, num: { type: 'double', dims: [2, 2], data: Float64Array.from([1, 2, 3, 4]) } },
      target: 'num',
      message: /input 'num' must be float; got double/,
    },
    {
      name: 'a fixed dimension that differs',
      feeds: { ...ok, num: floatTensor([2, 3], [1, 2, 3, 4, 5, 6]) },
      target: 'num',
      message: /input 'num' must have shape \[N, 2\]; got \[2, 3\]/,
    },
    {
      name: 'the wrong rank',
      feeds: { ...ok, num: floatTensor([4], [1, 2, 3, 4]) },
      target: 'num',
      message: /must have shape \[N, 2\]; got \[4\]/,
    },
    {
      name: 'a symbolic dimension bound to two sizes',
      feeds: { ...ok, cat: { type: 'string', dims: [3, 1], data: ['a', 'b', 'c'] } },
      target: 'cat',
      message: /dimension 'N' is 2 in input 'num' but 3 in input 'cat'/,
    },
    {
      name: 'data that does not fill its dims',
      feeds: { ...ok, num: { type: 'float', dims: [2, 2], data: f32([1, 2, 3]) } },
      target: 'num',
      message: /input 'num' has dims \[2, 2\] but 3 elements/,
    },
  ];
  for (const c of badFeeds) {
    it(`refuses ${c.name} with a ValidationError naming the input`, async () => {
      await assert.rejects(session.run(c.feeds), (err: unknown) => {
        assert.ok(err instanceof AppError, String(err));
        assert.equal(err.code, 'ValidationError');
        assert.equal(err.target, c.target);
        assert.match(err.message, c.message);
        return true;
      });
    });
  }

  it('closes idempotently and refuses to run afterwards', async () => {
    const g = createOnnxGraph('closing');
    g.input('x', 'float', ['N']);
    g.node('Identity', ['x'], ['y']);
    g.output('y', 'float', ['N']);
    const s = await new OnnxModelRuntime().load(g.toBytes());
    await s.close();
    await s.close();
    await assert.rejects(s.run({ x: floatTensor([1], [1]) }), /the ONNX session is closed/);
  });
});

describe('OnnxModelSession.load refuses malformed models', () => {
  const malformed: { name: string; bytes: () => Uint8Array; message: RegExp }[] = [
    {
      name: 'bytes that are not a protobuf',
      bytes: () => Uint8Array.from([0xff, 0xff, 0xff]),
      message: /protobuf parsing failed/,
    },
    { name: 'no bytes at all', bytes: () => new Uint8Array(0), message: /could not be loaded/ },
    {
      name: 'a graph using an operator that does not exist',
      bytes: () => {
        const g = createOnnxGraph('unknown-op');
        g.input('x', 'float', ['N']);
        g.node('Frobnicate', ['x'], ['y']);
        g.output('y', 'float', ['N']);
        return g.toBytes();
      },
      message: /Frobnicate/,
    },
    {
      name: 'a graph whose types do not check (float + int64)',
      bytes: () => {
        const g = createOnnxGraph('bad-types');
        g.input('x', 'float', ['N']);
        const k = g.constant('k', { type: 'int64', dims: [1], data: [1] });
        g.node('Add', ['x', k], ['y']);
        g.output('y', 'float', ['N']);
        return g.toBytes();
      },
      message: /Add/,
    },
    {
      name: "ZipMap's sequence of maps declared as a tensor output (FittedModel outputs are tensors)",
      bytes: () => {
        const g = createOnnxGraph('zipmap');
        g.input('p', 'float', ['N', 2]);
        g.node('ZipMap', ['p'], ['maps'], { classlabels_strings: { strings: ['a', 'b'] } }, ML);
        g.output('maps', 'float', ['N', 2]);
        return g.toBytes();
      },
      message: /maps/,
    },
    {
      name: 'an ai.onnx.ml operator missing a required attribute',
      bytes: () => {
        const g = createOnnxGraph('no-coefficients');
        g.input('x', 'float', ['N', 2]);
        g.node('LinearClassifier', ['x'], ['label', 'proba'], { classlabels_ints: { ints: [0, 1] } }, ML);
        g.output('label', 'int64', ['N']);
        g.output('proba', 'float', ['N', 2]);
        return g.toBytes();
      },
      message: /coefficients/,
    },
  ];
  for (const c of malformed) {
    it(`refuses ${c.name} with a ValidationError (target 'model') carrying onnxruntime's reason`, async () => {
      await assert.rejects(OnnxModelSession.load(c.bytes()), (err: unknown) => {
        assert.ok(err instanceof AppError, String(err));
        assert.equal(err.code, 'ValidationError');
        assert.equal(err.target, 'model');
        assert.match(err.message, /^The ONNX model could not be loaded \(\d+ bytes\): /);
        assert.match(err.message, c.message);
        return true;
      });
    });
  }
});
