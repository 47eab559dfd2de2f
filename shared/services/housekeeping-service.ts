import type { Clock } from '../ports/clock.js';
import type { MetadataStore } from '../ports/metadata-store.js';
import { UPLOAD_SESSIONS_CONTAINER } from '../contracts/housekeeping.js';
import type { HousekeepingResult } from '../contracts/housekeeping.js';
import { deleteMatching } from './delete-matching.js';
import type { TokenService } from './token-service.js';

export interface HousekeepingServiceDeps {
  store: MetadataStore;
  tokens: Pick<TokenService, 'deleteExpired'>;
  clock: Clock;
}

/** Removes what has expired: API tokens and abandoned upload sessions. Each call returns counts. */
export interface HousekeepingService {
  deleteExpiredTokens(nowMs?: number): Promise<number>;
  deleteExpiredUploadSessions(nowMs?: number): Promise<number>;
  run(nowMs?: number): Promise<HousekeepingResult>;
}

export function createHousekeepingService({ store, tokens, clock }: HousekeepingServiceDeps): HousekeepingService {
  const deleteExpiredTokens = (nowMs: number = clock.now()): Promise<number> => tokens.deleteExpired(nowMs);

  const deleteExpiredUploadSessions = async (nowMs: number = clock.now()): Promise<number> =>
    // Cross-partition: sessions are partitioned by workspace.
    deleteMatching(await store.container(UPLOAD_SESSIONS_CONTAINER), {
      filters: [{ path: 'expiresAt', op: '<=', value: nowMs }],
    });

  const run = async (nowMs: number = clock.now()): Promise<HousekeepingResult> => ({
    tokens: await deleteExpiredTokens(nowMs),
    uploadSessions: await deleteExpiredUploadSessions(nowMs),
  });

  return { deleteExpiredTokens, deleteExpiredUploadSessions, run };
}
