/**
 * Admission for one deployment, as Azure ML's request_settings define it: at most
 * instance_count × max_concurrent_requests_per_instance requests in flight; the rest wait in a FIFO
 * queue for at most max_queue_wait_ms (then 503 with Retry-After); a request that runs past
 * request_timeout_ms is answered 504 and its work is told to stop through its AbortSignal. A slot
 * is given back when the work settles, not when the client is answered, so abandoned work that
 * will not stop keeps counting against capacity.
 */
import { errorResponse, type ScoreResponse } from './scorer.js';

export interface GateOptions {
  /** Used in messages: the deployment's name. */
  label: string;
  maxInFlight: number;
  /** 0: no queue, a saturated gate answers 503 at once. */
  maxQueueWaitMs: number;
  requestTimeoutMs: number;
}

export type GatedWork = (signal: AbortSignal) => Promise<ScoreResponse>;

interface Waiter {
  work: GatedWork;
  resolve: (res: ScoreResponse) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined;
}

const RETRY_AFTER = Object.freeze({ 'Retry-After': '1' });

export class Gate {
  private active = 0;
  private readonly queue: Waiter[] = [];
  private idle: (() => void)[] = [];

  constructor(readonly options: GateOptions) {
    if (!(options.maxInFlight >= 1)) throw new RangeError('maxInFlight must be at least 1');
    if (!(options.requestTimeoutMs > 0)) throw new RangeError('requestTimeoutMs must be positive');
    if (!(options.maxQueueWaitMs >= 0)) throw new RangeError('maxQueueWaitMs must not be negative');
  }

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Runs `work` when a slot is free, within the deadline; resolves with its answer, a 503 or a 504. */
  run(work: GatedWork): Promise<ScoreResponse> {
    return new Promise<ScoreResponse>((resolve, reject) => {
      if (this.active < this.options.maxInFlight && this.queue.length === 0) {
        this.start(work, resolve, reject);
        return;
      }
      if (this.options.maxQueueWaitMs === 0) {
        resolve(this.saturated());
        return;
      }
      const waiter: Waiter = { work, resolve, reject, timer: undefined };
      waiter.timer = setTimeout(() => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
        resolve(this.saturated());
      }, this.options.maxQueueWaitMs);
      this.queue.push(waiter);
    });
  }

  /** Resolves once nothing is in flight or queued (the registry drains a replaced scorer). */
  drain(): Promise<void> {
    if (this.active === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private start(work: GatedWork, resolve: (r: ScoreResponse) => void, reject: (e: unknown) => void): void {
    this.active++;
    const controller = new AbortController();
    let answered = false;
    const timer = setTimeout(() => {
      answered = true;
      controller.abort();
      resolve(
        errorResponse(
          504,
          'RequestTimeout',
          `deployment '${this.options.label}' did not answer within request_timeout_ms (${this.options.requestTimeoutMs} ms)`,
        ),
      );
    }, this.options.requestTimeoutMs);
    let promise: Promise<ScoreResponse>;
    try {
      promise = work(controller.signal);
    } catch (error) {
      promise = Promise.reject(error);
    }
    promise.then(
      (res) => {
        clearTimeout(timer);
        if (!answered) resolve(res);
        this.release();
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (!answered) reject(error);
        this.release();
      },
    );
  }

  private release(): void {
    this.active--;
    const next = this.queue.shift();
    if (next !== undefined) {
      clearTimeout(next.timer);
      this.start(next.work, next.resolve, next.reject);
      return;
    }
    if (this.active === 0 && this.idle.length > 0) {
      const idle = this.idle;
      this.idle = [];
      for (const f of idle) f();
    }
  }

  private saturated(): ScoreResponse {
    return errorResponse(
      503,
      'TooManyRequests',
      `deployment '${this.options.label}' is at capacity (${this.options.maxInFlight} request(s) in flight, none freed within max_queue_wait_ms = ${this.options.maxQueueWaitMs} ms); retry later or raise instance_count or max_concurrent_requests_per_instance`,
      { ...RETRY_AFTER },
    );
  }
}
