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
 * The trainer process, started by a compute with the platform's settings, so it reaches the same
 * stores as the host. Either it is given one attempt of one job in its environment
 * (TESSERA_JOB_WORKSPACE, TESSERA_JOB_NAME, TESSERA_JOB_ATTEMPT: Container Apps, or the embedded
 * compute starting it cold), or it is a worker of the embedded compute: started with an IPC
 * channel, it loads the platform once and runs the assignments it is sent, one after another.
 * For each attempt it reports the outcome through the job-events queue and then writes the
 * attempt's exit file: an attempt whose trainer is gone without one died unreported.
 */
const assignmentMessageSchema = z.object({
  workspace: z.string(),
  job: z.string(),
  attempt: z.number().int().positive(),
  exitFile: z.string().optional(),
  workDir: z.string().optional(),
});

const log = (line: string): void => void process.stdout.write(`${new Date().toISOString()} ${line}\n`);

/** Runs one attempt and reports it; never throws for the job's own faults. */
async function runOne(task: TrainerAssignmentConfig): Promise<void> {
  const services = await getServices();
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
  log(
    `[trainer ${task.job}#${task.attempt}] reported ${outcome.outcome}${outcome.reason === undefined ? '' : `: ${outcome.reason}`}`,
  );
  if (task.exitFile !== undefined) writeFileSync(task.exitFile, JSON.stringify({ reported: outcome.outcome }));
}

/**
 * A worker: assignments arrive over IPC (listened for from the first moment, so none is missed
 * while the platform loads) and run one at a time; after each it tells the compute it is idle.
 * Without its host (the channel closed) an idle worker leaves, a busy one finishes first.
 */
async function work(): Promise<void> {
  const pending: unknown[] = [];
  let wake: (() => void) | undefined;
  let busy = false;
  process.on('message', (message: unknown) => {
    pending.push(message);
    wake?.();
  });
  process.on('disconnect', () => {
    if (!busy) process.exit(0);
  });
  // IPC errors (the host went away) must not kill a worker in the middle of a job.
  process.on('error', () => undefined);
  await getServices();
  for (;;) {
    if (pending.length === 0) {
      if (!process.connected) return;
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
      continue;
    }
    const parsed = assignmentMessageSchema.safeParse(pending.shift());
    if (!parsed.success) {
      log(`worker: ignored a bad assignment message: ${parsed.error.message}`);
      continue;
    }
    busy = true;
    await runOne(parsed.data as TrainerAssignmentConfig);
    busy = false;
    if (!process.connected) return;
    try {
      process.send?.({ idle: true });
    } catch {
      return;
    }
  }
}

async function main(): Promise<number> {
  if (!hasTrainerAssignment() && process.send !== undefined) await work();
  else await runOne(loadTrainerAssignment());
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
