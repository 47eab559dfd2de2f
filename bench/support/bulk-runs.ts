import { openSqlite } from '../../shared/adapters/sqlite-database.js';

/**
 * Loads `count` finished runs into experiment `experimentId` of workspace `ws` in a SQLite tracking
 * database, in one transaction, with the rows log-batch would write: each run has `acc` (two steps)
 * and `loss` metrics, an `lr` param and its run name tag. Benchmark setup, not a measured path.
 */
export function bulkLoadRuns(file: string, ws: string, experimentId: number, count: number): void {
  const db = openSqlite(file);
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const insertRun = db.prepare(`INSERT INTO runs VALUES (?, ?, ?, ?, 'bench', 'FINISHED', ?, NULL, ?, 'active')`);
  const insertTag = db.prepare('INSERT INTO tags VALUES (?, ?, ?)');
  const insertParam = db.prepare('INSERT INTO params VALUES (?, ?, ?)');
  const insertMetric = db.prepare(
    'INSERT INTO metrics (run_uuid, key, value, is_nan, timestamp, step) VALUES (?, ?, ?, 0, ?, ?)',
  );
  const insertLatest = db.prepare('INSERT INTO latest_metrics VALUES (?, ?, ?, 0, ?, ?, ?, ?)');
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const runId = `run${String(i).padStart(8, '0')}`;
      insertRun.run(runId, ws, experimentId, `r${i}`, 1_700_000_000_000 + i, `mlflow-artifacts:/bench/${runId}`);
      insertTag.run(runId, 'mlflow.runName', `r${i}`);
      insertParam.run(runId, 'lr', String(i % 10));
      const acc = random();
      const loss = random();
      insertMetric.run(runId, 'acc', random() * 0.5, 1, 0);
      insertMetric.run(runId, 'acc', acc, 2, 1);
      insertMetric.run(runId, 'loss', loss, 2, 1);
      insertLatest.run(runId, 'acc', acc, 2, 1, ws, experimentId);
      insertLatest.run(runId, 'loss', loss, 2, 1, ws, experimentId);
    }
  })();
  db.exec('ANALYZE');
  db.close();
}
