import type { ArtifactStore } from '../shared/ports/artifact-store.js';

/**
 * Streams a process's output into an artifact (`user_logs/std_log.txt`): chunks are gathered and
 * appended at most every `flushMs` or once `maxBytes` are waiting, so a job that prints a line at a
 * time does not cost an append per line, and `tessera job stream` sees output within a second.
 * Appends are serialised; a failed append is retried with the next one (nothing is dropped).
 */
export class LogSink {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private lastError: unknown;

  constructor(
    private readonly store: ArtifactStore,
    private readonly container: string,
    private readonly path: string,
    private readonly options: { flushMs?: number; maxBytes?: number; echo?: (chunk: Buffer) => void } = {},
  ) {}

  write(chunk: Buffer | string): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (buf.byteLength === 0) return;
    this.options.echo?.(buf);
    this.pending.push(buf);
    this.pendingBytes += buf.byteLength;
    if (this.pendingBytes >= (this.options.maxBytes ?? 256 * 1024)) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs ?? 250);
  }

  /** Appends everything written so far; resolves when it is stored. */
  flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing = this.flushing.then(async () => {
      if (this.pending.length === 0) return;
      const data = Buffer.concat(this.pending);
      this.pending = [];
      this.pendingBytes = 0;
      try {
        await this.store.append(this.container, this.path, data, { contentType: 'text/plain; charset=utf-8' });
        this.lastError = undefined;
      } catch (err) {
        // Keep the bytes for the next flush.
        this.pending.unshift(data);
        this.pendingBytes += data.byteLength;
        this.lastError = err;
      }
    });
    return this.flushing;
  }

  /** Flushes and reports whether everything reached the store (retrying a failed append a few times). */
  async close(): Promise<void> {
    for (let i = 0; i < 5; i++) {
      await this.flush();
      if (this.pending.length === 0) return;
      await new Promise((r) => setTimeout(r, 200 * (i + 1)));
    }
    throw this.lastError instanceof Error ? this.lastError : new Error('the log could not be stored');
  }
}
