/**
 * The live scorers of this process, one per (endpoint, deployment), each tagged with the
 * deployment revision it was loaded from. Provisioning a new revision loads it beside the old one
 * and swaps the reference in one assignment; requests that already entered the old revision's gate
 * finish there, and the old scorer is closed once its gate drains. A process that has not loaded a
 * deployment (a fresh Functions instance) loads it on its first request (`ensure`), one load at a
 * time per revision.
 *
 * `provision` is the DeploymentProvisioner port (shared/ports/deployment-provisioner.ts).
 */
import type { ModelRuntime } from '../ports/model-runtime.js';
import { DataCollector, type CollectorDeps, type CollectorOptions } from './collector.js';
import { Gate } from './gate.js';
import { createScorer, ScorerInitError, type DeploymentRuntime, type Scorer, type ScorerDeps } from './scorer.js';
import { DeploymentStats, type DeploymentStatsSnapshot } from './stats.js';
import {
  DEFAULT_REQUEST_SETTINGS,
  SILENT_LOGGER,
  type ProvisionResult,
  type ServingDeployment,
  type ServingLogger,
} from './types.js';

/** One loaded revision: what a request needs, reachable with one map lookup. */
export interface LiveDeployment {
  readonly endpoint: string;
  readonly name: string;
  readonly revision: string;
  readonly scorer: Scorer;
  readonly gate: Gate;
  /** Shared by every revision of the deployment. */
  readonly stats: DeploymentStats;
  readonly collector: DataCollector | undefined;
}

export interface RegistryDeps {
  modelRuntime: ModelRuntime;
  /** Makes an asset or code URI available on local disk; returns the local path (folder or file). */
  fetchFiles(uri: string, workspace?: string): Promise<string>;
  /**
   * Where a deployment's data collector appends (its workspace's artifact store); without it,
   * data_collector is ignored (and logged).
   */
  collectTo?: (deployment: ServingDeployment) => CollectorDeps['append'];
  collectorOptions?: CollectorOptions;
  logger?: ServingLogger;
  maxBodyBytes?: number;
  /** Builds scorers; tests replace it. */
  createScorer?: (runtime: DeploymentRuntime, deps: ScorerDeps) => Promise<Scorer>;
  /**
   * The scorer of a deployment served by another host (Azure: Python deployments on Container
   * Apps), or undefined for one this process loads itself; a remote deployment's files are not fetched.
   */
  openRemote?: (deployment: ServingDeployment) => Promise<Scorer> | undefined;
}

interface Slot {
  live: LiveDeployment | undefined;
  stats: DeploymentStats;
  /** Loads under way, by revision. */
  loading: Map<string, Promise<LiveDeployment>>;
  /** Sequence of the newest provision started, and of the one now live: an older load never replaces a newer. */
  started: number;
  swapped: number;
}

const key = (endpoint: string, deployment: string): string => `${endpoint}\u0000${deployment}`;

/** Whether revision `a` comes after `b`: as numbers when both are (generations), else as strings (timestamps). */
export function isNewerRevision(a: string | number, b: string | number): boolean {
  const x = Number(a);
  const y = Number(b);
  if (a !== '' && b !== '' && Number.isFinite(x) && Number.isFinite(y)) return x > y;
  return String(a) > String(b);
}

export class ScorerRegistry {
  private readonly slots = new Map<string, Slot>();
  private readonly retiring = new Set<Promise<void>>();
  private readonly logger: ServingLogger;
  private readonly build: NonNullable<RegistryDeps['createScorer']>;
  /** When this registry (the host's data plane) started, epoch ms. */
  readonly startedAt = Date.now();

  constructor(private readonly deps: RegistryDeps) {
    this.logger = deps.logger ?? SILENT_LOGGER;
    this.build = deps.createScorer ?? createScorer;
  }

  /** The live revision of a deployment, if this process has one. */
  get(endpoint: string, deployment: string): LiveDeployment | undefined {
    return this.slots.get(key(endpoint, deployment))?.live;
  }

  /**
   * Loads the deployment's revision and makes it live. A failure leaves the previous revision
   * serving and answers the reason and the logs (an init() error with its stack).
   */
  async provision(deployment: ServingDeployment): Promise<ProvisionResult> {
    try {
      await this.load(deployment);
      return { ok: true };
    } catch (error) {
      if (error instanceof ScorerInitError) return { ok: false, reason: error.message, logs: error.logs };
      const e = error as Error;
      return { ok: false, reason: e.message ?? String(error), logs: e.stack ?? String(error) };
    }
  }

  /**
   * The live revision, loading `deployment` first if nothing is live or what is live is older (a
   * process that did not provision the new revision itself: a scoring replica, another instance).
   */
  async ensure(deployment: ServingDeployment): Promise<LiveDeployment> {
    const live = this.get(deployment.endpoint_name, deployment.name);
    if (live !== undefined && !isNewerRevision(deployment.revision, live.revision)) return live;
    await this.load(deployment);
    const now = this.get(deployment.endpoint_name, deployment.name);
    if (now === undefined) throw new Error(`deployment '${deployment.name}' was removed while loading`);
    return now;
  }

  /** Stops serving a deployment (deleted): drains, then closes it. */
  async remove(endpoint: string, deployment: string): Promise<void> {
    const k = key(endpoint, deployment);
    const slot = this.slots.get(k);
    if (slot === undefined) return;
    this.slots.delete(k);
    if (slot.live !== undefined) await this.retire(slot.live);
  }

  /** Every deployment this process has live, with the revision it serves. */
  loaded(): { endpoint: string; deployment: string; revision: string }[] {
    return [...this.slots.values()].flatMap((s) =>
      s.live === undefined ? [] : [{ endpoint: s.live.endpoint, deployment: s.live.name, revision: s.live.revision }],
    );
  }

  /** Stats of every deployment of an endpoint that this process has served. */
  stats(endpoint: string): Record<string, DeploymentStatsSnapshot> {
    const out: Record<string, DeploymentStatsSnapshot> = {};
    const prefix = `${endpoint}\u0000`;
    for (const [k, slot] of this.slots) {
      if (k.startsWith(prefix)) out[k.slice(prefix.length)] = slot.stats.snapshot();
    }
    return out;
  }

  /** Stats of one deployment, if this process has served it. */
  statsOf(endpoint: string, deployment: string): DeploymentStatsSnapshot | undefined {
    return this.slots.get(key(endpoint, deployment))?.stats.snapshot();
  }

  /** Drains and closes everything. */
  async close(): Promise<void> {
    const lives = [...this.slots.values()].flatMap((s) => (s.live === undefined ? [] : [s.live]));
    this.slots.clear();
    await Promise.all(lives.map((l) => this.retire(l)));
    await Promise.all([...this.retiring]);
  }

  private slot(deployment: ServingDeployment): Slot {
    const k = key(deployment.endpoint_name, deployment.name);
    let slot = this.slots.get(k);
    if (slot === undefined) {
      slot = { live: undefined, stats: new DeploymentStats(), loading: new Map(), started: 0, swapped: 0 };
      this.slots.set(k, slot);
    }
    return slot;
  }

  private load(deployment: ServingDeployment): Promise<LiveDeployment> {
    const slot = this.slot(deployment);
    const revision = String(deployment.revision);
    if (slot.live?.revision === revision) return Promise.resolve(slot.live);
    const pending = slot.loading.get(revision);
    if (pending !== undefined) return pending;
    const seq = ++slot.started;
    const loading = this.open(deployment, slot)
      .then((live) => {
        if (this.slots.get(key(deployment.endpoint_name, deployment.name)) !== slot || seq < slot.swapped) {
          // Removed meanwhile, or a newer revision went live first: this one is not needed.
          void this.retire(live);
          return slot.live ?? live;
        }
        const old = slot.live;
        slot.live = live;
        slot.swapped = seq;
        if (old !== undefined) void this.retire(old);
        return live;
      })
      .finally(() => slot.loading.delete(revision));
    slot.loading.set(revision, loading);
    return loading;
  }

  private async open(deployment: ServingDeployment, slot: Slot): Promise<LiveDeployment> {
    const runtime: DeploymentRuntime = {
      kind: deployment.kind,
      instanceCount: Math.max(1, deployment.instance_count),
      environmentVariables: deployment.environment_variables,
    };
    const remote = this.deps.openRemote?.(deployment);
    let scorer: Scorer;
    if (remote !== undefined) {
      scorer = await remote;
    } else {
      if (deployment.model_uri !== undefined)
        runtime.modelDir = await this.fetch(deployment.model_uri, deployment.workspace, 'model');
      if (deployment.code_uri !== undefined)
        runtime.codeDir = await this.fetch(deployment.code_uri, deployment.workspace, 'code');
      if (deployment.scoring_script !== undefined) runtime.scoringScript = deployment.scoring_script;
      const scorerDeps: ScorerDeps = { modelRuntime: this.deps.modelRuntime };
      if (this.deps.maxBodyBytes !== undefined) scorerDeps.maxBodyBytes = this.deps.maxBodyBytes;
      scorer = await this.build(runtime, scorerDeps);
    }
    const settings = { ...DEFAULT_REQUEST_SETTINGS, ...deployment.request_settings };
    const gate = new Gate({
      label: deployment.name,
      maxInFlight: runtime.instanceCount * Math.max(1, settings.max_concurrent_requests_per_instance),
      maxQueueWaitMs: Math.max(0, settings.max_queue_wait_ms),
      requestTimeoutMs: Math.max(1, settings.request_timeout_ms),
    });
    let collector: DataCollector | undefined;
    if (deployment.data_collector !== undefined) {
      if (this.deps.collectTo === undefined) {
        this.logger.warn('data_collector is set but no artifact store is wired: nothing is collected', {
          endpoint: deployment.endpoint_name,
          deployment: deployment.name,
        });
      } else {
        const c = new DataCollector(
          deployment.endpoint_name,
          deployment.name,
          deployment.data_collector,
          { append: this.deps.collectTo(deployment), logger: this.logger },
          this.deps.collectorOptions,
        );
        if (c.enabled) collector = c;
      }
    }
    return {
      endpoint: deployment.endpoint_name,
      name: deployment.name,
      revision: String(deployment.revision),
      scorer,
      gate,
      stats: slot.stats,
      collector,
    };
  }

  private async fetch(uri: string, workspace: string | undefined, what: string): Promise<string> {
    try {
      return await this.deps.fetchFiles(uri, workspace);
    } catch (error) {
      const e = error as Error;
      throw new ScorerInitError(`the ${what} files '${uri}' could not be fetched: ${e.message}`, e.stack ?? '', {
        cause: error,
      });
    }
  }

  private retire(live: LiveDeployment): Promise<void> {
    const done = live.gate
      .drain()
      .then(() => Promise.all([live.scorer.close(), live.collector?.close()]))
      .then(
        () => undefined,
        (error: unknown) =>
          this.logger.error('closing a replaced scorer failed', {
            endpoint: live.endpoint,
            deployment: live.name,
            revision: live.revision,
            error: (error as Error).message,
          }),
      )
      .finally(() => this.retiring.delete(done));
    this.retiring.add(done);
    return done;
  }
}
