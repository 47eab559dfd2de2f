// Replaying an orchestrator against a recorded history through the real durable-functions executor,
// for the orchestration unit tests: the library's own testing utilities, a history event builder and
// the trigger the Functions host would give.
import type { InvocationContext } from '@azure/functions';
import type { OrchestrationHandler } from 'durable-functions';
import { createRequire } from 'node:module';

export interface OrchestratorState {
  isDone: boolean;
  actions: { actionType: number; functionName?: string; input?: unknown }[][];
  output?: unknown;
}

type Listener = (trigger: unknown, context: InvocationContext) => Promise<OrchestratorState>;

// Not part of the typed public surface, but shipped by the library for exactly this purpose.
const require = createRequire(import.meta.url);
export const testing = require('durable-functions/lib/src/util/testingUtils.js') as {
  createOrchestrator(fn: OrchestrationHandler): Listener;
  DummyOrchestrationContext: new (name?: string, id?: string, log?: () => void) => InvocationContext;
};

/** A history event of `type` (the library's HistoryEventType numbers) at `timestamp`. */
export function historyEvent(type: number, timestamp: string, extra: Record<string, unknown> = {}) {
  return { EventType: type, EventId: -1, IsPlayed: false, Timestamp: timestamp, ...extra };
}

/** The orchestration trigger of one episode: the history so far, the input and the instance id. */
export function orchestrationTrigger(history: unknown[], input: unknown, instanceId: string) {
  return {
    history,
    input,
    instanceId,
    isReplaying: false,
    parentInstanceId: '',
    upperSchemaVersion: 2,
    upperSchemaVersionNew: 3,
    longRunningTimerIntervalDuration: '3.00:00:00',
    maximumShortTimerDuration: '6.00:00:00',
    defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
  };
}
