import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import {
  JOB_CANCEL_EVENT,
  JOB_EVENTS_QUEUE,
  JOB_FINISHED_EVENT,
  jobEventMessageSchema,
} from '../shared/contracts/job.js';
import { registerQueue } from '../shared/function-catalog.js';
import { jobInstanceId } from '../shared/services/job-service.js';
import { getServices } from '../shared/wiring.js';

export const JOB_EVENTS_QUEUE_TRIGGER = 'job-events-queue';

/**
 * The trainer's reports: progress moves the job's status forward (Preparing, Running, Finalizing);
 * completion is raised as the JobFinished event of the job's orchestration, which finalizes it.
 * A cancel request (a sweep stopping its trials) is raised as the job's cancel event.
 * A malformed message is logged and dropped (a retry cannot fix it).
 */
export async function jobEventsQueue(message: unknown, context: InvocationContext): Promise<void> {
  let body: unknown = message;
  if (typeof message === 'string') {
    try {
      body = JSON.parse(message);
    } catch {
      body = message; // not JSON: the schema check below reports it
    }
  }
  const parsed = jobEventMessageSchema.safeParse(body);
  if (!parsed.success) {
    context.error(`job-events: dropped a malformed message: ${parsed.error.message}`);
    return;
  }
  const event = parsed.data;
  if (event.kind === 'progress') {
    await (await getServices()).jobs.applyProgress(event);
    return;
  }
  const client = df.getClient(context);
  const instanceId = jobInstanceId(event.workspace, event.job);
  if (event.kind === 'cancel') {
    // A sweep cancels its trials: as the cancel route does.
    const job = await (await getServices()).jobs.requestCancel(event.workspace, event.job);
    if (['Completed', 'Failed', 'Canceled'].includes(job.status)) return;
    await client.raiseEvent(instanceId, JOB_CANCEL_EVENT, { reason: event.reason }).catch((err: unknown) => {
      context.warn(
        `job-events: cancel of ${event.job} not delivered: ${err instanceof Error ? err.message : String(err)}`,
      );
    });
    return;
  }
  const status = await client.getStatus(instanceId).catch(() => undefined);
  if (status?.runtimeStatus === undefined) {
    context.warn(`job-events: job ${event.job} has no orchestration; its report was dropped`);
    return;
  }
  if (!['Running', 'Pending', 'Suspended'].includes(String(status.runtimeStatus))) return; // already over
  await client.raiseEvent(instanceId, JOB_FINISHED_EVENT, event);
}

registerQueue(JOB_EVENTS_QUEUE_TRIGGER, {
  queueName: JOB_EVENTS_QUEUE,
  extraInputs: [df.input.durableClient()],
  handler: jobEventsQueue,
});
