// The deployment provisioning orchestrator replayed against recorded histories through the real
// durable-functions executor (as housekeeping-orchestration.test.ts does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEPLOYMENT_PROVISION_ORCHESTRATION,
  deploymentProvisionOrchestrator,
} from '../../orchestrations/deployment-provision.js';
import { DEPLOYMENT_PROVISION_ACTIVITY } from '../../shared/contracts/endpoint.js';
import { historyEvent, orchestrationTrigger, testing } from '../support/orchestrator-replay.js';

const STARTED = '2026-01-01T10:00:00.000Z';
const INPUT = { workspace: 'default', endpoint: 'my-endpoint', deployment: 'blue', generation: 2 };
const event = (type: number, extra: Record<string, unknown> = {}) => historyEvent(type, STARTED, extra);

const trigger = (history: unknown[]) => orchestrationTrigger(history, INPUT, 'deployment:default:my-endpoint:blue:2');

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
