/**
 * The benchmark datasets of ../shared/datasets (datasets.json) and their fixed splits, written as
 * train/ and test/ MLTable folders the way a user would hand them to a job.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSpec } from '../../shared/contracts/azureml/index.js';
import type { AutomlJobSpec } from '../../shared/contracts/azureml/index.js';
import { resolveAutomlSettings } from '../../shared/ml/automl/settings.js';
import type { AutomlSettings } from '../../shared/ml/automl/types.js';

export const SHARED = fileURLToPath(new URL('../../../../shared/', import.meta.url));
export const DATASETS = join(SHARED, 'datasets');

export interface DatasetInfo {
  name: string;
  task: 'classification' | 'regression' | 'forecasting';
  target: string;
  path: string;
  time_column?: string;
  frequency?: string;
  horizon?: number;
  series_id_columns?: string[];
  season_length?: number;
  split: { train_rows?: number; test_points_per_series?: number };
}

export function datasets(): DatasetInfo[] {
  return (JSON.parse(readFileSync(join(DATASETS, 'datasets.json'), 'utf8')) as { datasets: DatasetInfo[] }).datasets;
}

const MLTABLE = (file: string, extra = ''): string =>
  [
    'type: mltable',
    'paths:',
    `  - file: ./${file}`,
    'transformations:',
    '  - read_delimited:',
    "      delimiter: ','",
    '      header: all_files_same_headers',
    '      encoding: utf8',
    extra,
  ].join('\n');

/**
 * train/ and test/ MLTable folders for a dataset, split by its fixed rule. For forecasting,
 * `origin` moves the split back: origin k holds out the `horizon` points of every series that end
 * k horizons before its last point, and trains on what comes before them (0: the fixed split).
 */
export function materialize(info: DatasetInfo, dir: string, origin = 0): { train: string; test: string } {
  const train = join(dir, 'train');
  const test = join(dir, 'test');
  mkdirSync(train, { recursive: true });
  mkdirSync(test, { recursive: true });
  const source = join(DATASETS, info.path);
  if (info.task !== 'forecasting') {
    if (origin !== 0) throw new RangeError(`${info.name}: only forecasting datasets have other origins`);
    const rows = info.split.train_rows ?? 0;
    copyFileSync(source, join(train, 'data.csv'));
    copyFileSync(source, join(test, 'data.csv'));
    writeFileSync(join(train, 'MLTable'), MLTABLE('data.csv', `  - take: ${rows}\n`));
    writeFileSync(join(test, 'MLTable'), MLTABLE('data.csv', `  - skip: ${rows}\n`));
    return { train, test };
  }
  const text = readFileSync(source, 'utf8');
  const [header, ...lines] = text.trimEnd().split('\n');
  const columns = (header ?? '').split(',');
  const ids = (info.series_id_columns ?? []).map((c) => columns.indexOf(c));
  const bySeries = new Map<string, string[]>();
  for (const line of lines) {
    const cells = line.split(',');
    const key = ids.map((i) => cells[i]).join('|');
    bySeries.set(key, [...(bySeries.get(key) ?? []), line]);
  }
  const h = info.split.test_points_per_series ?? info.horizon ?? 1;
  const trainLines: string[] = [];
  const testLines: string[] = [];
  for (const series of bySeries.values()) {
    const end = series.length - origin * h;
    if (end - h < 1) throw new RangeError(`${info.name}: a series has too few points for origin ${origin}`);
    trainLines.push(...series.slice(0, end - h));
    testLines.push(...series.slice(end - h, end));
  }
  writeFileSync(join(train, 'data.csv'), [header, ...trainLines].join('\n') + '\n');
  writeFileSync(join(test, 'data.csv'), [header, ...testLines].join('\n') + '\n');
  writeFileSync(join(train, 'MLTable'), MLTABLE('data.csv'));
  writeFileSync(join(test, 'MLTable'), MLTABLE('data.csv'));
  return { train, test };
}

/**
 * The settings of an AutoML job on `info` with `limits`, as its YAML resolves them: the issue's
 * primary metrics (AUC_weighted for classification, normalized RMSE otherwise), the dataset's
 * forecasting columns, horizon and frequency.
 */
export function automlSettingsFor(info: DatasetInfo, limits: Record<string, number>): AutomlSettings {
  const spec = {
    type: 'automl',
    task: info.task,
    target_column_name: info.target,
    primary_metric: info.task === 'classification' ? 'AUC_weighted' : 'normalized_root_mean_squared_error',
    training_data: { type: 'mltable', path: './train' },
    limits,
    ...(info.task !== 'forecasting'
      ? {}
      : {
          forecasting: {
            time_column_name: info.time_column ?? 'date',
            ...(info.horizon === undefined ? {} : { forecast_horizon: info.horizon }),
            ...(info.frequency === undefined ? {} : { frequency: info.frequency }),
            ...((info.series_id_columns ?? []).length === 0
              ? {}
              : { time_series_id_column_names: info.series_id_columns }),
          },
        }),
  };
  return resolveAutomlSettings(parseSpec('job', spec) as AutomlJobSpec);
}
