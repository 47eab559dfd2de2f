/**
 * The data collector of a deployment (Azure ML's `data_collector`): scored requests' inputs and
 * outputs, kept in memory as they come and appended in batches, as JSON lines, to the artifact store
 * under Azure's layout `<prefix>/<endpoint>/<deployment>/<collection>/<yyyy>/<mm>/<dd>/<hh>/data.jsonl`
 * (UTC). A batch goes out every `maxRecords` records or `flushMs` milliseconds. Collecting never
 * blocks or fails a request: records are serialized at flush, a failed append is logged and its
 * records dropped, and past `maxPending` records new ones are dropped and counted.
 */
import type { DataCollectorSettings, ServingLogger } from './types.js';
import { SILENT_LOGGER } from './types.js';

export interface CollectorDeps {
  /** Appends text to the artifact at path (creating it). */
  append(path: string, text: string): Promise<void>;
  now?: () => number;
  random?: () => number;
  logger?: ServingLogger;
}

export interface CollectorOptions {
  /** Default 'modelDataCollector', as Azure ML's workspaceblobstore layout. */
  prefix?: string;
  maxRecords?: number;
  flushMs?: number;
  maxPending?: number;
}

interface Pending {
  time: number;
  id: string;
  input: Buffer | string;
  output: Buffer | string;
  status: number;
}

const INPUTS = 'model_inputs';
const OUTPUTS = 'model_outputs';

export function collectionEnabled(settings: DataCollectorSettings | undefined, name: string): boolean {
  const e = settings?.collections[name]?.enabled;
  return e === true || (typeof e === 'string' && e.toLowerCase() === 'true');
}

export class DataCollector {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly inputs: boolean;
  private readonly outputs: boolean;
  private readonly samplingRate: number;
  private readonly maxRecords: number;
  private readonly flushMs: number;
  private readonly maxPending: number;
  private readonly prefix: string;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly logger: ServingLogger;
  /** Records dropped: over maxPending, or lost to a failed append. */
  dropped = 0;
  written = 0;

  constructor(
    private readonly endpoint: string,
    private readonly deployment: string,
    settings: DataCollectorSettings,
    private readonly deps: CollectorDeps,
    options: CollectorOptions = {},
  ) {
    this.inputs = collectionEnabled(settings, INPUTS);
    this.outputs = collectionEnabled(settings, OUTPUTS);
    this.samplingRate = settings.sampling_rate ?? 1;
    this.maxRecords = options.maxRecords ?? 100;
    this.flushMs = options.flushMs ?? 5000;
    this.maxPending = options.maxPending ?? 10_000;
    this.prefix = options.prefix ?? 'modelDataCollector';
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.logger = deps.logger ?? SILENT_LOGGER;
  }

  get enabled(): boolean {
    return this.inputs || this.outputs;
  }

  /** Keeps one scored request (by reference: nothing is copied or serialized here). */
  collect(id: string, input: Buffer | string, status: number, output: Buffer | string): void {
    if (!this.enabled || (this.samplingRate < 1 && this.random() >= this.samplingRate)) return;
    if (this.pending.length >= this.maxPending) {
      this.dropped++;
      return;
    }
    this.pending.push({ time: this.now(), id, input, output, status });
    if (this.pending.length >= this.maxRecords) this.schedule(0);
    else this.schedule(this.flushMs);
  }

  /** Writes what is pending now; resolves when every earlier flush is done. Never rejects. */
  flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.pending;
    if (batch.length === 0) return this.flushing;
    this.pending = [];
    this.flushing = this.flushing.then(() => this.write(batch));
    return this.flushing;
  }

  close(): Promise<void> {
    return this.flush();
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined && ms > 0) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, ms);
    this.timer.unref();
  }

  private async write(batch: Pending[]): Promise<void> {
    const files = new Map<string, string[]>();
    const add = (collection: string, record: Pending, data: Buffer | string): void => {
      const path = this.path(collection, record.time);
      let lines = files.get(path);
      if (lines === undefined) files.set(path, (lines = []));
      lines.push(
        JSON.stringify({
          specversion: '1.0',
          id: `${record.id}:${collection}`,
          type: `azureml.inference.${collection}`,
          time: new Date(record.time).toISOString(),
          correlationid: record.id,
          endpoint: this.endpoint,
          deployment: this.deployment,
          ...(collection === OUTPUTS ? { status: record.status } : {}),
          datacontenttype: 'application/json',
          data: asJson(data),
        }),
      );
    };
    for (const record of batch) {
      if (this.inputs) add(INPUTS, record, record.input);
      if (this.outputs) add(OUTPUTS, record, record.output);
    }
    for (const [path, lines] of files) {
      try {
        await this.deps.append(path, `${lines.join('\n')}\n`);
        this.written += lines.length;
      } catch (error) {
        this.dropped += lines.length;
        this.logger.error('data collector: append failed; records dropped', {
          endpoint: this.endpoint,
          deployment: this.deployment,
          path,
          records: lines.length,
          error: (error as Error).message,
        });
      }
    }
  }

  private path(collection: string, time: number): string {
    const d = new Date(time);
    const p2 = (n: number): string => String(n).padStart(2, '0');
    return `${this.prefix}/${this.endpoint}/${this.deployment}/${collection}/${d.getUTCFullYear()}/${p2(d.getUTCMonth() + 1)}/${p2(d.getUTCDate())}/${p2(d.getUTCHours())}/data.jsonl`;
  }
}

/** The body as a JSON value when it is JSON, else as a string. */
function asJson(body: Buffer | string): unknown {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
