import type { JobStatus, TrialsEvaluateResult, TrialsProposeResult } from '../../shared/contracts/job.js';

/**
 * Scripted stand-ins for the trial engine's activities (trials-propose, trials-cancel,
 * trials-evaluate, trials-finalize), shared by the fixture app (test/fixtures/command-job-app) and the test that
 * drives it, as command-job-fakes.ts is for the command job's.
 */

export interface ProposeCall {
  name: string;
  round: number;
  timedOut: boolean;
}

export const trialEngineFakes = {
  /** parent → its proposals: round and timedOut in, the plan out. */
  scripts: new Map<string, (round: number, timedOut: boolean) => TrialsProposeResult>(),
  proposals: [] as ProposeCall[],
  cancels: [] as { name: string; trials: string[]; reason: string }[],
  /** parent → the trials its policy stops at its n-th evaluation (1-based), given the running ones. */
  stops: new Map<string, (evaluation: number, trials: string[]) => string[]>(),
  evaluations: [] as { name: string; trials: string[] }[],
  finals: [] as { name: string; outcome: string }[],
};

export function fakePropose(input: { name: string; round: number; timedOut?: boolean }): TrialsProposeResult {
  const timedOut = input.timedOut ?? false;
  trialEngineFakes.proposals.push({ name: input.name, round: input.round, timedOut });
  const script = trialEngineFakes.scripts.get(input.name);
  return script === undefined ? { trials: [], done: true } : script(input.round, timedOut);
}

export function fakeCancel(input: { name: string; trials: string[]; reason: string }): null {
  trialEngineFakes.cancels.push({ name: input.name, trials: input.trials, reason: input.reason });
  return null;
}

export function fakeTrialsFinalize(input: { name: string; outcome: string }): { status: JobStatus } {
  trialEngineFakes.finals.push({ name: input.name, outcome: input.outcome });
  return { status: input.outcome === 'canceled' ? 'Canceled' : input.outcome === 'timeout' ? 'Failed' : 'Completed' };
}

export function fakeEvaluate(input: { name: string; trials: string[] }): TrialsEvaluateResult {
  trialEngineFakes.evaluations.push({ name: input.name, trials: input.trials });
  const n = trialEngineFakes.evaluations.filter((e) => e.name === input.name).length;
  const stopped = trialEngineFakes.stops.get(input.name)?.(n, input.trials) ?? [];
  if (stopped.length > 0) {
    trialEngineFakes.cancels.push({
      name: input.name,
      trials: stopped,
      reason: `stopped by the policy at evaluation ${n}`,
    });
  }
  return { stopped };
}
