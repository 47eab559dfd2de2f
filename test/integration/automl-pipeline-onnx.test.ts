// A whole AutoML pipeline (featurizer + model, vote or stack) exported as one ONNX graph and run by
// onnxruntime-node agrees with predictPipeline on holdout rows of a mixed table (numbers with
// missing values, a categorical, a datetime, short text): probabilities and predictions within
// 1e-5 relative, labels exactly, for every registered algorithm of both tasks, and for the fold
// bag a cross-validated trial keeps.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OnnxModelRuntime } from '../../shared/adapters/onnx-runtime.js';
import { ALGORITHMS, algorithmEntry } from '../../shared/ml/automl/algorithms.js';
import { featurizeDataset, prepareDataset } from '../../shared/ml/automl/dataset.js';
import {
  alignedProbabilities,
  exportPipeline,
  predictedLabels,
  predictPipeline,
  stackInputs,
  toFloat32Values,
} from '../../shared/ml/automl/pipeline.js';
import type {
  AutomlSettings,
  FittedPipeline,
  ModelManifest,
  PipelineHead,
  PreparedDataset,
  TabularTask,
} from '../../shared/ml/automl/types.js';
import { fitPipeline } from '../../shared/ml/automl/refit.js';
import { runTrial } from '../../shared/ml/automl/trial.js';
import { toOnnxFeeds } from '../../shared/ml/featurize/onnx-io.js';
import { AveragedModel } from '../../shared/ml/models/averaged.js';
import type { FittedModel, Matrix, Table } from '../../shared/ml/types.js';
import type { ModelSession, RuntimeTensor } from '../../shared/ports/model-runtime.js';
import { MIXED_ROWS, MIXED_TRAIN, mixedTable, slice, table } from '../support/ml-tables.js';

const RELATIVE = 1e-5;
const FLOAT32_MIN_NORMAL = 2 ** -126;

const runtime = new OnnxModelRuntime();
const sessions: ModelSession[] = [];
after(async () => {
  for (const s of sessions) await s.close();
});

function settings(task: TabularTask): AutomlSettings {
  return {
    task,
    targetColumn: 'target',
    primaryMetric: task === 'classification' ? 'accuracy' : 'normalized_root_mean_squared_error',
    validation: { kind: 'cv', folds: 3 },
    algorithms: [],
    enableVoteEnsemble: true,
    enableStackEnsemble: true,
    maxTrials: 10,
    maxConcurrentTrials: 1,
    earlyTermination: false,
    seed: 0,
    notices: [],
  };
}

interface Fixture {
  data: PreparedDataset;
  holdout: Table;
  X: Matrix;
  featurizer: FittedPipeline['featurizer'];
}

const fixtures = new Map<TabularTask, Fixture>();
function fixture(task: TabularTask): Fixture {
  let f = fixtures.get(task);
  if (f === undefined) {
    const all = mixedTable(task);
    const data = prepareDataset(settings(task), slice(all, 0, MIXED_TRAIN));
    const holdout = table(...slice(all, MIXED_TRAIN, MIXED_ROWS).columns.filter((c) => c.name !== 'target'));
    const { featurizer, train } = featurizeDataset(data);
    f = { data, holdout, X: toFloat32Values(train), featurizer };
    fixtures.set(task, f);
  }
  return f;
}

function fit(
  task: TabularTask,
  algorithm: string,
  seed = 0,
): { model: FittedModel; config: PipelineHead & { kind: 'single' } } {
  const f = fixture(task);
  const entry = algorithmEntry(task, algorithm);
  const params = { ...entry.defaults };
  if (typeof params['nEstimators'] === 'number') params['nEstimators'] = 15;
  const model = entry.fit(f.X, f.data.y, params, { seed });
  return { model, config: { kind: 'single', config: { algorithm, params }, model } };
}

/** |onnx − ts| ≤ RELATIVE·|ts| element-wise; returns the largest relative difference. */
function assertClose(onnx: Float32Array, ts: Float64Array, what: string): number {
  assert.equal(onnx.length, ts.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < ts.length; i++) {
    const expected = ts[i] as number;
    const diff = Math.abs((onnx[i] as number) - expected);
    const scale = Math.abs(expected);
    if (scale < FLOAT32_MIN_NORMAL && diff < FLOAT32_MIN_NORMAL) continue;
    assert.ok(diff <= RELATIVE * scale, `${what}[${i}]: onnxruntime ${onnx[i]}, TypeScript ${expected}`);
    worst = Math.max(worst, diff / scale);
  }
  return worst;
}

function output(outputs: Record<string, RuntimeTensor>, name: string | undefined): RuntimeTensor {
  assert.ok(name !== undefined, 'the manifest names the output');
  const t = outputs[name];
  assert.ok(t !== undefined, `no output '${name}'`);
  return t;
}

async function assertPipelineAgrees(pipeline: FittedPipeline): Promise<ModelManifest> {
  const f = fixture(pipeline.task);
  const { onnx, manifest } = exportPipeline(pipeline, {
    target: 'target',
    primaryMetric: f.data.settings.primaryMetric,
    score: 0.5,
    featurization: f.data.featurization,
    trainingRows: f.data.features.rows,
  });
  const session = await runtime.load(onnx);
  sessions.push(session);
  const outputs = await session.run(toOnnxFeeds(f.holdout, pipeline.featurizer.onnxInputs));
  const ts = predictPipeline(pipeline, f.holdout);
  if (pipeline.task === 'classification') {
    assert.deepEqual(manifest.outputs, { label: 'label', probabilities: 'probabilities' });
    const probs = output(outputs, manifest.outputs.probabilities);
    assert.equal(probs.type, 'float');
    assert.deepEqual(probs.dims, [f.holdout.rows, 3]);
    assertClose(probs.data as Float32Array, ts.probabilities as Float64Array, 'probabilities');
    const labels = output(outputs, manifest.outputs.label);
    assert.deepEqual(labels.data, predictedLabels(pipeline, ts));
  } else {
    assert.deepEqual(manifest.outputs, { prediction: 'prediction' });
    const pred = output(outputs, manifest.outputs.prediction);
    assert.deepEqual(pred.dims, [f.holdout.rows, 1]);
    assertClose(pred.data as Float32Array, ts.prediction as Float64Array, 'prediction');
  }
  return manifest;
}

for (const task of ['classification', 'regression'] as const) {
  describe(`${task} pipelines exported to ONNX agree with TypeScript on holdout rows`, () => {
    for (const entry of ALGORITHMS[task]) {
      test(entry.name, async () => {
        const f = fixture(task);
        const { config } = fit(task, entry.name);
        const pipeline: FittedPipeline = { task, featurizer: f.featurizer, head: config };
        if (task === 'classification') pipeline.classes = f.data.classes ?? [];
        const manifest = await assertPipelineAgrees(pipeline);
        assert.equal(manifest.algorithm, entry.name);
        assert.equal(manifest.format, 'tessera.automl.v1');
      });
    }

    const memberNames =
      task === 'classification'
        ? ['LightGBM', 'LogisticRegression', 'RandomForest']
        : ['LightGBM', 'ElasticNet', 'RandomForest'];

    test('vote head', async () => {
      const f = fixture(task);
      const members = memberNames.map((name, i) => {
        const { model, config } = fit(task, name);
        return { config: config.config, model, weight: [3, 1, 2][i] as number };
      });
      const pipeline: FittedPipeline = { task, featurizer: f.featurizer, head: { kind: 'vote', members } };
      if (task === 'classification') pipeline.classes = f.data.classes ?? [];
      const manifest = await assertPipelineAgrees(pipeline);
      assert.equal(manifest.algorithm, 'VotingEnsemble');
      assert.deepEqual(
        manifest.members?.map((m) => [m.algorithm, m.weight]),
        memberNames.map((n, i) => [n, [3, 1, 2][i]]),
      );
    });

    test('fold bag: a cross-validated trial’s model, and a vote of fold bags', async () => {
      const f = fixture(task);
      const config = { algorithm: 'LightGBM', params: { nEstimators: 15 } };
      const out = runTrial(f.data, config);
      const head = out.pipeline.head;
      assert.ok(head.kind === 'single' && head.model instanceof AveragedModel);
      assert.equal(head.model.members.length, f.data.folds.length);
      const manifest = await assertPipelineAgrees(out.pipeline);
      assert.equal(manifest.algorithm, 'LightGBM');
      assert.equal(manifest.foldModels, f.data.folds.length);
      const vote = fitPipeline(f.data, {
        kind: 'vote',
        members: [
          { config, weight: 2 },
          { config: { algorithm: memberNames[1] as string, params: {} }, weight: 1 },
        ],
      });
      const voteManifest = await assertPipelineAgrees(vote);
      assert.deepEqual(
        voteManifest.members?.map((m) => m.foldModels),
        [5, undefined],
        'the boosting member averages five fold models; the other is fitted on every row',
      );
    });

    for (const metaName of [task === 'classification' ? 'LogisticRegression' : 'ElasticNet', 'LightGBM']) {
      test(`stack head (${metaName} meta-learner)`, async () => {
        const f = fixture(task);
        const members = memberNames.map((name) => {
          const { model, config } = fit(task, name);
          return { config: config.config, model };
        });
        const classes = f.data.classes;
        const Z = stackInputs(
          members.map((m) =>
            classes === undefined ? m.model.predict(f.X) : alignedProbabilities(m.model, f.X, classes),
          ),
          f.X.rows,
        );
        const meta = algorithmEntry(task, metaName).fit(Z, f.data.y, {}, { seed: 0 });
        const pipeline: FittedPipeline = {
          task,
          featurizer: f.featurizer,
          head: { kind: 'stack', members, meta, metaConfig: { algorithm: metaName, params: {} } },
        };
        if (classes !== undefined) pipeline.classes = classes;
        const manifest = await assertPipelineAgrees(pipeline);
        assert.equal(manifest.algorithm, 'StackEnsemble');
        assert.equal(manifest.params['metaLearner'], metaName);
      });
    }
  });
}

describe('the exported pipeline', () => {
  test('declares the raw columns as inputs and carries its manifest as metadata', async () => {
    const f = fixture('classification');
    const { config } = fit('classification', 'DecisionTree');
    const pipeline: FittedPipeline = {
      task: 'classification',
      featurizer: f.featurizer,
      head: config,
      classes: f.data.classes ?? [],
    };
    const { onnx, manifest } = exportPipeline(pipeline, {
      target: 'target',
      primaryMetric: 'accuracy',
      featurization: f.data.featurization,
      trainingRows: MIXED_TRAIN,
    });
    assert.deepEqual(
      manifest.inputs.map((i) => [i.column, i.kind, i.onnxType, i.encoding]),
      [
        ['income', 'numeric', 'float', 'float32'],
        ['age', 'numeric', 'float', 'float32'],
        ['color', 'categorical', 'string', 'string'],
        ['signup', 'datetime', 'double', 'epoch-ms'],
        ['note', 'text', 'string', 'tokens'],
      ],
    );
    assert.deepEqual(manifest.classes, ['high', 'low', 'mid']);
    const session = await runtime.load(onnx);
    sessions.push(session);
    assert.deepEqual(
      session.inputs().map((i) => i.name),
      manifest.inputs.map((i) => i.onnxName),
    );
    // The manifest JSON is in the model's metadata_props.
    const json = JSON.stringify(manifest);
    assert.ok(Buffer.from(onnx).includes(Buffer.from('tessera.manifest')));
    assert.ok(Buffer.from(onnx).includes(Buffer.from(json)));
  });
});
