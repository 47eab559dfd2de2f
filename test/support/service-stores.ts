import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from '../../shared/contracts/job.js';
import { NotFoundError } from '../../shared/errors.js';
import { SqliteMetadataStore } from '../../shared/adapters/sqlite-metadata-store.js';
import { SqliteTrackingStore } from '../../shared/adapters/sqlite-tracking-store.js';
import { createTrackingService } from '../../shared/services/tracking-service.js';
import type { TrackingService } from '../../shared/services/tracking-service.js';

/** Real SQLite metadata and tracking stores in a temporary folder, for a service under test. */
export interface ServiceStores {
  metadata: SqliteMetadataStore;
  tracking: TrackingService;
  /** A clock that ticks one millisecond at each reading (distinct, ordered timestamps). */
  clock: { now: () => number };
  /** Starts the MLflow run of job `name`, as the job service does when it creates a job. */
  startRun(ws: string, name: string, experiment: string): Promise<void>;
  close(): Promise<void>;
}

export async function openServiceStores(prefix: string): Promise<ServiceStores> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const metadata = SqliteMetadataStore.open(join(dir, 'metadata.db'));
  const trackingStore = SqliteTrackingStore.open(join(dir, 'tracking.db'));
  let now = 1_700_000_000_000;
  const clock = { now: () => now++ };
  const tracking = createTrackingService({ store: trackingStore, clock });
  return {
    metadata,
    tracking,
    clock,
    async startRun(ws, name, experiment) {
      await tracking.startJobRun(ws, {
        runId: name,
        experimentName: experiment,
        runName: name,
        tags: [],
        startTime: clock.now(),
      });
    },
    async close() {
      await metadata.close();
      await trackingStore.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The `get` of a scripted job service: a parent (a name without '_') reads back as a job of
 * `parentType`, as after its create; a child is counted in `reads` and shown by `show`, and one not
 * in `jobs` is a NotFoundError.
 */
export function scriptedGet<T>(
  jobs: ReadonlyMap<string, T>,
  reads: Map<string, number>,
  parentType: Job['type'],
  show: (name: string, job: T) => Record<string, unknown>,
): (ws: string, name: string) => Promise<Job> {
  return (_ws, name) => {
    if (!name.includes('_')) return Promise.resolve({ name, type: parentType } as Job);
    reads.set(name, (reads.get(name) ?? 0) + 1);
    const job = jobs.get(name);
    if (job === undefined) return Promise.reject(new NotFoundError(`no job ${name}`));
    return Promise.resolve({ name, outputs: {}, ...show(name, job) } as unknown as Job);
  };
}
