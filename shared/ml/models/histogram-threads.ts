/**
 * Who does a tree node's histogram work (histograms.ts): this thread alone, or this thread and
 * `threads - 1` workers (histogram-worker.ts), each on one block of the features, in shared memory.
 * A fit is synchronous, so the workers are driven through shared memory too: this thread writes a
 * task into each worker's control block, wakes it with Atomics.notify, does its own block and
 * blocks in Atomics.wait until every worker is done, then merges the blocks' best splits in feature
 * order. A bin's sums are the same whichever thread takes them, so the model does not depend on
 * the thread count.
 *
 * Every array the work reads or writes (codes, gradients, hessians, row order, feature lists,
 * histograms) lives in one shared WebAssembly memory (histogram-kernel.ts), which the workers run
 * the same kernel over; a task names its histograms by their place in that memory.
 */
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { KernelHeap, histogramKernelModule } from './histogram-kernel.js';
import type { HistogramKernel, KernelMemory } from './histogram-kernel.js';
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
  /** A new histogram buffer this runner can work on (only those: others are refused with a TypeError). */
  allocate(): Float64Array;
  /** Does `work` for the ascending `features`; returns each scan's best split, or null where none passes. */
  run(work: HistogramWork, features: Int32Array): (FoundSplit | null)[];
  /**
   * Splits the rows order[start..end) of a leaf: those whose code of `feature` is ≤ `bin` first,
   * then the others, both keeping their order. Returns where the right side starts.
   */
  partition(feature: number, bin: number, start: number, end: number): number;
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
  const arrays = new RunnerArrays(layout, rows);
  const local = new LocalHistogramRunner(arrays, limits);
  return threads > 1 ? new ThreadedHistogramRunner(local, threads) : local;
}

/** Histograms a runner starts with room for; more grow the memory. */
const INITIAL_HISTOGRAMS = 8;

/** What a runner's work reads and writes, on one kernel heap. */
class RunnerArrays {
  readonly heap: KernelHeap;
  readonly layout: HistogramLayout;
  readonly grad: Float64Array;
  readonly hess: Float64Array;
  readonly order: Int32Array;
  /** The features of the task at hand, copied here for the kernel. */
  readonly features: Int32Array;
  /** Bin codes column-major ([p][rows]), read by partitions (one feature of many rows). */
  readonly columns: Uint8Array;
  /** The partition's spill buffer. */
  readonly scratch: Int32Array;
  private readonly histograms = new WeakSet<Float64Array>();

  constructor(layout: HistogramLayout, rows: number) {
    const { codes, p } = layout;
    const histogramBytes = histogramSize(layout) * 8;
    // Codes twice (by row, by column); gradients, hessians, order and scratch; features and bins.
    this.heap = new KernelHeap(2 * codes.length + rows * 24 + p * 8 + INITIAL_HISTOGRAMS * histogramBytes + 256);
    const heapCodes = this.heap.uint8Array(codes.length);
    heapCodes.set(codes);
    const bins = this.heap.int32Array(p);
    bins.set(layout.bins);
    this.layout = { ...layout, codes: heapCodes, bins };
    this.grad = this.heap.float64Array(rows);
    this.hess = this.heap.float64Array(rows);
    this.order = this.heap.int32Array(rows);
    this.features = this.heap.int32Array(p);
    this.columns = this.heap.uint8Array(codes.length);
    for (let i = 0; i < rows; i++) for (let f = 0; f < p; f++) this.columns[f * rows + i] = codes[i * p + f] as number;
    this.scratch = this.heap.int32Array(rows);
  }

  partition(feature: number, bin: number, start: number, end: number): number {
    const { order, scratch, columns } = this;
    const column = columns.byteOffset + feature * order.length;
    return this.heap.kernel.partition(order.byteOffset, scratch.byteOffset, column, bin, start, end);
  }

  get kernel(): HistogramKernel {
    return this.heap.kernel;
  }

  /** Room for runBlock's best splits. */
  bestSplits(): Float64Array {
    return this.heap.float64Array(BEST_SLOTS * MAX_SCANS);
  }

  allocate(): Float64Array {
    const hist = this.heap.float64Array(histogramSize(this.layout));
    this.histograms.add(hist);
    return hist;
  }

  /** The features, in the heap's feature list. */
  heapFeatures(features: Int32Array): Int32Array {
    if (features.length > this.features.length)
      throw new RangeError(`${features.length} features; the layout has ${this.features.length}`);
    this.features.set(features);
    return this.features.subarray(0, features.length);
  }

  /** Throws unless every histogram of `work` came from allocate(). */
  check(work: HistogramWork): void {
    const hists = [work.build?.hist, work.build?.subtractFrom, ...work.scans.map((scan) => scan.hist)];
    for (const hist of hists) {
      if (hist !== undefined && !this.histograms.has(hist)) {
        throw new TypeError('histograms must come from this runner’s allocate()');
      }
    }
  }
}

/** What a histogram worker receives: the kernel's module and memory, the views on it, and its control block. */
export interface HistogramWorkerData {
  module: object;
  memory: KernelMemory;
  layout: HistogramLayout;
  limits: SplitLimits;
  grad: Float64Array;
  hess: Float64Array;
  order: Int32Array;
  features: Int32Array;
  /** The worker's own best splits, for runBlock. */
  best: Float64Array;
  control: Int32Array;
  /** Per scan: the leaf's g, h, count in; the block's best split (BEST_SLOTS) out. */
  scans: Float64Array;
  /** Errors come back on it. */
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
  /**
   * Histograms, by their index in the memory as doubles (byteOffset / 8): to build (−1: none), the
   * parent to subtract it from (−1: none); −2 in build: stop.
   */
  build: 3,
  parent: 4,
  start: 5,
  end: 6,
  /** The worker's block of the shared feature list: features[from..to). */
  from: 7,
  to: 8,
  scanCount: 9,
  /** Histograms of the scanned leaves, as above. */
  scanHist: 10,
  size: 10 + MAX_SCANS,
} as const;

/** Doubles per scan in a worker's scan block: g, h, count in; the block's best (BEST_SLOTS) out. */
export const SCAN_SLOTS = 3 + BEST_SLOTS;

/** Work (bin additions, plus bins subtracted and scanned) below which a node is done here alone: waking a worker costs more. */
const MIN_SHARED_WORK = 32_768;

/** How long a silent worker is waited for before the fit fails. */
const WORKER_TIMEOUT_MS = 60_000;

/**
 * Runs `work` on one block of features; writes each scan's best split (histograms.ts BEST_SLOTS)
 * into `best` (a view on the kernel's memory) at i × BEST_SLOTS.
 */
export function runBlock(
  kernel: HistogramKernel,
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
    buildHistogram(kernel, layout, build.hist, grad, hess, order, build.start, build.end, features);
    if (build.subtractFrom !== undefined) subtractHistogram(kernel, layout, build.subtractFrom, build.hist, features);
  }
  scans.forEach((scan, i) => {
    const at = best.subarray(BEST_SLOTS * i, BEST_SLOTS * (i + 1));
    at.set(NO_SPLIT);
    scanHistogram(kernel, layout, scan.hist, features, scan.g, scan.h, scan.count, limits, at);
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

/** What both runners take from their arrays as they are. */
abstract class HeapRunner implements HistogramRunner {
  constructor(readonly arrays: RunnerArrays) {}

  get layout(): HistogramLayout {
    return this.arrays.layout;
  }

  get grad(): Float64Array {
    return this.arrays.grad;
  }

  get hess(): Float64Array {
    return this.arrays.hess;
  }

  get order(): Int32Array {
    return this.arrays.order;
  }

  allocate(): Float64Array {
    return this.arrays.allocate();
  }

  partition(feature: number, bin: number, start: number, end: number): number {
    return this.arrays.partition(feature, bin, start, end);
  }

  abstract run(work: HistogramWork, features: Int32Array): (FoundSplit | null)[];
  abstract close(): void;
}

class LocalHistogramRunner extends HeapRunner {
  private readonly best: Float64Array;

  constructor(
    arrays: RunnerArrays,
    readonly limits: SplitLimits,
  ) {
    super(arrays);
    this.best = arrays.bestSplits();
  }

  run(work: HistogramWork, features: Int32Array): (FoundSplit | null)[] {
    this.arrays.check(work);
    return this.runChecked(work, this.arrays.heapFeatures(features));
  }

  /** run() for histograms already checked and features already on the heap. */
  runChecked(work: HistogramWork, features: Int32Array): (FoundSplit | null)[] {
    const { kernel, layout, grad, hess, order } = this.arrays;
    runBlock(kernel, layout, this.limits, grad, hess, order, work, features, this.best);
    return work.scans.map((_, i) => foundSplit(this.best, i));
  }

  close(): void {}
}

interface WorkerHandle {
  worker: Worker;
  control: Int32Array;
  scans: Float64Array;
  /** This thread's end of the channel: errors come back on it. */
  port: MessagePort;
}

class ThreadedHistogramRunner extends HeapRunner {
  private readonly workers: WorkerHandle[] = [];
  private task = 0;

  constructor(
    /** Small nodes are done here alone, on the same memory. */
    private readonly local: LocalHistogramRunner,
    threads: number,
  ) {
    super(local.arrays);
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
    const { heap, layout, grad, hess, order, features } = this.arrays;
    const workerData: HistogramWorkerData = {
      module: histogramKernelModule(),
      memory: heap.memory,
      layout,
      limits: this.local.limits,
      grad,
      hess,
      order,
      features,
      best: this.arrays.bestSplits(),
      control,
      scans,
      port: port2,
    };
    const worker = new Worker(new URL('./histogram-worker.js', import.meta.url), { workerData, transferList: [port2] });
    // A fit left unclosed must not keep the process alive.
    worker.unref();
    return { worker, control, scans, port: port1 };
  }

  run(work: HistogramWork, features: Int32Array): (FoundSplit | null)[] {
    this.arrays.check(work);
    const shared = this.arrays.heapFeatures(features);
    const { build, scans } = work;
    const rows = build === undefined ? 0 : build.end - build.start;
    const passes = (build?.subtractFrom === undefined ? 0 : 1) + scans.length;
    if ((rows + passes * (this.layout.featureStride >> 2)) * features.length < MIN_SHARED_WORK) {
      return this.local.runChecked(work, shared);
    }
    // Equal blocks of features: this thread takes the first, worker w the (w + 1)th.
    const blocks = this.workers.length + 1;
    const cut = (b: number): number => Math.round((b * features.length) / blocks);
    const task = ++this.task;
    this.workers.forEach((handle, w) => this.post(handle, task, work, cut(w + 1), cut(w + 2)));
    const mine = this.local.runChecked(work, shared.subarray(0, cut(1)));
    this.workers.forEach((handle, w) => this.waitFor(handle, w + 1, task));
    // The blocks in feature order; a later block wins only with a strictly larger gain.
    return scans.map((_, i) => {
      let found = mine[i] ?? null;
      for (const { scans: out } of this.workers) {
        const theirs = foundSplit(out.subarray(SCAN_SLOTS * i + 3, SCAN_SLOTS * (i + 1)), 0);
        if (theirs !== null && (found === null || theirs.gain > found.gain)) found = theirs;
      }
      return found;
    });
  }

  private post(
    { control, scans: io }: WorkerHandle,
    task: number,
    work: HistogramWork,
    from: number,
    to: number,
  ): void {
    const place = (hist: Float64Array | undefined): number => (hist === undefined ? -1 : hist.byteOffset / 8);
    control[CONTROL.build] = place(work.build?.hist);
    control[CONTROL.parent] = place(work.build?.subtractFrom);
    control[CONTROL.start] = work.build?.start ?? 0;
    control[CONTROL.end] = work.build?.end ?? 0;
    control[CONTROL.from] = from;
    control[CONTROL.to] = to;
    control[CONTROL.scanCount] = work.scans.length;
    work.scans.forEach((scan, i) => {
      control[CONTROL.scanHist + i] = place(scan.hist);
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
