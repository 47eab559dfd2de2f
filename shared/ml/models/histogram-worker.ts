/**
 * A histogram worker (see histogram-threads.ts): runs the histogram kernel over the fitting
 * thread's memory, waits for a task in its control block, does the node's histogram work on its
 * block of features, writes its best splits and marks the task done, until told to stop.
 */
import { workerData } from 'node:worker_threads';
import { histogramKernel } from './histogram-kernel.js';
import { CONTROL, SCAN_SLOTS, runBlock } from './histogram-threads.js';
import { BEST_SLOTS, histogramSize } from './histograms.js';
import type { HistogramWork, HistogramWorkerData, LeafScan } from './histogram-threads.js';

const {
  module,
  memory,
  layout,
  limits,
  grad,
  hess,
  order,
  features,
  best,
  control,
  scans: io,
  port,
} = workerData as HistogramWorkerData;
const kernel = histogramKernel(memory, module);
const size = histogramSize(layout);
const hists = new Map<number, Float64Array>();

/** The histogram at this place in the memory (see CONTROL.build). */
function histogram(place: number): Float64Array {
  let hist = hists.get(place);
  if (hist === undefined) {
    // The memory may have grown since the last view was made: `buffer` is the whole of it now.
    hist = new Float64Array(memory.buffer, place * 8, size);
    hists.set(place, hist);
  }
  return hist;
}

/** The task in the control block, with the histograms it names. */
function readWork(): HistogramWork {
  const build = control[CONTROL.build] as number;
  const parent = control[CONTROL.parent] as number;
  const scans: LeafScan[] = [];
  for (let i = 0; i < (control[CONTROL.scanCount] as number); i++) {
    const at = SCAN_SLOTS * i;
    scans.push({
      hist: histogram(control[CONTROL.scanHist + i] as number),
      g: io[at] as number,
      h: io[at + 1] as number,
      count: io[at + 2] as number,
    });
  }
  if (build < 0) return { scans };
  return {
    build: {
      hist: histogram(build),
      start: control[CONTROL.start] as number,
      end: control[CONTROL.end] as number,
      ...(parent < 0 ? {} : { subtractFrom: histogram(parent) }),
    },
    scans,
  };
}

let task = 0;
Atomics.store(control, CONTROL.ready, 1);
for (;;) {
  Atomics.wait(control, CONTROL.task, task);
  task = Atomics.load(control, CONTROL.task);
  if (control[CONTROL.build] === -2) break;
  try {
    const work = readWork();
    const block = features.subarray(control[CONTROL.from] as number, control[CONTROL.to] as number);
    runBlock(kernel, layout, limits, grad, hess, order, work, block, best);
    work.scans.forEach((_, i) => io.set(best.subarray(BEST_SLOTS * i, BEST_SLOTS * (i + 1)), SCAN_SLOTS * i + 3));
    Atomics.store(control, CONTROL.done, task);
  } catch (err) {
    port.postMessage(err instanceof Error ? (err.stack ?? err.message) : String(err));
    Atomics.store(control, CONTROL.done, -task);
  }
  Atomics.notify(control, CONTROL.done);
}
port.close();
