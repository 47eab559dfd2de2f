// The deployment provisioning orchestrator replayed against recorded histories through the real
// durable-functions executor (as housekeeping-orchestration.test.ts does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { InvocationContext } from '@azure/functions';
import type { OrchestrationHandler } from 'durable-functions';
import {
  DEPLOYMENT_PROVISION_ORCHESTRATION,
  deploymentProvisionOrchestrator,
} from '../../orchestrations/deployment-provision.js';
import { DEPLOYMENT_PROVISION_ACTIVITY } from '../../shared/contracts/endpoint.js';

interface OrchestratorState {
  isDone: boolean;
  actions: { actionType: number; functionName?: string; input?: unknown }[][];
  output?: unknown;
}

type Listener = (trigger: unknown, context: InvocationContext) => Promise<OrchestratorState>;

// Not part of the typed public surface, but shipped by the library for exactly this purpose.
const require = createRequire(import.meta.url);
const testing = require('durable-functions/lib/src/util/testingUtils.js') as {
  createOrchestrator(fn: OrchestrationHandler): Listener;
  DummyOrchestrationContext: new (name?: string, id?: string, log?: () => void) => InvocationContext;
};

const STARTED = '2026-01-01T10:00:00.000Z';
const INPUT = { workspace: 'default', endpoint: 'my-endpoint', deployment: 'blue', generation: 2 };
const event = (type: number, extra: Record<string, unknown> = {}) => ({
  EventType: type,
  EventId: -1,
  IsPlayed: false,
  Timestamp: STARTED,
  ...extra,
});

function trigger(history: unknown[]) {
  return {
    history,
    input: INPUT,
    instanceId: 'deployment:default:my-endpoint:blue:2',
    isReplaying: false,
    parentInstanceId: '',
    upperSchemaVersion: 2,
    upperSchemaVersionNew: 3,
    longRunningTimerIntervalDuration: '3.00:00:00',
    maximumShortTimerDuration: '6.00:00:00',
    defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
  };
}

const run = testing.createOrchestrator(deploymentProvisionOrchestrator);
const context = () => new testing.DummyOrchestrationContext(DEPLOYMENT_PROVISION_ORCHESTRATION, 'inv', () => {});
const firstEpisode = [event(12), event(0, { Name: DEPLOYMENT_PROVISION_ORCHESTRATION, Input: JSON.stringify(INPUT) })];

test('schedules the provisioning activity with retries, for the generation it was started for', async () => {
  const state = await run(trigger(firstEpisode), context());
  assert.equal(state.isDone, false);
  const [[action]] = JSON.parse(JSON.stringify(state.actions)) as [[Record<string, unknown>]];
  assert.equal(action['functionName'], DEPLOYMENT_PROVISION_ACTIVITY);
  assert.deepEqual(action['input'], INPUT);
  assert.ok(action['retryOptions'] !== undefined, 'the activity is retried on platform faults');
});

test('completes with the state the activity stored', async () => {
  const state = await run(
    trigger([
      ...firstEpisode.map((e) => ({ ...e, IsPlayed: true })),
      event(13),
      event(4, { EventId: 0, Name: DEPLOYMENT_PROVISION_ACTIVITY }),
      event(12),
      event(5, { TaskScheduledId: 0, Result: JSON.stringify({ state: 'Failed' }) }),
    ]),
    context(),
  );
  assert.equal(state.isDone, true);
  assert.deepEqual(state.output, { state: 'Failed' });
});
