/**
 * The embedded durable engine: drives the real durable-functions orchestrator handlers with
 * their history, executes the actions they return, and persists every step. See
 * ARCHITECTURE.md beside this file for the flow and the sequence-number rules.
 */
import { randomUUID } from 'node:crypto';
import functionsLibrary from '@azure/functions';
import type { FunctionRegistry, RegisteredFunction } from '../registry.js';
import type { Invoker } from '../invoke.js';
import { InvocationError, fromTypedData } from '../invoke.js';
import type { Logger } from '../logger.js';
import {
  ActionType,
  EventType,
  encodedInputToJson,
  event,
  failureFromError,
  flattenActions,
  rawInputToJson,
  retryDelayMs,
} from './history.js';
import type { Action, FailureDetails, HistoryEvent, RetryOptions } from './history.js';
import { TERMINAL } from './store.js';
import type {
  DurableStore,
  InboxMeta,
  InboxRow,
  InstanceRow,
  ListFilter,
  NewInbox,
  NewWork,
  RuntimeStatus,
  WorkRow,
} from './store.js';

export class DurableRequestError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 410,
    message: string,
  ) {
    super(message);
  }
}

export interface EngineOptions {
  store: DurableStore;
  registry: FunctionRegistry;
  invoker: Invoker;
  logger: Logger;
  maxConcurrentActivities?: number;
  clock?: () => number;
}

export interface EngineStats {
  episodes: number;
  eventsReplayed: number;
  activitiesRun: number;
}

interface OrchestratorState {
  isDone: boolean;
  actions: unknown;
  output?: unknown;
  error?: string;
  customStatus?: unknown;
  failureDetails?: { errorType?: string; errorMessage?: string; stackTrace?: string };
}

interface ChildStart {
  instanceId: string;
  name: string;
  inputJson: string;
  now: number;
  parent: { instanceId: string; executionId: string; taskId: number };
  meta: InboxMeta;
  replaceExisting: boolean;
}

interface Completion {
  workId: number;
  inbox: NewInbox;
}

// @azure/functions is a webpack bundle whose classes Node's ESM loader cannot see as named exports.
const { InvocationContext } = functionsLibrary;

const OUT_OF_PROC_MARKER = '$OutOfProcData$:';
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
const HISTORY_CACHE_LIMIT = 2000;

export class DurableEngine {
  readonly stats: EngineStats = { episodes: 0, eventsReplayed: 0, activitiesRun: 0 };
  private readonly store: DurableStore;
  private readonly registry: FunctionRegistry;
  private readonly invoker: Invoker;
  private readonly logger: Logger;
  private readonly clock: () => number;
  private readonly maxConcurrentActivities: number;
  private readonly histories = new Map<string, HistoryEvent[]>();
  private readonly dirty = new Set<string>();
  private pumpScheduled = false;
  private pumping: Promise<void> | undefined;
  private readonly workQueue: WorkRow[] = [];
  private runningActivities = 0;
  private completions: Completion[] = [];
  private flushScheduled = false;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAt: number | undefined;
  private running = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(options: EngineOptions) {
    this.store = options.store;
    this.registry = options.registry;
    this.invoker = options.invoker;
    this.logger = options.logger;
    this.clock = options.clock ?? Date.now;
    this.maxConcurrentActivities = options.maxConcurrentActivities ?? 200;
  }

  /** Resumes everything that was in flight when the host last stopped. */
  start(): void {
    this.running = true;
    const work = this.store.allWork();
    this.workQueue.push(...work);
    const now = this.clock();
    for (const id of this.store.dueInstances(now)) this.dirty.add(id);
    if (work.length > 0 || this.dirty.size > 0) {
      this.logger.info(
        `durable: resuming ${this.dirty.size} instance(s) and ${work.length} activity call(s) from the last run`,
      );
    }
    this.drainWork();
    this.schedulePump();
    this.rescheduleWake(now);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    await this.pumping;
  }

  /** Resolves when no episode, activity or completion is pending right now (timers may remain). */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return (
      this.dirty.size === 0 &&
      !this.pumping &&
      this.workQueue.length === 0 &&
      this.runningActivities === 0 &&
      this.completions.length === 0
    );
  }

  private notifyIdle(): void {
    if (this.idleWaiters.length > 0 && this.isIdle()) {
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  // ---- client operations -------------------------------------------------------------

  startNew(name: string, instanceId: string | undefined, inputJson: string | null): InstanceRow {
    const fn = this.registry.get(name);
    if (!fn || fn.trigger.type !== 'orchestrationTrigger') {
      throw new DurableRequestError(
        400,
        `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function.`,
      );
    }
    const id = instanceId ?? randomUUID().replace(/-/g, '');
    validateInstanceId(id);
    const now = this.clock();
    const row = this.store.transaction(() => {
      const existing = this.store.getInstance(id);
      if (existing && !TERMINAL.has(existing.status)) {
        throw new DurableRequestError(409, `An instance with ID '${id}' already exists and is ${existing.status}.`);
      }
      if (existing) this.purgeRows(id);
      return this.createInstance({ instanceId: id, name: fn.name, inputJson, now });
    });
    this.markDirty(id);
    return row;
  }

  raiseEvent(instanceId: string, eventName: string, inputJson: string | null): void {
    const inst = this.store.getInstance(instanceId);
    if (!inst) throw new DurableRequestError(404, `No instance with ID '${instanceId}' was found.`);
    if (TERMINAL.has(inst.status))
      throw new DurableRequestError(410, `Instance '${instanceId}' is ${inst.status}; it takes no more events.`);
    const now = this.clock();
    this.store.transaction(() =>
      this.store.addInbox([
        {
          instanceId,
          executionId: null,
          event: event(EventType.EventRaised, { Name: eventName, Input: inputJson ?? 'null' }, new Date(now)),
          visibleAt: now,
        },
      ]),
    );
    this.markDirty(instanceId);
  }

  terminate(instanceId: string, reason: string): void {
    const inst = this.store.getInstance(instanceId);
    if (!inst) throw new DurableRequestError(404, `No instance with ID '${instanceId}' was found.`);
    if (TERMINAL.has(inst.status))
      throw new DurableRequestError(410, `Instance '${instanceId}' is already ${inst.status}.`);
    const now = this.clock();
    this.store.transaction(() =>
      this.store.addInbox([
        {
          instanceId,
          executionId: null,
          event: event(EventType.ExecutionTerminated, { Input: JSON.stringify(reason) }, new Date(now)),
          visibleAt: now,
        },
      ]),
    );
    this.markDirty(instanceId);
  }

  suspend(instanceId: string, reason: string): void {
    this.setSuspended(instanceId, true, reason);
  }

  resume(instanceId: string, reason: string): void {
    this.setSuspended(instanceId, false, reason);
  }

  /** Suspension goes through the inbox like every other change, so it never races an episode in flight. */
  private setSuspended(instanceId: string, suspend: boolean, reason: string): void {
    const inst = this.store.getInstance(instanceId);
    if (!inst) throw new DurableRequestError(404, `No instance with ID '${instanceId}' was found.`);
    if (TERMINAL.has(inst.status))
      throw new DurableRequestError(410, `Instance '${instanceId}' is already ${inst.status}.`);
    const now = this.clock();
    const type = suspend ? EventType.ExecutionSuspended : EventType.ExecutionResumed;
    this.store.transaction(() =>
      this.store.addInbox([
        { instanceId, executionId: null, event: event(type, { Reason: reason }, new Date(now)), visibleAt: now },
      ]),
    );
    this.markDirty(instanceId);
  }

  getInstance(instanceId: string): InstanceRow | undefined {
    return this.store.getInstance(instanceId);
  }

  list(filter: ListFilter): InstanceRow[] {
    return this.store.listInstances(filter);
  }

  /** Purges completed, failed and terminated instances matching the filter; returns how many. */
  purgeBy(filter: Omit<ListFilter, 'limit' | 'after'>): number {
    const statuses = (filter.runtimeStatus ?? ['Completed', 'Failed', 'Terminated']).filter((s) => TERMINAL.has(s));
    if (statuses.length === 0) return 0;
    let deleted = 0;
    for (;;) {
      const rows = this.store.listInstances({ ...filter, runtimeStatus: statuses, limit: 500 });
      if (rows.length === 0) return deleted;
      this.store.transaction(() => {
        for (const r of rows) this.purgeRows(r.instanceId);
      });
      deleted += rows.length;
    }
  }

  getHistory(instanceId: string): HistoryEvent[] {
    return this.store.loadHistory(instanceId);
  }

  purge(instanceId: string): boolean {
    const inst = this.store.getInstance(instanceId);
    if (!inst) return false;
    if (!TERMINAL.has(inst.status)) {
      throw new DurableRequestError(
        400,
        `Instance '${instanceId}' is ${inst.status}; only completed, failed or terminated instances can be purged.`,
      );
    }
    this.store.transaction(() => this.purgeRows(instanceId));
    return true;
  }

  private purgeRows(instanceId: string): void {
    this.store.purge(instanceId);
    this.histories.delete(instanceId);
  }

  // ---- scheduling ----------------------------------------------------------------------

  private markDirty(instanceId: string): void {
    this.dirty.add(instanceId);
    this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled || !this.running) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      if (this.pumping) return;
      this.pumping = this.pump().finally(() => {
        this.pumping = undefined;
        if (this.dirty.size > 0) this.schedulePump();
        this.notifyIdle();
      });
    });
  }

  private async pump(): Promise<void> {
    while (this.dirty.size > 0 && this.running) {
      const ids = [...this.dirty];
      this.dirty.clear();
      for (const id of ids) {
        try {
          await this.runEpisode(id);
        } catch (err) {
          this.logger.error(`durable: episode of instance ${id} failed in the host; it will be retried`, err);
          setTimeout(() => this.markDirty(id), 1000).unref();
        }
      }
      // Let activity completions that arrived meanwhile be flushed before the next round,
      // so a fan-in is handled in a few large episodes rather than one per completion.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /**
   * Arms the one wake-up timer for the earliest inbox row that becomes visible after `seenUpTo`.
   * Rows visible at or before `seenUpTo` must already have been handed to `markDirty` by the
   * caller, with the same threshold: measuring "now" twice would lose the rows in between.
   */
  private rescheduleWake(seenUpTo: number): void {
    if (!this.running) return;
    const next = this.store.nextDueAt(seenUpTo);
    if (next === undefined) {
      if (this.wakeTimer) clearTimeout(this.wakeTimer);
      this.wakeTimer = undefined;
      this.wakeAt = undefined;
      return;
    }
    if (this.wakeAt !== undefined && this.wakeAt <= next && this.wakeTimer) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = next;
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = undefined;
        this.wakeAt = undefined;
        this.wakeDue();
      },
      Math.min(Math.max(0, next - this.clock()), MAX_TIMEOUT_MS),
    );
  }

  private wakeDue(): void {
    const now = this.clock();
    for (const id of this.store.dueInstances(now)) this.markDirty(id);
    this.rescheduleWake(now);
  }

  // ---- activities ----------------------------------------------------------------------

  private enqueueWork(items: WorkRow[]): void {
    this.workQueue.push(...items);
    this.drainWork();
  }

  private drainWork(): void {
    while (this.running && this.runningActivities < this.maxConcurrentActivities && this.workQueue.length > 0) {
      const work = this.workQueue.shift() as WorkRow;
      this.runningActivities++;
      void this.runActivity(work).finally(() => {
        this.runningActivities--;
        this.drainWork();
        this.notifyIdle();
      });
    }
  }

  private async runActivity(work: WorkRow): Promise<void> {
    const fn = this.registry.get(work.name);
    let ev: HistoryEvent;
    if (!fn || fn.trigger.type !== 'activityTrigger') {
      ev = taskFailed(work.taskId, {
        ErrorType: 'FunctionNotFound',
        ErrorMessage: `The function '${work.name}' doesn't exist, is disabled, or is not an activity function.`,
      });
    } else {
      try {
        const { response } = await this.invoker.invoke(fn, [{ name: fn.triggerName, data: { string: work.input } }]);
        const value = fromTypedData(response.returnValue);
        ev = event(EventType.TaskCompleted, {
          TaskScheduledId: work.taskId,
          Result: JSON.stringify(value ?? null) ?? 'null',
        });
      } catch (err) {
        const inner = err instanceof InvocationError ? err.inner : err;
        ev = taskFailed(work.taskId, failureFromError(inner));
      }
    }
    this.stats.activitiesRun++;
    if (!this.running) return;
    const now = this.clock();
    ev.Timestamp = new Date(now).toISOString();
    this.completions.push({
      workId: work.id,
      inbox: { instanceId: work.instanceId, executionId: work.executionId, event: ev, meta: work.meta, visibleAt: now },
    });
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const batch = this.completions;
      this.completions = [];
      if (batch.length === 0 || !this.running) return;
      this.store.transaction(() => {
        for (const c of batch) this.store.deleteWork(c.workId);
        this.store.addInbox(batch.map((c) => c.inbox));
      });
      for (const c of batch) this.dirty.add(c.inbox.instanceId);
      this.schedulePump();
    });
  }

  // ---- episodes ------------------------------------------------------------------------

  private historyOf(instanceId: string): HistoryEvent[] {
    let history = this.histories.get(instanceId);
    if (!history) {
      history = this.store.loadHistory(instanceId);
      if (this.histories.size >= HISTORY_CACHE_LIMIT) {
        const oldest = this.histories.keys().next().value;
        if (oldest !== undefined) this.histories.delete(oldest);
      }
      this.histories.set(instanceId, history);
    }
    return history;
  }

  private createInstance(args: {
    instanceId: string;
    name: string;
    inputJson: string | null;
    now: number;
    parent?: { instanceId: string; executionId: string; taskId: number };
  }): InstanceRow {
    const executionId = randomUUID().replace(/-/g, '');
    const row: InstanceRow = {
      instanceId: args.instanceId,
      name: args.name,
      executionId,
      status: 'Pending',
      input: args.inputJson,
      output: null,
      customStatus: null,
      parentInstanceId: args.parent?.instanceId ?? null,
      parentTaskId: args.parent?.taskId ?? null,
      parentExecutionId: args.parent?.executionId ?? null,
      createdAt: args.now,
      updatedAt: args.now,
      nextSeq: 0,
      actionsSeen: 0,
      historyLength: 0,
    };
    this.store.saveInstance(row);
    this.store.addInbox([
      {
        instanceId: args.instanceId,
        executionId,
        event: event(
          EventType.ExecutionStarted,
          {
            Name: args.name,
            Input: args.inputJson ?? 'null',
            Version: '',
            ...(args.parent
              ? { ParentInstance: { OrchestrationInstance: { InstanceId: args.parent.instanceId } } }
              : {}),
          },
          new Date(args.now),
        ),
        visibleAt: args.now,
      },
    ]);
    return row;
  }

  private async runEpisode(instanceId: string): Promise<void> {
    const now = this.clock();
    const inst = this.store.getInstance(instanceId);
    const inbox = this.store.visibleInbox(instanceId, now);
    if (inbox.length === 0) return;
    if (!inst || TERMINAL.has(inst.status)) {
      this.store.transaction(() => this.store.deleteInbox(inbox.map((r) => r.id)));
      return;
    }
    const current = inbox.filter((r) => r.executionId === null || r.executionId === inst.executionId);
    const stale = inbox.filter((r) => !current.includes(r)).map((r) => r.id);
    const terminate = current.find((r) => r.event.EventType === EventType.ExecutionTerminated);
    if (terminate) {
      this.finishTerminated(inst, terminate, stale, now);
      return;
    }
    const control = current.filter(
      (r) => r.event.EventType === EventType.ExecutionSuspended || r.event.EventType === EventType.ExecutionResumed,
    );
    if (control.length > 0) {
      // The last request wins; the others in the batch wait for the next episode.
      const last = control[control.length - 1] as InboxRow;
      const suspend = last.event.EventType === EventType.ExecutionSuspended;
      const history = this.historyOf(instanceId);
      const changed = suspend !== (inst.status === 'Suspended');
      if (changed) {
        last.event.IsPlayed = true;
        inst.status = suspend ? 'Suspended' : history.length > 0 ? 'Running' : 'Pending';
        inst.updatedAt = now;
      }
      this.store.transaction(() => {
        this.store.deleteInbox(control.map((r) => r.id));
        if (changed) {
          this.store.appendHistory(instanceId, inst.historyLength, [last.event]);
          inst.historyLength += 1;
          this.store.saveInstance(inst);
        }
      });
      if (changed) history.push(last.event);
      if (!suspend) this.markDirty(instanceId);
      return;
    }
    if (inst.status === 'Suspended') return;
    if (current.length === 0) {
      this.store.transaction(() => this.store.deleteInbox(stale));
      return;
    }

    const history = this.historyOf(instanceId);
    const startLength = history.length;
    const sideInbox: NewInbox[] = [];
    const sideWork: NewWork[] = [];
    const children: ChildStart[] = [];
    const wake = new Set<string>();
    const nowDate = new Date(now);
    const newEvents: HistoryEvent[] = [event(EventType.OrchestratorStarted, {}, nowDate)];

    for (const row of orderForSequenceNumbers(current)) {
      const ev = row.event;
      ev.IsPlayed = false;
      newEvents.push(ev);
      const retry = row.meta.retry;
      if (!retry) continue;
      if (ev.EventType === EventType.TaskFailed || ev.EventType === EventType.SubOrchestrationInstanceFailed) {
        // The library waits on a retry timer with the next sequence number after each failed attempt.
        const timerId = inst.nextSeq++;
        const fireAt = new Date(now + retryDelayMs(retry.options, retry.attempt));
        newEvents.push(event(EventType.TimerCreated, { EventId: timerId, FireAt: fireAt.toISOString() }, nowDate));
        sideInbox.push({
          instanceId,
          executionId: inst.executionId,
          event: event(EventType.TimerFired, { TimerId: timerId, FireAt: fireAt.toISOString() }, fireAt),
          meta: { retry },
          visibleAt: fireAt.getTime(),
        });
      } else if (ev.EventType === EventType.TimerFired && retry.attempt < retry.options.maxNumberOfAttempts) {
        const seq = inst.nextSeq++;
        const next = { ...retry, attempt: retry.attempt + 1 };
        if (retry.kind === 'activity') {
          newEvents.push(
            event(EventType.TaskScheduled, { EventId: seq, Name: retry.name, Input: retry.input }, nowDate),
          );
          sideWork.push({
            instanceId,
            executionId: inst.executionId,
            taskId: seq,
            name: retry.name,
            input: retry.input,
            meta: { retry: next },
          });
        } else {
          this.scheduleSubOrchestration(
            inst,
            seq,
            retry.name,
            retry.instanceId,
            retry.input,
            { retry: next },
            now,
            newEvents,
            sideInbox,
            children,
          );
        }
      }
    }
    history.push(...newEvents);

    const fn = this.registry.get(inst.name);
    let state: OrchestratorState | undefined;
    let failure: FailureDetails | undefined;
    if (!fn || fn.trigger.type !== 'orchestrationTrigger') {
      failure = {
        ErrorType: 'FunctionNotFound',
        ErrorMessage: `The orchestrator function '${inst.name}' is not registered in this app.`,
      };
    } else {
      try {
        state = await this.callOrchestrator(fn, inst, history, startLength > 0);
      } catch (err) {
        const parsed = parseOrchestrationFailure(err);
        state = parsed.state;
        failure = parsed.failure;
      }
    }
    this.stats.episodes++;
    this.stats.eventsReplayed += history.length;

    let continueAsNew: Action | undefined;
    if (state) {
      const actions = flattenActions(state.actions);
      for (let i = inst.actionsSeen; i < actions.length; i++) {
        const a = actions[i] as Action;
        switch (a.actionType) {
          case ActionType.CallActivity:
          case ActionType.CallActivityWithRetry: {
            const seq = inst.nextSeq++;
            const name = a.functionName ?? '';
            const input = encodedInputToJson(a.input);
            newEvents.push(event(EventType.TaskScheduled, { EventId: seq, Name: name, Input: input }, nowDate));
            const meta: InboxMeta = a.retryOptions
              ? { retry: { kind: 'activity', name, input, options: normaliseRetry(a.retryOptions), attempt: 1 } }
              : {};
            sideWork.push({ instanceId, executionId: inst.executionId, taskId: seq, name, input, meta });
            break;
          }
          case ActionType.CallSubOrchestrator:
          case ActionType.CallSubOrchestratorWithRetry: {
            const seq = inst.nextSeq++;
            const name = a.functionName ?? '';
            const input = rawInputToJson(a.input);
            const meta: InboxMeta = a.retryOptions
              ? {
                  retry: {
                    kind: 'orchestration',
                    name,
                    input,
                    options: normaliseRetry(a.retryOptions),
                    attempt: 1,
                    ...(a.instanceId ? { instanceId: a.instanceId } : {}),
                  },
                }
              : {};
            this.scheduleSubOrchestration(
              inst,
              seq,
              name,
              a.instanceId,
              input,
              meta,
              now,
              newEvents,
              sideInbox,
              children,
            );
            break;
          }
          case ActionType.CreateTimer: {
            const seq = inst.nextSeq++;
            const fireAt = a.fireAt instanceof Date ? a.fireAt : new Date(String(a.fireAt));
            newEvents.push(event(EventType.TimerCreated, { EventId: seq, FireAt: fireAt.toISOString() }, nowDate));
            sideInbox.push({
              instanceId,
              executionId: inst.executionId,
              event: event(EventType.TimerFired, { TimerId: seq, FireAt: fireAt.toISOString() }, fireAt),
              visibleAt: Math.max(fireAt.getTime(), now),
            });
            break;
          }
          case ActionType.WaitForExternalEvent:
            break;
          case ActionType.ContinueAsNew:
            continueAsNew = a;
            break;
          default:
            inst.nextSeq++;
            failure ??= {
              ErrorType: 'NotSupported',
              ErrorMessage: `Action type ${a.actionType} (entities or durable HTTP) is not supported by the Tessera local host.`,
            };
        }
      }
      inst.actionsSeen = actions.length;
      inst.customStatus = state.customStatus === undefined ? null : JSON.stringify(state.customStatus);
    }

    inst.updatedAt = now;
    let finished = false;
    let restart: { inputJson: string } | undefined;
    if (failure) {
      newEvents.push(
        event(
          EventType.ExecutionFailed,
          { Reason: failure.ErrorMessage, Details: failure.StackTrace ?? '', FailureDetails: failure },
          nowDate,
        ),
      );
      inst.status = 'Failed';
      inst.output = JSON.stringify(failure.ErrorMessage);
      finished = true;
      this.notifyParent(inst, false, inst.output, failure, sideInbox, wake, now);
    } else if (state?.isDone && continueAsNew) {
      restart = { inputJson: encodedInputToJson(continueAsNew.input) };
    } else if (state?.isDone) {
      inst.output = JSON.stringify(state.output ?? null) ?? 'null';
      newEvents.push(event(EventType.ExecutionCompleted, { Result: inst.output }, nowDate));
      inst.status = 'Completed';
      finished = true;
      this.notifyParent(inst, true, inst.output, undefined, sideInbox, wake, now);
    } else {
      inst.status = 'Running';
    }
    newEvents.push(event(EventType.OrchestratorCompleted, {}, nowDate));
    history.push(...newEvents.slice(history.length - startLength));

    const workIds = this.store.transaction(() => {
      this.store.deleteInbox([...current.map((r) => r.id), ...stale]);
      if (restart) {
        this.store.clearHistory(instanceId);
        this.store.clearFutureTimers(instanceId, now);
        inst.executionId = randomUUID().replace(/-/g, '');
        inst.input = restart.inputJson;
        inst.output = null;
        inst.nextSeq = 0;
        inst.actionsSeen = 0;
        inst.historyLength = 0;
        inst.status = 'Running';
        this.store.addInbox([
          {
            instanceId,
            executionId: inst.executionId,
            event: event(
              EventType.ExecutionStarted,
              { Name: inst.name, Input: restart.inputJson, Version: '' },
              nowDate,
            ),
            visibleAt: now,
          },
        ]);
        this.store.saveInstance(inst);
        return [];
      }
      this.store.appendHistory(instanceId, inst.historyLength, newEvents);
      inst.historyLength += newEvents.length;
      if (finished) this.store.clearFutureTimers(instanceId, now);
      for (const child of children) {
        if (child.replaceExisting) this.purgeRows(child.instanceId);
        this.createInstance(child);
        if (child.meta.retry) this.store.setMeta(`child-retry:${child.instanceId}`, JSON.stringify(child.meta));
        wake.add(child.instanceId);
      }
      this.store.addInbox(sideInbox);
      const ids = this.store.addWork(sideWork);
      this.store.saveInstance(inst);
      return ids;
    });
    for (const e of newEvents) e.IsPlayed = true;

    if (restart) {
      this.histories.delete(instanceId);
      this.markDirty(instanceId);
      return;
    }
    if (finished) this.histories.delete(instanceId);
    if (sideWork.length > 0) {
      this.enqueueWork(sideWork.map((w, i) => ({ ...w, id: workIds[i] as number, meta: w.meta ?? {} })));
    }
    // Measured after the commit: a short timer may have come due while the orchestrator ran.
    const committedAt = this.clock();
    for (const m of sideInbox) if (m.visibleAt <= committedAt) wake.add(m.instanceId);
    for (const id of wake) this.markDirty(id);
    if (sideInbox.some((m) => m.visibleAt > committedAt) || finished) this.rescheduleWake(committedAt);
  }

  private async callOrchestrator(
    fn: RegisteredFunction,
    inst: InstanceRow,
    history: HistoryEvent[],
    isReplaying: boolean,
  ): Promise<OrchestratorState> {
    const trigger = {
      history,
      input: inst.input === null ? null : (JSON.parse(inst.input) as unknown),
      instanceId: inst.instanceId,
      isReplaying,
      parentInstanceId: inst.parentInstanceId,
      upperSchemaVersion: 2,
      upperSchemaVersionNew: 2,
      // Long timers are not split: the host chains its own waits, so every timer is "short".
      longRunningTimerIntervalDuration: '3.00:00:00',
      maximumShortTimerDuration: '36500.00:00:00',
      defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
    };
    const invocationId = randomUUID();
    const context = new InvocationContext({
      invocationId,
      functionName: fn.name,
      logHandler: (level, ...args) =>
        this.logger.functionLog(fn.name, invocationId, level, 'user', args.map(String).join(' ')),
      options: { trigger: { name: fn.triggerName, type: 'orchestrationTrigger' }, extraInputs: [], extraOutputs: [] },
    });
    const result = await this.invoker.run(fn.callback, context, [trigger], (ctx, inputs, cb) =>
      Promise.resolve(cb(...inputs, ctx)),
    );
    return result as OrchestratorState;
  }

  private scheduleSubOrchestration(
    inst: InstanceRow,
    seq: number,
    name: string,
    requestedId: string | undefined,
    inputJson: string,
    meta: InboxMeta,
    now: number,
    newEvents: HistoryEvent[],
    sideInbox: NewInbox[],
    children: ChildStart[],
  ): void {
    const childId = requestedId || `${inst.instanceId}:${seq}`;
    const nowDate = new Date(now);
    newEvents.push(
      event(
        EventType.SubOrchestrationInstanceCreated,
        { EventId: seq, Name: name, InstanceId: childId, Input: inputJson },
        nowDate,
      ),
    );
    const fn = this.registry.get(name);
    const existing = this.store.getInstance(childId);
    let problem: string | undefined;
    if (!fn || fn.trigger.type !== 'orchestrationTrigger')
      problem = `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function.`;
    else if (existing && !TERMINAL.has(existing.status))
      problem = `An instance with ID '${childId}' already exists and is ${existing.status}.`;
    if (problem) {
      sideInbox.push({
        instanceId: inst.instanceId,
        executionId: inst.executionId,
        event: event(
          EventType.SubOrchestrationInstanceFailed,
          {
            TaskScheduledId: seq,
            Reason: problem,
            Details: '',
            FailureDetails: { ErrorType: 'SubOrchestrationError', ErrorMessage: problem },
          },
          nowDate,
        ),
        meta,
        visibleAt: now,
      });
      return;
    }
    children.push({
      instanceId: childId,
      name: (fn as RegisteredFunction).name,
      inputJson,
      now,
      parent: { instanceId: inst.instanceId, executionId: inst.executionId, taskId: seq },
      meta,
      replaceExisting: existing !== undefined,
    });
  }

  private notifyParent(
    inst: InstanceRow,
    ok: boolean,
    resultJson: string,
    failure: FailureDetails | undefined,
    sideInbox: NewInbox[],
    wake: Set<string>,
    now: number,
  ): void {
    if (!inst.parentInstanceId || inst.parentTaskId === null) return;
    const meta = this.childMeta(inst.instanceId);
    const ev = ok
      ? event(
          EventType.SubOrchestrationInstanceCompleted,
          { TaskScheduledId: inst.parentTaskId, Result: resultJson },
          new Date(now),
        )
      : event(
          EventType.SubOrchestrationInstanceFailed,
          {
            TaskScheduledId: inst.parentTaskId,
            Reason: failure?.ErrorMessage ?? 'failed',
            Details: failure?.StackTrace ?? '',
            FailureDetails: failure,
          },
          new Date(now),
        );
    sideInbox.push({
      instanceId: inst.parentInstanceId,
      executionId: inst.parentExecutionId,
      event: ev,
      meta,
      visibleAt: now,
    });
    wake.add(inst.parentInstanceId);
  }

  /** Retry facts of a child's parent task, carried to the completion event the parent receives. */
  private childMeta(childId: string): InboxMeta {
    const retry = this.store.getMeta(`child-retry:${childId}`);
    return retry ? (JSON.parse(retry) as InboxMeta) : {};
  }

  private finishTerminated(inst: InstanceRow, row: InboxRow, stale: number[], now: number): void {
    const reasonJson = typeof row.event.Input === 'string' ? row.event.Input : JSON.stringify('terminated');
    const history = this.historyOf(inst.instanceId);
    const nowDate = new Date(now);
    const events = [
      event(EventType.OrchestratorStarted, {}, nowDate),
      event(EventType.ExecutionTerminated, { Input: reasonJson }, nowDate),
      event(EventType.OrchestratorCompleted, {}, nowDate),
    ];
    const sideInbox: NewInbox[] = [];
    const wake = new Set<string>();
    inst.status = 'Terminated';
    inst.output = reasonJson;
    inst.updatedAt = now;
    let reason = 'terminated';
    try {
      reason = String(JSON.parse(reasonJson));
    } catch {
      reason = reasonJson;
    }
    this.notifyParent(
      inst,
      false,
      reasonJson,
      { ErrorType: 'Terminated', ErrorMessage: `Instance terminated: ${reason}` },
      sideInbox,
      wake,
      now,
    );
    this.store.transaction(() => {
      this.store.appendHistory(inst.instanceId, inst.historyLength, events);
      inst.historyLength += events.length;
      this.store.clearPending(inst.instanceId);
      this.store.deleteInbox(stale);
      this.store.addInbox(sideInbox);
      this.store.saveInstance(inst);
    });
    history.length = 0;
    this.histories.delete(inst.instanceId);
    for (const id of wake) this.markDirty(id);
  }
}

function taskFailed(taskId: number, failure: FailureDetails): HistoryEvent {
  return event(EventType.TaskFailed, {
    TaskScheduledId: taskId,
    Reason: failure.ErrorMessage,
    Details: failure.StackTrace ?? '',
    FailureDetails: failure,
  });
}

function normaliseRetry(options: RetryOptions): RetryOptions {
  return {
    firstRetryIntervalInMilliseconds: Number(options.firstRetryIntervalInMilliseconds) || 0,
    maxNumberOfAttempts: Math.max(1, Number(options.maxNumberOfAttempts) || 1),
    ...(options.backoffCoefficient !== undefined ? { backoffCoefficient: Number(options.backoffCoefficient) } : {}),
    ...(options.maxRetryIntervalInMilliseconds !== undefined
      ? { maxRetryIntervalInMilliseconds: Number(options.maxRetryIntervalInMilliseconds) }
      : {}),
  };
}

/**
 * Events that make the library allocate a hidden sequence number (a retry attempt's failure,
 * a retry timer that leads to another attempt) go first in a batch: they never resume user
 * code, so the numbers they take precede any task the user code schedules in this episode.
 */
export function orderForSequenceNumbers(rows: readonly InboxRow[]): InboxRow[] {
  const started = rows.filter((r) => r.event.EventType === EventType.ExecutionStarted);
  const rest = rows.filter((r) => r.event.EventType !== EventType.ExecutionStarted);
  const allocates = (r: InboxRow) => {
    const retry = r.meta.retry;
    if (!retry) return false;
    const t = r.event.EventType;
    if (t === EventType.TaskFailed || t === EventType.SubOrchestrationInstanceFailed) return true;
    return t === EventType.TimerFired && retry.attempt < retry.options.maxNumberOfAttempts;
  };
  return [...started, ...rest.filter(allocates), ...rest.filter((r) => !allocates(r))];
}

function parseOrchestrationFailure(err: unknown): { state: OrchestratorState | undefined; failure: FailureDetails } {
  const message = err instanceof Error ? err.message : String(err);
  const at = message.indexOf(OUT_OF_PROC_MARKER);
  if (at >= 0) {
    try {
      const state = JSON.parse(message.slice(at + OUT_OF_PROC_MARKER.length)) as OrchestratorState;
      const details = state.failureDetails;
      return {
        state: undefined,
        failure: {
          ErrorType: details?.errorType ?? 'OrchestrationFailure',
          ErrorMessage: state.error ?? details?.errorMessage ?? 'The orchestrator failed.',
          StackTrace: details?.stackTrace ?? '',
          IsNonRetriable: false,
        },
      };
    } catch {
      // fall through: not the library's payload
    }
  }
  return { state: undefined, failure: failureFromError(err) };
}

function hasControlCharacter(id: string): boolean {
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function validateInstanceId(id: string): void {
  if (id.length < 1 || id.length > 256 || /[/\\#?]/.test(id) || hasControlCharacter(id)) {
    throw new DurableRequestError(
      400,
      `Instance ID '${id}' is not valid: use 1-256 characters without '/', '\\', '#', '?' or control characters.`,
    );
  }
}

export type { RuntimeStatus };
