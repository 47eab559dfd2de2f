/**
 * Fires blob triggers for objects that appear under a watched path of the embedded artifact
 * store: at once for writes made in this process, and by a periodic scan for the rest (and
 * at start-up). A receipt per function and blob etag, kept in the host database, makes each
 * version fire once, as the Functions blob receipts do; after 5 failed attempts a blob is
 * recorded as poison and not retried.
 */
import type { ArtifactInfo, ArtifactStore } from '../../shared/ports/artifact-store.js';
import type { RegisteredFunction } from '../registry.js';
import type { Invoker } from '../invoke.js';
import type { Logger } from '../logger.js';
import type { ScheduleStatusStore } from './timer-triggers.js';
import { resolveAppSettings } from '../settings.js';

export const MAX_BLOB_ATTEMPTS = 5;

export interface BlobPathPattern {
  container: string;
  /** Literal prefix of the path inside the container (for listing). */
  prefix: string;
  regex: RegExp;
  names: string[];
}

export function parseBlobPath(path: string): BlobPathPattern {
  const trimmed = path.replace(/^\/+/, '');
  const slash = trimmed.indexOf('/');
  const container = slash < 0 ? trimmed : trimmed.slice(0, slash);
  const rest = slash < 0 ? '{name}' : trimmed.slice(slash + 1) || '{name}';
  if (!container || container.includes('{'))
    throw new Error(`Blob trigger path '${path}' must start with a literal container name, e.g. 'uploads/{name}'.`);
  const names: string[] = [];
  let regex = '^';
  let prefix = '';
  let literal = true;
  for (const part of rest.split(/(\{[^}]+\})/)) {
    if (part.startsWith('{') && part.endsWith('}')) {
      const name = part.slice(1, -1);
      names.push(name);
      // The last parameter may span folders, like Functions' {name} does.
      regex += '(.+?)';
      literal = false;
    } else {
      regex += part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      if (literal) prefix += part;
    }
  }
  return { container, prefix, regex: new RegExp(regex + '$'), names };
}

interface Watch {
  fn: RegisteredFunction;
  pattern: BlobPathPattern;
}

export class BlobTriggers {
  private readonly watches: Watch[] = [];
  private readonly inFlight = new Set<string>();
  private scanTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly functions: RegisteredFunction[],
    private readonly store: ArtifactStore,
    private readonly subscribe: (listener: (info: ArtifactInfo) => void) => () => void,
    private readonly invoker: Invoker,
    private readonly receipts: ScheduleStatusStore,
    private readonly logger: Logger,
    private readonly scanIntervalMs = 5000,
  ) {}

  async start(): Promise<void> {
    for (const fn of this.functions) {
      try {
        this.watches.push({ fn, pattern: parseBlobPath(resolveAppSettings(String(fn.trigger.path ?? ''))) });
      } catch (err) {
        this.logger.error(`blob: function ${fn.name} has an invalid path and will not run`, err);
      }
    }
    if (this.watches.length === 0) return;
    this.unsubscribe = this.subscribe((info) => this.consider(info));
    await this.scan();
    this.scheduleScan();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.scanTimer) clearTimeout(this.scanTimer);
  }

  private scheduleScan(): void {
    if (this.stopped) return;
    this.scanTimer = setTimeout(() => {
      this.scan()
        .catch((err: unknown) => this.logger.error('blob: scan failed', err))
        .finally(() => this.scheduleScan());
    }, this.scanIntervalMs);
    this.scanTimer.unref?.();
  }

  /** Lists every watched path once and fires for blobs without a receipt. */
  async scan(): Promise<void> {
    for (const w of this.watches) {
      let continuation: string | undefined;
      do {
        let page;
        try {
          page = await this.store.list(w.pattern.container, {
            prefix: w.pattern.prefix,
            limit: 500,
            ...(continuation ? { continuation } : {}),
          });
        } catch {
          break; // container does not exist yet
        }
        for (const info of page.items) this.consider(info, w);
        continuation = page.continuation;
      } while (continuation && !this.stopped);
    }
  }

  private consider(info: ArtifactInfo, only?: Watch): void {
    for (const w of only ? [only] : this.watches) {
      if (info.container !== w.pattern.container) continue;
      const m = w.pattern.regex.exec(info.path);
      if (!m) continue;
      const key = `blob:${w.fn.name}:${info.container}/${info.path}`;
      const receipt = this.readReceipt(key);
      if (receipt?.etag === info.etag && (receipt.done || receipt.attempts >= MAX_BLOB_ATTEMPTS)) continue;
      if (this.inFlight.has(key)) continue;
      const params: Record<string, string> = {};
      w.pattern.names.forEach((n, i) => (params[n] = m[i + 1] ?? ''));
      void this.fire(w, info, key, params, receipt?.etag === info.etag ? receipt.attempts : 0);
    }
  }

  private readReceipt(key: string): { etag: string; done: boolean; attempts: number } | undefined {
    const raw = this.receipts.getMeta(key);
    return raw ? (JSON.parse(raw) as { etag: string; done: boolean; attempts: number }) : undefined;
  }

  private async fire(
    w: Watch,
    info: ArtifactInfo,
    key: string,
    params: Record<string, string>,
    previousAttempts: number,
  ): Promise<void> {
    this.inFlight.add(key);
    let attempts = previousAttempts;
    try {
      while (!this.stopped && attempts < MAX_BLOB_ATTEMPTS) {
        attempts++;
        try {
          const content = await this.store.get(info.container, info.path);
          const metadata = {
            BlobTrigger: { string: `${info.container}/${info.path}` },
            Uri: { string: `${info.container}/${info.path}` },
            Properties: {
              json: JSON.stringify({
                Length: info.size,
                ETag: info.etag,
                ContentType: info.contentType,
                LastModified: new Date(info.lastModified).toISOString(),
              }),
            },
            Metadata: { json: JSON.stringify(info.metadata) },
            ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, { string: v }])),
          };
          await this.invoker.invoke(w.fn, [{ name: w.fn.triggerName, data: { bytes: content } }], {
            triggerMetadata: metadata,
            retryContext: { retryCount: attempts - 1, maxRetryCount: MAX_BLOB_ATTEMPTS - 1 },
          });
          this.receipts.setMeta(key, JSON.stringify({ etag: info.etag, done: true, attempts }));
          return;
        } catch (err) {
          this.receipts.setMeta(key, JSON.stringify({ etag: info.etag, done: false, attempts }));
          if (attempts >= MAX_BLOB_ATTEMPTS) {
            this.logger.error(
              `blob: ${w.fn.name} failed ${attempts} times on ${info.container}/${info.path}; the blob is poison and will not be retried`,
              err,
            );
            return;
          }
          this.logger.warn(
            `blob: ${w.fn.name} failed on ${info.container}/${info.path} (attempt ${attempts} of ${MAX_BLOB_ATTEMPTS}); retrying`,
          );
          await new Promise((r) => setTimeout(r, 200 * attempts));
        }
      }
    } finally {
      this.inFlight.delete(key);
    }
  }
}
