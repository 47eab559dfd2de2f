/**
 * Dynamic batching for a no-code ONNX deployment. Under load, the requests waiting for the model
 * are run as one batch: their rows are stacked into one feed per input, the graph runs once, and
 * each request gets its own rows of every output back. A graph run costs far more than a row
 * (breast_cancer's boosted trees: 100–260 µs for 1 row, about 380 µs for 64 rows on this machine), so
 * batching is what lets one process answer thousands of single-row requests a second.
 *
 * It adds no wait: a request runs at once while fewer than `maxRunsInFlight` runs are in flight,
 * and only the requests that arrive while all are busy are batched, first come first served, up to
 * `maxRows` rows a run. A request never waits behind more than the runs in flight. The no-code
 * scorer allows one run in flight: onnxruntime-node's `run` does its work synchronously on the main
 * thread (in a setImmediate callback), so a second run in flight would only split the batch.
 *
 * Only requests whose feeds stack are batched together, by the shape key the parser gives: the
 * same inputs with the same types and trailing dimensions (text tokens [N, T] with different T
 * run apart). When a batched run
 * fails, each request is run alone, so one bad request fails only itself. A graph whose outputs do
 * not have one entry per row (a bare model that aggregates) cannot be split: the batch is run
 * again request by request and the batcher stops batching for that model.
 *
 * Row-wise models (trees, linear models, the AutoML featurizers) give every row the same answer
 * batched or alone; a matrix product may round the last bit differently for a different batch size.
 */
import type { ModelSession, RuntimeTensor } from '../ports/model-runtime.js';

export interface BatcherOptions {
  /** The most rows one batched run takes (a single larger request still runs, alone). */
  maxRows: number;
  /** Runs in flight at once; more requests wait and are batched. */
  maxRunsInFlight: number;
}

type Outputs = Record<string, RuntimeTensor>;

interface Pending {
  feeds: Readonly<Record<string, RuntimeTensor>>;
  rows: number;
  shape: string;
  resolve: (outputs: Outputs) => void;
  reject: (error: unknown) => void;
}

export class RowBatcher {
  private readonly queue: Pending[] = [];
  private head = 0;
  private running = 0;
  private splittable = true;
  /** Runs made and requests answered by them, for stats and tests. */
  runs = 0;
  batchedRequests = 0;

  constructor(
    private readonly session: ModelSession,
    private readonly options: BatcherOptions,
  ) {
    if (!(options.maxRows >= 1) || !(options.maxRunsInFlight >= 1)) {
      throw new RangeError('maxRows and maxRunsInFlight must be at least 1');
    }
  }

  /**
   * Runs `feeds` (`rows` rows), alone or in a batch with other requests of the same `shape`: a key
   * equal for feeds that stack row-wise (the same inputs, types and trailing dimensions), which the
   * request parser gives (onnx-input.ts), so that no request compares its inputs with another's.
   */
  run(feeds: Readonly<Record<string, RuntimeTensor>>, rows: number, shape: string): Promise<Outputs> {
    return new Promise<Outputs>((resolve, reject) => {
      this.queue.push({ feeds, rows, shape, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.options.maxRunsInFlight && this.head < this.queue.length) {
      const batch = this.take();
      this.running++;
      void this.execute(batch).finally(() => {
        this.running--;
        this.pump();
      });
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    }
  }

  /** The head of the queue and the requests after it that stack with it, up to maxRows rows. */
  private take(): Pending[] {
    const first = this.queue[this.head++] as Pending;
    const batch = [first];
    if (!this.splittable) return batch;
    let rows = first.rows;
    while (this.head < this.queue.length) {
      const next = this.queue[this.head] as Pending;
      if (rows + next.rows > this.options.maxRows || next.shape !== first.shape) break;
      batch.push(next);
      rows += next.rows;
      this.head++;
    }
    return batch;
  }

  private async execute(batch: Pending[]): Promise<void> {
    if (batch.length === 1) {
      const only = batch[0] as Pending;
      this.runs++;
      this.batchedRequests++;
      await this.session.run(only.feeds).then(only.resolve, only.reject);
      return;
    }
    const total = batch.reduce((n, p) => n + p.rows, 0);
    let outputs: Outputs;
    try {
      this.runs++;
      outputs = await this.session.run(stack(batch.map((p) => p.feeds)));
    } catch {
      // Someone's rows made the graph fail: find out whose by running each alone.
      await this.oneByOne(batch);
      return;
    }
    if (!Object.values(outputs).every((t) => t.dims[0] === total && t.data.length % total === 0)) {
      this.splittable = false;
      await this.oneByOne(batch);
      return;
    }
    this.batchedRequests += batch.length;
    let offset = 0;
    for (const p of batch) {
      const part: Outputs = {};
      for (const [name, t] of Object.entries(outputs)) part[name] = rowsOf(t, total, offset, p.rows);
      offset += p.rows;
      p.resolve(part);
    }
  }

  private async oneByOne(batch: readonly Pending[]): Promise<void> {
    for (const p of batch) {
      this.runs++;
      this.batchedRequests++;
      await this.session.run(p.feeds).then(p.resolve, p.reject);
    }
  }
}

/** The feeds stacked along the first dimension, in order. */
function stack(parts: readonly Readonly<Record<string, RuntimeTensor>>[]): Record<string, RuntimeTensor> {
  const first = parts[0] as Readonly<Record<string, RuntimeTensor>>;
  const out: Record<string, RuntimeTensor> = {};
  for (const [name, t] of Object.entries(first)) {
    const tensors = parts.map((p) => p[name] as RuntimeTensor);
    const rows = tensors.reduce((n, x) => n + (x.dims[0] as number), 0);
    const dims = [rows, ...t.dims.slice(1)];
    const length = tensors.reduce((n, x) => n + x.data.length, 0);
    switch (t.type) {
      case 'string':
        out[name] = { type: 'string', dims, data: tensors.flatMap((x) => x.data as readonly string[]) };
        break;
      case 'float':
        out[name] = { type: 'float', dims, data: concatTyped(new Float32Array(length), tensors) };
        break;
      case 'double':
        out[name] = { type: 'double', dims, data: concatTyped(new Float64Array(length), tensors) };
        break;
      case 'int64':
        out[name] = { type: 'int64', dims, data: concatTyped(new BigInt64Array(length), tensors) };
        break;
      case 'bool':
        out[name] = { type: 'bool', dims, data: concatTyped(new Uint8Array(length), tensors) };
        break;
    }
  }
  return out;
}

function concatTyped<T extends Float32Array | Float64Array | BigInt64Array | Uint8Array>(
  into: T,
  tensors: readonly RuntimeTensor[],
): T {
  let at = 0;
  for (const x of tensors) {
    (into as unknown as { set(a: ArrayLike<unknown>, at: number): void }).set(x.data as ArrayLike<unknown>, at);
    at += x.data.length;
  }
  return into;
}

/** Rows [offset, offset + rows) of a tensor with `total` rows: a view for typed arrays. */
function rowsOf(t: RuntimeTensor, total: number, offset: number, rows: number): RuntimeTensor {
  const width = t.data.length / total;
  const from = offset * width;
  const to = (offset + rows) * width;
  const dims = [rows, ...t.dims.slice(1)];
  switch (t.type) {
    case 'string':
      return { type: 'string', dims, data: t.data.slice(from, to) };
    case 'float':
      return { type: 'float', dims, data: t.data.subarray(from, to) };
    case 'double':
      return { type: 'double', dims, data: t.data.subarray(from, to) };
    case 'int64':
      return { type: 'int64', dims, data: t.data.subarray(from, to) };
    case 'bool':
      return { type: 'bool', dims, data: t.data.subarray(from, to) };
  }
}
