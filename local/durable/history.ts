/** History events and actions of the Durable Functions out-of-process protocol (schema V3). */
export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
  ExecutionSuspended: 19,
  ExecutionResumed: 20,
} as const;

export const EventTypeName: Record<number, string> = Object.fromEntries(
  Object.entries(EventType).map(([name, value]) => [value, name]),
);

export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

export interface HistoryEvent {
  EventType: number;
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string | Date;
  [field: string]: unknown;
}

export interface FailureDetails {
  ErrorType: string;
  ErrorMessage: string;
  StackTrace?: string;
  IsNonRetriable?: boolean;
}

export interface RetryOptions {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
  retryTimeoutInMilliseconds?: number;
}

export interface Action {
  actionType: number;
  functionName?: string;
  input?: unknown;
  instanceId?: string;
  retryOptions?: RetryOptions;
  fireAt?: Date | string;
  isCanceled?: boolean;
  externalEventName?: string;
  compoundActions?: Action[];
}

export function event(type: number, fields: Record<string, unknown> = {}, now: Date = new Date()): HistoryEvent {
  return { EventType: type, EventId: -1, IsPlayed: false, Timestamp: now.toISOString(), ...fields };
}

/** The delay before retry attempt `attempt + 1`, after `attempt` failures (1-based), as DTFx computes it. */
export function retryDelayMs(options: RetryOptions, attempt: number): number {
  const coefficient = options.backoffCoefficient ?? 1;
  let delay = options.firstRetryIntervalInMilliseconds * Math.pow(coefficient, attempt - 1);
  if (options.maxRetryIntervalInMilliseconds !== undefined && options.maxRetryIntervalInMilliseconds > 0) {
    delay = Math.min(delay, options.maxRetryIntervalInMilliseconds);
  }
  return Math.max(0, Math.round(delay));
}

/**
 * Flattens the actions an episode returned (every action since the start) into the order in
 * which the library numbers its tasks: depth-first through WhenAll/WhenAny, each action object
 * once (a task re-yielded inside Task.all appears twice but is scheduled once; durable-js #574).
 */
export function flattenActions(actions: unknown): Action[] {
  const out: Action[] = [];
  const seen = new Set<object>();
  const visit = (a: Action) => {
    if (a.actionType === ActionType.WhenAll || a.actionType === ActionType.WhenAny) {
      for (const child of a.compoundActions ?? []) visit(child);
      return;
    }
    if (seen.has(a)) return;
    seen.add(a);
    out.push(a);
  };
  if (Array.isArray(actions)) {
    for (const group of actions) {
      if (Array.isArray(group)) for (const a of group) visit(a as Action);
      else if (group) visit(group as Action);
    }
  }
  return out;
}

/** Whether an action takes a sequence number from the library. */
export function takesSequenceNumber(a: Action): boolean {
  return a.actionType !== ActionType.WaitForExternalEvent && a.actionType !== ActionType.ContinueAsNew;
}

/** Activity and continue-as-new inputs arrive JSON-encoded when they are strings, raw otherwise. */
export function encodedInputToJson(input: unknown): string {
  if (input === undefined) return 'null';
  if (typeof input === 'string') return input;
  return JSON.stringify(input);
}

export function rawInputToJson(input: unknown): string {
  return input === undefined ? 'null' : JSON.stringify(input);
}

export function failureFromError(err: unknown): FailureDetails {
  if (err instanceof Error) {
    return {
      ErrorType: err.name || 'Error',
      ErrorMessage: err.message,
      StackTrace: err.stack ?? '',
      IsNonRetriable: false,
    };
  }
  return { ErrorType: 'Error', ErrorMessage: String(err), StackTrace: '', IsNonRetriable: false };
}
