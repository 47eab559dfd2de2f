/**
 * Who builds boosting's histograms: this thread alone, or this thread and `threads - 1` workers,
 * each summing one block of features into the same shared buffer (histogram-worker.ts). A fit is
 * synchronous, so the workers are driven through shared memory: this thread writes a task into a
 * worker's control block, wakes it with Atomics.notify and blocks in Atomics.wait until every block
 * is done. The sums of a bin are the same whichever thread adds them, so the model does not depend
 * on the thread count.
 */
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { buildHistogram } from './histogram-build.js';
import type { HistogramLayout } from './histogram-build.js';

/** Fills histograms from the gradients, hessians and row order it owns. */
export interface HistogramBuilder {
  readonly layout: HistogramLayout;
  /** Per-row gradients and hessians, and the rows of the tree grouped by leaf: written by the caller. */
  readonly grad: Float64Array;
  readonly hess: Float64Array;
  readonly order: Int32Array;
  /** A new zeroed histogram buffer the builder can fill. */
  allocate(size: number): Float64Array;
  /** Adds the rows order[start..end) into `hist` (zeroed, from `allocate`) for the ascending `features`. */
  build(hist: Float64Array, start: number, end: number, features: Int32Array): void;
  /** Stops the workers; the builder must not be used afterwards. */
  close(): void;
}

/** What a histogram worker receives: the shared arrays and its control block. */
export interface HistogramWorkerData {
  codes: Uint8Array;
  p: number;
  featureStride: number;
  grad: Float64Array;
  hess: Float64Array;
  order: Int32Array;
  features: Int32Array;
  control: Int32Array;
  port: MessagePort;
}

/** Int32 slots of a worker's control block. */
export const CONTROL = {
  /** Task number, raised by the fitting thread to wake the worker. */
  task: 0,
  /** The last task done; minus the task number when it failed (the error is on the port). */
  done: 1,
  /** Histogram buffer id, or -1: stop. */
  hist: 2,
  start: 3,
  end: 4,
  /** The worker's block of the shared feature list: features[from..to). */
  from: 5,
  to: 6,
  /** 1 once the worker is running. */
  ready: 7,
  size: 8,
} as const;

/** Bin additions below which a histogram is built here alone: waking a worker costs more. */
const MIN_SHARED_WORK = 32_768;

/** How long a silent worker is waited for before the fit fails. */
const WORKER_TIMEOUT_MS = 60_000;

/** A builder that uses `threads` threads, this one included (1: no workers). */
export function histogramBuilder(layout: HistogramLayout, rows: number, threads: number): HistogramBuilder {
  return threads <= 1 ? new LocalHistogramBuilder(layout, rows) : new ThreadedHistogramBuilder(layout, rows, threads);
}

class LocalHistogramBuilder implements HistogramBuilder {
  readonly grad: Float64Array;
  readonly hess: Float64Array;
  readonly order: Int32Array;

  constructor(
    readonly layout: HistogramLayout,
    rows: number,
  ) {
    this.grad = new Float64Array(rows);
    this.hess = new Float64Array(rows);
    this.order = new Int32Array(rows);
  }

  allocate(size: number): Float64Array {
    return new Float64Array(size);
  }

  build(hist: Float64Array, start: number, end: number, features: Int32Array): void {
    buildHistogram(this.layout, hist, this.grad, this.hess, this.order, start, end, features);
  }

  close(): void {}
}

interface WorkerHandle {
  worker: Worker;
  control: Int32Array;
  /** This thread's end of the channel: new buffers go out, errors come back. */
  port: MessagePort;
}

class ThreadedHistogramBuilder implements HistogramBuilder {
  readonly layout: HistogramLayout;
  readonly grad: Float64Array;
  readonly hess: Float64Array;
  readonly order: Int32Array;
  private readonly features: Int32Array;
  private readonly workers: WorkerHandle[] = [];
  private readonly ids = new WeakMap<Float64Array, number>();
  private nextId = 0;
  private task = 0;

  constructor(layout: HistogramLayout, rows: number, threads: number) {
    const codes = new Uint8Array(new SharedArrayBuffer(layout.codes.length));
    codes.set(layout.codes);
    this.layout = { codes, p: layout.p, featureStride: layout.featureStride };
    this.grad = new Float64Array(new SharedArrayBuffer(rows * 8));
    this.hess = new Float64Array(new SharedArrayBuffer(rows * 8));
    this.order = new Int32Array(new SharedArrayBuffer(rows * 4));
    this.features = new Int32Array(new SharedArrayBuffer(layout.p * 4));
    try {
      for (let w = 1; w < threads; w++) {
        const control = new Int32Array(new SharedArrayBuffer(CONTROL.size * 4));
        const { port1, port2 } = new MessageChannel();
        const workerData: HistogramWorkerData = {
          codes,
          p: layout.p,
          featureStride: layout.featureStride,
          grad: this.grad,
          hess: this.hess,
          order: this.order,
          features: this.features,
          control,
          port: port2,
        };
        const worker = new Worker(new URL('./histogram-worker.js', import.meta.url), {
          workerData,
          transferList: [port2],
        });
        // A fit left unclosed must not keep the process alive.
        worker.unref();
        this.workers.push({ worker, control, port: port1 });
      }
    } catch (err) {
      this.close();
      throw err;
    }
  }

  allocate(size: number): Float64Array {
    const hist = new Float64Array(new SharedArrayBuffer(size * 8));
    const id = this.nextId++;
    this.ids.set(hist, id);
    // Read by the worker (receiveMessageOnPort) before its next task.
    for (const { port } of this.workers) port.postMessage({ id, buffer: hist.buffer });
    return hist;
  }

  build(hist: Float64Array, start: number, end: number, features: Int32Array): void {
    if ((end - start) * features.length < MIN_SHARED_WORK) {
      buildHistogram(this.layout, hist, this.grad, this.hess, this.order, start, end, features);
      return;
    }
    const id = this.ids.get(hist);
    if (id === undefined) throw new TypeError('hist must come from this builder’s allocate()');
    this.features.set(features);
    // Equal blocks of features: this thread takes the first, worker w the (w + 1)th.
    const blocks = this.workers.length + 1;
    const cut = (b: number): number => Math.round((b * features.length) / blocks);
    const task = ++this.task;
    this.workers.forEach(({ control }, w) => {
      control[CONTROL.hist] = id;
      control[CONTROL.start] = start;
      control[CONTROL.end] = end;
      control[CONTROL.from] = cut(w + 1);
      control[CONTROL.to] = cut(w + 2);
      Atomics.store(control, CONTROL.task, task);
      Atomics.notify(control, CONTROL.task);
    });
    buildHistogram(this.layout, hist, this.grad, this.hess, this.order, start, end, this.features.subarray(0, cut(1)));
    this.workers.forEach((handle, w) => this.waitFor(handle, w + 1, task));
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
      control[CONTROL.hist] = -1;
      Atomics.store(control, CONTROL.task, ++this.task);
      Atomics.notify(control, CONTROL.task);
      port.close();
      void worker.terminate();
    }
    this.workers.length = 0;
  }
}
