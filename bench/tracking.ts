// npm run bench -- tracking [runs] [historyPoints]
// MLflow tracking on the embedded SQLite store: log-batch throughput (1,000 metrics a batch, through
// the service), metrics/get-history paging over one long history, and runs/search latency over
// 100,000 runs with a metric filter and a metric order. Baseline in the same run and database: the
// same search computing each run's latest metric from the metric history (no latest_metrics table).
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRunSearchSql, SqliteTrackingStore } from '../shared/adapters/sqlite-tracking-store.js';
import { openSqlite } from '../shared/adapters/sqlite-database.js';
import { parseFilter, parseOrderBy } from '../shared/domain/mlflow-filter.js';
import { createTrackingService } from '../shared/services/tracking-service.js';
import { bulkLoadRuns } from './support/bulk-runs.js';

const WS = 'bench';
const FILTER = 'metrics.acc > 0.5';
const ORDER = ['metrics.acc DESC'];
const PAGE = 100;

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { samples: sorted.length, medianMs: round(at(0.5)), p95Ms: round(at(0.95)) };
}

function round(n: number): number {
  return Number(n.toFixed(3));
}

async function time(n: number, fn: () => unknown): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

async function run(): Promise<void> {
  const runCount = Number(process.argv[2] ?? 100_000);
  const historyPoints = Number(process.argv[3] ?? 100_000);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-tracking-'));
  const store = SqliteTrackingStore.open(join(dir, 'tracking.db'));
  let clock = 1_700_000_000_000;
  const tracking = createTrackingService({ store, clock: { now: () => clock++ } });
  const { experiment_id } = await tracking.createExperiment(WS, { name: 'bench' });

  // 1. log-batch throughput and history paging: one run, `historyPoints` points of one metric.
  const historyRun = (await tracking.createRun(WS, { experiment_id })).run.info.run_id;
  const t0 = performance.now();
  for (let done = 0; done < historyPoints; done += 1000) {
    const n = Math.min(1000, historyPoints - done);
    await tracking.logBatch(WS, {
      run_id: historyRun,
      metrics: Array.from({ length: n }, (_, i) => ({
        key: 'loss',
        value: 1 / (done + i + 1),
        timestamp: done + i,
        step: done + i,
      })),
    });
  }
  const logSeconds = (performance.now() - t0) / 1000;
  const pageTimes: number[] = [];
  let token: string | undefined;
  let points = 0;
  do {
    const p0 = performance.now();
    const page = await tracking.metricHistory(WS, {
      run_id: historyRun,
      metric_key: 'loss',
      max_results: 1000,
      ...(token === undefined ? {} : { page_token: token }),
    });
    pageTimes.push(performance.now() - p0);
    points += page.metrics.length;
    token = page.next_page_token;
  } while (token !== undefined);
  if (points !== historyPoints) throw new Error(`history paged ${points} points, expected ${historyPoints}`);

  // 2. `runCount` runs, each with acc (two steps), loss, a param and a tag. Setup, not measured: bulk
  // loaded in one transaction on a second connection, with the rows logBatch would write.
  const s0 = performance.now();
  bulkLoadRuns(store.file, WS, Number(experiment_id), runCount);
  const db = openSqlite(store.file);
  const setupSeconds = (performance.now() - s0) / 1000;

  const request = { experiment_ids: [experiment_id], filter: FILTER, order_by: ORDER, max_results: PAGE };
  const search = {
    experimentIds: [experiment_id],
    filter: parseFilter(FILTER),
    orderBy: parseOrderBy(ORDER),
    viewType: 'ACTIVE_ONLY' as const,
    maxResults: PAGE,
    offset: 0,
  };
  const indexed = buildRunSearchSql(WS, search);
  const matching = db
    .prepare("SELECT count(*) FROM latest_metrics WHERE key = 'acc' AND value > 0.5")
    .pluck()
    .get() as number;
  const latest = `(SELECT m.value FROM metrics m WHERE m.run_uuid = r.run_uuid AND m.key = ?
                   ORDER BY m.step DESC, m.timestamp DESC, m.value DESC LIMIT 1)`;
  const baselineSql = `SELECT r.* FROM runs r WHERE r.ws = ? AND r.experiment_id IN (?) AND r.lifecycle_stage = 'active'
    AND ${latest} > ? ORDER BY ${latest} DESC, r.start_time DESC, r.run_uuid ASC LIMIT ?`;
  const baselineArgs = [WS, Number(experiment_id), 'acc', 0.5, 'acc', PAGE + 1];
  const indexedStmt = db.prepare(indexed.sql);
  const baselineStmt = db.prepare(baselineSql);
  const fast = indexedStmt.all(...indexed.args) as { run_uuid: string }[];
  const slow = baselineStmt.all(...baselineArgs) as { run_uuid: string }[];
  if (JSON.stringify(fast.map((r) => r.run_uuid)) !== JSON.stringify(slow.map((r) => r.run_uuid)))
    throw new Error('the indexed search and the baseline disagree');

  await time(3, () => tracking.searchRuns(WS, request)); // warm-up
  const service = stats(await time(30, () => tracking.searchRuns(WS, request)));
  const sqlOnly = stats(await time(30, () => indexedStmt.all(...indexed.args)));
  const baseline = stats(await time(7, () => baselineStmt.all(...baselineArgs)));
  const secondPage = stats(
    await time(10, () =>
      tracking.searchRuns(WS, { ...request, page_token: Buffer.from('{"offset":1000}').toString('base64url') }),
    ),
  );
  const plan = (db.prepare(`EXPLAIN QUERY PLAN ${indexed.sql}`).all(...indexed.args) as { detail: string }[]).map(
    (r) => r.detail,
  );
  db.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });

  const result = {
    benchmark: 'tracking',
    machine: { cpus: cpus().length, node: process.version },
    logBatch: {
      points: historyPoints,
      batchSize: 1000,
      seconds: round(logSeconds),
      pointsPerSecond: Math.round(historyPoints / logSeconds),
    },
    getHistory: {
      points: historyPoints,
      pageSize: 1000,
      pages: pageTimes.length,
      firstPage: stats(pageTimes.slice(0, 10)),
      lastPages: stats(pageTimes.slice(-10)),
    },
    runsSearch: {
      runs: runCount,
      filter: FILTER,
      orderBy: ORDER,
      maxResults: PAGE,
      matchingRuns: matching,
      setupSeconds: round(setupSeconds),
      serviceEndToEnd: service,
      serviceOffset1000: secondPage,
      sqlOnly,
      plan,
      baseline: {
        what: 'same query, latest metric computed from the metrics history (no latest_metrics)',
        ...baseline,
      },
      speedupSqlOverBaseline: round(baseline.medianMs / sqlOnly.medianMs),
    },
  };
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

run().catch((err: unknown) => {
  process.stderr.write(`bench tracking failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
