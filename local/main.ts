#!/usr/bin/env node
/**
 * `npm start`: the Tessera platform on the embedded default. Also the host's own commands:
 *   node dist/local/main.js [start] [--app DIR]
 *   node dist/local/main.js token create [--workspace W ...] [--description D] [--expires-in-days N]
 *   node dist/local/main.js token list | token revoke --id ID
 */
import './core-shim.js';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyLocalSettings, SettingsError } from './settings.js';
import { createConsoleLogger } from './logger.js';
import { LocalHost } from './host.js';
import { loadConfig } from '../shared/config.js';
import type { Config } from '../shared/config.js';
import { getServices, closeServices } from '../shared/wiring.js';
import { bootstrapEmbedded } from '../shared/services/bootstrap.js';
import { seedSampleWorkspace } from '../shared/services/sample-workspace.js';
import { FilesystemArtifactStore } from '../shared/adapters/filesystem-artifact-store.js';
import { AppError } from '../shared/errors.js';

const defaultAppRoot = resolve(fileURLToPath(import.meta.url), '../../..');

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function options(args: string[], name: string): string[] {
  const out: string[] = [];
  args.forEach((a, i) => {
    if (a === name && args[i + 1] !== undefined) out.push(args[i + 1] as string);
  });
  return out;
}

async function start(args: string[], config: Readonly<Config>, appRoot: string): Promise<void> {
  const logger = createConsoleLogger('information');
  const services = await getServices();
  const artifacts =
    services.artifacts instanceof FilesystemArtifactStore
      ? {
          store: services.artifacts,
          subscribe: (l: Parameters<typeof FilesystemArtifactStore.onPut>[1]) =>
            FilesystemArtifactStore.onPut(resolve(config.dataDir, 'artifacts'), l),
        }
      : undefined;
  const host = await LocalHost.start({
    appRoot,
    dataDir: config.dataDir,
    port: config.port,
    bindAddress: config.bindAddress,
    logger,
    publicUrl: config.publicUrl,
    ...(artifacts ? { artifacts } : {}),
    // The Functions runtime setting, read here as the Functions host reads it.
    ...(process.env.WEBSITE_TIME_ZONE ? { timerTimeZone: process.env.WEBSITE_TIME_ZONE } : {}),
    ...(services.queue.kind === 'sqlite' ? { queue: services.queue } : {}),
    directLane: config.directHttp,
    scoringReplicas: config.scoringReplicas,
  });
  const endpoint = config.publicUrl;
  let credentialsLine = '';
  if (config.store === 'embedded') {
    const boot = await bootstrapEmbedded({ services, dataDir: config.dataDir, endpoint });
    credentialsLine = `  credentials:  ${boot.credentialsPath}${boot.created ? ' (new admin token written)' : ''}`;
    try {
      const seeded = await seedSampleWorkspace({ services, examplesDir: resolve(appRoot, 'examples') });
      if (seeded)
        credentialsLine += `\n  sample:       data asset ${seeded} in workspace default (try: npx tessera data preview -n iris -v 1)`;
    } catch (err) {
      logger.warn(
        `host: the sample data asset could not be registered: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
  const counts = new Map<string, number>();
  for (const fn of host.registry.functions.values())
    counts.set(fn.trigger.type, (counts.get(fn.trigger.type) ?? 0) + 1);
  const lines = [
    `Tessera is running at ${host.origin} (listening on ${config.bindAddress}:${host.port})`,
    `  health:       ${host.origin}/api/health`,
    `  functions:    ${host.registry.functions.size} (${[...counts].map(([t, n]) => `${n} ${t}`).join(', ')}) - ${host.origin}/admin/functions`,
    `  store:        ${config.store} (metadata ${services.store.kind}, artifacts ${services.artifacts.kind}, queue ${services.queue.kind})`,
    `  data folder:  ${config.dataDir}`,
    `  scoring:      ${host.replicas === undefined ? 'in this process' : `this process and ${config.scoringReplicas} scoring replica(s) (TESSERA_SCORING_REPLICAS)`}`,
    ...(credentialsLine ? [credentialsLine] : []),
    config.auth === 'off'
      ? '  auth:         OFF (TESSERA_AUTH=off): every route is open on this loopback address'
      : '  auth:         bearer token required on every route but /api/health',
  ];
  process.stdout.write(lines.join('\n') + '\n');

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`host: ${signal} received, stopping`);
    void host
      .stop()
      .then(() => closeServices())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error('host: error while stopping', err);
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  void args;
}

async function token(args: string[]): Promise<void> {
  const services = await getServices();
  const sub = args[0];
  try {
    if (sub === 'create') {
      const workspaces = options(args, '--workspace');
      const days = option(args, '--expires-in-days');
      const created = await services.tokens.create({
        workspaces: workspaces.length ? workspaces : ['*'],
        description: option(args, '--description') ?? 'created from the host command line',
        ...(days ? { expiresInDays: Number(days) } : {}),
      });
      process.stdout.write(JSON.stringify(created, null, 2) + '\nThe token is shown once; store it now.\n');
    } else if (sub === 'list') {
      process.stdout.write(JSON.stringify(await services.tokens.list(), null, 2) + '\n');
    } else if (sub === 'revoke') {
      const id = option(args, '--id');
      if (!id) throw new AppError('ValidationError', 'token revoke needs --id ID (see token list).');
      await services.tokens.revoke(id);
      process.stdout.write(`revoked ${id}\n`);
    } else {
      throw new AppError('ValidationError', `unknown token command '${sub ?? ''}': use token create|list|revoke.`);
    }
  } finally {
    await closeServices();
  }
}

function freePort(host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      probe.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const command = argv[0] && !argv[0].startsWith('-') ? argv[0] : 'start';
  const rest = command === argv[0] ? argv.slice(1) : argv;
  const appRoot = resolve(option(rest, '--app') ?? defaultAppRoot);
  applyLocalSettings(appRoot);
  if (command === 'start' && process.env.PORT === '0') {
    // PORT=0 means "any free port": choose it now so that every URL the platform hands out
    // (TESSERA_PUBLIC_URL's default, signed artifact URLs, credentials.json) names the real one.
    process.env.PORT = String(await freePort(process.env.TESSERA_BIND_ADDRESS ?? '127.0.0.1'));
  }
  const config = loadConfig();
  if (command === 'start') return start(rest, config, appRoot);
  if (command === 'token') return token(rest);
  throw new AppError(
    'ValidationError',
    `unknown command '${command}': use start (default) or token create|list|revoke.`,
  );
}

main().catch((err: unknown) => {
  if (err instanceof AppError || err instanceof SettingsError) {
    process.stderr.write(`tessera: ${err.message}\n`);
    process.exit(2);
  }
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'EADDRINUSE') {
    process.stderr.write(`tessera: the port is already in use (${e.message}); set PORT to another port.\n`);
    process.exit(2);
  }
  process.stderr.write(
    `tessera: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
