// Dynamic batching (shared/serving/batcher.ts): requests that wait while the model is busy run as
// one graph run, each gets exactly its own rows back, and nothing about a request's answer depends
// on what it was batched with — a failing request fails alone, a graph whose outputs cannot be
// split by row is run request by request.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OnnxModelRuntime } from '../../shared/adapters/onnx-runtime.js';
import { createOnnxGraph } from '../../shared/ml/onnx/graph-builder.js';
import type { ModelSession, RuntimeTensor } from '../../shared/ports/model-runtime.js';
import { RowBatcher } from '../../shared/serving/batcher.js';
import { RequestParser } from '../../shared/serving/onnx-input.js';
import { linearOnnx } from '../support/serving-models.js';

const rowsOf = (values: readonly number[][]): RuntimeTensor => ({
  type: 'float',
  dims: [values.length, values[0]?.length ?? 0],
  data: Float32Array.from(values.flat()),
});

/** Counts the rows of every run it passes on to the real session. */
function counting(session: ModelSession): { session: ModelSession; runs: number[] } {
  const runs: number[] = [];
  return {
    runs,
    session: {
      inputs: () => session.inputs(),
      outputs: () => session.outputs(),
      close: () => session.close(),
      run: (feeds) => {
        runs.push(Object.values(feeds)[0]?.dims[0] ?? 0);
        return session.run(feeds);
      },
    },
  };
}

describe('RowBatcher', () => {
  test('requests waiting behind a busy model run as one batch; each gets its own rows', async () => {
    const real = await new OnnxModelRuntime().load(linearOnnx([1, 10], 0.5));
    const { session, runs } = counting(real);
    const batcher = new RowBatcher(session, { maxRows: 64, maxRunsInFlight: 1 });
    const requests = Array.from({ length: 20 }, (_, i) => Array.from({ length: 1 + (i % 3) }, (_, r) => [i, r]));
    const answers = await Promise.all(requests.map((rows) => batcher.run({ x: rowsOf(rows) }, rows.length, 'x')));
    // The first request runs alone (the model was idle); the 19 that queued behind it run together.
    assert.deepEqual(runs, [1, requests.slice(1).reduce((n, r) => n + r.length, 0)]);
    answers.forEach((out, i) => {
      const y = out['y'] as RuntimeTensor;
      const expected = (requests[i] as number[][]).map(([a, b]) => (a as number) + 10 * (b as number) + 0.5);
      assert.deepEqual(y.dims, [expected.length, 1]);
      assert.deepEqual([...(y.data as Float32Array)], expected);
    });
    await real.close();
  });

  test('maxRows caps a batch; a larger request still runs, alone', async () => {
    const real = await new OnnxModelRuntime().load(linearOnnx([1], 0));
    const { session, runs } = counting(real);
    const batcher = new RowBatcher(session, { maxRows: 4, maxRunsInFlight: 1 });
    const sizes = [1, 2, 2, 3, 9, 1];
    await Promise.all(sizes.map((n) => batcher.run({ x: rowsOf(Array.from({ length: n }, () => [1])) }, n, 'x')));
    assert.deepEqual(runs, [1, 4, 3, 9, 1]);
    await real.close();
  });

  test('a request that makes the batched run fail fails alone; the others are answered', async () => {
    const real = await new OnnxModelRuntime().load(linearOnnx([2], 0));
    const poisoned: ModelSession = {
      inputs: () => real.inputs(),
      outputs: () => real.outputs(),
      close: () => real.close(),
      run: (feeds) => {
        const x = feeds['x'] as RuntimeTensor;
        if ([...(x.data as Float32Array)].includes(13)) return Promise.reject(new Error('unlucky row'));
        return real.run(feeds);
      },
    };
    const batcher = new RowBatcher(poisoned, { maxRows: 64, maxRunsInFlight: 1 });
    const settled = await Promise.allSettled([1, 2, 13, 4].map((v) => batcher.run({ x: rowsOf([[v]]) }, 1, 'x')));
    assert.deepEqual(
      settled.map((s) => (s.status === 'fulfilled' ? (s.value['y'] as RuntimeTensor).data[0] : 'failed')),
      [2, 4, 'failed', 8],
    );
    await real.close();
  });

  test('a graph whose output is not one entry per row is run request by request, and no longer batched', async () => {
    // total = sum over all rows: batched, it would mix requests.
    const g = createOnnxGraph('total');
    const x = g.input('x', 'float', ['N', 1]);
    g.node('ReduceSum', [x], ['total'], { keepdims: { i: 0 } });
    g.output('total', 'float', []);
    const real = await new OnnxModelRuntime().load(g.toBytes());
    const { session, runs } = counting(real);
    const batcher = new RowBatcher(session, { maxRows: 64, maxRunsInFlight: 1 });
    const totals = async (): Promise<number[]> =>
      (
        await Promise.all([[1], [2, 3], [4]].map((v) => batcher.run({ x: rowsOf(v.map((n) => [n])) }, v.length, 'x')))
      ).map((out) => (out['total'] as RuntimeTensor).data[0] as number);
    assert.deepEqual(await totals(), [1, 5, 4]);
    assert.deepEqual(runs, [1, 3, 2, 1]);
    runs.length = 0;
    assert.deepEqual(await totals(), [1, 5, 4]);
    assert.deepEqual(runs, [1, 2, 1], 'once a batch could not be split, every request runs alone');
    await real.close();
  });

  test('requests whose feeds do not stack (text tokens of different widths) run in separate batches', async () => {
    const calls: number[][] = [];
    const fake: ModelSession = {
      inputs: () => [],
      outputs: () => [],
      close: () => Promise.resolve(),
      run: (feeds) => {
        const t = feeds['tokens'] as RuntimeTensor;
        calls.push([...t.dims]);
        return Promise.resolve({
          out: { type: 'float', dims: [t.dims[0] as number, 1], data: new Float32Array(t.dims[0] as number) },
        });
      },
    };
    const batcher = new RowBatcher(fake, { maxRows: 64, maxRunsInFlight: 1 });
    // The parser's shape key tells the widths apart.
    const parser = new RequestParser(
      { mode: 'columns', columns: [{ column: 'note', onnxName: 'tokens', encoding: 'tokens' }] },
      1e6,
    );
    const request = (width: number) => {
      const parsed = parser.parse(JSON.stringify({ data: [[Array(width).fill('a').join(' ')]] }));
      assert.ok(parsed.ok);
      return batcher.run(parsed.feeds, parsed.rows, parsed.shape);
    };
    await Promise.all([1, 2, 2, 3, 3].map(request));
    assert.deepEqual(calls, [
      [1, 1],
      [2, 2],
      [2, 3],
    ]);
  });

  test("with the parser's shape keys, only requests of the same key are batched", async () => {
    const real = await new OnnxModelRuntime().load(linearOnnx([1], 0));
    const { session, runs } = counting(real);
    const batcher = new RowBatcher(session, { maxRows: 64, maxRunsInFlight: 1 });
    const one = { x: rowsOf([[1]]) };
    await Promise.all(['a', 'a', 'b', 'b', 'a'].map((shape) => batcher.run(one, 1, shape)));
    assert.deepEqual(runs, [1, 1, 2, 1]);
    await real.close();
  });
});
