/**
 * Scoring replicas: child processes of the local host that serve the scoring URI beside the main
 * process, so that online scoring uses every core (one Node process answers HTTP on one). Each is
 * `node dist/local/replica.js` (local/replica.ts): the same app and services, reading the same
 * store, serving direct lanes only and forwarding everything else to the main process.
 *
 * The main process keeps the public port. A new connection goes, in turn, to the main process or
 * to a ready replica (its socket handed over before a byte is read), and stays there. Azure
 * Functions scales the same way across instances; here the processes share one port.
 *
 * This pool is the main process's ServingPeers (shared/serving/peers.ts): a write of an endpoint
 * waits until every replica has dropped its cached copy, and `online-endpoint show` adds up
 * every replica's counters. A replica that dies is started again; its connections are closed (the
 * callers reconnect) and nothing stored is lost: replicas write nothing (endpoints with a data
 * collector are scored by the main process, the one writer of the collected files).
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Logger } from './logger.js';
import type { ServingPeers } from '../shared/serving/peers.js';
import type { DeploymentStatsSnapshot } from '../shared/serving/stats.js';

/** What the main process sends a replica. */
export type ToReplica =
  { t: 'conn' } | { t: 'changed'; id: number } | { t: 'stats'; id: number; endpoint: string; deployment: string };

/** What a replica sends back. */
export type FromReplica =
  { t: 'ready' } | { t: 'changed'; id: number } | { t: 'stats'; id: number; snapshot: DeploymentStatsSnapshot | null };

export interface ReplicaOptions {
  count: number;
  /** The replica's entry point (dist/local/replica.js). */
  script: string;
  /** The app the replicas load (the host's --app). */
  appRoot: string;
  /** The main process's loopback origin that replicas forward to. */
  forwardTo: string;
  logger: Logger;
  /** How long a replica may take to answer `changed` or `stats` before it is skipped (default 2000 ms). */
  answerTimeoutMs?: number;
}

interface Replica {
  index: number;
  child: ChildProcess;
  ready: boolean;
  startedAt: number;
  /** Quick deaths in a row (within 10 s of starting): after 5 the replica is not started again. */
  crashes: number;
}

const RESTART_DELAY_MS = 1000;

export class ScoringReplicas implements ServingPeers {
  private readonly replicas: (Replica | undefined)[] = [];
  private readonly pending = new Map<number, { answer: (m: FromReplica | undefined) => void; timer: NodeJS.Timeout }>();
  private nextId = 1;
  /** Round-robin position over [main process, ready replicas...]. */
  private turn = 0;
  private stopping = false;

  constructor(private readonly options: ReplicaOptions) {}

  start(): void {
    for (let i = 0; i < this.options.count; i++) this.spawn(i, 0);
  }

  /**
   * Offers a new connection (paused, nothing read) to the next replica in turn; false when the
   * turn is the main process's, or no replica is ready (the main process then serves it).
   */
  take(socket: Socket): boolean {
    const ready = this.replicas.filter((r): r is Replica => r?.ready === true);
    const slot = this.turn++ % (ready.length + 1);
    if (slot === 0) return false;
    const replica = ready[slot - 1] as Replica;
    try {
      replica.child.send({ t: 'conn' } satisfies ToReplica, socket, { keepOpen: false }, (err) => {
        if (err !== null && err !== undefined && !socket.destroyed) socket.destroy();
      });
      return true;
    } catch {
      return false;
    }
  }

  async changed(): Promise<void> {
    await this.askAll((id) => ({ t: 'changed', id }));
  }

  async stats(endpoint: string, deployment: string): Promise<DeploymentStatsSnapshot[]> {
    const answers = await this.askAll((id) => ({ t: 'stats', id, endpoint, deployment }));
    return answers.flatMap((m) => (m?.t === 'stats' && m.snapshot !== null ? [m.snapshot] : []));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const exits = this.replicas.map((r) =>
      r === undefined || r.child.exitCode !== null || r.child.signalCode !== null
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            r.child.once('exit', () => resolve());
            r.child.kill('SIGTERM');
            setTimeout(() => r.child.kill('SIGKILL'), 3000).unref();
          }),
    );
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.answer(undefined);
    }
    this.pending.clear();
    await Promise.all(exits);
  }

  /** Sends a question to every ready replica; each answer, or undefined for one that did not answer in time. */
  private askAll(message: (id: number) => ToReplica): Promise<(FromReplica | undefined)[]> {
    const timeoutMs = this.options.answerTimeoutMs ?? 2000;
    return Promise.all(
      this.replicas
        .filter((r): r is Replica => r?.ready === true)
        .map(
          (replica) =>
            new Promise<FromReplica | undefined>((answer) => {
              const id = this.nextId++;
              const timer = setTimeout(() => {
                this.pending.delete(id);
                this.options.logger.warn(
                  `host: scoring replica ${replica.index + 1} did not answer within ${timeoutMs} ms`,
                );
                answer(undefined);
              }, timeoutMs);
              this.pending.set(id, { answer, timer });
              try {
                replica.child.send(message(id));
              } catch {
                clearTimeout(timer);
                this.pending.delete(id);
                answer(undefined);
              }
            }),
        ),
    );
  }

  private spawn(index: number, crashes: number): void {
    const { logger } = this.options;
    const args = ['--app', this.options.appRoot, '--forward-to', this.options.forwardTo, '--index', String(index + 1)];
    const child = fork(this.options.script, args, {
      execArgv: process.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const replica: Replica = { index, child, ready: false, startedAt: Date.now(), crashes };
    this.replicas[index] = replica;
    child.on('message', (m: FromReplica) => {
      if (m.t === 'ready') {
        replica.ready = true;
        replica.crashes = 0;
        logger.info(`host: scoring replica ${index + 1} (pid ${child.pid}) is serving`);
        return;
      }
      const waiting = this.pending.get(m.id);
      if (waiting === undefined) return;
      this.pending.delete(m.id);
      clearTimeout(waiting.timer);
      waiting.answer(m);
    });
    child.on('error', (err) => logger.error(`host: scoring replica ${index + 1} failed`, err));
    child.once('exit', (code, signal) => {
      replica.ready = false;
      if (this.stopping) return;
      const quick = Date.now() - replica.startedAt < 10_000;
      const next = quick ? replica.crashes + 1 : 0;
      if (next >= 5) {
        logger.error(
          `host: scoring replica ${index + 1} exited (${signal ?? code}) ${next} times in a row right after starting; it is not started again (the main process serves every request)`,
        );
        return;
      }
      logger.warn(`host: scoring replica ${index + 1} exited (${signal ?? code}); starting it again`);
      setTimeout(() => {
        if (!this.stopping) this.spawn(index, next);
      }, RESTART_DELAY_MS).unref();
    });
  }
}
