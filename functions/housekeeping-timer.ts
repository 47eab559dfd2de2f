import type { InvocationContext, Timer } from '@azure/functions';
import * as df from 'durable-functions';
import { OrchestrationRuntimeStatus } from 'durable-functions';
import { HOUSEKEEPING_ORCHESTRATION } from '../shared/contracts/housekeeping.js';
import { registerTimer } from '../shared/function-catalog.js';
import { getServices } from '../shared/wiring.js';

export const HOUSEKEEPING_TIMER = 'housekeeping-timer';
/** Every hour, on the hour (six-field NCRONTAB). */
export const HOUSEKEEPING_SCHEDULE = '0 0 * * * *';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Starts the housekeeping orchestration (instance id per hour, so a re-fired timer does not start a
 * second run) and purges the durable history of finished instances older than the retention.
 */
export async function housekeepingTimer(_timer: Timer, context: InvocationContext): Promise<void> {
  const { clock, config } = await getServices();
  const client = df.getClient(context);
  const now = clock.now();
  const instanceId = `${HOUSEKEEPING_ORCHESTRATION}-${new Date(now).toISOString().slice(0, 13)}`;
  const existing = await client.getStatus(instanceId).catch(() => undefined);
  if (existing === undefined || existing.runtimeStatus === undefined) {
    await client.startNew(HOUSEKEEPING_ORCHESTRATION, { instanceId });
    context.log(`started ${HOUSEKEEPING_ORCHESTRATION} instance ${instanceId}`);
  } else {
    context.log(`${HOUSEKEEPING_ORCHESTRATION} instance ${instanceId} already exists (${existing.runtimeStatus})`);
  }
  const purged = await client.purgeInstanceHistoryBy({
    createdTimeFrom: new Date(0),
    createdTimeTo: new Date(now - config.durableHistoryRetentionDays * DAY_MS),
    runtimeStatus: [
      OrchestrationRuntimeStatus.Completed,
      OrchestrationRuntimeStatus.Failed,
      OrchestrationRuntimeStatus.Terminated,
    ],
  });
  context.log(
    `purged the history of ${purged.instancesDeleted} instance(s) older than ${config.durableHistoryRetentionDays} days`,
  );
}

registerTimer(HOUSEKEEPING_TIMER, {
  schedule: HOUSEKEEPING_SCHEDULE,
  extraInputs: [df.input.durableClient()],
  handler: housekeepingTimer,
});
