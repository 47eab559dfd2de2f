/**
 * Who does a tree node's histogram work (histograms.ts): this thread alone, or this thread and
 * `threads - 1` workers (histogram-worker.ts), each on one block of the features, in shared memory.
 * A fit is synchronous, so the workers are driven through shared memory too: this thread writes a
 * task into each worker's control block, wakes it with Atomics.notify, does its own block and
 * blocks in Atomics.wait until every worker is done, then merges the blocks' best splits in feature
 * order. A bin's sums are the same whichever thread takes them, so the model does not depend on
 * the thread count.
 */
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { BEST_SLOTS, buildHistogram, histogramSize, scanHistogram, subtractHistogram } from './histograms.js';
import type { HistogramLayout, SplitLimits } from './histograms.js';

/** The histogram work of one node, in this order: build a histogram, subtract it from the parent's, scan leaves. */
export interface HistogramWork {
  /**
   * Set `hist` to the sums of the rows order[start..end); with `subtractFrom`, then take it away
   * from that parent histogram, which becomes the sibling's.
   */
  build?: { hist: Float64Array; start: number; end: number; subtractFrom?: Float64Array };
  /** Leaves to find the best split of, from their histograms (at most MAX_SCANS). */
  scans: readonly LeafScan[];
}

/** A leaf to scan: its histogram and its sums of gradients, hessians and rows. */
export interface LeafScan {
  hist: Float64Array;
  g: number;
  h: number;
  count: number;
}

export interface FoundSplit {
  feature: number;
  bin: number;
  gain: number;
  /** Sums of the gradients and hessians of the rows going left, from the histogram's bins. */
  gl: number;
  hl: number;
}

export const MAX_SCANS = 2;

/** Does histogram work over the gradients, hessians and row order it owns. */
export interface HistogramRunner {
  readonly layout: HistogramLayout;
  /** Per-row gradients and hessians, and the rows of the tree grouped by leaf: written by the caller. */
  readonly grad: Float64Array;
  readonly hess: Float64Array;
  readonly order: Int32Array;
  /** A new histogram buffer this runner can work on. */
  allocate(): Float64Array;
  /** Does `work` for the ascending `features`; returns each scan's best split, or null where none passes. */
  run(work: HistogramWork, features: Int32Array): (FoundSplit | null)[];
  /** Stops the workers; the runner must not be used afterwards. */
  close(): void;
}

/** A runner that uses `threads` threads, this one included (1: no workers). */
export function histogramRunner(
  layout: HistogramLayout,
  limits: SplitLimits,
  rows: number,
  threads: number,
): HistogramRunner {
  if (threads > 1) return new ThreadedHistogramRunner(layout, limits, rows, threads);
  return new LocalHistogramRunner(layout, limits, new Float64Array(rows), new Float64Array(rows), new Int32Array(rows));
}

/** What a histogram worker receives: the shared arrays and its control block. */
export interface HistogramWorkerData {
  layout: HistogramLayout;
  limits: SplitLimits;
  grad: Float64Array;
  hess: Float64Array;
  order: Int32Array;
  features: Int32Array;
  control: Int32Array;
  /** Per scan: the leaf's g, h, count in; the block's best [gain, feature, bin] out. */
  scans: Float64Array;
  port: MessagePort;
}

/** Int32 slots of a worker's control block. */
export const CONTROL = {
  /** Task number, raised by the fitting thread to wake the worker. */
  task: 0,
  /** The last task done; minus the task number when it failed (the error is on the port). */
  done: 1,
  /** 1 once the worker is running. */
  ready: 2,
  /** Histogram ids: to build (−1: none), the parent to subtract it from (−1: none); −2 in build: stop. */
  build: 3,
  parent: 4,
  start: 5,
  end: 6,
  /** The worker's block of the shared feature list: features[from..to). */
  from: 7,
  to: 8,
  scanCount: 9,
  /** Histogram ids of the scanned leaves. */
  scanHist: 10,
  size: 10 + MAX_SCANS,
} as const;

/** Doubles per scan in a worker's scan block: g, h, count in; the block's best (BEST_SLOTS) out. */
export const SCAN_SLOTS = 3 + BEST_SLOTS;

/** Work (bin additions, plus bins subtracted and scanned) below which a node is done here alone: waking a worker costs more. */
const MIN_SHARED_WORK = 32_768;

/** How long a silent worker is waited for before the fit fails. */
const WORKER_TIMEOUT_MS = 60_000;

/** Runs `work` on one block of features; writes each scan's best split (histograms.ts BEST_SLOTS) into `best` at i × BEST_SLOTS. */
export function runBlock(
  layout: HistogramLayout,
  limits: SplitLimits,
  grad: Float64Array,
  hess: Float64Array,
  order: Int32Array,
  work: HistogramWork,
  features: Int32Array,
  best: Float64Array,
): void {
  const { build, scans } = work;
  if (build !== undefined) {
    buildHistogram(layout, build.hist, grad, hess, order, build.start, build.end, features);
    if (build.subtractFrom !== undefined) subtractHistogram(layout, build.subtractFrom, build.hist, features);
  }
  scans.forEach((scan, i) => {
    const at = best.subarray(BEST_SLOTS * i, BEST_SLOTS * (i + 1));
    at.set(NO_SPLIT);
    scanHistogram(layout, scan.hist, features, scan.g, scan.h, scan.count, limits, at);
  });
}

const NO_SPLIT = [0, -1, -1, 0, 0];

function foundSplit(best: Float64Array, i: number): FoundSplit | null {
  const at = BEST_SLOTS * i;
  const feature = best[at + 1] as number;
  if (feature < 0) return null;
  return {
    feature,
    bin: best[at + 2] as number,
    gain: best[at] as number,
    gl: best[at + 3] as number,
    hl: best[at + 4] as number,
  };
}

class LocalHistogramRunner implements HistogramRunner {
  private readonly best = new Float64Array(BEST_SLOTS * MAX_SCANS);

  constructor(
    readonly layout: HistogramLayout,
    private readonly limits: SplitLimits,
    readonly grad: Float64Array,
    readonly hess: Float64Array,
    readonly order: Int32Array,
  ) {}

  allocate(): Float64Array {
    return new Float64Array(histogramSize(this.layout));
  }

  run(work: HistogramWork, features: Int32Array): (FoundSplit | null)[] {
    runBlock(this.layout, this.limits, this.grad, this.hess, this.order, work, features, this.best);
    return work.scans.map((_, i) => foundSplit(this.best, i));
  }

  close(): void {}
}

interface WorkerHandle {
  worker: Worker;
  control: Int32Array;
  scans: Float64Array;
  /** This thread's end of the channel: new buffers go out, errors come back. */
  port: MessagePort;
}

class ThreadedHistogramRunner implements HistogramRunner {
  readonly layout: HistogramLayout;
  readonly grad: Float64Array;
  readonly hess: Float64Array;
  readonly order: Int32Array;
  private readonly local: LocalHistogramRunner;
  private readonly features: Int32Array;
  private readonly workers: WorkerHandle[] = [];
  private readonly ids = new WeakMap<Float64Array, number>();
  private readonly best = new Float64Array(BEST_SLOTS * MAX_SCANS);
  private nextId = 0;
  private task = 0;

  constructor(
    layout: HistogramLayout,
    private readonly limits: SplitLimits,
    rows: number,
    threads: number,
  ) {
    const codes = new Uint8Array(new SharedArrayBuffer(layout.codes.length));
    codes.set(layout.codes);
    this.layout = { ...layout, codes };
    this.grad = new Float64Array(new SharedArrayBuffer(rows * 8));
    this.hess = new Float64Array(new SharedArrayBuffer(rows * 8));
    this.order = new Int32Array(new SharedArrayBuffer(rows * 4));
    this.features = new Int32Array(new SharedArrayBuffer(layout.p * 4));
    // Small nodes are done here alone, on the same shared arrays.
    this.local = new LocalHistogramRunner(this.layout, limits, this.grad, this.hess, this.order);
    try {
      for (let w = 1; w < threads; w++) this.workers.push(this.startWorker());
    } catch (err) {
      this.close();
      throw err;
    }
  }

  private startWorker(): WorkerHandle {
    const control = new Int32Array(new SharedArrayBuffer(CONTROL.size * 4));
    const scans = new Float64Array(new SharedArrayBuffer(SCAN_SLOTS * MAX_SCANS * 8));
    const { port1, port2 } = new MessageChannel();
    const workerData: HistogramWorkerData = {
      layout: this.layout,
      limits: this.limits,
      grad: this.grad,
      hess: this.hess,
      order: this.order,
      features: this.features,
      control,
      scans,
      port: port2,
    };
    const worker = new Worker(new URL('./histogram-worker.js', import.meta.url), { workerData, transferList: [port2] });
    // A fit left unclosed must not keep the process alive.
    worker.unref();
    return { worker, control, scans, port: port1 };
  }

  allocate(): Float64Array {
    const hist = new Float64Array(new SharedArrayBuffer(histogramSize(this.layout) * 8));
    const id = this.nextId++;
    this.ids.set(hist, id);
    // Read by each worker (receiveMessageOnPort) before its next task.
    for (const { port } of this.workers) port.postMessage({ id, buffer: hist.buffer });
    return hist;
  }

  run(work: HistogramWork, features: Int32Array): (FoundSplit | null)[] {
    const { build, scans } = work;
    const rows = build === undefined ? 0 : build.end - build.start;
    const passes = (build?.subtractFrom === undefined ? 0 : 1) + scans.length;
    if ((rows + passes * (this.layout.featureStride >> 2)) * features.length < MIN_SHARED_WORK) {
      return this.local.run(work, features);
    }
    const ids = this.idsOf(work);
    this.features.set(features);
    // Equal blocks of features: this thread takes the first, worker w the (w + 1)th.
    const blocks = this.workers.length + 1;
    const cut = (b: number): number => Math.round((b * features.length) / blocks);
    const task = ++this.task;
    this.workers.forEach((handle, w) => this.post(handle, task, work, ids, cut(w + 1), cut(w + 2)));
    runBlock(
      this.layout,
      this.limits,
      this.grad,
      this.hess,
      this.order,
      work,
      this.features.subarray(0, cut(1)),
      this.best,
    );
    this.workers.forEach((handle, w) => this.waitFor(handle, w + 1, task));
    // The blocks in feature order; a later block wins only with a strictly larger gain.
    return scans.map((_, i) => {
      let found = foundSplit(this.best, i);
      for (const { scans: out } of this.workers) {
        const theirs = foundSplit(out.subarray(SCAN_SLOTS * i + 3, SCAN_SLOTS * (i + 1)), 0);
        if (theirs !== null && (found === null || theirs.gain > found.gain)) found = theirs;
      }
      return found;
    });
  }

  /** The ids of the histograms `work` names: [build, parent, ...scans], −1 for none. */
  private idsOf(work: HistogramWork): number[] {
    const idOf = (hist: Float64Array | undefined): number => {
      if (hist === undefined) return -1;
      const id = this.ids.get(hist);
      if (id === undefined) throw new TypeError('histograms must come from this runner’s allocate()');
      return id;
    };
    return [idOf(work.build?.hist), idOf(work.build?.subtractFrom), ...work.scans.map((scan) => idOf(scan.hist))];
  }

  private post(
    { control, scans: io }: WorkerHandle,
    task: number,
    work: HistogramWork,
    ids: number[],
    from: number,
    to: number,
  ): void {
    control[CONTROL.build] = ids[0] as number;
    control[CONTROL.parent] = ids[1] as number;
    control[CONTROL.start] = work.build?.start ?? 0;
    control[CONTROL.end] = work.build?.end ?? 0;
    control[CONTROL.from] = from;
    control[CONTROL.to] = to;
    control[CONTROL.scanCount] = work.scans.length;
    work.scans.forEach((scan, i) => {
      control[CONTROL.scanHist + i] = ids[2 + i] as number;
      io.set([scan.g, scan.h, scan.count], SCAN_SLOTS * i);
    });
    Atomics.store(control, CONTROL.task, task);
    Atomics.notify(control, CONTROL.task);
  }

  /** Blocks until worker `w` has done `task`; throws what the worker threw, or when it stays silent. */
  private waitFor({ control, port }: WorkerHandle, w: number, task: number): void {
    for (;;) {
      const done = Atomics.load(control, CONTROL.done);
      if (done === task) return;
      if (done === -task) {
        const message = receiveMessageOnPort(port)?.message as unknown;
        throw new Error(`histogram worker ${w} failed: ${String(message)}`);
      }
      if (Atomics.wait(control, CONTROL.done, done, WORKER_TIMEOUT_MS) === 'timed-out') {
        const state = Atomics.load(control, CONTROL.ready) === 1 ? 'running' : 'not started';
        throw new Error(`histogram worker ${w} (${state}) did not finish a task in ${WORKER_TIMEOUT_MS / 1000} s`);
      }
    }
  }

  close(): void {
    for (const { worker, control, port } of this.workers) {
      control[CONTROL.build] = -2;
      Atomics.store(control, CONTROL.task, ++this.task);
      Atomics.notify(control, CONTROL.task);
      port.close();
      void worker.terminate();
    }
    this.workers.length = 0;
  }
}
