/**
 * The local Functions host: loads the app through the worker contract, then serves HTTP
 * triggers, fires timer, blob and queue triggers, and runs orchestrations with the embedded
 * durable engine, all persisted under the data folder.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { currentRegistry, resetRegistry } from './core-shim.js';
import { loadApp } from './app-loader.js';
import type { LoadedApp } from './app-loader.js';
import { Invoker } from './invoke.js';
import type { Logger } from './logger.js';
import { readHostJson } from './settings.js';
import { loadOrCreateKeyFile } from '../shared/adapters/key-file.js';
import { FrontDoor } from './http/server.js';
import { ScoringReplicas } from './replicas.js';
import { offerServingPeers } from '../shared/serving/peers.js';
import { openSqlite } from '../shared/adapters/sqlite-database.js';
import type { SqliteDatabase } from '../shared/adapters/sqlite-database.js';
import { DurableStore } from './durable/store.js';
import { DurableEngine } from './durable/engine.js';
import { durableClientBinding } from './durable/management-api.js';
import type { DurableApiOptions } from './durable/management-api.js';
import { TimerTriggers } from './triggers/timer-triggers.js';
import { BlobTriggers } from './triggers/blob-triggers.js';
import { QueueTriggers } from './triggers/queue-triggers.js';
import type { FunctionRegistry, RegisteredFunction, RpcParameterBinding } from './registry.js';
import type { ArtifactInfo, ArtifactStore } from '../shared/ports/artifact-store.js';
import type { MessageQueue } from '../shared/ports/message-queue.js';

export interface HostOptions {
  appRoot: string;
  dataDir: string;
  port: number;
  bindAddress: string;
  logger: Logger;
  /** Origin used in links handed to clients; defaults to http://<bind>:<port>. */
  publicUrl?: string;
  taskHubName?: string;
  maxConcurrentActivities?: number;
  /** Embedded artifact store and its in-process change feed, for blob triggers. */
  artifacts?: { store: ArtifactStore; subscribe: (listener: (info: ArtifactInfo) => void) => () => void };
  /** Embedded queue, for Service Bus queue triggers. */
  queue?: MessageQueue;
  blobScanIntervalMs?: number;
  /** IANA time zone of timer schedules (the Functions setting WEBSITE_TIME_ZONE); UTC when unset. */
  timerTimeZone?: string;
  /** Whether HTTP functions' direct-lane handlers are used (FrontDoorOptions.directLane); default true. */
  directLane?: boolean;
  /**
   * Scoring replicas to run beside this process (local/replicas.ts; TESSERA_SCORING_REPLICAS);
   * default 0. None run when direct lanes are off (replicas serve nothing else).
   */
  scoringReplicas?: number;
}

export function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || /^127\.\d+\.\d+\.\d+$/.test(address);
}

export class LocalHost {
  private constructor(
    readonly options: HostOptions,
    readonly app: LoadedApp,
    readonly registry: FunctionRegistry,
    readonly invoker: Invoker,
    readonly engine: DurableEngine,
    readonly frontDoor: FrontDoor,
    readonly port: number,
    readonly systemKey: string,
    private readonly db: SqliteDatabase,
    private readonly timers: TimerTriggers,
    private readonly blobs: BlobTriggers | undefined,
    private readonly queues: QueueTriggers | undefined,
    readonly replicas: ScoringReplicas | undefined,
  ) {}

  get origin(): string {
    return `http://${this.options.bindAddress === '0.0.0.0' || this.options.bindAddress === '::' ? '127.0.0.1' : this.options.bindAddress}:${this.port}`;
  }

  static async start(options: HostOptions): Promise<LocalHost> {
    const { logger } = options;
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    const hostJson = readHostJson(options.appRoot);
    const registry = resetRegistry();
    const app = await loadApp(options.appRoot);
    if (registry !== currentRegistry() || registry.functions.size === 0) {
      logger.warn(`host: the app at ${options.appRoot} registered no functions`);
    }
    const invoker = new Invoker(registry, logger);
    const db = openSqlite(join(options.dataDir, 'durable.db'));
    const store = new DurableStore(db);
    // The host's system key guards the durable management and admin APIs, as Azure's system keys do.
    const systemKey = loadOrCreateKeyFile(join(options.dataDir, 'keys', 'host-system.key'), {
      bytes: 32,
      wrongSize: (f, found) =>
        `The host system key ${f} has ${found} bytes instead of 32; delete it to create a new one.`,
    }).toString('base64url');
    const engine = new DurableEngine({
      store,
      registry,
      invoker,
      logger,
      ...(options.maxConcurrentActivities ? { maxConcurrentActivities: options.maxConcurrentActivities } : {}),
    });
    const taskHubName = options.taskHubName ?? 'TesseraHub';
    const durable: DurableApiOptions = { engine, taskHubName, publicOrigin: '', systemKey };
    // The binding names the port, known only once the front door listens.
    const clientBinding = { json: '' };
    invoker.extraInputsFor = (fn: RegisteredFunction): RpcParameterBinding[] =>
      Object.entries(fn.metadata.bindings)
        .filter(([, b]) => b.direction === 'in' && (b.type === 'durableClient' || b.type === 'orchestrationClient'))
        .map(([name]) => ({ name, data: { string: clientBinding.json } }));
    let manual: (fn: RegisteredFunction, input: string | undefined) => string | undefined = () =>
      'The host is still starting.';
    const frontDoor = new FrontDoor({
      registry,
      invoker,
      logger,
      routePrefix: hostJson.routePrefix,
      durable,
      adminNeedsKey: !isLoopback(options.bindAddress),
      invokeByAdmin: (fn, input) => manual(fn, input),
      ...(options.directLane === undefined ? {} : { directLane: options.directLane }),
    });
    const replicaCount = options.directLane === false ? 0 : (options.scoringReplicas ?? 0);
    let replicas: ScoringReplicas | undefined;
    const port = await frontDoor.listen(
      options.port,
      options.bindAddress,
      replicaCount > 0 ? (socket) => replicas?.take(socket) ?? false : undefined,
    );
    const loopbackOrigin = `http://127.0.0.1:${port}`;
    if (replicaCount > 0) {
      replicas = new ScoringReplicas({
        count: replicaCount,
        script: fileURLToPath(new URL('./replica.js', import.meta.url)),
        appRoot: options.appRoot,
        forwardTo: `http://127.0.0.1:${await frontDoor.listenInternal()}`,
        logger,
      });
      offerServingPeers(replicas);
    }
    durable.publicOrigin = (
      options.publicUrl ?? (isLoopback(options.bindAddress) ? `http://${options.bindAddress}:${port}` : loopbackOrigin)
    ).replace(/\/+$/, '');
    clientBinding.json = JSON.stringify(durableClientBinding(durable, loopbackOrigin));
    // durable-functions rewrites client URLs to localhost:7071 unless WEBSITE_HOSTNAME is set.
    process.env.WEBSITE_HOSTNAME = `127.0.0.1:${port}`;

    engine.start();
    const timers = new TimerTriggers(
      registry.byTrigger('timerTrigger'),
      invoker,
      store,
      logger,
      Date.now,
      options.timerTimeZone,
    );
    let blobs: BlobTriggers | undefined;
    const blobFns = registry.byTrigger('blobTrigger');
    if (blobFns.length > 0) {
      if (options.artifacts) {
        blobs = new BlobTriggers(
          blobFns,
          options.artifacts.store,
          options.artifacts.subscribe,
          invoker,
          store,
          logger,
          options.blobScanIntervalMs,
        );
      } else
        logger.warn(
          `host: ${blobFns.length} blob trigger(s) registered but the host has no embedded artifact store to watch`,
        );
    }
    let queues: QueueTriggers | undefined;
    const queueFns = registry.byTrigger('serviceBusTrigger');
    if (queueFns.length > 0) {
      if (options.queue)
        queues = new QueueTriggers(queueFns, options.queue, invoker, logger, {
          maxConcurrentCalls: hostJson.serviceBusMaxConcurrentCalls,
        });
      else logger.warn(`host: ${queueFns.length} Service Bus trigger(s) registered but the host has no embedded queue`);
    }
    manual = (fn, input) => {
      switch (fn.trigger.type) {
        case 'timerTrigger':
          return timers.runNow(fn.name)
            ? undefined
            : `Timer function '${fn.name}' has an invalid schedule and cannot run.`;
        case 'serviceBusTrigger':
          void invoker
            .invoke(fn, [{ name: fn.triggerName, data: { string: input ?? '' } }])
            .catch((err: unknown) => logger.error(`admin: manual run of ${fn.name} failed`, err));
          return undefined;
        case 'httpTrigger':
          return `'${fn.name}' is an HTTP function: call its route instead.`;
        default:
          return `Functions with a ${fn.trigger.type} cannot be run through the admin API${fn.trigger.type === 'blobTrigger' ? ': write a blob to the watched path instead' : fn.trigger.type === 'orchestrationTrigger' ? ': start it through the durable management API' : ''}.`;
      }
    };
    const host = new LocalHost(
      options,
      app,
      registry,
      invoker,
      engine,
      frontDoor,
      port,
      systemKey,
      db,
      timers,
      blobs,
      queues,
      replicas,
    );
    for (const hook of registry.hooks.appStart)
      await hook({
        hookData: invoker.appHookData,
        appHookData: invoker.appHookData,
        hostVersion: '4',
        functionAppDirectory: options.appRoot,
      });
    timers.start();
    await blobs?.start();
    queues?.start();
    replicas?.start();
    return host;
  }

  async stop(): Promise<void> {
    this.timers.stop();
    this.blobs?.stop();
    await this.queues?.stop();
    for (const hook of this.registry.hooks.appTerminate) {
      try {
        await hook({ hookData: this.invoker.appHookData, appHookData: this.invoker.appHookData });
      } catch (err) {
        this.options.logger.error('host: an appTerminate hook failed', err);
      }
    }
    await this.replicas?.stop();
    if (this.replicas !== undefined) offerServingPeers(undefined);
    await this.frontDoor.close();
    await this.engine.stop();
    this.db.close();
  }
}
