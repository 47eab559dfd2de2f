import type { InvocationContext, Timer } from '@azure/functions';
import * as df from 'durable-functions';
import { orchestrationOf } from '../shared/contracts/job.js';
import { registerTimer } from '../shared/function-catalog.js';
import { jobInstanceId } from '../shared/services/job-service.js';
import { getServices } from '../shared/wiring.js';

export const JOB_WATCHDOG_TIMER = 'job-watchdog-timer';
/** Every 15 seconds, and once when the host starts. */
export const JOB_WATCHDOG_SCHEDULE = '*/15 * * * * *';

/**
 * Keeps every job moving: an attempt whose trainer is gone without reporting gets the report it
 * would have sent (an infrastructure failure, which the orchestration retries or fails with the
 * reason), and a Queued job that no orchestration took (the host stopped between storing it and
 * starting its orchestration) is started.
 */
export async function jobWatchdogTimer(_timer: Timer, context: InvocationContext): Promise<void> {
  const { jobs } = await getServices();
  const report = await jobs.watch();
  await jobs.reportLost(report.lost);
  for (const lost of report.lost) context.warn(`job ${lost.job}: attempt ${lost.attempt} lost (${lost.reason ?? ''})`);
  if (report.orphans.length === 0) return;
  const client = df.getClient(context);
  for (const { workspace, name, type } of report.orphans) {
    const instanceId = jobInstanceId(workspace, name);
    const existing = await client.getStatus(instanceId).catch(() => undefined);
    if (existing?.runtimeStatus !== undefined) continue;
    const orchestration = orchestrationOf(type);
    await client.startNew(orchestration, { instanceId, input: { workspace, name } });
    context.log(`job ${name}: started its orchestration, which had not started`);
  }
}

registerTimer(JOB_WATCHDOG_TIMER, {
  schedule: JOB_WATCHDOG_SCHEDULE,
  runOnStartup: true,
  extraInputs: [df.input.durableClient()],
  handler: jobWatchdogTimer,
});
