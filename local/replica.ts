/**
 * A scoring replica of the local host (see local/replicas.ts), started by the main process with an
 * IPC channel: `node dist/local/replica.js --app DIR --forward-to ORIGIN --index N`. It loads the same app and opens the same
 * services (same store, same settings: the main process's environment), then serves the
 * connections the main process hands it — direct lanes here (the scoring URI), every other request
 * forwarded to the main process (its loopback ORIGIN). It answers the main process's
 * `changed` (drop the cached endpoint documents, load revisions that moved on, unload what was
 * deleted) and `stats` questions. It ends when the main process does (its IPC channel closes).
 */
import './core-shim.js';
import type { Socket } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resetRegistry } from './core-shim.js';
import { loadApp } from './app-loader.js';
import { FrontDoor } from './http/server.js';
import { forwarder } from './http/forward.js';
import { Invoker } from './invoke.js';
import { createConsoleLogger } from './logger.js';
import type { FromReplica, ToReplica } from './replicas.js';
import { readHostJson } from './settings.js';
import { servingDeployment } from '../shared/serving/from-contracts.js';
import { closeServices, getServices } from '../shared/wiring.js';
import type { Services } from '../shared/wiring.js';

const defaultAppRoot = resolve(fileURLToPath(import.meta.url), '../../..');

function send(message: FromReplica): void {
  process.send?.(message);
}

/**
 * After a write in the main process: forget the cached endpoints, then bring every deployment this
 * replica has live to the revision the store now serves (or unload it), so that the next request
 * neither reads a stale document nor waits for a model to load.
 */
async function refresh(services: Services): Promise<void> {
  services.endpoints.forgetScoringCache();
  const registry = services.scorers;
  const byEndpoint = new Map<string, Set<string>>();
  for (const { endpoint, deployment } of registry.loaded()) {
    const names = byEndpoint.get(endpoint) ?? new Set<string>();
    names.add(deployment);
    byEndpoint.set(endpoint, names);
  }
  await Promise.all(
    [...byEndpoint].map(async ([endpoint, names]) => {
      const found = await services.endpoints.directory.lookup(endpoint);
      const current = new Map((found?.deployments ?? []).map((d) => [d.name, d]));
      await Promise.all(
        [...names].map(async (name) => {
          const deployment = current.get(name);
          if (deployment === undefined) return registry.remove(endpoint, name);
          // A revision that fails to load here keeps the old one live; the request path retries it.
          await registry.ensure(servingDeployment(deployment)).catch(() => undefined);
        }),
      );
    }),
  );
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const appRoot = resolve(option('--app') ?? defaultAppRoot);
  const forwardTo = option('--forward-to');
  if (process.send === undefined || forwardTo === undefined) {
    throw new Error('a scoring replica is started by the local host (local/replicas.ts), not by hand');
  }
  const index = option('--index') ?? '?';
  const logger = createConsoleLogger('warning', (line) => process.stdout.write(`[replica ${index}] ${line}\n`));
  const registry = resetRegistry();
  await loadApp(appRoot);
  const services = await getServices();
  const upstream = forwarder(new URL(forwardTo), logger);
  const frontDoor = new FrontDoor({
    registry,
    invoker: new Invoker(registry, logger),
    logger,
    routePrefix: readHostJson(appRoot).routePrefix,
    adminNeedsKey: true,
    invokeByAdmin: () => 'a scoring replica runs no functions by hand',
    replica: { forward: upstream.forward },
  });

  process.on('message', (message: ToReplica, handle: unknown) => {
    switch (message.t) {
      case 'conn':
        frontDoor.adopt(handle as Socket);
        return;
      case 'changed':
        void refresh(services)
          .catch((err: unknown) => logger.error('replica: refreshing after a change failed', err))
          .finally(() => send({ t: 'changed', id: message.id }));
        return;
      case 'stats':
        send({
          t: 'stats',
          id: message.id,
          snapshot: services.scorers.statsOf(message.endpoint, message.deployment) ?? null,
        });
        return;
    }
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    upstream.close();
    void frontDoor
      .close()
      // closeServices closes the scorers too.
      .then(() => closeServices())
      .finally(() => process.exit(0));
  };
  // The main process ended (its IPC channel closed) or stops this replica.
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  process.on('SIGINT', () => undefined); // Ctrl-C reaches the whole group: the main process decides.
  send({ t: 'ready' });
}

main().catch((err: unknown) => {
  process.stderr.write(
    `tessera replica: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
