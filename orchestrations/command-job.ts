import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import {
  COMMAND_JOB_ORCHESTRATION,
  JOB_CANCEL_EVENT,
  JOB_FINALIZE_ACTIVITY,
  JOB_FINISHED_EVENT,
  JOB_START_ACTIVITY,
  JOB_STOP_ACTIVITY,
  MAX_JOB_ATTEMPTS,
  commandJobInputSchema,
  jobFinalizeResultSchema,
  jobFinishedMessageSchema,
  jobStartResultSchema,
} from '../shared/contracts/job.js';
import type { JobFinalizeInput, JobStatus } from '../shared/contracts/job.js';
import { registerOrchestration } from '../shared/function-catalog.js';

export { COMMAND_JOB_ORCHESTRATION };

/** Activities touch stores and computes: retried on faults, a few times, with backoff. */
const ACTIVITY_RETRY = new df.RetryOptions(1000, 4);
ACTIVITY_RETRY.backoffCoefficient = 2;

/**
 * One command job (instance id `job:<workspace>:<name>`): start an attempt on the compute, then
 * wait for the trainer's JobFinished event, raced against the job's timeout and a cancel request.
 * An attempt the infrastructure failed (a lost trainer, a compute that would not start) is tried
 * again, up to MAX_JOB_ATTEMPTS; a command that failed is never retried. Events of an earlier
 * attempt are ignored. Finally the job is finalized: outputs registered, status stored.
 */
export const commandJobOrchestrator: OrchestrationHandler = function* (
  context: OrchestrationContext,
): Generator<Task, JobStatus, unknown> {
  const { workspace, name } = commandJobInputSchema.parse(context.df.getInput());
  const cancel = context.df.waitForExternalEvent(JOB_CANCEL_EVENT);
  let timeout: Task | undefined;
  let ending: Omit<JobFinalizeInput, 'workspace' | 'name'> | undefined;

  for (let attempt = 1; ending === undefined; attempt++) {
    let started = jobStartResultSchema.parse(
      yield context.df.callActivityWithRetry(JOB_START_ACTIVITY, ACTIVITY_RETRY, { workspace, name, attempt }),
    );
    while (started.state === 'waiting') {
      // The compute is full: wait for a free instance (the job stays Queued).
      const retryAt = context.df.currentUtcDateTime.getTime() + started.retryAfterSeconds * 1000;
      yield context.df.createTimer(new Date(retryAt));
      started = jobStartResultSchema.parse(
        yield context.df.callActivityWithRetry(JOB_START_ACTIVITY, ACTIVITY_RETRY, { workspace, name, attempt }),
      );
    }
    if (started.state === 'ended') {
      return jobFinalizeResultSchema.parse(
        yield context.df.callActivityWithRetry(JOB_FINALIZE_ACTIVITY, ACTIVITY_RETRY, {
          workspace,
          name,
          attempt,
          outcome: 'canceled',
        }),
      ).status;
    }
    if (timeout === undefined && started.timeoutSeconds !== undefined) {
      const deadline = new Date(context.df.currentUtcDateTime.getTime() + started.timeoutSeconds * 1000);
      timeout = context.df.createTimer(deadline);
    }
    const stop = (): Task =>
      context.df.callActivityWithRetry(JOB_STOP_ACTIVITY, ACTIVITY_RETRY, {
        workspace,
        name,
        attempt,
        executionId: started.executionId,
      });

    for (;;) {
      const finished = context.df.waitForExternalEvent(JOB_FINISHED_EVENT);
      const winner = yield context.df.Task.any(
        timeout === undefined ? [finished, cancel] : [finished, cancel, timeout],
      );
      if (winner === cancel) {
        yield stop();
        ending = { attempt, outcome: 'canceled' };
        break;
      }
      if (winner === timeout) {
        yield stop();
        ending = { attempt, outcome: 'timeout' };
        break;
      }
      const event = jobFinishedMessageSchema.safeParse(finished.result);
      if (!event.success || event.data.attempt !== attempt) continue; // a report of an earlier attempt
      const { outcome, exitCode, reason } = event.data;
      if (outcome === 'infrastructure' && attempt < MAX_JOB_ATTEMPTS) {
        if (!context.df.isReplaying) {
          context.log(`job ${name}: attempt ${attempt} failed in the infrastructure (${reason ?? ''}); retrying`);
        }
        break; // next attempt
      }
      ending = {
        attempt,
        outcome,
        ...(exitCode === undefined ? {} : { exitCode }),
        ...(reason === undefined ? {} : { reason }),
      };
      break;
    }
  }
  return jobFinalizeResultSchema.parse(
    yield context.df.callActivityWithRetry(JOB_FINALIZE_ACTIVITY, ACTIVITY_RETRY, { workspace, name, ...ending }),
  ).status;
};

registerOrchestration(COMMAND_JOB_ORCHESTRATION, commandJobOrchestrator);
