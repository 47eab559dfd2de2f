// The no-code ONNX deployment: request bodies in Azure ML's shapes → feeds (and every malformed
// body → a 4xx naming the problem), and scoring an AutoML model folder, whose answers match
// predictPipeline, and a bare .onnx graph.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OnnxModelRuntime } from '../../shared/adapters/onnx-runtime.js';
import { modelInputsFromGraph, RequestParser, type ModelInputs } from '../../shared/serving/onnx-input.js';
import { createOnnxScorer, tensorToJson } from '../../shared/serving/onnx-scorer.js';
import { ScorerInitError, type Scorer, type ScoreResponse } from '../../shared/serving/scorer.js';
import {
  automlModelFolder,
  bareModelFolder,
  jsonRows,
  tempDir,
  type AutomlModelFolder,
} from '../support/serving-models.js';

const INPUTS: ModelInputs = {
  mode: 'columns',
  columns: [
    { column: 'age', onnxName: 'age', encoding: 'float' },
    { column: 'color', onnxName: 'color', encoding: 'string' },
    { column: 'signup', onnxName: 'signup', encoding: 'epoch-ms' },
    { column: 'note', onnxName: 'note', encoding: 'tokens' },
  ],
};
const parser = new RequestParser(INPUTS, 1000);
const body = (doc: unknown): Buffer => Buffer.from(JSON.stringify(doc));

describe('RequestParser', () => {
  test('reads input_data split orientation with columns in any order', () => {
    const parsed = parser.parse(
      body({
        input_data: {
          columns: ['note', 'color', 'age', 'signup'],
          index: [0, 1],
          data: [
            ['Fast Red car', 'red', 41, '2020-01-02T00:00:00Z'],
            [null, null, null, 1_577_923_200_000],
          ],
        },
      }),
    );
    assert.ok(parsed.ok, JSON.stringify(parsed));
    assert.equal(parsed.rows, 2);
    assert.deepEqual(parsed.feeds['age'], { type: 'float', dims: [2, 1], data: Float32Array.from([41, NaN]) });
    assert.deepEqual(parsed.feeds['color'], { type: 'string', dims: [2, 1], data: ['red', ''] });
    assert.deepEqual(parsed.feeds['signup'], {
      type: 'double',
      dims: [2, 1],
      data: Float64Array.from([Date.UTC(2020, 0, 2), 1_577_923_200_000]),
    });
    assert.deepEqual(parsed.feeds['note'], { type: 'string', dims: [2, 3], data: ['fast', 'red', 'car', '', '', ''] });
  });

  test('reads {"data": rows} and {"input_data": rows} in the model order, and records', () => {
    const row = [3, 'blue', 0, 'x'];
    for (const doc of [{ data: [row] }, { input_data: [row] }, { dataframe_split: { data: [row] } }]) {
      const parsed = parser.parse(body(doc));
      assert.ok(parsed.ok, JSON.stringify(doc));
      assert.deepEqual(parsed.feeds['color']?.data, ['blue']);
    }
    const records = parser.parse(body({ dataframe_records: [{ age: 3, color: 'blue', signup: 0, note: 'x' }] }));
    assert.ok(records.ok);
    assert.deepEqual(records.feeds['age']?.data, Float32Array.from([3]));
  });

  const malformed: { name: string; body: Buffer | string; status: number; message: RegExp }[] = [
    { name: 'unparsable JSON', body: '{"data": [[1, 2', status: 400, message: /not valid JSON/ },
    { name: 'a JSON list at the top', body: '[[1]]', status: 400, message: /"input_data" or "data"/ },
    { name: 'no input_data or data', body: '{"rows": []}', status: 400, message: /no "input_data" or "data".*'rows'/ },
    { name: 'an empty batch', body: '{"data": []}', status: 400, message: /no rows/ },
    { name: 'data not a list', body: '{"input_data": {"data": 5}}', status: 400, message: /must be a list of rows/ },
    {
      name: 'a row with too few values',
      body: '{"data": [[1, "a", 0, "x"], [1, "a", 0]]}',
      status: 400,
      message: /row 1 has 3 value\(s\); expected 4/,
    },
    {
      name: 'a string in a numeric column',
      body: JSON.stringify({
        input_data: {
          columns: ['age', 'color', 'signup', 'note'],
          data: [
            [1, 'a', 0, ''],
            [2, 'b', 0, ''],
            [3, 'c', 0, ''],
            ['abc', 'd', 0, ''],
          ],
        },
      }),
      status: 400,
      message: /^row 3, column 'age': 'abc' is not a number$/,
    },
    {
      name: 'an unknown column',
      body: '{"input_data": {"columns": ["age", "color", "signup", "note", "zip"], "data": [[1, "a", 0, "x", 1]]}}',
      status: 400,
      message: /unknown column\(s\) 'zip'; the model's columns are 'age', 'color', 'signup', 'note'/,
    },
    {
      name: 'a missing column',
      body: '{"input_data": {"columns": ["age", "color", "note"], "data": [[1, "a", "x"]]}}',
      status: 400,
      message: /missing column\(s\) 'signup'/,
    },
    {
      name: 'a column given twice',
      body: '{"input_data": {"columns": ["age", "age", "signup", "note"], "data": [[1, 1, 0, "x"]]}}',
      status: 400,
      message: /column 'age' is given twice/,
    },
    {
      name: 'a date that does not parse',
      body: '{"data": [[1, "a", "yesterday", "x"]]}',
      status: 400,
      message: /row 0, column 'signup': 'yesterday' is not a date/,
    },
    { name: 'an object in a text column', body: '{"data": [[1, {}, 0, "x"]]}', status: 400, message: /column 'color'/ },
    { name: 'a row that is not a list', body: '{"data": [5]}', status: 400, message: /row 0 is not a list/ },
    { name: 'a body over the limit', body: `{"data": [${'1,'.repeat(600)}1]}`, status: 413, message: /limit is 1000/ },
  ];
  for (const c of malformed) {
    test(`answers ${c.status} for ${c.name}`, () => {
      const parsed = parser.parse(typeof c.body === 'string' ? Buffer.from(c.body) : c.body);
      assert.ok(!parsed.ok);
      assert.equal(parsed.problem.status, c.status);
      assert.match(parsed.problem.message, c.message);
    });
  }

  test('a bare graph takes rows as feature vectors and checks their width', () => {
    const p = new RequestParser(modelInputsFromGraph([{ name: 'x', type: 'float', shape: ['N', 3] }]), 1e6);
    const ok = p.parse(
      body({
        data: [
          [1, 2, 3],
          [4, null, true],
        ],
      }),
    );
    assert.ok(ok.ok);
    assert.deepEqual(ok.feeds['x'], { type: 'float', dims: [2, 3], data: Float32Array.from([1, 2, 3, 4, NaN, 1]) });
    const wide = p.parse(body({ data: [[1, 2, 3, 4]] }));
    assert.ok(!wide.ok);
    assert.match(wide.problem.message, /row 0 has 4 value\(s\); the model takes 3 features/);
    const text = p.parse(body({ data: [[1, 'two', 3]] }));
    assert.ok(!text.ok);
    assert.match(text.problem.message, /row 0, feature 1: 'two' is not a number/);
  });

  test('a graph of several one-column inputs is read by column name', () => {
    const inputs = modelInputsFromGraph([
      { name: 'a', type: 'double', shape: ['N', 1] },
      { name: 'b', type: 'int64', shape: ['N', 1] },
      { name: 'c', type: 'string', shape: ['N', 'c:tokens'] },
    ]);
    assert.deepEqual(inputs.mode === 'columns' ? inputs.columns.map((c) => c.encoding) : [], [
      'double',
      'int64',
      'tokens',
    ]);
    const p = new RequestParser(inputs, 1e6);
    const ok = p.parse(body({ input_data: { columns: ['c', 'b', 'a'], data: [['hi there', 7, 0.5]] } }));
    assert.ok(ok.ok);
    assert.deepEqual(ok.feeds['b'], { type: 'int64', dims: [1, 1], data: BigInt64Array.from([7n]) });
    const frac = p.parse(body({ data: [[1, 1.5, 'x']] }));
    assert.ok(!frac.ok);
    assert.match(frac.problem.message, /column 'b': 1.5 is not an integer/);
  });
});

test('tensorToJson writes one entry per row', () => {
  assert.equal(
    tensorToJson({ type: 'float', dims: [3, 1], data: Float32Array.from([1.5, NaN, -2]) }, 3),
    '[1.5,null,-2]',
  );
  assert.equal(
    tensorToJson({ type: 'double', dims: [2, 2], data: Float64Array.from([1, 2, 3, 4]) }, 2),
    '[[1,2],[3,4]]',
  );
  assert.equal(tensorToJson({ type: 'string', dims: [2], data: ['a"b', 'c'] }, 2), '["a\\"b","c"]');
  assert.equal(tensorToJson({ type: 'int64', dims: [1], data: BigInt64Array.from([5n]) }, 1), '[5]');
});

const runtime = new OnnxModelRuntime();
const never = new AbortController().signal;
const req = (doc: unknown) => ({ body: body(doc), headers: {} });
const answer = (res: ScoreResponse): unknown => JSON.parse(res.body.toString()) as unknown;

describe('the ONNX scorer', () => {
  const scorers: Scorer[] = [];
  let classification: AutomlModelFolder;
  let regression: AutomlModelFolder;
  before(() => {
    classification = automlModelFolder('classification', 'LightGBM');
    regression = automlModelFolder('regression', 'ElasticNet');
  });
  after(async () => {
    for (const s of scorers) await s.close();
  });

  test("answers an AutoML classifier's labels, as predictPipeline does, whatever the column order", async () => {
    const scorer = await createOnnxScorer(
      { kind: 'onnx', modelDir: classification.dir, instanceCount: 1, environmentVariables: {} },
      { modelRuntime: runtime },
    );
    scorers.push(scorer);
    const columns = ['note', 'signup', 'color', 'age', 'income'];
    const res = await scorer.score(
      req({ input_data: { columns, index: [], data: jsonRows(classification.holdout, columns) } }),
      never,
    );
    assert.equal(res.status, 200, res.body.toString());
    assert.equal(res.contentType, 'application/json');
    assert.deepEqual(answer(res), classification.expected);
    // {"data": rows} in the manifest's order gives the same answer.
    const order = classification.manifest.inputs.map((i) => i.column);
    const again = await scorer.score(req({ data: jsonRows(classification.holdout, order) }), never);
    assert.deepEqual(answer(again), classification.expected);
  });

  test("answers an AutoML regressor's values within float32 precision", async () => {
    const scorer = await createOnnxScorer(
      { kind: 'onnx', modelDir: regression.dir, instanceCount: 1, environmentVariables: {} },
      { modelRuntime: runtime },
    );
    scorers.push(scorer);
    const order = regression.manifest.inputs.map((i) => i.column);
    const res = await scorer.score(req({ data: jsonRows(regression.holdout, order) }), never);
    assert.equal(res.status, 200, res.body.toString());
    const got = answer(res) as number[];
    const want = regression.expected as Float64Array;
    assert.equal(got.length, want.length);
    got.forEach((v, i) =>
      assert.ok(Math.abs(v - (want[i] as number)) <= 1e-5 * Math.abs(want[i] as number), `row ${i}`),
    );
  });

  test('bad input is a 400 naming the problem, and the deployment keeps serving', async () => {
    const scorer = await createOnnxScorer(
      { kind: 'onnx', modelDir: classification.dir, instanceCount: 1, environmentVariables: {} },
      { modelRuntime: runtime },
    );
    scorers.push(scorer);
    const order = classification.manifest.inputs.map((i) => i.column);
    const rows = jsonRows(classification.holdout, order).slice(0, 5);
    (rows[3] as unknown[])[order.indexOf('age')] = 'abc';
    const bad = await scorer.score(req({ input_data: { columns: order, data: rows } }), never);
    assert.equal(bad.status, 400);
    assert.deepEqual(answer(bad), {
      error: { code: 'InvalidValue', message: "row 3, column 'age': 'abc' is not a number" },
    });
    const good = await scorer.score(req({ data: jsonRows(classification.holdout, order).slice(0, 5) }), never);
    assert.equal(good.status, 200);
    assert.deepEqual(answer(good), classification.expected.slice(0, 5));
  });

  test("serves a bare .onnx file, or a folder holding one, by the graph's declared input", async () => {
    const dir = bareModelFolder([1, 2, -1], 0.5);
    for (const modelDir of [dir, join(dir, 'linear.onnx')]) {
      const scorer = await createOnnxScorer(
        { kind: 'onnx', modelDir, instanceCount: 1, environmentVariables: {} },
        { modelRuntime: runtime },
      );
      scorers.push(scorer);
      const res = await scorer.score(
        req({
          data: [
            [1, 1, 1],
            [0, 0, 2],
          ],
        }),
        never,
      );
      assert.equal(res.status, 200, res.body.toString());
      assert.deepEqual(answer(res), [2.5, -1.5]);
      const bad = await scorer.score(req({ data: [[1, 1]] }), never);
      assert.equal(bad.status, 400);
    }
  });

  test('a folder without a graph, or with a manifest that does not fit it, fails to load with a reason', async () => {
    const empty = tempDir('empty-model');
    await assert.rejects(
      createOnnxScorer(
        { kind: 'onnx', modelDir: empty, instanceCount: 1, environmentVariables: {} },
        { modelRuntime: runtime },
      ),
      (e: unknown) => e instanceof ScorerInitError && /no \.onnx file/.test(e.message),
    );
    const dir = bareModelFolder([1], 0);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...classification.manifest }));
    await assert.rejects(
      createOnnxScorer(
        { kind: 'onnx', modelDir: dir, instanceCount: 1, environmentVariables: {} },
        { modelRuntime: runtime },
      ),
      (e: unknown) => e instanceof ScorerInitError && /manifest\.json/.test(e.message),
    );
  });
});
