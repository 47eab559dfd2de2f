#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { hasTrainerAssignment, hostEnvironment, loadTrainerAssignment } from '../shared/config.js';
import type { TrainerAssignmentConfig } from '../shared/config.js';
import { JOB_EVENTS_QUEUE } from '../shared/contracts/job.js';
import type { JobFinishedMessage } from '../shared/contracts/job.js';
import { createDataAccess } from '../shared/services/data-access.js';
import { closeServices, getServices } from '../shared/wiring.js';
import { runAttempt } from './run-attempt.js';

/**
 * The trainer process: started by a compute for one attempt of one job (TESSERA_JOB_WORKSPACE,
 * TESSERA_JOB_NAME, TESSERA_JOB_ATTEMPT), with the platform's settings, so it reaches the same
 * stores as the host. It reports its outcome through the job-events queue and then, on the
 * embedded compute, writes its exit file: a trainer that is gone without one died unreported.
 */
const assignmentMessageSchema = z.object({
  workspace: z.string(),
  job: z.string(),
  attempt: z.number().int().positive(),
  exitFile: z.string().optional(),
  workDir: z.string().optional(),
});

/**
 * A spare trainer (started by the embedded compute with an IPC channel and no job): it loads the
 * platform first, then waits for its assignment; it leaves if the host goes away before one comes.
 */
async function awaitAssignment(send: NonNullable<typeof process.send>): Promise<TrainerAssignmentConfig> {
  await getServices();
  return new Promise((resolve, reject) => {
    process.once('disconnect', () => process.exit(0));
    process.once('message', (message: unknown) => {
      const parsed = assignmentMessageSchema.safeParse(message);
      process.removeAllListeners('disconnect');
      process.disconnect();
      if (parsed.success) resolve(parsed.data as TrainerAssignmentConfig);
      else reject(new Error(`bad assignment message: ${parsed.error.message}`));
    });
    send({ ready: true });
  });
}

async function main(): Promise<number> {
  const task =
    !hasTrainerAssignment() && process.send !== undefined
      ? await awaitAssignment(process.send.bind(process))
      : loadTrainerAssignment();
  const services = await getServices();
  const log = (line: string): void => void process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  let outcome: JobFinishedMessage;
  try {
    outcome = await runAttempt(
      {
        assignment: (ws, job, attempt) => services.jobs.assignment(ws, job, attempt),
        datastores: services.datastores,
        data: createDataAccess({ datastores: services.datastores }),
        queue: services.queue,
        clock: services.clock,
        env: hostEnvironment(),
        log,
      },
      task,
    );
  } catch (err) {
    log(`attempt failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    outcome = {
      kind: 'finished',
      workspace: task.workspace,
      job: task.job,
      attempt: task.attempt,
      outcome: 'infrastructure',
      reason: `The trainer failed: ${err instanceof Error ? err.message : String(err)}`,
      at: Date.now(),
    };
  }
  await services.queue.send(JOB_EVENTS_QUEUE, {
    body: outcome,
    messageId: `${task.workspace}-${task.job}-${task.attempt}-finished`,
  });
  log(`reported ${outcome.outcome}${outcome.reason === undefined ? '' : `: ${outcome.reason}`}`);
  if (task.exitFile !== undefined) writeFileSync(task.exitFile, JSON.stringify({ reported: outcome.outcome }));
  await closeServices();
  return 0;
}

let stopping = false;
process.on('SIGTERM', () => {
  // Stopped by the compute (cancel, timeout): the process group, the user's command included, is
  // being terminated; nothing is reported, the orchestration already knows.
  if (stopping) return;
  stopping = true;
  process.exit(143);
});

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`trainer: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
