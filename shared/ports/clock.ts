/** Time as a port, so services and tests agree on "now" without reading the system clock directly. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
