// The housekeeping orchestrator replayed against recorded histories through the real
// durable-functions executor (the same code path the Functions host and the local engine use).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { housekeepingOrchestrator, HOUSEKEEPING_ORCHESTRATION } from '../../orchestrations/housekeeping.js';
import {
  DELETE_EXPIRED_TOKENS_ACTIVITY,
  DELETE_EXPIRED_UPLOAD_SESSIONS_ACTIVITY,
} from '../../shared/contracts/housekeeping.js';
import { historyEvent, orchestrationTrigger, testing } from '../support/orchestrator-replay.js';

const STARTED = '2025-01-01T10:00:00.000Z';
const event = (type: number, extra: Record<string, unknown> = {}, timestamp = STARTED) =>
  historyEvent(type, timestamp, extra);

const trigger = (history: unknown[]) => orchestrationTrigger(history, null, 'housekeeping-2025-01-01T10');

const run = testing.createOrchestrator(housekeepingOrchestrator);
const context = () => new testing.DummyOrchestrationContext(HOUSEKEEPING_ORCHESTRATION, 'inv', () => {});

const firstEpisode = [event(12), event(0, { Name: HOUSEKEEPING_ORCHESTRATION, Input: null })];
const scheduled = [
  ...firstEpisode.map((e) => ({ ...e, IsPlayed: true })),
  event(13),
  event(4, { EventId: 0, Name: DELETE_EXPIRED_TOKENS_ACTIVITY }),
  event(4, { EventId: 1, Name: DELETE_EXPIRED_UPLOAD_SESSIONS_ACTIVITY }),
  event(12, {}, '2025-01-01T10:00:02.000Z'),
];

test('first episode schedules both activities in parallel with the replay-safe cut-off', async () => {
  const state = await run(trigger(firstEpisode), context());
  assert.equal(state.isDone, false);
  const nowMs = Date.parse(STARTED);
  // Compared as the JSON the host receives (the library returns class instances).
  assert.deepEqual(JSON.parse(JSON.stringify(state.actions)), [
    [
      {
        actionType: 12,
        compoundActions: [
          { actionType: 0, functionName: DELETE_EXPIRED_TOKENS_ACTIVITY, input: { nowMs } },
          { actionType: 0, functionName: DELETE_EXPIRED_UPLOAD_SESSIONS_ACTIVITY, input: { nowMs } },
        ],
      },
    ],
  ]);
});

test('replay with both results completes with the counts', async () => {
  const state = await run(
    trigger([
      ...scheduled,
      event(5, { TaskScheduledId: 1, Result: '5' }),
      event(5, { TaskScheduledId: 0, Result: '3' }),
    ]),
    context(),
  );
  assert.equal(state.isDone, true);
  assert.deepEqual(state.output, { tokens: 3, uploadSessions: 5 });
});

test('replay with one result still waits for the other', async () => {
  const state = await run(trigger([...scheduled, event(5, { TaskScheduledId: 0, Result: '3' })]), context());
  assert.equal(state.isDone, false);
});

test('an activity failure fails the orchestration', async () => {
  await assert.rejects(
    run(
      trigger([
        ...scheduled,
        event(6, { TaskScheduledId: 0, Reason: 'store offline', Details: 'store offline' }),
        event(5, { TaskScheduledId: 1, Result: '0' }),
      ]),
      context(),
    ),
    /store offline/,
  );
});
