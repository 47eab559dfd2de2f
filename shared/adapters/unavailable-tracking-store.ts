import { AppError } from '../errors.js';
import type { TrackingStore } from '../ports/tracking-store.js';

/**
 * A TrackingStore for hosts that have no tracking backend yet (TESSERA_STORE=azure): every call
 * fails with an Unsupported error that says why, so the rest of the app starts and runs normally.
 */
export function createUnavailableTrackingStore(reason: string): TrackingStore {
  const fail = async (): Promise<never> => {
    throw new AppError('Unsupported', reason);
  };
  return new Proxy({} as TrackingStore, {
    // Not a thenable: awaiting the store itself must not call `fail`.
    get: (_target, property) => (property === 'then' ? undefined : property === 'close' ? async () => undefined : fail),
  });
}
