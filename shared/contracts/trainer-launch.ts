import { z } from 'zod';

/**
 * How a compute tells the trainer (`node dist/trainer/main.js`) which attempt of which job to run:
 * environment variables set on the trainer's process or container, next to the same store settings
 * as the host (TESSERA_STORE, COSMOS_*, BLOB_*, SERVICEBUS_*, KEY_VAULT_URL). Every compute adapter
 * sets them with `trainerLaunchEnv`, so the trainer reads one format wherever it runs.
 */

export const TRAINER_ENV = {
  workspace: 'TESSERA_JOB_WORKSPACE',
  job: 'TESSERA_JOB_NAME',
  attempt: 'TESSERA_JOB_ATTEMPT',
  /** JSON of `TrainerExecutionHint`: where the trainer runs and what the compute could not honour. */
  executionHint: 'TESSERA_JOB_EXECUTION_HINT',
} as const;

/** The trainer's launch variables, as a list (config accepts them as known TESSERA_* keys). */
export const TRAINER_ENV_KEYS: readonly string[] = Object.values(TRAINER_ENV);

/**
 * What the compute knows that the trainer may want: which compute kind and target started it, the
 * resources it asked for, and notices for the user (for example, a VM size the compute could not
 * map). The trainer may pass `notices` on in its first progress report; nothing depends on it.
 */
export const trainerExecutionHintSchema = z.object({
  /** The compute adapter's kind, e.g. 'container-apps'. */
  compute: z.string(),
  /** The compute target's name in the workspace. */
  target: z.string(),
  /** Where it runs, e.g. the Container Apps job's name. */
  runner: z.string().optional(),
  resources: z.object({ cpu: z.number(), memory: z.string() }).optional(),
  notices: z.array(z.string()).optional(),
});
export type TrainerExecutionHint = z.output<typeof trainerExecutionHintSchema>;

/** The launch variables for one attempt of one job. */
export function trainerLaunchEnv(
  launch: { workspace: string; job: string; attempt: number },
  hint?: TrainerExecutionHint,
): Record<string, string> {
  return {
    [TRAINER_ENV.workspace]: launch.workspace,
    [TRAINER_ENV.job]: launch.job,
    [TRAINER_ENV.attempt]: String(launch.attempt),
    ...(hint === undefined ? {} : { [TRAINER_ENV.executionHint]: JSON.stringify(hint) }),
  };
}

/** Reads a hint back (from a listed execution's environment); undefined when absent or not a hint. */
export function parseTrainerExecutionHint(value: string | undefined): TrainerExecutionHint | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed = trainerExecutionHintSchema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
