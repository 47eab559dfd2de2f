/**
 * Fires timer triggers on their NCRONTAB schedules. The last and next occurrence of each
 * schedule is kept in the host database, so an occurrence missed while the host was down
 * fires once at start-up with IsPastDue, as the Functions schedule monitor does.
 */
import { nextOccurrence, parseSchedule } from '../../shared/domain/ncrontab.js';
import type { Schedule } from '../../shared/domain/ncrontab.js';
import type { RegisteredFunction } from '../registry.js';
import type { Invoker } from '../invoke.js';
import type { Logger } from '../logger.js';
import { resolveAppSettings } from '../settings.js';

const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export interface ScheduleStatusStore {
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
}

interface TimerState {
  fn: RegisteredFunction;
  schedule: Schedule;
  timeout?: NodeJS.Timeout;
  running: boolean;
}

export class TimerTriggers {
  private readonly timers: TimerState[] = [];
  private stopped = false;

  constructor(
    private readonly functions: RegisteredFunction[],
    private readonly invoker: Invoker,
    private readonly status: ScheduleStatusStore,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
    /** IANA zone of the schedules (WEBSITE_TIME_ZONE on Azure); UTC when unset. */
    private readonly timeZone?: string,
  ) {}

  start(): void {
    for (const fn of this.functions) {
      const raw = String(fn.trigger.schedule ?? '');
      let schedule: Schedule;
      try {
        schedule = parseSchedule(resolveAppSettings(raw), this.timeZone ? { timeZone: this.timeZone } : {});
      } catch (err) {
        this.logger.error(`timer: function ${fn.name} has an invalid schedule '${raw}' and will not run`, err);
        continue;
      }
      const state: TimerState = { fn, schedule, running: false };
      this.timers.push(state);
      const saved = this.readStatus(fn.name);
      const now = this.clock();
      if (fn.trigger.runOnStartup === true) void this.fire(state, false);
      else if (saved?.next !== undefined && saved.next < now) void this.fire(state, true);
      this.arm(state);
    }
  }

  /** Runs a timer function now, outside its schedule (the admin API's manual run). */
  runNow(name: string): boolean {
    const state = this.timers.find((t) => t.fn.name === name);
    if (!state) return false;
    void this.fire(state, false);
    return true;
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) if (t.timeout) clearTimeout(t.timeout);
  }

  private readStatus(name: string): { last?: number; next?: number } | undefined {
    const raw = this.status.getMeta(`timer:${name}`);
    return raw ? (JSON.parse(raw) as { last?: number; next?: number }) : undefined;
  }

  private arm(state: TimerState): void {
    if (this.stopped) return;
    const now = this.clock();
    const next = nextOccurrence(state.schedule, new Date(now)).getTime();
    const saved = this.readStatus(state.fn.name);
    this.status.setMeta(`timer:${state.fn.name}`, JSON.stringify({ ...saved, next }));
    const wait = () => {
      const remaining = next - this.clock();
      if (remaining > 0) {
        state.timeout = setTimeout(wait, Math.min(remaining, MAX_TIMEOUT_MS));
        state.timeout.unref?.();
        return;
      }
      void this.fire(state, false).finally(() => this.arm(state));
    };
    wait();
  }

  private async fire(state: TimerState, isPastDue: boolean): Promise<void> {
    if (this.stopped) return;
    if (state.running) {
      this.logger.warn(`timer: ${state.fn.name} is still running; skipping this occurrence`);
      return;
    }
    state.running = true;
    const now = this.clock();
    const saved = this.readStatus(state.fn.name);
    const next = nextOccurrence(state.schedule, new Date(now)).getTime();
    const payload = {
      Schedule: { AdjustForDST: true },
      ScheduleStatus: {
        Last: new Date(saved?.last ?? 0).toISOString(),
        Next: new Date(next).toISOString(),
        LastUpdated: new Date(now).toISOString(),
      },
      IsPastDue: isPastDue,
    };
    try {
      await this.invoker.invoke(state.fn, [{ name: state.fn.triggerName, data: { json: JSON.stringify(payload) } }]);
    } catch (err) {
      this.logger.error(`timer: ${state.fn.name} failed`, err);
    } finally {
      state.running = false;
      this.status.setMeta(`timer:${state.fn.name}`, JSON.stringify({ last: now, next }));
    }
  }
}
