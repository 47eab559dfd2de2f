/**
 * A histogram worker (see histogram-threads.ts): waits for a task in its control block, adds its
 * block of features into the shared histogram buffer, marks the task done, until told to stop.
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { buildHistogram } from './histogram-build.js';
import { CONTROL } from './histogram-threads.js';
import type { HistogramWorkerData } from './histogram-threads.js';

const { codes, p, featureStride, grad, hess, order, features, control, port } = workerData as HistogramWorkerData;
const layout = { codes, p, featureStride };
const hists: Float64Array[] = [];
let task = 0;
Atomics.store(control, CONTROL.ready, 1);
for (;;) {
  Atomics.wait(control, CONTROL.task, task);
  task = Atomics.load(control, CONTROL.task);
  // Buffers allocated since the last task, in order.
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
    const { id, buffer } = m.message as { id: number; buffer: SharedArrayBuffer };
    hists[id] = new Float64Array(buffer);
  }
  const id = control[CONTROL.hist] as number;
  if (id < 0) break;
  try {
    const hist = hists[id];
    if (hist === undefined) throw new RangeError(`no histogram buffer ${id}`);
    const from = control[CONTROL.from] as number;
    const to = control[CONTROL.to] as number;
    const start = control[CONTROL.start] as number;
    const end = control[CONTROL.end] as number;
    buildHistogram(layout, hist, grad, hess, order, start, end, features.subarray(from, to));
    Atomics.store(control, CONTROL.done, task);
  } catch (err) {
    port.postMessage(err instanceof Error ? (err.stack ?? err.message) : String(err));
    Atomics.store(control, CONTROL.done, -task);
  }
  Atomics.notify(control, CONTROL.done);
}
port.close();
