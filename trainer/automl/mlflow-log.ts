/**
 * What the built-in AutoML program logs to MLflow, as any training script would: the run comes
 * from MLFLOW_TRACKING_URI, MLFLOW_RUN_ID and MLFLOW_TRACKING_TOKEN (set by the trainer). Outside a
 * job (no MLFLOW_RUN_ID) nothing is logged.
 */

export interface RunLog {
  metrics?: Record<string, number>;
  params?: Record<string, string | number | boolean>;
  tags?: Record<string, string>;
}

/** MLflow's limit per log-batch call. */
const MAX_METRICS_PER_BATCH = 1000;
const MAX_PARAM_LENGTH = 6000;

export async function logToRun(log: RunLog, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const uri = env.MLFLOW_TRACKING_URI;
  const runId = env.MLFLOW_RUN_ID;
  if (uri === undefined || uri === '' || runId === undefined || runId === '') return;
  const url = `${uri.replace(/\/+$/, '')}/api/2.0/mlflow/runs/log-batch`;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const token = env.MLFLOW_TRACKING_TOKEN ?? '';
  if (token !== '') headers.authorization = `Bearer ${token}`;
  const timestamp = Date.now();
  const metrics = Object.entries(log.metrics ?? {})
    .filter(([, v]) => Number.isFinite(v))
    .map(([key, value]) => ({ key, value, timestamp, step: 0 }));
  const params = Object.entries(log.params ?? {}).map(([key, value]) => ({
    key,
    value: String(value).slice(0, MAX_PARAM_LENGTH),
  }));
  const tags = Object.entries(log.tags ?? {}).map(([key, value]) => ({ key, value }));
  for (let i = 0; i === 0 || i < metrics.length; i += MAX_METRICS_PER_BATCH) {
    const body = {
      run_id: runId,
      metrics: metrics.slice(i, i + MAX_METRICS_PER_BATCH),
      ...(i === 0 ? { params, tags } : { params: [], tags: [] }),
    };
    const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
    if (!response.ok) {
      throw new Error(`MLflow runs/log-batch failed with HTTP ${response.status}: ${await response.text()}`);
    }
  }
}
