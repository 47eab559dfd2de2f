import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
