// Boosting's WebAssembly histogram kernel (shared/ml/models/histogram-kernel.ts), through the
// histogram runners: builds, subtractions, scans and partitions equal plain TypeScript written from
// their definitions, bit for bit, on one thread and on several, before and after the memory grows.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KernelHeap } from '../../shared/ml/models/histogram-kernel.js';
import { histogramRunner } from '../../shared/ml/models/histogram-threads.js';
import type { HistogramRunner } from '../../shared/ml/models/histogram-threads.js';
import { SLOTS, histogramLayout } from '../../shared/ml/models/histograms.js';
import type { HistogramLayout, SplitLimits } from '../../shared/ml/models/histograms.js';
import { Rng } from '../../shared/ml/rng.js';

const rows = 12_001;
const p = 6;
const rng = new Rng(11);
// Feature f has 3 + 40 f bins; code 3 + 40 f is its missing value, present in every feature but 2.
const edges = Array.from({ length: p }, (_, f) => new Float32Array(3 + 40 * f));
const codes = Uint8Array.from({ length: rows * p }, (_, i) => {
  const f = i % p;
  return rng.int(f === 2 ? 3 + 40 * f : 4 + 40 * f);
});
const layout = histogramLayout(codes, edges);
const limits: SplitLimits = { minChildSamples: 15, minChildWeight: 0.5, minSplitGain: 0, lambda: 0.25 };

function fill(runner: HistogramRunner): void {
  for (let i = 0; i < rows; i++) {
    runner.grad[i] = Math.sin(i * 0.7) * 2 + (codes[i * p + 1]! > 20 ? 0.5 : 0);
    runner.hess[i] = 0.1 + (i % 7) / 10;
    runner.order[i] = (i * 1_009) % rows;
  }
}

/** The histogram of order[start..end) over `features`, row by row: the definition. */
function referenceHistogram(
  runner: HistogramRunner,
  layout: HistogramLayout,
  start: number,
  end: number,
  features: number[],
): Float64Array {
  const hist = new Float64Array(p * layout.featureStride);
  for (let k = start; k < end; k++) {
    const r = runner.order[k]!;
    for (const f of features) {
      const at = f * layout.featureStride + codes[r * p + f]! * SLOTS;
      hist[at] = hist[at]! + runner.grad[r]!;
      hist[at + 1] = hist[at + 1]! + runner.hess[r]!;
      hist[at + 2] = hist[at + 2]! + 1;
    }
  }
  return hist;
}

/** The best split of a leaf from its histogram, by the definition in histograms.ts scanHistogram. */
function referenceScan(hist: Float64Array, features: number[], g: number, h: number, count: number) {
  const { minChildSamples, minChildWeight, minSplitGain, lambda } = limits;
  let best: { feature: number; bin: number; gain: number; gl: number; hl: number } | null = null;
  for (const f of features) {
    const nb = layout.bins[f]!;
    const base = f * layout.featureStride;
    const missing = hist[base + nb * SLOTS + 2]!;
    let [gl, hl, cl] = [0, 0, 0];
    for (let b = 0; b < nb; b++) {
      gl += hist[base + b * SLOTS]!;
      hl += hist[base + b * SLOTS + 1]!;
      cl += hist[base + b * SLOTS + 2]!;
      if (b === nb - 1 && missing === 0) break;
      if (cl < minChildSamples) continue;
      if (count - cl < minChildSamples) break;
      if (hl < minChildWeight || h - hl < minChildWeight) continue;
      const gain = (gl * gl) / (hl + lambda) + ((g - gl) * (g - gl)) / (h - hl + lambda) - (g * g) / (h + lambda);
      if (gain > minSplitGain && gain > 0 && (best === null || gain > best.gain))
        best = { feature: f, bin: b, gain, gl, hl };
    }
  }
  return best;
}

function sums(runner: HistogramRunner, start: number, end: number): { g: number; h: number; count: number } {
  let g = 0;
  let h = 0;
  for (let k = start; k < end; k++) {
    g += runner.grad[runner.order[k]!]!;
    h += runner.hess[runner.order[k]!]!;
  }
  return { g, h, count: end - start };
}

describe('histogram kernel', () => {
  for (const threads of [1, 3]) {
    it(`builds, subtracts and scans as the definitions do (${threads} thread${threads > 1 ? 's' : ''})`, () => {
      const runner = histogramRunner(layout, limits, rows, threads);
      try {
        fill(runner);
        // Sets of features: all, a run, and gaps (the kernel's two row loops); more histograms than
        // the heap starts with, so that later ones sit in grown memory.
        const sets = [[0, 1, 2, 3, 4, 5], [2, 3, 4], [0, 2, 5], [1, 4], [5]];
        const ranges: [number, number, number][] = [
          [0, 1_200, rows],
          [17, 6_000, 11_917],
          [100, 101, 106],
          [5, 5, 900],
        ];
        let scanned = 0;
        for (const features of sets) {
          for (const [start, mid, end] of ranges) {
            const at = `features ${features}, rows ${start}..${mid}..${end}`;
            const parent = runner.allocate();
            const child = runner.allocate();
            const whole = sums(runner, start, end);
            const [root] = runner.run(
              { build: { hist: parent, start, end }, scans: [{ hist: parent, ...whole }] },
              Int32Array.from(features),
            );
            const expectedParent = referenceHistogram(runner, runner.layout, start, end, features);
            const bins = (hist: Float64Array) =>
              features.map((f) => Array.from(hist.subarray(f * layout.featureStride, (f + 1) * layout.featureStride)));
            assert.deepEqual(bins(parent), bins(expectedParent), at);
            assert.deepEqual(root ?? null, referenceScan(expectedParent, features, whole.g, whole.h, whole.count), at);

            const left = sums(runner, start, mid);
            const right = { g: whole.g - left.g, h: whole.h - left.h, count: whole.count - left.count };
            const found = runner.run(
              {
                build: { hist: child, start, end: mid, subtractFrom: parent },
                scans: [
                  { hist: child, ...left },
                  { hist: parent, ...right },
                ],
              },
              Int32Array.from(features),
            );
            const expectedChild = referenceHistogram(runner, runner.layout, start, mid, features);
            const expectedSibling = expectedParent.map((v, i) => v - expectedChild[i]!);
            assert.deepEqual(bins(child), bins(expectedChild), at);
            assert.deepEqual(bins(parent), bins(expectedSibling), at);
            assert.deepEqual(
              found.map((s) => s ?? null),
              [
                referenceScan(expectedChild, features, left.g, left.h, left.count),
                referenceScan(expectedSibling, features, right.g, right.h, right.count),
              ],
              at,
            );
            if (found[0] !== null) scanned++;
          }
        }
        assert.ok(scanned >= 8, `${scanned} scans found a split`);
      } finally {
        runner.close();
      }
    });
  }

  it('partitions a leaf stably by a feature’s bin', () => {
    const runner = histogramRunner(layout, limits, rows, 1);
    fill(runner);
    for (const [feature, bin, start, end] of [
      [0, 1, 0, rows],
      [3, 60, 250, 9_750],
      [2, 0, 10, 11],
      [5, 300, 0, 40],
      [4, 200, 7, 7],
    ] as const) {
      const before = Array.from(runner.order);
      const rowsIn = before.slice(start, end);
      const goesLeft = (r: number) => codes[r * p + feature]! <= bin;
      const mid = runner.partition(feature, bin, start, end);
      const expected = [
        ...before.slice(0, start),
        ...rowsIn.filter(goesLeft),
        ...rowsIn.filter((r) => !goesLeft(r)),
        ...before.slice(end),
      ];
      assert.deepEqual(Array.from(runner.order), expected, `feature ${feature} ≤ ${bin} over ${start}..${end}`);
      assert.equal(mid, start + rowsIn.filter(goesLeft).length);
    }
    runner.close();
  });

  it('refuses histograms that are not its own', () => {
    for (const threads of [1, 2]) {
      const runner = histogramRunner(layout, limits, rows, threads);
      try {
        const foreign = new Float64Array(p * layout.featureStride);
        assert.throws(
          () => runner.run({ build: { hist: foreign, start: 0, end: rows }, scans: [] }, Int32Array.of(0, 1)),
          TypeError,
        );
        const other = histogramRunner(layout, limits, rows, 1).allocate();
        assert.throws(
          () => runner.run({ scans: [{ hist: other, g: 0, h: 1, count: 1 }] }, Int32Array.of(0)),
          TypeError,
        );
      } finally {
        runner.close();
      }
    }
  });

  it('grows its memory, keeping the arrays it gave out, and says when 4 GiB would not do', () => {
    const heap = new KernelHeap(1_000);
    const first = heap.float64Array(10);
    first.fill(7);
    const big = heap.float64Array(1_000_000);
    big[999_999] = 1;
    assert.deepEqual(Array.from(first), Array(10).fill(7));
    assert.equal(big.byteOffset % 16, 0);
    assert.throws(() => new KernelHeap(5 * 2 ** 30), /at most 4 GiB/);
  });
});
