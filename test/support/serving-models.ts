// Model folders for the serving tests, built in-process with shared/ml: an AutoML pipeline
// (featurizer + model, exported with its manifest) over a mixed table, and bare ONNX graphs.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { algorithmEntry } from '../../shared/ml/automl/algorithms.js';
import { featurizeDataset, prepareDataset } from '../../shared/ml/automl/dataset.js';
import { exportPipeline, predictedLabels, predictPipeline, toFloat32Values } from '../../shared/ml/automl/pipeline.js';
import type { AutomlSettings, FittedPipeline, ModelManifest, TabularTask } from '../../shared/ml/automl/types.js';
import { createOnnxGraph } from '../../shared/ml/onnx/graph-builder.js';
import type { Table } from '../../shared/ml/types.js';
import { MIXED_ROWS, MIXED_TRAIN, mixedTable, slice, table } from './ml-tables.js';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `tessera-${prefix}-`));
}

function settings(task: TabularTask): AutomlSettings {
  return {
    task,
    targetColumn: 'target',
    primaryMetric: task === 'classification' ? 'accuracy' : 'normalized_root_mean_squared_error',
    validation: { kind: 'cv', folds: 3 },
    algorithms: [],
    enableVoteEnsemble: false,
    enableStackEnsemble: false,
    maxTrials: 1,
    maxConcurrentTrials: 1,
    earlyTermination: false,
    seed: 0,
    notices: [],
  };
}

export interface AutomlModelFolder {
  dir: string;
  manifest: ModelManifest;
  pipeline: FittedPipeline;
  /** Holdout rows (no target). */
  holdout: Table;
  /** What predictPipeline answers on the holdout rows: labels, or regression values. */
  expected: string[] | Float64Array;
}

/** An AutoML model folder (model.onnx + manifest.json) of one fitted pipeline. */
export function automlModelFolder(task: TabularTask, algorithm: string): AutomlModelFolder {
  const all = mixedTable(task);
  const data = prepareDataset(settings(task), slice(all, 0, MIXED_TRAIN));
  const holdout = table(...slice(all, MIXED_TRAIN, MIXED_ROWS).columns.filter((c) => c.name !== 'target'));
  const { featurizer, train } = featurizeDataset(data);
  const entry = algorithmEntry(task, algorithm);
  const params = { ...entry.defaults };
  if (typeof params['nEstimators'] === 'number') params['nEstimators'] = 10;
  const model = entry.fit(toFloat32Values(train), data.y, params, { seed: 0 });
  const pipeline: FittedPipeline = { task, featurizer, head: { kind: 'single', config: { algorithm, params }, model } };
  if (task === 'classification') pipeline.classes = data.classes ?? [];
  const { onnx, manifest } = exportPipeline(pipeline, {
    target: 'target',
    primaryMetric: data.settings.primaryMetric,
    featurization: data.featurization,
    trainingRows: data.features.rows,
  });
  const dir = tempDir(`automl-${task}`);
  writeFileSync(join(dir, 'model.onnx'), onnx);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  const ts = predictPipeline(pipeline, holdout);
  const expected = task === 'classification' ? predictedLabels(pipeline, ts) : (ts.prediction as Float64Array);
  return { dir, manifest, pipeline, holdout, expected };
}

/** The rows of a table as JSON cells in `columns` order: missing → null, datetimes as ISO text. */
export function jsonRows(t: Table, columns: readonly string[]): unknown[][] {
  const byName = new Map(t.columns.map((c) => [c.name, c]));
  return Array.from({ length: t.rows }, (_, r) =>
    columns.map((name) => {
      const c = byName.get(name);
      if (c === undefined) throw new Error(`no column ${name}`);
      const v = c.values[r];
      if (c.kind === 'datetime') return Number.isNaN(v as number) ? null : new Date(v as number).toISOString();
      if (c.kind === 'numeric') return Number.isNaN(v as number) ? null : v;
      return v ?? null;
    }),
  );
}

/** A bare linear model: y = x · w + b over a float input [N, F]. */
export function linearOnnx(weights: readonly number[], bias: number): Uint8Array {
  const g = createOnnxGraph('linear');
  const x = g.input('x', 'float', ['N', weights.length]);
  const w = g.constant('w', { type: 'float', dims: [weights.length, 1], data: [...weights] });
  const b = g.constant('b', { type: 'float', dims: [1], data: [bias] });
  const [xw] = g.node('MatMul', [x, w], [g.fresh('xw')]);
  g.node('Add', [xw as string, b], ['y']);
  g.output('y', 'float', ['N', 1]);
  return g.toBytes();
}

/** A folder holding one bare .onnx file (not named model.onnx). */
export function bareModelFolder(weights: readonly number[], bias: number): string {
  const dir = tempDir('bare');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'linear.onnx'), linearOnnx(weights, bias));
  return dir;
}
