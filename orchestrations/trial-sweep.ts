import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import {
  AUTOML_JOB_ORCHESTRATION,
  COMMAND_JOB_ORCHESTRATION,
  JOB_CANCEL_EVENT,
  TRIALS_CANCEL_ACTIVITY,
  TRIALS_EVALUATE_ACTIVITY,
  TRIALS_FINALIZE_ACTIVITY,
  TRIALS_PROPOSE_ACTIVITY,
  TRIAL_SWEEP_ORCHESTRATION,
  commandJobInputSchema,
  jobFinalizeResultSchema,
  trialsEvaluateResultSchema,
  trialsProposeResultSchema,
} from '../shared/contracts/job.js';
import type { JobStatus } from '../shared/contracts/job.js';
import { registerOrchestration } from '../shared/function-catalog.js';

export { AUTOML_JOB_ORCHESTRATION, TRIAL_SWEEP_ORCHESTRATION };

const ACTIVITY_RETRY = new df.RetryOptions(1000, 4);
ACTIVITY_RETRY.backoffCoefficient = 2;

/**
 * The trial engine (instance id `job:<workspace>:<name>`, like every job), for sweep jobs and AutoML
 * jobs alike: asks for a batch of trials, runs each as a `commandJob` sub-orchestration of its own
 * instance, waits for the batch, and asks again until the proposer is done. A cancel request
 * cancels the running trials and ends the job. When the job's timeout passes, the running trials
 * are canceled and the proposer is asked once more with `timedOut`: it offers only the closing
 * steps (AutoML's ensembles and explanation). The timeout never interrupts a closing round (the
 * plan's `closing`), also when the search ended on its own just before the timeout and the
 * timeout passes while the ensembles run. A sweep with
 * an early termination policy (the plan's `evaluateSeconds`) also wakes on a durable timer while
 * its trials run and has the policy evaluated: the trials it stops are canceled by that activity
 * and end like any canceled trial, so the batch still ends. Finally the best trial is recorded.
 */
export const trialSweepOrchestrator: OrchestrationHandler = function* (
  context: OrchestrationContext,
): Generator<Task, JobStatus, unknown> {
  const { workspace, name } = commandJobInputSchema.parse(context.df.getInput());
  const cancel = context.df.waitForExternalEvent(JOB_CANCEL_EVENT);
  let timeout: Task | undefined;
  let timedOut = false;
  let outcome: 'completed' | 'canceled' | 'timeout' = 'completed';

  for (let round = 0; ; round++) {
    const plan = trialsProposeResultSchema.parse(
      yield context.df.callActivityWithRetry(TRIALS_PROPOSE_ACTIVITY, ACTIVITY_RETRY, {
        workspace,
        name,
        round,
        ...(timedOut ? { timedOut } : {}),
      }),
    );
    if (timeout === undefined && plan.timeoutSeconds !== undefined) {
      timeout = context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + plan.timeoutSeconds * 1000));
    }
    if (plan.done) break;
    const batch = context.df.Task.all(
      plan.trials.map((trial) =>
        context.df.callSubOrchestrator(
          COMMAND_JOB_ORCHESTRATION,
          { workspace, name: trial },
          `job:${workspace}:${trial}`,
        ),
      ),
    );
    // The timeout interrupts the search, never a closing round, even one started just before it.
    const waitingOn =
      timeout === undefined || timedOut || plan.closing === true ? [batch, cancel] : [batch, cancel, timeout];
    let winner: unknown;
    for (;;) {
      if (plan.evaluateSeconds === undefined) {
        winner = yield context.df.Task.any(waitingOn);
        break;
      }
      const tick = context.df.createTimer(
        new Date(context.df.currentUtcDateTime.getTime() + plan.evaluateSeconds * 1000),
      );
      winner = yield context.df.Task.any([...waitingOn, tick]);
      if (winner !== tick) {
        tick.cancel();
        break;
      }
      trialsEvaluateResultSchema.parse(
        yield context.df.callActivityWithRetry(TRIALS_EVALUATE_ACTIVITY, ACTIVITY_RETRY, {
          workspace,
          name,
          trials: plan.trials,
        }),
      );
    }
    if (winner === batch) continue;
    const canceled = winner === cancel;
    yield context.df.callActivityWithRetry(TRIALS_CANCEL_ACTIVITY, ACTIVITY_RETRY, {
      workspace,
      name,
      trials: plan.trials,
      reason: canceled ? `the job ${name} was canceled` : `the job ${name} reached its timeout`,
    });
    yield batch; // the trials end Canceled (or finish first)
    if (canceled) {
      outcome = 'canceled';
      break;
    }
    outcome = 'timeout';
    timedOut = true;
  }
  return jobFinalizeResultSchema.parse(
    yield context.df.callActivityWithRetry(TRIALS_FINALIZE_ACTIVITY, ACTIVITY_RETRY, { workspace, name, outcome }),
  ).status;
};

registerOrchestration(TRIAL_SWEEP_ORCHESTRATION, trialSweepOrchestrator);
registerOrchestration(AUTOML_JOB_ORCHESTRATION, trialSweepOrchestrator);
