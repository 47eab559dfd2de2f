import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compileGlob,
  formatDataUri,
  formatDatastoreUri,
  isFolderUri,
  parseDataUri,
  resolveDataUri,
  splitGlobUri,
} from '../../shared/domain/data-uri.js';
import type { DataUri } from '../../shared/domain/data-uri.js';
import { ValidationError } from '../../shared/errors.js';

const GOOD: [string, DataUri][] = [
  ['./data/train.csv', { scheme: 'file', path: './data/train.csv' }],
  ['data', { scheme: 'file', path: 'data' }],
  ['/abs/path/file.parquet', { scheme: 'file', path: '/abs/path/file.parquet' }],
  ['C:\\data\\x.csv', { scheme: 'file', path: 'C:\\data\\x.csv' }],
  ['file:./data', { scheme: 'file', path: './data' }],
  ['file:data/x.csv', { scheme: 'file', path: 'data/x.csv' }],
  ['file:///tmp/x.csv', { scheme: 'file', path: '/tmp/x.csv' }],
  ['file:///C:/data/x.csv', { scheme: 'file', path: 'C:/data/x.csv' }],
  ['file://localhost/tmp/x', { scheme: 'file', path: '/tmp/x' }],
  ['https://example.com/a/b.csv?sv=1&sig=x', { scheme: 'http', url: 'https://example.com/a/b.csv?sv=1&sig=x' }],
  ['http://127.0.0.1:8080/x', { scheme: 'http', url: 'http://127.0.0.1:8080/x' }],
  [
    'wasbs://data@myacct.blob.core.windows.net/raw/2024/x.csv',
    {
      scheme: 'wasbs',
      account: 'myacct',
      container: 'data',
      path: 'raw/2024/x.csv',
      endpointSuffix: 'core.windows.net',
    },
  ],
  [
    'wasb://data@myacct.blob.core.chinacloudapi.cn/raw/',
    { scheme: 'wasb', account: 'myacct', container: 'data', path: 'raw/', endpointSuffix: 'core.chinacloudapi.cn' },
  ],
  [
    'wasbs://data@myacct.blob.core.windows.net',
    { scheme: 'wasbs', account: 'myacct', container: 'data', path: '', endpointSuffix: 'core.windows.net' },
  ],
  [
    'abfss://lake@myacct.dfs.core.windows.net/a//b/./c.parquet',
    {
      scheme: 'abfss',
      account: 'myacct',
      filesystem: 'lake',
      path: 'a/b/c.parquet',
      endpointSuffix: 'core.windows.net',
    },
  ],
  [
    'abfs://lake@myacct.dfs.core.windows.net/folder/',
    { scheme: 'abfs', account: 'myacct', filesystem: 'lake', path: 'folder/', endpointSuffix: 'core.windows.net' },
  ],
  [
    'azureml://datastores/workspaceblobstore/paths/LocalUpload/abc/data.csv',
    { scheme: 'azureml-datastore', datastore: 'workspaceblobstore', path: 'LocalUpload/abc/data.csv' },
  ],
  [
    'azureml://datastores/my_store/paths/folder/sub/',
    { scheme: 'azureml-datastore', datastore: 'my_store', path: 'folder/sub/' },
  ],
  ['azureml://datastores/ds/paths/', { scheme: 'azureml-datastore', datastore: 'ds', path: '' }],
  [
    'azureml://datastores/ds/paths/a/b/../c/my%20file.csv',
    { scheme: 'azureml-datastore', datastore: 'ds', path: 'a/c/my file.csv' },
  ],
  [
    'azureml://subscriptions/0000-1111/resourcegroups/rg-ml/workspaces/team-a/datastores/workspaceblobstore/paths/x/y.csv',
    {
      scheme: 'azureml-datastore',
      datastore: 'workspaceblobstore',
      path: 'x/y.csv',
      workspace: 'team-a',
      subscription: '0000-1111',
      resourceGroup: 'rg-ml',
    },
  ],
  [
    'azureml://subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w/datastores/d/paths/p',
    { scheme: 'azureml-datastore', datastore: 'd', path: 'p', workspace: 'w', subscription: 's', resourceGroup: 'rg' },
  ],
];

for (const [uri, expected] of GOOD) {
  test(`parseDataUri(${uri})`, () => {
    assert.deepEqual(parseDataUri(uri), expected);
  });
}

const BAD: [string, RegExp][] = [
  ['', /empty/],
  ['  ./x', /spaces/],
  ['s3://bucket/key', /scheme 's3:' is not supported.*Supported:.*azureml:\/\/datastores/],
  ['gs://bucket/key', /'gs:' is not supported/],
  ['ftp://host/x', /'ftp:' is not supported/],
  ['azureml:iris:1', /name an asset, not a storage location/],
  ['azureml://jobs/abc/outputs/model', /only datastore URIs/],
  ['azureml://datastores/ds', /only datastore URIs/],
  ['azureml://datastores/ds/paths/../../etc/passwd', /'\.\.' climbs above the root/],
  ['azureml://datastores/bad name/paths/x', /not a valid datastore name/],
  ['azureml://datastores/ds/paths/a%2Fb', /encoded '\/'/],
  ['azureml://datastores/ds/paths/%E0%A4%A', /malformed %-escape/],
  ['azureml://subscriptions/s/workspaces/w/datastores/d/paths/p', /resourcegroups/],
  ['wasbs://myacct.blob.core.windows.net/container/x', /expected wasbs:\/\/<container>@<account>/],
  ['wasbs://Data@myacct.blob.core.windows.net/x', /not a valid Blob container name/],
  ['wasbs://data@MyAcct.blob.core.windows.net/x', /not a valid storage account name/],
  ['abfss://lake@myacct.blob.core.windows.net/x', /expected abfss:\/\/<filesystem>@<account>\.dfs/],
  ['https://', /not a valid http\(s\) URL/],
  ['file:', /names no file/],
];

for (const [uri, message] of BAD) {
  test(`parseDataUri rejects ${JSON.stringify(uri)}`, () => {
    assert.throws(
      () => parseDataUri(uri),
      (err: unknown) => err instanceof ValidationError && message.test(err.message) && err.message.includes(uri),
    );
  });
}

test('formatDataUri reads back as the same URI', () => {
  for (const [uri, parsed] of GOOD) {
    assert.deepEqual(parseDataUri(formatDataUri(parsed)), parsed, uri);
  }
});

test('formatDatastoreUri encodes what a URI cannot carry and round-trips', () => {
  const uri = formatDatastoreUri('workspaceblobstore', 'LocalUpload/abc/my data #1?.csv');
  assert.equal(uri, 'azureml://datastores/workspaceblobstore/paths/LocalUpload/abc/my%20data%20%231%3F.csv');
  assert.deepEqual(parseDataUri(uri), {
    scheme: 'azureml-datastore',
    datastore: 'workspaceblobstore',
    path: 'LocalUpload/abc/my data #1?.csv',
  });
  assert.equal(formatDatastoreUri('ds', 'folder/'), 'azureml://datastores/ds/paths/folder/');
  assert.throws(() => formatDatastoreUri('no spaces', 'x'), ValidationError);
});

test('isFolderUri: a trailing slash or a store root', () => {
  const cases: [string, boolean][] = [
    ['azureml://datastores/ds/paths/a/', true],
    ['azureml://datastores/ds/paths/', true],
    ['azureml://datastores/ds/paths/a', false],
    ['./data/', true],
    ['./data', false],
    ['wasbs://c01@acct.blob.core.windows.net', true],
    ['https://h/x/', true],
    ['https://h/x.csv', false],
  ];
  for (const [uri, folder] of cases) assert.equal(isFolderUri(parseDataUri(uri)), folder, uri);
});

test('resolveDataUri joins relative references to the folder and keeps absolute ones', () => {
  const cases: [string, string, string][] = [
    ['azureml://datastores/ds/paths/tables/iris/', './data.csv', 'azureml://datastores/ds/paths/tables/iris/data.csv'],
    [
      'azureml://datastores/ds/paths/tables/iris/',
      '../shared/x.csv',
      'azureml://datastores/ds/paths/tables/shared/x.csv',
    ],
    ['azureml://datastores/ds/paths/t/', 'sub/*.csv', 'azureml://datastores/ds/paths/t/sub/*.csv'],
    ['azureml://datastores/ds/paths/t/', 'my file.csv', 'azureml://datastores/ds/paths/t/my%20file.csv'],
    ['azureml://datastores/ds/paths/t/', 'https://h/x.csv', 'https://h/x.csv'],
    ['azureml://datastores/ds/paths/t/', '/abs/x.csv', '/abs/x.csv'],
    ['file:///data/iris/', './data.csv', '/data/iris/./data.csv'],
    ['./iris', 'data.csv', './iris/data.csv'],
    ['https://h/tables/iris/', './data.csv', 'https://h/tables/iris/data.csv'],
    ['wasbs://c01@acct.blob.core.windows.net/t/', 'x.parquet', 'wasbs://c01@acct.blob.core.windows.net/t/x.parquet'],
  ];
  for (const [base, ref, expected] of cases) assert.equal(resolveDataUri(base, ref), expected, `${base} + ${ref}`);
  assert.throws(() => resolveDataUri('azureml://datastores/ds/paths/t/', '../../x'), /climbs above the root/);
});

test('globs: * within a folder, ** across folders, ? one character', () => {
  const cases: [string, string, boolean][] = [
    ['*.csv', 'a.csv', true],
    ['*.csv', 'sub/a.csv', false],
    ['**/*.csv', 'a.csv', true],
    ['**/*.csv', 'x/y/a.csv', true],
    ['**', 'x/y/a.csv', true],
    ['data/**', 'data/x/y', true],
    ['data/**', 'other/x', false],
    ['part-????.parquet', 'part-0001.parquet', true],
    ['part-????.parquet', 'part-01.parquet', false],
    ['./2024-*/*.jsonl', '2024-01/a.jsonl', true],
    ['a+b(1).csv', 'a+b(1).csv', true],
    ['a.csv', 'abcsv', false],
  ];
  for (const [pattern, path, matches] of cases)
    assert.equal(compileGlob(pattern).test(path), matches, `${pattern} ~ ${path}`);
});

test('splitGlobUri cuts at the folder before the first wildcard', () => {
  assert.deepEqual(splitGlobUri('azureml://datastores/d/paths/logs/2024-*/*.csv'), {
    folder: 'azureml://datastores/d/paths/logs/',
    pattern: '2024-*/*.csv',
  });
  assert.deepEqual(splitGlobUri('*.csv'), { folder: './', pattern: '*.csv' });
  assert.throws(() => splitGlobUri('azureml://datastores/d/paths/x.csv'), /no wildcard/);
});
