/**
 * Where jobs run. A compute starts the trainer (`trainer/`, the compute-side program) for one
 * attempt of one job; the trainer reads the job's execution plan, runs it and reports progress and
 * completion through the job-events queue. The compute itself only starts, watches and stops.
 *
 * Embedded: child processes of the host (`process-compute`), at most `maxInstances` at a time per
 * compute target, the rest waiting in order. Azure: Container Apps job executions
 * (`container-apps-compute`).
 */

export interface ComputeTarget {
  /** The compute's name in the workspace ('local' when the job names none). */
  name: string;
  /** The compute spec's `type`: local, amlcompute, ... */
  type: string;
  /** How many trainers of this compute may run at once. */
  maxInstances: number;
  /** VM size / workload profile asked for, when the compute names one. */
  size?: string;
  /** Whether the size asks for a GPU. */
  gpu?: boolean;
}

export interface TrainerLaunch {
  workspace: string;
  job: string;
  attempt: number;
  target: ComputeTarget;
}

export type ExecutionState =
  /** Waiting for a free instance of its compute. */
  | 'queued'
  /** The trainer is (or may still be) running. */
  | 'running'
  /** The trainer ended; it reports its outcome through the queue itself. */
  | 'ended'
  /** The compute knows nothing of it, or the trainer died without a chance to report. */
  | 'lost';

export interface ExecutionStatus {
  state: ExecutionState;
  /** Why, in words, for 'lost'. */
  detail?: string;
}

export interface Compute {
  readonly kind: string;
  /** Starts the trainer, or queues it behind the compute's running instances. Returns the execution id. */
  submit(launch: TrainerLaunch): Promise<string>;
  status(executionId: string): Promise<ExecutionStatus>;
  /** Stops the trainer (and the user's command) if it runs, or drops it from the queue; idempotent. */
  stop(executionId: string): Promise<void>;
  close(): Promise<void>;
}
