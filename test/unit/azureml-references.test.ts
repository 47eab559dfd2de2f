import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../shared/errors.js';
import {
  formatAssetReference,
  formatAzureMlUri,
  parseAssetReference,
  parseAzureMlUri,
} from '../../shared/domain/azureml/references.js';
import type { AssetReference, AzureMlUri } from '../../shared/domain/azureml/references.js';

function validationError(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a ValidationError, nothing was thrown');
}

describe('parseAssetReference', () => {
  const good: [string, AssetReference][] = [
    ['azureml:iris:3', { name: 'iris', version: '3' }],
    [
      'azureml:AzureML-sklearn-0.24-ubuntu18.04-py37-cpu:1',
      { name: 'AzureML-sklearn-0.24-ubuntu18.04-py37-cpu', version: '1' },
    ],
    ['azureml:my-env@latest', { name: 'my-env', label: 'latest' }],
    ['iris:2.1.0', { name: 'iris', version: '2.1.0' }],
    ['iris@default', { name: 'iris', label: 'default' }],
    ['azureml:cpu-cluster', { name: 'cpu-cluster' }],
    ['  azureml:iris:3  ', { name: 'iris', version: '3' }],
    [
      'azureml://registries/azureml/components/train_model/versions/0.0.1',
      { name: 'train_model', version: '0.0.1', registry: 'azureml', assetType: 'components' },
    ],
    [
      'azureml://registries/azureml/environments/sklearn-1.5/labels/latest',
      { name: 'sklearn-1.5', label: 'latest', registry: 'azureml', assetType: 'environments' },
    ],
  ];
  for (const [text, expected] of good) {
    it(`parses ${text.trim()}`, () => assert.deepEqual(parseAssetReference(text), expected));
  }

  const bad: [string, RegExp][] = [
    ['', /it is empty/],
    ['azureml:', /it is empty|the name/],
    ['azureml::3', /the name before : is empty/],
    ['azureml:iris:', /the version after : is empty/],
    ['azureml:iris@', /the label after @ is empty/],
    ['azureml:@latest', /the name before @ is empty/],
    ['azureml:iris:1@latest', /a version \(:\) or a label \(@\), not both/],
    ['azureml:iris@la/test', /the label "la\/test" may hold only/],
    ['azureml:iris:1:2', /the version "1:2" contains/],
    ['https://example.com/x.csv', /a URL or path/],
    ['./data/iris.csv', /a URL or path/],
    ['azureml://datastores/ws/paths/a.csv', /datastore path URI, not an asset/],
    ['azureml://jobs/j1/outputs/model', /job output URI, not an asset/],
  ];
  for (const [text, why] of bad) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      const error = validationError(() => parseAssetReference(text, { target: 'jobs.a.component' }));
      assert.match(error.message, why);
      assert.ok(error.message.startsWith(`${JSON.stringify(text)} is not a valid`), error.message);
      assert.match(error.message, /azureml:<name>:<version>/);
      assert.equal(error.target, 'jobs.a.component');
    });
  }
});

describe('formatAssetReference', () => {
  it('formats versions, labels, bare names and registry assets, and round-trips', () => {
    const cases: [AssetReference, string][] = [
      [{ name: 'iris', version: '3' }, 'azureml:iris:3'],
      [{ name: 'env', label: 'latest' }, 'azureml:env@latest'],
      [{ name: 'cpu-cluster' }, 'azureml:cpu-cluster'],
      [
        { name: 'train', version: '1', registry: 'azureml', assetType: 'components' },
        'azureml://registries/azureml/components/train/versions/1',
      ],
    ];
    for (const [ref, text] of cases) {
      assert.equal(formatAssetReference(ref), text);
      assert.deepEqual(parseAssetReference(text), ref);
    }
  });

  it('refuses a reference with both a version and a label, or a name with a separator', () => {
    assert.match(
      validationError(() => formatAssetReference({ name: 'a', version: '1', label: 'x' })).message,
      /not both/,
    );
    assert.equal(validationError(() => formatAssetReference({ name: 'a:b', version: '1' })).target, 'reference.name');
  });
});

describe('parseAzureMlUri', () => {
  const good: [string, AzureMlUri][] = [
    [
      'azureml://datastores/workspaceblobstore/paths/example-data/titanic.csv',
      { kind: 'datastore', datastore: 'workspaceblobstore', path: 'example-data/titanic.csv' },
    ],
    [
      'azureml://datastores/workspaceblobstore/paths/example-data/',
      { kind: 'datastore', datastore: 'workspaceblobstore', path: 'example-data/' },
    ],
    [
      'azureml://subscriptions/sub-1/resourcegroups/rg/workspaces/ws/datastores/blob/paths/a/b.csv',
      {
        kind: 'datastore',
        datastore: 'blob',
        path: 'a/b.csv',
        workspace: { subscription: 'sub-1', resourceGroup: 'rg', workspace: 'ws' },
      },
    ],
    [
      'azureml://subscriptions/s/resourceGroups/RG/workspaces/w/datastores/d/paths/x',
      {
        kind: 'datastore',
        datastore: 'd',
        path: 'x',
        workspace: { subscription: 's', resourceGroup: 'RG', workspace: 'w' },
      },
    ],
    [
      'azureml://jobs/quiet_lion_1/outputs/artifacts/paths/model/',
      { kind: 'job-output', job: 'quiet_lion_1', output: 'artifacts', path: 'model/' },
    ],
    ['azureml://jobs/j/outputs/model', { kind: 'job-output', job: 'j', output: 'model', path: '' }],
    [
      'azureml://registries/azureml-meta/models/Llama-2-7b/versions/13',
      { kind: 'registry-asset', registry: 'azureml-meta', assetType: 'models', name: 'Llama-2-7b', version: '13' },
    ],
  ];
  for (const [text, expected] of good) {
    it(`parses ${text}`, () => {
      assert.deepEqual(parseAzureMlUri(text), expected);
      const canonical = formatAzureMlUri(expected);
      assert.deepEqual(parseAzureMlUri(canonical), expected);
    });
  }

  const bad: [string, RegExp][] = [
    ['https://x/y', /does not start with azureml:\/\//],
    ['azureml://datastores//paths/x', /the datastore name is missing/],
    ['azureml://datastores/ws/files/x', /after datastores\/<datastore>\/ comes paths\/<path>/],
    ['azureml://datastores/ws/paths/a/../../etc/passwd', /must not contain \.\. segments/],
    ['azureml://jobs/j/model/paths/x', /after jobs\/<job>\/ comes outputs\/<output>/],
    ['azureml://jobs/j/outputs/o/files/x', /comes paths\/<path>/],
    ['azureml://subscriptions/s/workspaces/w/datastores/d/paths/x', /resourcegroups\/<rg>\/workspaces\/<w>/],
    ['azureml://subscriptions/s/resourcegroups/rg/workspaces/w/jobs/j', /continues with datastores/],
    ['azureml://registries/r/components/c/tags/x', /versions\/<version> or labels\/<label>/],
    ['azureml://registries/r/components', /the asset name is missing/],
    ['azureml://somewhere/else', /"somewhere" is not datastores, jobs, registries or subscriptions/],
  ];
  for (const [text, why] of bad) {
    it(`rejects ${text}`, () => {
      const error = validationError(() => parseAzureMlUri(text));
      assert.match(error.message, why);
      assert.ok(error.message.startsWith(JSON.stringify(text)), error.message);
      assert.equal(error.target, 'uri');
    });
  }
});
