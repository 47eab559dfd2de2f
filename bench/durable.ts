// npm run bench -- durable
// Fan-out of 1,000 no-op activities and a sequential chain of 100 on the embedded durable
// engine, against a baseline in the same run: the same 1,000 activity calls made directly
// through the worker invocation pipeline, with no orchestration, history or persistence.
import '../local/core-shim.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalHost } from '../local/host.js';
import { createConsoleLogger } from '../local/logger.js';
import { prepareFixtureApp } from '../test/support/fixture-app.js';

interface Status {
  runtimeStatus: string;
  output: unknown;
}

async function run(): Promise<void> {
  const fanOutN = Number(process.argv[2] ?? 1000);
  const chainN = Number(process.argv[3] ?? 100);
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  const host = await LocalHost.start({
    appRoot: prepareFixtureApp(),
    dataDir,
    port: 0,
    bindAddress: '127.0.0.1',
    logger: createConsoleLogger('error'),
  });
  const base = `${host.origin}/runtime/webhooks/durabletask`;
  const start = async (name: string, input: unknown) => {
    const res = await fetch(`${base}/orchestrators/${name}?code=${host.systemKey}`, {
      method: 'POST',
      body: JSON.stringify(input),
    });
    return ((await res.json()) as { id: string }).id;
  };
  const wait = async (id: string): Promise<Status> => {
    for (;;) {
      await host.engine.whenIdle();
      const res = await fetch(`${base}/instances/${id}?code=${host.systemKey}`);
      const s = (await res.json()) as Status;
      if (['Completed', 'Failed', 'Terminated'].includes(s.runtimeStatus)) return s;
      await new Promise((r) => setTimeout(r, 1));
    }
  };
  const measure = async (name: string, input: unknown) => {
    const before = { ...host.engine.stats };
    const t0 = performance.now();
    const status = await wait(await start(name, input));
    const seconds = (performance.now() - t0) / 1000;
    if (status.runtimeStatus !== 'Completed')
      throw new Error(`${name} ended ${status.runtimeStatus}: ${JSON.stringify(status.output)}`);
    return {
      wallSeconds: Number(seconds.toFixed(3)),
      episodes: host.engine.stats.episodes - before.episodes,
      historyEventsReplayed: host.engine.stats.eventsReplayed - before.eventsReplayed,
      activities: host.engine.stats.activitiesRun - before.activitiesRun,
      output: status.output,
    };
  };

  await measure('fanOut', { n: 10 }); // warm-up: module loading, JIT
  const fanOut = await measure('fanOut', { n: fanOutN });
  const chain = await measure('sequence', chainN);

  const work = host.registry.get('work');
  if (!work) throw new Error('the bench app has no activity "work"');
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: fanOutN }, (_, i) =>
      host.invoker.invoke(work, [{ name: work.triggerName, data: { string: JSON.stringify({ i, sleepMs: 0 }) } }]),
    ),
  );
  const directSeconds = (performance.now() - t0) / 1000;

  await host.stop();
  rmSync(dataDir, { recursive: true, force: true });
  const result = {
    benchmark: 'durable',
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
    fanOut: { size: fanOutN, ...fanOut, target: 'under 2 s on 2 cores' },
    sequentialChain: { length: chainN, ...chain },
    baseline: {
      what: `${fanOutN} direct activity invocations through the worker pipeline (no orchestration, no persistence)`,
      wallSeconds: Number(directSeconds.toFixed(3)),
    },
    durableOverheadPerActivityMs: Number((((fanOut.wallSeconds - directSeconds) / fanOutN) * 1000).toFixed(4)),
  };
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

run().catch((err: unknown) => {
  process.stderr.write(`bench durable failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
