import type {
  JobFinalizeInput,
  JobStartInput,
  JobStartResult,
  JobStatus,
  JobStopInput,
} from '../../shared/contracts/job.js';

/**
 * Scripted stand-ins for the command job's activities, shared by the fixture app
 * (test/fixtures/command-job-app, which registers them) and the test that drives it: both import
 * this module, so in one process they see the same object. It registers nothing itself.
 */

export type FakeActivityCall =
  | { activity: 'start'; input: JobStartInput }
  | { activity: 'stop'; input: JobStopInput }
  | { activity: 'finalize'; input: JobFinalizeInput };

export interface CommandJobFakes {
  /** Every activity call, in the order the activities ran. */
  calls: FakeActivityCall[];
  /** The results of successive start calls of a job; the last one repeats. Default: started. */
  startResults: Map<string, JobStartResult[]>;
  callsOf(job: string): FakeActivityCall[];
}

const STATUS_OF: Record<JobFinalizeInput['outcome'], JobStatus> = {
  succeeded: 'Completed',
  failed: 'Failed',
  infrastructure: 'Failed',
  timeout: 'Failed',
  canceled: 'Canceled',
};

export const commandJobFakes: CommandJobFakes = {
  calls: [],
  startResults: new Map(),
  callsOf(job) {
    return this.calls.filter((c) => c.input.name === job);
  },
};

export function fakeStart(input: JobStartInput): JobStartResult {
  const before = commandJobFakes.callsOf(input.name).filter((c) => c.activity === 'start').length;
  commandJobFakes.calls.push({ activity: 'start', input });
  const script = commandJobFakes.startResults.get(input.name) ?? [];
  return (
    script[Math.min(before, script.length - 1)] ?? {
      state: 'started',
      executionId: `${input.workspace}/${input.name}/${input.attempt}`,
    }
  );
}

export function fakeStop(input: JobStopInput): null {
  commandJobFakes.calls.push({ activity: 'stop', input });
  return null;
}

export function fakeFinalize(input: JobFinalizeInput): { status: JobStatus } {
  commandJobFakes.calls.push({ activity: 'finalize', input });
  return { status: STATUS_OF[input.outcome] };
}
