import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '../../shared/errors.js';
import { assetSpecSchemas, parseAssetSpec, specSchemas } from '../../shared/contracts/azureml/index.js';
import type { SpecKind } from '../../shared/contracts/azureml/index.js';
import { applySetOverrides, loadSpecText, SpecError } from '../../shared/domain/azureml/spec-loader.js';
import type { LoadedSpec } from '../../shared/domain/azureml/spec-loader.js';
import { loadSpecFile } from '../../shared/services/spec-file.js';

const FILE = '/proj/specs/job.yml';
const lines = (...l: string[]): string => l.join('\n') + '\n';

function load(text: string, options: { file?: string; expectedKind?: SpecKind; set?: string[] } = {}): LoadedSpec {
  return loadSpecText(text, { file: options.file ?? FILE, ...options });
}

function specError(fn: () => unknown): SpecError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof SpecError, `expected a SpecError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a SpecError, nothing was thrown');
}

describe('loadSpecText: specs that load', () => {
  it('resolves a data asset path from the YAML folder, defaults type, and turns version 1 into "1"', () => {
    const loaded = load(lines('name: titanic', 'version: 1', 'path: ./sample-data/'), {
      file: '/proj/assets/data.yml',
      expectedKind: 'data',
    });
    assert.equal(loaded.kind, 'data');
    assert.deepEqual(loaded.spec, {
      name: 'titanic',
      version: '1',
      type: 'uri_folder',
      path: 'file:/proj/assets/sample-data/',
    });
    assert.deepEqual(loaded.localPaths, [{ keyPath: 'path', path: '/proj/assets/sample-data/' }]);
  });

  it('treats a job with no type as a command job and resolves code, build context and local inputs only', () => {
    const loaded = load(
      lines(
        '$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json',
        'command: python train.py --data ${{inputs.data}} --lr ${{inputs.lr}}',
        'code: src',
        'environment:',
        '  build:',
        '    path: ../docker',
        'inputs:',
        '  data:',
        '    type: uri_file',
        '    path: file:data/iris.csv',
        '    mode: ro_mount',
        '  remote:',
        '    path: azureml://datastores/workspaceblobstore/paths/iris/',
        '  registered: {type: mltable, path: "azureml:iris-table:3"}',
        '  bound: ${{parent.inputs.x}}',
        '  lr: 0.01',
        'compute: azureml:cpu-cluster',
      ),
    );
    assert.equal(loaded.kind, 'job');
    assert.equal(loaded.jobKind, 'command');
    assert.equal(loaded.schemaUrl, 'https://azuremlschemas.azureedge.net/latest/commandJob.schema.json');
    assert.equal(loaded.spec['type'], 'command');
    assert.equal(loaded.spec['code'], 'file:/proj/specs/src');
    assert.deepEqual(loaded.spec['environment'], { build: { path: 'file:/proj/docker' } });
    const inputs = loaded.spec['inputs'] as Record<string, unknown>;
    assert.deepEqual(inputs['data'], { type: 'uri_file', path: 'file:/proj/specs/data/iris.csv', mode: 'ro_mount' });
    assert.deepEqual(inputs['remote'], {
      type: 'uri_folder',
      path: 'azureml://datastores/workspaceblobstore/paths/iris/',
    });
    assert.deepEqual(inputs['registered'], { type: 'mltable', path: 'azureml:iris-table:3' });
    assert.equal(inputs['bound'], '${{parent.inputs.x}}');
    assert.equal(inputs['lr'], 0.01);
    assert.deepEqual(
      loaded.localPaths.map((p) => p.keyPath),
      ['code', 'environment.build.path', 'inputs.data.path'],
    );
    assert.ok(!('$schema' in loaded.spec));
  });

  it('reads $schema from a yaml-language-server comment, with CRLF line ends and a BOM', () => {
    const text =
      '\uFEFF# yaml-language-server: $schema=https://azuremlsdk2.blob.core.windows.net/latest/sweepJob.schema.json\r\n' +
      [
        'type: sweep',
        'trial:',
        '  command: python t.py --lr {search_space.lr}',
        '  environment: azureml:AzureML-sklearn-0.24-ubuntu18.04-py37-cpu:1',
        'sampling_algorithm: {type: random, rule: sobol, seed: 7, logbase: e}',
        'search_space:',
        '  lr: {type: loguniform, min_value: -6, max_value: -1}',
        '  batch: {type: choice, values: [16, 32]}',
        '  q: {type: quniform, min_value: 0, max_value: 10, q: 2}',
        '  n: {type: randint, upper: 5}',
        '  g: {type: qlognormal, mu: 0, sigma: 1, q: 1}',
        'objective: {primary_metric: accuracy, goal: Maximize}',
        'early_termination: {type: truncation_selection, evaluation_interval: 1, truncation_percentage: 20}',
        'limits: {max_total_trials: "8", max_concurrent_trials: 2, timeout: 600}',
      ].join('\r\n');
    const loaded = load(text);
    assert.equal(loaded.jobKind, 'sweep');
    assert.equal(loaded.schemaUrl, 'https://azuremlsdk2.blob.core.windows.net/latest/sweepJob.schema.json');
    assert.deepEqual(loaded.spec['sampling_algorithm'], { type: 'random', rule: 'sobol', seed: 7, logbase: 'e' });
    assert.deepEqual(loaded.spec['objective'], { primary_metric: 'accuracy', goal: 'maximize' });
    assert.deepEqual(loaded.spec['limits'], { max_total_trials: 8, max_concurrent_trials: 2, timeout: 600 });
    const trial = loaded.spec['trial'] as Record<string, unknown>;
    assert.equal(trial['command'], 'python t.py --lr {search_space.lr}');
  });

  it('recognises the four $schema URL families and the sdk-2-0 ids', () => {
    const cases: [string, SpecKind, string?][] = [
      ['https://azuremlschemas.azureedge.net/latest/autoMLJob.schema.json', 'job', 'automl'],
      ['https://azuremlsdk2.blob.core.windows.net/preview/0.0.1/autoMLJob.schema.json', 'job', 'automl'],
      ['http://azureml/sdk-2-0/CommandComponent.json', 'component'],
      ['http://azureml/sdk-2-0/MLTable.json', 'mltable'],
      ['https://azuremlschemas.azureedge.net/latest/azureDataLakeGen2.schema.json', 'datastore'],
    ];
    const bodies: Record<SpecKind, string> = {
      job: lines(
        'type: automl',
        'task: regression',
        'training_data: {type: mltable, path: ./train}',
        'target_column_name: y',
      ),
      component: lines('type: command', 'name: c', 'command: echo hi', 'environment: azureml:env@latest'),
      mltable: lines(
        'paths:',
        '  - file: ./iris.csv',
        'transformations:',
        '  - read_delimited: {delimiter: ",", encoding: utf8}',
      ),
      datastore: lines('type: azure_data_lake_gen2', 'name: lake', 'account_name: acct', 'filesystem: fs'),
      data: '',
      model: '',
      environment: '',
      compute: '',
      onlineEndpoint: '',
      onlineDeployment: '',
    };
    for (const [url, kind, jobKind] of cases) {
      const loaded = load(`$schema: ${url}\n${bodies[kind]}`);
      assert.equal(loaded.kind, kind, url);
      assert.equal(loaded.jobKind, jobKind, url);
    }
  });

  it('detects the kind from type, else from the kind asked for, else from an MLTable file name', () => {
    assert.equal(load(lines('type: azure_blob', 'name: b', 'account_name: a', 'container_name: c')).kind, 'datastore');
    assert.equal(load(lines('type: amlcompute', 'name: cpu')).kind, 'compute');
    assert.equal(load(lines('type: mlflow_model', 'name: m', 'path: ./model')).kind, 'model');
    assert.equal(load(lines('name: d', 'path: https://x/y.csv'), { expectedKind: 'data' }).kind, 'data');
    const job = load(lines('command: echo', 'environment: azureml:e:1'), { expectedKind: 'job' });
    assert.equal(job.jobKind, 'command');
    const component = load(lines('type: command', 'command: echo', 'environment: azureml:e:1'), {
      expectedKind: 'component',
    });
    assert.equal(component.kind, 'component');
    assert.equal(load(lines('paths:', '  - folder: ./x'), { file: '/proj/t/MLTable' }).kind, 'mltable');
  });

  it('accepts the quirks real files contain: string booleans, null outputs, YAML 1.1 scalars', () => {
    const loaded = load(
      lines(
        'type: pipeline',
        'settings: {default_compute: azureml:cpu, force_rerun: "True", continue_on_step_failure: off}',
        'outputs:',
        '  model:',
        'jobs:',
        '  train:',
        '    type: command',
        '    component: file:./components/train.yml',
        '    environment_variables: {AZUREML_COMPUTE_USE_COMMON_RUNTIME: "True", FLAG: y}',
        '    outputs:',
        '      model_output:',
        '      bound: ${{parent.outputs.model}}',
        '    inputs:',
        '      when: 2021-03-10T21:21:07',
        '      hhmm: 10:30',
        '  eval:',
        '    component: azureml:eval_model@latest',
        '  publish:',
        '    type: pipeline',
        '    component: azureml://registries/azureml/components/publish/versions/0.0.1',
      ),
    );
    assert.deepEqual(loaded.spec['settings'], {
      default_compute: 'azureml:cpu',
      force_rerun: true,
      continue_on_step_failure: false,
    });
    assert.deepEqual(loaded.spec['outputs'], { model: {} });
    const jobs = loaded.spec['jobs'] as Record<string, Record<string, unknown>>;
    assert.equal(jobs['train']?.['component'], 'file:/proj/specs/components/train.yml');
    assert.deepEqual(jobs['train']?.['environment_variables'], {
      AZUREML_COMPUTE_USE_COMMON_RUNTIME: 'True',
      FLAG: 'y',
    });
    assert.deepEqual(jobs['train']?.['outputs'], { model_output: {}, bound: '${{parent.outputs.model}}' });
    assert.deepEqual(jobs['train']?.['inputs'], { when: '2021-03-10T21:21:07', hhmm: '10:30' });
    assert.equal(jobs['eval']?.['type'], 'command');
    assert.equal(jobs['eval']?.['component'], 'azureml:eval_model@latest');
    assert.deepEqual(loaded.localPaths, [
      { keyPath: 'jobs.train.component', path: '/proj/specs/components/train.yml' },
    ]);
  });

  it('loads an AutoML forecasting job, reading an unquoted `mode: off` (a YAML 1.1 boolean) as off', () => {
    const loaded = load(
      lines(
        '$schema: https://azuremlsdk2.blob.core.windows.net/preview/0.0.1/autoMLJob.schema.json',
        'type: automl',
        'task: forecasting',
        'primary_metric: Normalized_Root_Mean_Squared_Error',
        'training_data: {type: mltable, path: ./train}',
        'target_column_name: demand',
        'n_cross_validations: auto',
        'featurization: {mode: off}',
        'forecasting: {time_column_name: ts, forecast_horizon: 24, target_lags: [1, 24], frequency: H}',
        'limits: {timeout_minutes: 60, max_cores_per_trial: -1, enable_early_termination: "true"}',
      ),
    );
    assert.equal(loaded.jobKind, 'automl');
    assert.equal(loaded.spec['primary_metric'], 'normalized_root_mean_squared_error');
    assert.deepEqual(loaded.spec['featurization'], { mode: 'off' });
    assert.deepEqual(loaded.spec['limits'], {
      enable_early_termination: true,
      max_cores_per_trial: -1,
      timeout_minutes: 60,
    });
    assert.deepEqual(loaded.localPaths, [{ keyPath: 'training_data.path', path: '/proj/specs/train' }]);
  });

  it('keeps a version written as 1.0 as "1.0" and reads `code: .` as the folder', () => {
    const loaded = load(lines('name: env', 'version: 1.0', 'image: python:3.11', 'conda_file: .'), {
      expectedKind: 'environment',
    });
    assert.equal(loaded.spec['version'], '1.0');
    assert.equal(loaded.spec['conda_file'], 'file:/proj/specs');
  });

  it('loads control-flow nodes and inline components, resolving paths inside them', () => {
    const loaded = load(
      lines(
        'type: pipeline',
        'jobs:',
        '  body:',
        '    type: command',
        '    component:',
        '      command: python step.py',
        '      code: ./step',
        '      environment: {image: python:3.11, conda_file: ./conda.yml}',
        '  loop:',
        '    type: do_while',
        '    body: ${{parent.jobs.body}}',
        '    condition: is_done',
        '    mapping: {out: in}',
        '    limits: {max_iteration_count: 3}',
        '  branch:',
        '    type: if_else',
        '    condition: ${{parent.jobs.body.outputs.flag}}',
        '    true_block: ${{parent.jobs.body}}',
        '  fan:',
        '    type: parallel_for',
        '    body: ${{parent.jobs.body}}',
        '    items: \'[{"x": 1}, {"x": 2}]\'',
      ),
    );
    const body = (loaded.spec['jobs'] as Record<string, Record<string, unknown>>)['body'];
    assert.deepEqual(body?.['component'], {
      type: 'command',
      command: 'python step.py',
      code: 'file:/proj/specs/step',
      environment: { image: 'python:3.11', conda_file: 'file:/proj/specs/conda.yml' },
    });
    assert.deepEqual(
      loaded.localPaths.map((p) => p.keyPath),
      ['jobs.body.component.code', 'jobs.body.component.environment.conda_file'],
    );
  });

  it('resolves against a Windows folder when the file is a Windows path', () => {
    const loaded = load(lines('name: m', 'path: model\\model.pkl'), {
      file: 'C:\\proj\\model.yml',
      expectedKind: 'model',
    });
    assert.equal(loaded.spec['path'], 'file:C:/proj/model/model.pkl');
    assert.deepEqual(loaded.localPaths, [{ keyPath: 'path', path: 'C:\\proj\\model\\model.pkl' }]);
  });

  it('exposes datastore credentials as their own key, so they can be stripped and encrypted', () => {
    const loaded = load(
      lines(
        'type: azure_blob',
        'name: b',
        'account_name: a',
        'container_name: c',
        'credentials:',
        '  sas_token: "?sv=x"',
      ),
    );
    assert.deepEqual(loaded.spec['credentials'], { sas_token: '?sv=x' });
    const credless = load(lines('type: azure_data_lake_gen1', 'name: g', 'store_name: s'));
    assert.equal(credless.spec['credentials'], undefined);
  });

  it('applies --set overrides before validation, with values read as YAML scalars', () => {
    const loaded = load(
      lines(
        'type: sweep',
        'trial: {command: python t.py, environment: azureml:e:1}',
        'sampling_algorithm: grid',
        'search_space: {x: {type: choice, values: [1, 2]}}',
        'objective: {primary_metric: loss, goal: minimize}',
      ),
      {
        set: [
          'search_space.x.values.0=3',
          'limits.max_total_trials=4',
          'trial.environment_variables.DEBUG=True',
          'display_name=a=b',
        ],
      },
    );
    const space = loaded.spec['search_space'] as Record<string, Record<string, unknown>>;
    assert.deepEqual(space['x']?.['values'], [3, 2]);
    assert.deepEqual(loaded.spec['limits'], { max_total_trials: 4 });
    // An unquoted True is a YAML boolean; environment variables are strings, so it becomes "true".
    assert.deepEqual((loaded.spec['trial'] as Record<string, unknown>)['environment_variables'], { DEBUG: 'true' });
    assert.equal(loaded.spec['display_name'], 'a=b');
  });

  it('produces specs that validate again unchanged (what the REST API receives)', () => {
    const loaded = load(lines('name: d', 'path: ./x', 'tags: {year: 2021}'), { expectedKind: 'data' });
    const again = specSchemas.data.parse(loaded.spec);
    assert.deepEqual(again, loaded.spec);
    assert.deepEqual(loaded.spec['tags'], { year: '2021' });
  });
});

describe('loadSpecText: specs that are rejected name the file, the key path and what to do', () => {
  const cases: {
    name: string;
    text: string;
    file?: string;
    expectedKind?: SpecKind;
    set?: string[];
    keyPath: string;
    problem: RegExp;
    hint: RegExp;
    line?: number;
  }[] = [
    {
      name: 'a value outside an enum',
      file: 'data.yml',
      text: lines('name: d', 'type: csv', 'path: x.csv'),
      expectedKind: 'data',
      keyPath: 'type',
      problem: /^expected one of uri_file, uri_folder, mltable, found "csv"$/,
      hint: /^fix the value or remove the key$/,
      line: 2,
    },
    {
      name: 'a misspelt key',
      text: lines('type: pipeline', 'settings: {default_datestore: azureml:ws}', 'jobs: {}'),
      keyPath: 'settings.default_datestore',
      problem: /unknown key — did you mean "default_datastore"\?/,
      hint: /remove it or use one of: .*default_datastore/,
    },
    {
      name: 'an unknown key deep in a node',
      text: lines(
        'type: pipeline',
        'jobs:',
        '  a:',
        '    type: command',
        '    component: ./c.yml',
        '    inputs:',
        '      x: {path: ./d, mdoe: download}',
      ),
      keyPath: 'jobs.a.inputs.x.mdoe',
      problem: /did you mean "mode"/,
      hint: /remove it/,
    },
    {
      name: 'a missing required key',
      text: lines('type: command', 'environment: azureml:e:1'),
      keyPath: 'command',
      problem: /^required key is missing$/,
      hint: /^add it$/,
    },
    {
      name: 'a wrong value type',
      text: lines('type: command', 'command: echo', 'environment: azureml:e:1', 'resources: "instance_count=2"'),
      keyPath: 'resources',
      problem: /^expected a mapping, found "instance_count=2"$/,
      hint: /fix the value/,
    },
    {
      name: 'a bad objective goal',
      text: lines(
        'type: sweep',
        'trial: {command: x, environment: azureml:e:1}',
        'sampling_algorithm: random',
        'objective: {primary_metric: m, goal: max}',
        'search_space: {lr: {type: uniform, min_value: 0, max_value: 1}}',
      ),
      keyPath: 'objective.goal',
      problem: /expected one of minimize, maximize, found "max"/,
      hint: /fix the value/,
    },
    {
      name: 'an unknown distribution',
      text: lines(
        'type: sweep',
        'trial: {command: x, environment: azureml:e:1}',
        'sampling_algorithm: random',
        'objective: {primary_metric: m, goal: maximize}',
        'search_space: {lr: {type: gaussian, mu: 0}}',
      ),
      keyPath: 'search_space.lr.type',
      problem: /expected one of choice, randint, uniform, .*qlognormal, found "gaussian"/,
      hint: /fix the value/,
    },
    {
      name: 'an AutoML task that does not exist',
      text: lines('type: automl', 'task: clustering', 'training_data: {type: mltable, path: ./t}'),
      keyPath: 'task',
      problem:
        /expected one of classification, regression, forecasting, image_classification, .*text_ner, found "clustering"/,
      hint: /fix the value/,
    },
    {
      name: 'a misspelt parameter in an AutoML model search space',
      text: lines(
        'type: automl',
        'task: image_object_detection',
        'training_data: {type: mltable, path: ./t}',
        'search_space:',
        '  - model_name: {type: choice, values: [yolov5]}',
        '    lerning_rate: {type: uniform, min_value: 0.0001, max_value: 0.01}',
      ),
      keyPath: 'search_space.0.lerning_rate',
      problem: /did you mean "learning_rate"/,
      hint: /remove it/,
    },
    {
      name: 'a Spark job without entry',
      text: lines('type: spark', 'code: ./src', 'resources: {instance_type: standard_e4s_v3, runtime_version: "3.4"}'),
      keyPath: 'entry',
      problem: /^required key is missing$/,
      hint: /add it/,
    },
    {
      name: 'a do_while body that is not a node binding',
      text: lines('type: pipeline', 'jobs:', '  loop: {type: do_while, body: train, limits: {max_iteration_count: 3}}'),
      keyPath: 'jobs.loop.body',
      problem: /expected a \$\{\{\.\.\.\}\} binding, found "train"/,
      hint: /fix the value/,
    },
    {
      name: 'a misspelt credential',
      text: lines(
        'type: azure_file',
        'name: f',
        'account_name: a',
        'file_share_name: s',
        'credentials: {acount_key: k}',
      ),
      keyPath: 'credentials.acount_key',
      problem: /did you mean "account_key"/,
      hint: /remove it or use one of: account_key/,
    },
    {
      name: 'a compute tier that does not exist',
      text: lines('type: amlcompute', 'name: c', 'tier: spot'),
      keyPath: 'tier',
      problem: /expected one of dedicated, low_priority, found "spot"/,
      hint: /fix the value/,
    },
    {
      name: 'a pipeline node missing both component and command',
      text: lines('type: pipeline', 'jobs:', '  a: {type: command, inputs: {x: 1}}'),
      keyPath: 'jobs.a.component',
      problem: /a command node needs component or command/,
      hint: /fix the spec/,
    },
    {
      name: 'an environment with neither image nor build',
      text: lines('name: e', 'conda_file: ./conda.yml'),
      expectedKind: 'environment',
      keyPath: 'image',
      problem: /needs either image or build/,
      hint: /fix the spec/,
    },
    {
      name: 'a YAML syntax error',
      text: lines('name: d', 'path: [a, b', 'type: uri_file'),
      keyPath: '',
      problem: /^YAML syntax error/,
      hint: /line and column/,
      line: 3,
    },
    {
      name: 'an unfilled {{PLACEHOLDER}}',
      text: lines('name: m', 'version: {{MODEL_VERSION}}', 'path: ./m'),
      expectedKind: 'model',
      keyPath: 'version',
      problem: /unfilled template placeholder \{\{MODEL_VERSION\}\}/,
      hint: /substitute the placeholder/,
      line: 2,
    },
    {
      name: 'a quoted placeholder',
      text: lines('name: "{{ENDPOINT_NAME}}"', 'path: ./m'),
      expectedKind: 'model',
      keyPath: 'name',
      problem: /unfilled template placeholder \{\{ENDPOINT_NAME\}\}/,
      hint: /substitute/,
    },
    {
      name: 'a kind Tessera does not support yet ($schema)',
      text: lines('$schema: https://azuremlschemas.azureedge.net/latest/batchDeployment.schema.json', 'name: blue'),
      keyPath: '$schema',
      problem: /batch deployments are not supported by Tessera yet/,
      hint: /cannot be loaded until Tessera supports them/,
    },
    {
      name: 'a job type Tessera does not support yet',
      text: lines('type: finetuning', 'task: chat_completion'),
      expectedKind: 'job',
      keyPath: 'type',
      problem: /fine-tuning jobs are not supported by Tessera yet \(found "finetuning"\)/,
      hint: /cannot be loaded/,
    },
    {
      name: 'a pipeline node type Tessera does not support yet',
      text: lines('type: pipeline', 'jobs:', '  copy: {type: data_transfer, task: copy_data}'),
      keyPath: 'jobs.copy.type',
      problem: /data transfer nodes are not supported/,
      hint: /cannot be loaded/,
    },
    {
      name: 'an unknown $schema',
      text: lines('$schema: https://example.com/whatever.schema.json', 'name: x'),
      keyPath: '$schema',
      problem: /not an Azure ML CLI v2 schema/,
      hint: /remove \$schema/,
    },
    {
      name: 'a $schema of another kind than asked for',
      text: lines('$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json', 'command: x'),
      expectedKind: 'data',
      keyPath: '$schema',
      problem: /this is a job spec \(by its \$schema\), but a data asset was asked for/,
      hint: /load it as a job/,
    },
    {
      name: 'a type of another kind than asked for',
      text: lines('type: azure_blob', 'name: b'),
      expectedKind: 'data',
      keyPath: 'type',
      problem: /makes this a datastore spec, but a data asset was asked for/,
      hint: /load it as a datastore/,
    },
    {
      name: 'a $schema and type that disagree',
      text: lines(
        '$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json',
        'type: sweep',
        'trial: {command: x, environment: azureml:e:1}',
        'sampling_algorithm: random',
        'search_space: {}',
        'objective: {primary_metric: m, goal: maximize}',
      ),
      keyPath: 'type',
      problem: /the \$schema is a command job's, but type is "sweep"/,
      hint: /make them agree/,
    },
    {
      name: 'an empty document',
      text: '# nothing here\n',
      keyPath: '',
      problem: /no YAML content/,
      hint: /write the spec/,
    },
    {
      name: 'a list at the top level',
      text: lines('- a', '- b'),
      keyPath: '',
      problem: /expected a mapping .* found a list/,
      hint: /YAML mapping/,
    },
    {
      name: 'duplicate keys',
      text: lines('name: a', 'name: b', 'path: x'),
      expectedKind: 'data',
      keyPath: '',
      problem: /Map keys must be unique/,
      hint: /line and column/,
      line: 2,
    },
    {
      name: 'a conda file loaded as a spec',
      text: lines('name: env', 'channels: [conda-forge]', 'dependencies: [python=3.11]'),
      keyPath: '',
      problem: /conda environment file, not an Azure ML spec/,
      hint: /conda_file/,
    },
    {
      name: 'a file with no way to tell its kind',
      text: lines('name: x', 'model_id: azureml://registries/r/models/m'),
      keyPath: '',
      problem: /cannot tell what kind of spec this is/,
      hint: /add \$schema/,
    },
    {
      name: 'a --set without =',
      text: lines('name: d', 'path: x'),
      expectedKind: 'data',
      set: ['description'],
      keyPath: '--set description',
      problem: /expected key.path=value/,
      hint: /--set key.path=value/,
    },
    {
      name: 'a --set through a scalar',
      text: lines('name: d', 'path: x'),
      expectedKind: 'data',
      set: ['path.sub=1'],
      keyPath: '--set path.sub',
      problem: /path is "x", not a mapping or list/,
      hint: /set the value itself/,
    },
    {
      name: 'a --set past the end of a list',
      text: lines('paths: [{file: a.csv}]'),
      expectedKind: 'mltable',
      set: ['paths.3.file=b.csv'],
      keyPath: '--set paths.3.file',
      problem: /paths has 1 item\(s\); there is no item 3/,
      hint: /existing index/,
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const file = c.file ?? FILE;
      const error = specError(() =>
        loadSpecText(c.text, {
          file,
          ...(c.expectedKind ? { expectedKind: c.expectedKind } : {}),
          ...(c.set ? { set: c.set } : {}),
        }),
      );
      assert.equal(error.file, file);
      assert.equal(error.keyPath, c.keyPath);
      assert.match(error.problem, c.problem);
      assert.match(error.hint, c.hint);
      assert.ok(error.message.startsWith(file), error.message);
      assert.ok(error.message.endsWith(`— ${error.hint}`), error.message);
      if (c.keyPath !== '') assert.ok(error.message.includes(`${c.keyPath}: `), error.message);
      if (c.line !== undefined) assert.equal(error.line, c.line);
      assert.ok(error instanceof ValidationError);
      assert.equal(error.status, 400);
    });
  }

  it('formats the message as file: key path: problem — hint', () => {
    const error = specError(() =>
      load(lines('name: d', 'type: csv', 'path: x.csv'), { file: 'data.yml', expectedKind: 'data' }),
    );
    assert.equal(
      error.message,
      'data.yml: type: expected one of uri_file, uri_folder, mltable, found "csv" — fix the value or remove the key',
    );
    assert.equal(error.target, 'type');
    assert.equal(error.code, 'ValidationError');
  });

  it('puts line and column in the message of a YAML syntax error', () => {
    const error = specError(() => load(lines('a: 1', 'b: [1', 'c: 2'), { file: 'bad.yml' }));
    assert.match(error.message, /^bad\.yml:3:\d+: YAML syntax error/);
  });
});

describe('loadSpecText: online endpoints and deployments', () => {
  const DEPLOYMENT = 'https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json';

  it('loads a managed deployment, defaulting type and collecting model, code and conda paths', () => {
    const loaded = load(
      lines(
        `$schema: ${DEPLOYMENT}`,
        'name: blue',
        'endpoint_name: my-endpoint',
        'model: {path: ../model-1/model/}',
        'code_configuration: {code: ../model-1/onlinescoring/, scoring_script: score.py}',
        'environment: {conda_file: env/conda.yaml, image: mcr.microsoft.com/azureml/minimal:latest}',
        'instance_type: Standard_DS3_v2',
        'instance_count: "2"',
        'request_settings: {request_timeout_ms: 3000}',
        'data_collector: {collections: {model_inputs: {enabled: "True"}}, rolling_rate: Hour}',
      ),
      { file: '/proj/online/blue.yml' },
    );
    assert.equal(loaded.kind, 'onlineDeployment');
    assert.equal(loaded.spec['type'], 'managed');
    assert.equal(loaded.spec['instance_count'], 2);
    assert.deepEqual(loaded.spec['data_collector'], {
      collections: { model_inputs: { enabled: true } },
      rolling_rate: 'hour',
    });
    assert.deepEqual(
      loaded.localPaths.map((p) => [p.keyPath, p.path]),
      [
        ['model.path', '/proj/model-1/model/'],
        ['code_configuration.code', '/proj/model-1/onlinescoring/'],
        ['environment.conda_file', '/proj/online/env/conda.yaml'],
      ],
    );
  });

  it('tells endpoints, deployments and Kubernetes ones apart without $schema', () => {
    const endpoint = load(lines('name: e1', 'auth_mode: Key', 'traffic: {blue: 100}'));
    assert.equal(endpoint.kind, 'onlineEndpoint');
    assert.equal(endpoint.spec['auth_mode'], 'key');
    const k8s = load(lines('name: e2', 'compute: azureml:inference', 'auth_mode: key'));
    assert.equal(k8s.kind, 'onlineEndpoint');
    assert.equal(k8s.spec['compute'], 'azureml:inference');
    assert.equal(load(lines('name: blue', 'endpoint_name: e1', 'model: azureml:m:1')).kind, 'onlineDeployment');
    const kd = load(lines('name: blue', 'type: kubernetes', 'endpoint_name: e1', 'model: azureml:m:1'));
    assert.equal(kd.kind, 'onlineDeployment');
    assert.equal(kd.spec['type'], 'kubernetes');
    assert.equal(load(lines('name: d', 'auth_mode: key'), { expectedKind: 'onlineEndpoint' }).spec['auth_mode'], 'key');
  });

  it('takes a Kubernetes deployment type from its $schema, and checks that an endpoint $schema agrees', () => {
    const kd = load(
      lines(
        '$schema: https://azuremlschemas.azureedge.net/latest/kubernetesOnlineDeployment.schema.json',
        'name: green',
        'resources: {requests: {cpu: "0.1", memory: 0.1Gi}}',
      ),
    );
    assert.equal(kd.spec['type'], 'kubernetes');
    const error = specError(() =>
      load(
        lines(
          '$schema: https://azuremlschemas.azureedge.net/latest/kubernetesOnlineEndpoint.schema.json',
          'name: e',
          'auth_mode: key',
        ),
      ),
    );
    assert.equal(error.keyPath, 'compute');
    assert.match(error.problem, /needs compute/);
    const unknown = specError(() => load(lines(`$schema: ${DEPLOYMENT}`, 'name: b', 'instance_typo: x')));
    assert.equal(unknown.keyPath, 'instance_typo');
  });
});

describe('applySetOverrides', () => {
  it('sets dotted paths and list items, creating mappings on the way, without changing its input', () => {
    const input = { a: { b: [{ c: 1 }] } };
    const out = applySetOverrides(input, ['a.b.0.c=2', 'a.b.1=x', 'n.m=null', 'flag=yes', 'v=1.0', 'e=']);
    assert.deepEqual(out, { a: { b: [{ c: 2 }, 'x'] }, n: { m: null }, flag: true, v: 1, e: '' });
    assert.deepEqual(input, { a: { b: [{ c: 1 }] } });
  });

  it('refuses a non-numeric index into a list', () => {
    const error = specError(() => applySetOverrides({ a: [1] }, ['a.x=1'], 'job.yml'));
    assert.equal(error.file, 'job.yml');
    assert.equal(error.keyPath, '--set a.x');
    assert.match(error.problem, /a is a list; expected an item index/);
  });
});

describe('parseAssetSpec (REST bodies)', () => {
  it('has a schema for every asset kind', () => {
    assert.deepEqual(Object.keys(assetSpecSchemas).sort(), [
      'component',
      'compute',
      'data',
      'datastore',
      'environment',
      'model',
    ]);
  });

  it('parses a body, normalising version and type, and drops $schema', () => {
    const spec = parseAssetSpec('data', {
      $schema: 'https://azuremlschemas.azureedge.net/latest/data.schema.json',
      name: 'd',
      version: 3,
      path: 'azureml://datastores/workspaceblobstore/paths/d/',
    });
    assert.deepEqual(spec, {
      name: 'd',
      version: '3',
      type: 'uri_folder',
      path: 'azureml://datastores/workspaceblobstore/paths/d/',
    });
    const model = parseAssetSpec('model', { name: 'm', path: 'file:/x/model.pkl' });
    assert.equal(model.type, 'custom_model');
  });

  it('throws a SpecError naming the request body, or the file given', () => {
    const error = specError(() => parseAssetSpec('compute', { name: 'c', type: 'gpu' }));
    assert.equal(error.file, '(request body)');
    assert.equal(error.keyPath, 'type');
    assert.match(
      error.problem,
      /expected one of amlcompute, computeinstance, kubernetes, virtualmachine, synapsespark, local/,
    );
    const named = specError(() => parseAssetSpec('datastore', { name: 'x', type: 'azure_blob' }, { file: 'ds.yml' }));
    assert.equal(named.file, 'ds.yml');
    assert.equal(named.keyPath, 'account_name');
  });

  it('refuses names that would break references', () => {
    const error = specError(() => parseAssetSpec('data', { name: 'a:b', path: 'x' }));
    assert.equal(error.keyPath, 'name');
    assert.match(error.problem, /must not contain whitespace or any of : @ \/ \\/);
  });
});

describe('loadSpecFile', () => {
  it('reads the file, drops a BOM, resolves paths from its folder, and names missing files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-spec-'));
    try {
      const path = join(dir, 'env.yml');
      await writeFile(path, '\uFEFFname: e\r\nbuild:\r\n  path: ./ctx\r\n');
      const loaded = await loadSpecFile(path, { expectedKind: 'environment' });
      assert.equal(loaded.file, path);
      assert.deepEqual(loaded.localPaths, [{ keyPath: 'build.path', path: join(dir, 'ctx') }]);
      await assert.rejects(loadSpecFile(join(dir, 'nope.yml')), (error: unknown) => {
        assert.ok(error instanceof SpecError);
        assert.equal(error.file, join(dir, 'nope.yml'));
        assert.match(error.problem, /does not exist/);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
