import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Compute, ExecutionStatus, TrainerLaunch } from '../ports/compute.js';
import { openSqlite } from './sqlite-database.js';
import type { SqliteDatabase } from './sqlite-database.js';

/**
 * The embedded compute: each attempt of a job is a trainer process (`node dist/trainer/main.js`)
 * started by the host, at most `maxInstances` at a time per compute target; the others wait in
 * submission order. The queue and the running processes are recorded in `compute.db`, so a
 * restarted host adopts the trainers that outlived it (they are started detached, in their own
 * process group, and keep running when the host dies) and starts what was still waiting.
 *
 * A trainer writes the execution's exit file after it has reported its outcome through the
 * job-events queue; a trainer process that is gone without one died unreported: `lost`.
 *
 * Trainers are kept warm and reused: a worker (a trainer started with an IPC channel) loads the
 * platform once, then runs one assignment after another, so a job starts without paying for a
 * process start and module loading. A busy worker whose host dies finishes its job, reports it and
 * exits; an idle one exits at once.
 */

export interface ProcessComputeOptions {
  /** The host's data folder: compute.db and the trainers' own logs and working folders go under it. */
  dataDir: string;
  /** Absolute path of the trainer's entry script. */
  trainerEntry: string;
  /** Environment of the trainer processes (the host's configuration). */
  env: Readonly<Record<string, string | undefined>>;
  /** How often trainers the host did not start itself (adopted after a restart) are looked at. */
  pollMs?: number;
  /** Grace between SIGTERM and SIGKILL when a trainer is stopped. */
  stopGraceMs?: number;
  /**
   * Reuse warm trainer workers (default true), keeping `spareWorkers` (default 1) idle ones loaded
   * ahead of demand; false starts a fresh trainer process for every execution.
   */
  spare?: boolean;
  spareWorkers?: number;
  log?: (message: string) => void;
}

interface Row {
  id: string;
  compute: string;
  max_instances: number;
  workspace: string;
  job: string;
  attempt: number;
  state: 'queued' | 'running' | 'ended' | 'lost';
  pid: number | null;
  detail: string | null;
}

/**
 * Whether a process (or, given -pgid, any process of a group) exists and is not a zombie: a
 * trainer adopted after a restart is not our child, and where nothing reaps orphans it lingers
 * as a zombie after it dies.
 */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (pid > 0) {
    try {
      // /proc/<pid>/stat: "pid (comm) S ..." where S is the state; Z is a zombie.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    } catch {
      return true; // no /proc (not Linux): trust kill(0)
    }
  }
  return true;
}

/** A file name for an execution id (`ws/job/attempt`). */
function fileKey(id: string): string {
  return id.replace(/[^A-Za-z0-9_.-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export class ProcessCompute implements Compute {
  readonly kind = 'process';
  private readonly db: SqliteDatabase;
  private readonly children = new Map<string, ChildProcess>();
  /** Warm trainers: `busy` is the execution a worker runs, undefined while it waits for one. */
  private readonly workers = new Map<ChildProcess, { busy: string | undefined }>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  private constructor(private readonly options: ProcessComputeOptions) {
    mkdirSync(join(options.dataDir, 'compute'), { recursive: true });
    this.db = openSqlite(join(options.dataDir, 'compute.db'));
    this.db.exec(`CREATE TABLE IF NOT EXISTS executions (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      compute TEXT NOT NULL,
      max_instances INTEGER NOT NULL,
      workspace TEXT NOT NULL,
      job TEXT NOT NULL,
      attempt INTEGER NOT NULL,
      state TEXT NOT NULL,
      pid INTEGER,
      detail TEXT,
      queued_at INTEGER NOT NULL,
      started_at INTEGER,
      ended_at INTEGER
    );
    CREATE INDEX IF NOT EXISTS executions_by_state ON executions (state, compute, seq);`);
    this.timer = setInterval(() => this.sweep(), options.pollMs ?? 500);
    this.timer.unref();
    this.sweep();
    this.ensureSpare();
  }

  static open(options: ProcessComputeOptions): ProcessCompute {
    return new ProcessCompute(options);
  }

  /** Where the trainer of an execution writes its exit file. */
  exitFile(id: string): string {
    return join(this.options.dataDir, 'compute', `${fileKey(id)}.exit`);
  }

  /** The trainer process's own output (not the job's log: that goes to the artifact store). */
  trainerLog(id: string): string {
    return join(this.options.dataDir, 'compute', `${fileKey(id)}.log`);
  }

  async submit(launch: TrainerLaunch): Promise<string> {
    const id = `${launch.workspace}/${launch.job}/${launch.attempt}`;
    this.db
      .prepare(
        `INSERT OR IGNORE INTO executions (id, compute, max_instances, workspace, job, attempt, state, queued_at)
         VALUES (?, ?, ?, ?, ?, ?, 'queued', ?)`,
      )
      .run(
        id,
        `${launch.workspace}/${launch.target.name}`,
        Math.max(1, launch.target.maxInstances),
        launch.workspace,
        launch.job,
        launch.attempt,
        Date.now(),
      );
    this.pump();
    return Promise.resolve(id);
  }

  async status(id: string): Promise<ExecutionStatus> {
    const row = this.row(id);
    if (row === undefined) return { state: 'lost', detail: `the compute has no record of execution ${id}` };
    // Our own trainers are judged when their exit event comes (with its code or signal).
    if (row.state === 'running' && (!this.children.has(id) || existsSync(this.exitFile(id)))) this.check(row);
    const now = this.row(id) ?? row;
    return now.state === 'lost'
      ? { state: 'lost', detail: now.detail ?? 'the trainer stopped without reporting' }
      : { state: now.state };
  }

  async stop(id: string): Promise<void> {
    const row = this.row(id);
    if (row === undefined || row.state === 'ended' || row.state === 'lost') return;
    if (row.state === 'queued') {
      this.setState(id, 'ended', 'stopped before it started');
      this.pump();
      return;
    }
    const pid = row.pid;
    this.setState(id, 'ended', 'stopped');
    if (pid !== null && alive(pid)) {
      const kill = (signal: NodeJS.Signals): void => {
        try {
          process.kill(-pid, signal); // the trainer's process group: the trainer and the user's command
        } catch {
          try {
            process.kill(pid, signal);
          } catch {
            // already gone
          }
        }
      };
      kill('SIGTERM');
      const grace = setTimeout(() => {
        // The trainer exits at once on SIGTERM; the user's command may not: look at the whole group.
        if (alive(-pid) || alive(pid)) kill('SIGKILL');
      }, this.options.stopGraceMs ?? 5000);
      grace.unref();
    }
    this.pump();
  }

  async close(): Promise<void> {
    // Trainers keep running: a restarted host adopts them.
    this.closed = true;
    clearInterval(this.timer);
    for (const [child, w] of this.workers) if (w.busy === undefined) child.kill();
    this.workers.clear();
    for (const child of this.children.values()) child.removeAllListeners('exit');
    this.children.clear();
    this.db.close();
    return Promise.resolve();
  }

  private row(id: string): Row | undefined {
    return this.db.prepare('SELECT * FROM executions WHERE id = ?').get(id) as Row | undefined;
  }

  private setState(id: string, state: Row['state'], detail?: string): void {
    this.db
      .prepare(
        `UPDATE executions SET state = ?, detail = COALESCE(?, detail),
           ended_at = CASE WHEN ? IN ('ended', 'lost') THEN ? ELSE ended_at END WHERE id = ?`,
      )
      .run(state, detail ?? null, state, Date.now(), id);
  }

  /** A running row: ended once its exit file exists; lost if its process is gone without one. */
  private check(row: Row, exit?: string): void {
    if (existsSync(this.exitFile(row.id))) {
      this.setState(row.id, 'ended');
      return;
    }
    if (row.pid !== null && alive(row.pid) && exit === undefined) return;
    this.setState(
      row.id,
      'lost',
      `the trainer of ${row.job} (attempt ${row.attempt}, pid ${row.pid ?? '?'}) ${exit ?? 'is gone'} without reporting an outcome`,
    );
  }

  /** Looks at the trainers this process did not start, then starts what fits. */
  private sweep(): void {
    if (this.closed) return;
    try {
      const running = this.db.prepare("SELECT * FROM executions WHERE state = 'running'").all() as Row[];
      for (const row of running) if (!this.children.has(row.id) || existsSync(this.exitFile(row.id))) this.check(row);
      this.pump();
    } catch (err) {
      this.options.log?.(`process compute: sweep failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Starts queued trainers while their compute has free instances, oldest first. */
  private pump(): void {
    if (this.closed) return;
    const toStart = this.db.transaction(() => {
      const started: Row[] = [];
      const computes = this.db
        .prepare("SELECT compute, MAX(max_instances) AS max FROM executions WHERE state = 'queued' GROUP BY compute")
        .all() as { compute: string; max: number }[];
      for (const { compute, max } of computes) {
        const { n } = this.db
          .prepare("SELECT COUNT(*) AS n FROM executions WHERE state = 'running' AND compute = ?")
          .get(compute) as { n: number };
        if (n >= max) continue;
        const rows = this.db
          .prepare("SELECT * FROM executions WHERE state = 'queued' AND compute = ? ORDER BY seq LIMIT ?")
          .all(compute, max - n) as Row[];
        for (const row of rows) {
          this.db
            .prepare("UPDATE executions SET state = 'running', started_at = ?, pid = NULL WHERE id = ?")
            .run(Date.now(), row.id);
          started.push(row);
        }
      }
      return started;
    })();
    for (const row of toStart) this.launch(row);
  }

  private trainerEnv(): NodeJS.ProcessEnv {
    return { ...this.options.env };
  }

  /** Starts workers until `spareWorkers` of them wait for an assignment (loaded or loading). */
  private ensureSpare(): void {
    if (this.closed || this.options.spare === false) return;
    const want = this.options.spareWorkers ?? 1;
    let idle = [...this.workers.values()].filter((w) => w.busy === undefined).length;
    while (idle < want) {
      if (this.startWorker() === undefined) return;
      idle++;
    }
  }

  private startWorker(): ChildProcess | undefined {
    const out = openSync(join(this.options.dataDir, 'compute', 'workers.log'), 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [this.options.trainerEntry], {
        detached: true,
        stdio: ['ignore', out, out, 'ipc'],
        env: this.trainerEnv(),
      });
    } catch {
      return undefined; // jobs then start cold
    } finally {
      closeSync(out);
    }
    const worker = { busy: undefined as string | undefined };
    this.workers.set(child, worker);
    child.once('error', () => undefined);
    child.on('message', (message: unknown) => {
      if ((message as { idle?: unknown } | null)?.idle !== true) return;
      const done = worker.busy;
      worker.busy = undefined;
      if (this.closed) return;
      if (done !== undefined) {
        this.children.delete(done);
        const row = this.row(done);
        if (row?.state === 'running') this.check(row, 'ended');
      }
      const idle = [...this.workers.values()].filter((w) => w.busy === undefined).length;
      if (idle > Math.max(1, this.options.spareWorkers ?? 1) + 1) {
        this.workers.delete(child);
        child.kill();
      }
      this.pump();
    });
    child.once('exit', (code, signal) => {
      this.workers.delete(child);
      const busy = worker.busy;
      if (this.closed) return;
      if (busy !== undefined) {
        this.children.delete(busy);
        const row = this.row(busy);
        if (row?.state === 'running') {
          this.check(row, signal === null ? `exited with code ${code ?? '?'}` : `was killed by ${signal}`);
        }
      }
      this.pump();
      this.ensureSpare();
    });
    child.unref();
    child.channel?.unref();
    return child;
  }

  /** Hands the execution to a waiting worker, if there is one; returns it. */
  private assignWorker(row: Row): ChildProcess | undefined {
    for (const [child, worker] of this.workers) {
      if (worker.busy !== undefined) continue;
      if (!child.connected || child.pid === undefined) {
        this.workers.delete(child);
        child.kill();
        continue;
      }
      try {
        child.send({
          workspace: row.workspace,
          job: row.job,
          attempt: row.attempt,
          exitFile: this.exitFile(row.id),
          workDir: join(this.options.dataDir, 'jobs', fileKey(row.id)),
        });
      } catch {
        this.workers.delete(child);
        child.kill();
        continue;
      }
      worker.busy = row.id;
      return child;
    }
    return undefined;
  }

  private launch(row: Row): void {
    if (this.options.spare !== false) {
      const warm = this.assignWorker(row) ?? (this.startWorker() && this.assignWorker(row));
      setImmediate(() => this.ensureSpare());
      if (warm !== undefined) {
        this.db.prepare('UPDATE executions SET pid = ? WHERE id = ?').run(warm.pid ?? null, row.id);
        this.children.set(row.id, warm);
        return;
      }
    }
    const out = openSync(this.trainerLog(row.id), 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [this.options.trainerEntry], {
        detached: true,
        stdio: ['ignore', out, out],
        env: {
          ...this.trainerEnv(),
          TESSERA_JOB_WORKSPACE: row.workspace,
          TESSERA_JOB_NAME: row.job,
          TESSERA_JOB_ATTEMPT: String(row.attempt),
          TESSERA_TRAINER_EXIT_FILE: this.exitFile(row.id),
          TESSERA_TRAINER_WORKDIR: join(this.options.dataDir, 'jobs', fileKey(row.id)),
        },
      });
    } catch (err) {
      this.setState(row.id, 'lost', `the trainer could not start: ${err instanceof Error ? err.message : String(err)}`);
      return;
    } finally {
      closeSync(out);
    }
    child.unref();
    if (child.pid === undefined) {
      child.once('error', () => undefined);
      this.setState(row.id, 'lost', `the trainer could not start (${process.execPath} ${this.options.trainerEntry})`);
      return;
    }
    this.track(row, child);
  }

  /** Records the trainer of a running execution and watches it end. */
  private track(row: Row, child: ChildProcess): void {
    this.db.prepare('UPDATE executions SET pid = ? WHERE id = ?').run(child.pid ?? null, row.id);
    this.children.set(row.id, child);
    child.once('exit', (code, signal) => {
      this.children.delete(row.id);
      if (this.closed) return;
      const current = this.row(row.id);
      if (current?.state === 'running') {
        this.check(current, signal === null ? `exited with code ${code ?? '?'}` : `was killed by ${signal}`);
      }
      this.pump();
    });
  }
}
