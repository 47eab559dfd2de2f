// ProcessCompute with real child processes: a fake trainer entry script (written below) that takes
// its job from the environment or, as a spare, from the IPC assignment the way trainer/main.ts
// does, and behaves as its job name says: `hold` waits for a release file, `noexit` ends without
// its exit file, `child` starts a grandchild that ignores SIGTERM. It records what it did in a file.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ProcessCompute } from '../../shared/adapters/process-compute.js';
import type { ProcessComputeOptions } from '../../shared/adapters/process-compute.js';
import type { ComputeTarget, ExecutionState, ExecutionStatus } from '../../shared/ports/compute.js';
import { tempDir, waitFor } from '../support/fixture-app.js';

const FAKE_TRAINER = String.raw`
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const record = process.env.FAKE_RECORD;
const control = process.env.FAKE_CONTROL;
const note = (event, extra = {}) =>
  appendFileSync(record, JSON.stringify({ event, pid: process.pid, ...extra }) + '\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function runJob(task) {
  const flags = task.job.split('_');
  note('start', { job: task.job, attempt: task.attempt, mode: task.mode, exitFile: task.exitFile });
  if (flags.includes('child')) {
    const script =
      "process.on('SIGTERM', () => {});" +
      "require('node:fs').appendFileSync(process.argv[1], JSON.stringify({ event: 'child-ready', pid: process.pid }) + '\\n');" +
      'setInterval(() => {}, 1000);';
    spawn(process.execPath, ['-e', script, record], { stdio: 'ignore' });
  }
  if (flags.includes('hold')) while (!existsSync(join(control, 'release-' + task.job))) await sleep(20);
  note('end', { job: task.job, attempt: task.attempt });
  if (!flags.includes('noexit')) writeFileSync(task.exitFile, JSON.stringify({ reported: 'succeeded' }));
}

if (process.env.TESSERA_JOB_NAME) {
  await runJob({
    mode: 'env',
    workspace: process.env.TESSERA_JOB_WORKSPACE,
    job: process.env.TESSERA_JOB_NAME,
    attempt: Number(process.env.TESSERA_JOB_ATTEMPT),
    exitFile: process.env.TESSERA_TRAINER_EXIT_FILE,
  });
  process.exit(0);
}
// A worker, as trainer/main.ts: listen at once, load, then run assignments one after another.
const pending = [];
let wake;
let busy = false;
process.on('message', (m) => { pending.push(m); wake?.(); });
process.on('disconnect', () => { if (!busy) process.exit(0); });
note('spare-loading');
await sleep(Number(process.env.FAKE_SPARE_LOAD_MS ?? '0'));
note('spare-ready');
for (;;) {
  if (pending.length === 0) {
    if (!process.connected) process.exit(0);
    await new Promise((r) => (wake = r));
    continue;
  }
  busy = true;
  await runJob({ mode: 'spare', ...pending.shift() });
  busy = false;
  if (!process.connected) process.exit(0);
  process.send({ idle: true });
}
`;

interface Note {
  event: 'spare-loading' | 'spare-ready' | 'start' | 'end' | 'child-ready';
  pid: number;
  job?: string;
  attempt?: number;
  mode?: 'env' | 'spare';
  exitFile?: string;
}

const WS = 'ws';
const target = (name: string, maxInstances: number): ComputeTarget => ({ name, type: 'amlcompute', maxInstances });

/** Whether a process is gone; a zombie nobody reaps (orphans in a container) counts as gone. */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** Whether a process is gone and reaped (what ProcessCompute can see). */
function reaped(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

const recordFiles: string[] = [];
const openComputes = new Set<ProcessCompute>();

after(async () => {
  for (const c of openComputes) await c.close().catch(() => undefined);
  // Whatever a failed test left running: every process any fake trainer recorded.
  const allPids = recordFiles
    .filter((f) => existsSync(f))
    .flatMap((f) => readFileSync(f, 'utf8').split('\n'))
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as Note).pid);
  for (const pid of allPids) {
    for (const p of [-pid, pid]) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
});

function setup(options: { spare?: boolean; spareLoadMs?: number } = {}) {
  const dir = tempDir('process-compute');
  const record = join(dir, 'record.jsonl');
  recordFiles.push(record);
  const control = join(dir, 'control');
  mkdirSync(control);
  const trainerEntry = join(dir, 'fake-trainer.mjs');
  writeFileSync(trainerEntry, FAKE_TRAINER);
  const computeOptions: ProcessComputeOptions = {
    dataDir: join(dir, 'data'),
    trainerEntry,
    env: {
      ...process.env,
      FAKE_RECORD: record,
      FAKE_CONTROL: control,
      FAKE_SPARE_LOAD_MS: String(options.spareLoadMs ?? 0),
    },
    pollMs: 50,
    stopGraceMs: 300,
    spare: options.spare ?? false,
  };
  const notes = (): Note[] => {
    if (!existsSync(record)) return [];
    return readFileSync(record, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Note);
  };
  const started = (job: string): Note | undefined => notes().find((n) => n.event === 'start' && n.job === job);
  const startedJobs = (): string[] =>
    notes()
      .filter((n) => n.event === 'start')
      .map((n) => n.job ?? '?');
  return {
    dataDir: computeOptions.dataDir,
    open(): ProcessCompute {
      const c = ProcessCompute.open(computeOptions);
      openComputes.add(c);
      return c;
    },
    async close(c: ProcessCompute): Promise<void> {
      await c.close();
      openComputes.delete(c);
    },
    notes,
    startedJobs,
    release(job: string): void {
      writeFileSync(join(control, `release-${job}`), '');
    },
    waitStarted(job: string): Promise<Note> {
      return waitFor(`${job} to start`, () => Promise.resolve(started(job)));
    },
    async waitState(c: ProcessCompute, id: string, state: ExecutionState): Promise<ExecutionStatus> {
      return waitFor(`${id} to be ${state}`, async () => {
        const s = await c.status(id);
        return s.state === state ? s : undefined;
      });
    },
  };
}

/** The most trainers of each job-name prefix (`a1` → `a`) that ran at once, as the trainers recorded it. */
function peakConcurrency(notes: Note[]): Map<string, number> {
  const running = new Map<string, number>();
  const peak = new Map<string, number>();
  for (const n of notes) {
    if (n.event !== 'start' && n.event !== 'end') continue;
    const group = (n.job ?? '?').replace(/\d.*$/, '');
    const now = (running.get(group) ?? 0) + (n.event === 'start' ? 1 : -1);
    running.set(group, now);
    peak.set(group, Math.max(peak.get(group) ?? 0, now));
  }
  return peak;
}

describe('ProcessCompute (embedded trainer processes)', () => {
  it('runs at most max_instances per compute target, oldest first, each target on its own', async () => {
    const t = setup();
    const c = t.open();
    const a = target('cpu-a', 2);
    const b = target('cpu-b', 1);
    const ids = new Map<string, string>();
    for (const job of ['a1_hold', 'a2_hold', 'a3_hold', 'a4_hold', 'a5_hold']) {
      ids.set(job, await c.submit({ workspace: WS, job, attempt: 1, target: a }));
    }
    for (const job of ['b1_hold', 'b2_hold'])
      ids.set(job, await c.submit({ workspace: WS, job, attempt: 1, target: b }));
    const id = (job: string): string => ids.get(job) as string;
    const states = async (): Promise<Record<string, ExecutionState>> => {
      const out: Record<string, ExecutionState> = {};
      for (const [job, execution] of ids) out[job] = (await c.status(execution)).state;
      return out;
    };
    const runningOf = (s: Record<string, ExecutionState>, prefix: string): number =>
      Object.entries(s).filter(([job, state]) => job.startsWith(prefix) && state === 'running').length;
    /** Waits for a trainer to start, checking the compute's own view against the limits all along. */
    const waitStarted = async (job: string): Promise<void> => {
      await waitFor(`${job} to start (within limits)`, async () => {
        const s = await states();
        assert.ok(runningOf(s, 'a') <= 2, `cpu-a runs more than 2: ${JSON.stringify(s)}`);
        assert.ok(runningOf(s, 'b') <= 1, `cpu-b runs more than 1: ${JSON.stringify(s)}`);
        return t.notes().some((n) => n.event === 'start' && n.job === job) ? true : undefined;
      });
    };

    await waitStarted('a1_hold');
    await waitStarted('a2_hold');
    await waitStarted('b1_hold');
    assert.deepEqual(await states(), {
      a1_hold: 'running',
      a2_hold: 'running',
      a3_hold: 'queued',
      a4_hold: 'queued',
      a5_hold: 'queued',
      b1_hold: 'running',
      b2_hold: 'queued',
    });

    // cpu-b frees up: b2 starts, cpu-a is unaffected.
    t.release('b1_hold');
    await waitStarted('b2_hold');
    assert.equal((await c.status(id('b1_hold'))).state, 'ended');
    assert.deepEqual(
      [(await c.status(id('a3_hold'))).state, (await c.status(id('a4_hold'))).state],
      ['queued', 'queued'],
    );

    // One free instance of cpu-a: the oldest waiting job takes it, the next still waits.
    t.release('a2_hold');
    await waitStarted('a3_hold');
    assert.equal((await c.status(id('a2_hold'))).state, 'ended');
    assert.equal((await c.status(id('a4_hold'))).state, 'queued');
    t.release('a1_hold');
    await waitStarted('a4_hold');
    assert.equal((await c.status(id('a5_hold'))).state, 'queued');
    t.release('a3_hold');
    await waitStarted('a5_hold');
    for (const job of ['a4_hold', 'a5_hold', 'b2_hold']) t.release(job);
    for (const job of ids.keys()) await t.waitState(c, id(job), 'ended');

    const order = t.startedJobs();
    assert.deepEqual(
      order.filter((j) => j.startsWith('a')).slice(2),
      ['a3_hold', 'a4_hold', 'a5_hold'],
      `start order ${order.join(', ')}`,
    );
    assert.deepEqual(new Set(order.filter((j) => j.startsWith('a')).slice(0, 2)), new Set(['a1_hold', 'a2_hold']));
    assert.deepEqual(
      order.filter((j) => j.startsWith('b')),
      ['b1_hold', 'b2_hold'],
    );
    assert.deepEqual(
      peakConcurrency(t.notes()),
      new Map([
        ['a', 2],
        ['b', 1],
      ]),
    );
    await t.close(c);
  });

  it('reports queued, then running, then ended, and lost for an execution it never saw', async () => {
    const t = setup();
    const c = t.open();
    const one = target('single', 1);
    const first = await c.submit({ workspace: WS, job: 'first_hold', attempt: 1, target: one });
    const second = await c.submit({ workspace: WS, job: 'second_hold', attempt: 1, target: one });
    assert.equal(second, `${WS}/second_hold/1`);
    await t.waitStarted('first_hold');
    assert.deepEqual(await c.status(first), { state: 'running' });
    assert.deepEqual(await c.status(second), { state: 'queued' });
    t.release('first_hold');
    assert.deepEqual(await t.waitState(c, first, 'ended'), { state: 'ended' });
    await t.waitState(c, second, 'running');
    t.release('second_hold');
    await t.waitState(c, second, 'ended');
    const unknown = await c.status(`${WS}/never/1`);
    assert.equal(unknown.state, 'lost');
    assert.match(unknown.detail ?? '', /no record of execution ws\/never\/1/);
    await t.close(c);
  });

  it('calls a trainer killed with SIGKILL before writing its exit file lost, and says why', async () => {
    const t = setup();
    const c = t.open();
    const id = await c.submit({ workspace: WS, job: 'doomed_hold', attempt: 2, target: target('t', 2) });
    const trainer = await t.waitStarted('doomed_hold');
    process.kill(trainer.pid, 'SIGKILL');
    const status = await t.waitState(c, id, 'lost');
    assert.match(status.detail ?? '', /doomed_hold \(attempt 2, pid \d+\) was killed by SIGKILL without reporting/);
    await t.close(c);
  });

  it('calls a trainer that exits without its exit file lost', async () => {
    const t = setup();
    const c = t.open();
    const id = await c.submit({ workspace: WS, job: 'quiet_noexit', attempt: 1, target: target('t', 1) });
    const status = await t.waitState(c, id, 'lost');
    assert.match(status.detail ?? '', /exited with code 0 without reporting an outcome/);
    await t.close(c);
  });

  it('drops a stopped queued execution: it never starts, the next one does', async () => {
    const t = setup();
    const c = t.open();
    const one = target('single', 1);
    const s1 = await c.submit({ workspace: WS, job: 's1_hold', attempt: 1, target: one });
    const s2 = await c.submit({ workspace: WS, job: 's2_hold', attempt: 1, target: one });
    const s3 = await c.submit({ workspace: WS, job: 's3_hold', attempt: 1, target: one });
    await t.waitStarted('s1_hold');
    await c.stop(s2);
    assert.equal((await c.status(s2)).state, 'ended');
    await c.stop(s2); // idempotent
    t.release('s1_hold');
    await t.waitStarted('s3_hold');
    t.release('s3_hold');
    await t.waitState(c, s3, 'ended');
    assert.equal((await c.status(s1)).state, 'ended');
    assert.deepEqual(t.startedJobs(), ['s1_hold', 's3_hold']);
    await t.close(c);
  });

  it("stops a running trainer's whole process group, even a command that ignores SIGTERM", async () => {
    const t = setup();
    const c = t.open();
    const one = target('single', 1);
    const id = await c.submit({ workspace: WS, job: 'r1_hold_child', attempt: 1, target: one });
    const next = await c.submit({ workspace: WS, job: 'r2_hold', attempt: 1, target: one });
    const trainer = await t.waitStarted('r1_hold_child');
    const child = await waitFor('the command of r1 to start', () =>
      Promise.resolve(t.notes().find((n) => n.event === 'child-ready')),
    );
    await c.stop(id);
    assert.equal((await c.status(id)).state, 'ended');
    await waitFor('the trainer to be gone', () => Promise.resolve(gone(trainer.pid) || undefined));
    await waitFor('the command that ignores SIGTERM to be gone', () => Promise.resolve(gone(child.pid) || undefined));
    await c.stop(id); // idempotent
    await c.stop(`${WS}/unknown/1`);
    // Its instance is free again.
    await t.waitStarted('r2_hold');
    t.release('r2_hold');
    await t.waitState(c, next, 'ended');
    assert.ok(!t.notes().some((n) => n.event === 'end' && n.job === 'r1_hold_child'));
    await t.close(c);
  });

  it('takes a repeated submit of the same attempt once; another attempt is another execution', async () => {
    const t = setup();
    const c = t.open();
    const one = target('single', 1);
    const launch = { workspace: WS, job: 'same_hold', attempt: 1, target: one };
    const id = await c.submit(launch);
    assert.equal(await c.submit(launch), id);
    await t.waitStarted('same_hold');
    assert.equal(await c.submit(launch), id);
    t.release('same_hold');
    await t.waitState(c, id, 'ended');
    assert.equal(await c.submit(launch), id);
    assert.equal((await c.status(id)).state, 'ended');
    const retry = await c.submit({ ...launch, job: 'same_hold', attempt: 2 });
    assert.notEqual(retry, id);
    await t.waitState(c, retry, 'ended'); // released already
    // A duplicate would have been queued ahead of this one on the single instance.
    const marker = await c.submit({ workspace: WS, job: 'marker', attempt: 1, target: one });
    await t.waitState(c, marker, 'ended');
    assert.deepEqual(
      t.notes().flatMap((n) => (n.event === 'start' ? [`${n.job}#${n.attempt}`] : [])),
      ['same_hold#1', 'same_hold#2', 'marker#1'],
    );
    await t.close(c);
  });

  it('adopts trainers after close and reopen, and starts what was still queued', async () => {
    const t = setup();
    const first = t.open();
    const one = target('single', 1);
    const kept = await first.submit({ workspace: WS, job: 'kept_hold', attempt: 1, target: one });
    const waiting = await first.submit({ workspace: WS, job: 'waiting_hold', attempt: 1, target: one });
    const dies = await first.submit({ workspace: WS, job: 'dies_hold', attempt: 1, target: target('other', 1) });
    await t.waitStarted('kept_hold');
    const dying = await t.waitStarted('dies_hold');
    await t.close(first);

    // While no compute watches: one trainer dies without a word.
    process.kill(dying.pid, 'SIGKILL');
    // Reaped, not just dead: the compute cannot tell a zombie from a live process.
    await waitFor('the killed trainer to be reaped', () => Promise.resolve(reaped(dying.pid) || undefined));

    const second = t.open();
    assert.deepEqual(await second.status(kept), { state: 'running' });
    assert.deepEqual(await second.status(waiting), { state: 'queued' });
    const lost = await second.status(dies);
    assert.equal(lost.state, 'lost');
    assert.match(lost.detail ?? '', /dies_hold \(attempt 1, pid \d+\) is gone without reporting/);

    t.release('kept_hold');
    await t.waitState(second, kept, 'ended');
    await t.waitStarted('waiting_hold');
    assert.equal((await second.status(waiting)).state, 'running');
    t.release('waiting_hold');
    await t.waitState(second, waiting, 'ended');
    assert.deepEqual(t.startedJobs().sort(), ['dies_hold', 'kept_hold', 'waiting_hold']);
    await t.close(second);
  });

  it('starts a job that waited in the queue when the compute was closed, on reopen', async () => {
    const t = setup();
    const first = t.open();
    const one = target('single', 1);
    const running = await first.submit({ workspace: WS, job: 'early_hold', attempt: 1, target: one });
    const queued = await first.submit({ workspace: WS, job: 'late', attempt: 1, target: one });
    await t.waitStarted('early_hold');
    await t.close(first);
    t.release('early_hold');
    await waitFor('early to end', () => Promise.resolve(t.notes().some((n) => n.event === 'end') || undefined));

    const second = t.open();
    await t.waitState(second, queued, 'ended');
    assert.deepEqual(await second.status(running), { state: 'ended' });
    await t.close(second);
  });

  it('reuses warm workers: jobs one after another run in the worker processes, none cold', async () => {
    const t = setup({ spare: true });
    const c = t.open();
    const spare = await waitFor('the spare to be ready', () =>
      Promise.resolve(t.notes().find((n) => n.event === 'spare-ready')),
    );
    const id = await c.submit({ workspace: WS, job: 'warm', attempt: 1, target: target('t', 2) });
    const start = await t.waitStarted('warm');
    assert.equal(start.mode, 'spare');
    assert.equal(start.pid, spare.pid);
    assert.equal(start.exitFile, c.exitFile(id));
    await t.waitState(c, id, 'ended');
    for (const job of ['warm2', 'warm3', 'warm4']) {
      const next = await c.submit({ workspace: WS, job, attempt: 1, target: target('t', 2) });
      assert.equal((await t.waitStarted(job)).mode, 'spare');
      await t.waitState(c, next, 'ended');
    }
    const workers = new Set(
      t
        .notes()
        .filter((n) => n.event === 'spare-loading')
        .map((n) => n.pid),
    );
    assert.ok(workers.size <= 3, `${workers.size} trainer processes for 4 sequential jobs`);
    await t.close(c);
  });

  it('a job given to a worker that is still loading runs once it has loaded, and is not lost', async () => {
    const t = setup({ spare: true, spareLoadMs: 1500 });
    const c = t.open();
    await waitFor('the spare to start loading', () =>
      Promise.resolve(t.notes().find((n) => n.event === 'spare-loading')),
    );
    const id = await c.submit({ workspace: WS, job: 'early', attempt: 1, target: target('t', 2) });
    const status = await waitFor(`${id} to end`, async () => {
      const s = await c.status(id);
      return s.state === 'ended' || s.state === 'lost' ? s : undefined;
    });
    assert.deepEqual(status, { state: 'ended' });
    assert.equal((await t.waitStarted('early')).mode, 'spare');
    await t.close(c);
  });

  it('with the real trainer: a job given out while the spare loads is reported, and a later one takes the spare', async () => {
    const dataDir = join(tempDir('process-compute-real'), 'data');
    const c = ProcessCompute.open({
      dataDir,
      trainerEntry: resolve('dist/trainer/main.js'),
      env: { ...process.env, TESSERA_DATA_DIR: dataDir },
      pollMs: 50,
    });
    openComputes.add(c);
    const t = target('local', 2);
    // No such job: the trainer reports an infrastructure failure, then writes its exit file.
    const run = async (job: string): Promise<ExecutionStatus> => {
      const id = await c.submit({ workspace: 'default', job, attempt: 1, target: t });
      return waitFor(`${job} to end`, async () => {
        const s = await c.status(id);
        return s.state === 'ended' || s.state === 'lost' ? s : undefined;
      });
    };
    assert.deepEqual(await run('right-away'), { state: 'ended' });
    // A trainer started cold logs to its own file; the spare's output goes to spare.log.
    let n = 0;
    await waitFor('a job to be taken by the spare', async () => {
      const job = `later-${++n}`;
      assert.deepEqual(await run(job), { state: 'ended' });
      return existsSync(c.trainerLog(`default/${job}/1`)) ? undefined : job;
    });
    await c.close();
    openComputes.delete(c);
  });

  it('runs jobs cold and starts no spare with spare: false', async () => {
    const t = setup({ spare: false });
    const c = t.open();
    const id = await c.submit({ workspace: WS, job: 'cold', attempt: 1, target: target('t', 1) });
    await t.waitState(c, id, 'ended');
    assert.equal((await t.waitStarted('cold')).mode, 'env');
    assert.deepEqual(
      t.notes().map((n) => n.event),
      ['start', 'end'],
    );
    await t.close(c);
  });

  it('kills the spare trainer when it is closed', async () => {
    const t = setup({ spare: true });
    const c = t.open();
    const spare = await waitFor('the spare to be ready', () =>
      Promise.resolve(t.notes().find((n) => n.event === 'spare-ready')),
    );
    await t.close(c);
    await waitFor('the spare to be gone', () => Promise.resolve(gone(spare.pid) || undefined));
  });
});
