import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseCsvSync } from 'csv-parse/sync';
import { parquetMetadata } from 'hyparquet';
import { FilesystemArtifactStore } from '../../shared/adapters/filesystem-artifact-store.js';
import { parseMLTable } from '../../shared/domain/mltable/parse-mltable.js';
import type { MLTablePlan } from '../../shared/domain/mltable/plan.js';
import { inferTextType, parseStrftime } from '../../shared/domain/mltable/values.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../../shared/errors.js';
import type { DatastoreResolver } from '../../shared/ports/datastore-resolver.js';
import { createDataAccess } from '../../shared/services/data-access.js';
import { createMLTableReader } from '../../shared/services/mltable-reader.js';
import type { Row, TableReader } from '../../shared/services/mltable-reader.js';
import { uploadLocalPath } from '../../shared/services/upload-service.js';

// dist/test/unit/mltable.test.js → the repository root is three folders up; ../shared sits beside it.
const SHARED = fileURLToPath(new URL('../../../../shared/', import.meta.url));
const CORPUS = join(SHARED, 'conformance', 'azureml');
const DATASETS = join(SHARED, 'datasets');
const noShared = existsSync(join(DATASETS, 'datasets.json')) ? false : `${SHARED} is absent (the shared corpus)`;

let dir: string;
let store: FilesystemArtifactStore;
let datastores: DatastoreResolver;
let reader: TableReader;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-mltable-'));
  store = new FilesystemArtifactStore({
    root: join(dir, 'store'),
    signingKey: randomBytes(32),
    publicBaseUrl: 'http://127.0.0.1:7071',
  });
  datastores = {
    async resolve(workspace, datastore) {
      if (datastore !== 'workspaceblobstore') throw new NotFoundError(`No datastore '${datastore}'.`);
      return { store, container: `ws-${workspace}`, prefix: 'blobs/' };
    },
  };
  reader = createMLTableReader({ data: createDataAccess({ datastores }) });
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(rows: AsyncIterable<Row>): Promise<Row[]> {
  const out: Row[] = [];
  for await (const r of rows) out.push(r);
  return out;
}

async function put(path: string, content: string | Buffer): Promise<string> {
  await store.put('ws-team-a', `blobs/${path}`, content);
  return `azureml://datastores/workspaceblobstore/paths/${path}`;
}

/** An independent reading of a quote-free CSV: header and rows of text fields. */
function splitCsv(text: string): { header: string[]; rows: string[][] } {
  const lines = text.split(/\r?\n/).filter((l) => l !== '');
  return { header: (lines[0] ?? '').split(','), rows: lines.slice(1).map((l) => l.split(',')) };
}

/** The type the CSV's text says, worked out here without the reader: int, float, datetime or string. */
function expectedType(values: readonly string[]): string {
  const present = values.filter((v) => v !== '');
  if (present.every((v) => /^-?\d+$/.test(v))) return 'int';
  if (present.every((v) => !Number.isNaN(Number(v)))) return 'float';
  if (present.every((v) => /^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$/.test(v))) return 'datetime';
  return 'string';
}

function typedExpected(text: string, type: string): unknown {
  if (text === '') return null;
  if (type === 'int' || type === 'float') return Number(text);
  if (type === 'datetime') return new Date(`${text.replace(' ', 'T')}Z`).getTime();
  return text;
}

function comparable(v: unknown): unknown {
  return v instanceof Date ? v.getTime() : v;
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

test('a full MLTable becomes the plan it describes', () => {
  const plan = parseMLTable(
    [
      '$schema: https://azuremlschemas.azureedge.net/latest/MLTable.schema.json',
      'type: mltable',
      'paths:',
      '  - file: ./a.csv',
      '  - folder: ./more/',
      '  - pattern: ./parts/*.csv',
      'transformations:',
      '  - read_delimited:',
      "      delimiter: '\\t'",
      '      header: from_first_file',
      '      encoding: latin1',
      '      empty_as_string: true',
      '      include_path_column: true',
      '      infer_column_types: false',
      '  - skip: 2',
      '  - take: 10',
      '  - take_random_sample: { probability: 0.5, seed: 7 }',
      '  - drop_columns: [x]',
      '  - keep_columns: a',
      '  - convert_column_types:',
      '      - columns: [a, b]',
      '        column_type: int',
      '      - columns: d',
      "        column_type: { datetime: { formats: ['%Y-%m-%d'] } }",
      '      - columns: e',
      '        column_type: { boolean: { true_values: [Y], false_values: [N], mismatch_as: "false" } }',
      "  - extract_columns_from_partition_format: '/{year}/{month}/'",
      'traits:',
      '  timestamp_column: d',
      '  index_columns: [a]',
    ].join('\n'),
    'tables/t/MLTable',
  );
  const expected: MLTablePlan = {
    paths: [
      { kind: 'file', value: './a.csv' },
      { kind: 'folder', value: './more/' },
      { kind: 'pattern', value: './parts/*.csv' },
    ],
    read: {
      kind: 'delimited',
      delimiter: '\t',
      header: 'from_first_file',
      encoding: 'latin1',
      emptyAsString: true,
      includePathColumn: true,
      pathColumn: 'Path',
      inferColumnTypes: false,
      supportMultiLine: false,
    },
    steps: [
      { kind: 'skip', count: 2 },
      { kind: 'take', count: 10 },
      { kind: 'take_random_sample', probability: 0.5, seed: 7 },
      { kind: 'drop_columns', columns: ['x'] },
      { kind: 'keep_columns', columns: ['a'] },
      {
        kind: 'convert_column_types',
        conversions: [
          { columns: ['a', 'b'], to: { type: 'int' } },
          { columns: ['d'], to: { type: 'datetime', formats: ['%Y-%m-%d'] } },
          {
            columns: ['e'],
            to: { type: 'boolean', boolean: { trueValues: ['Y'], falseValues: ['N'], mismatchAs: 'false' } },
          },
        ],
      },
      { kind: 'extract_columns_from_partition_format', format: '/{year}/{month}/' },
    ],
    traits: { timestampColumn: 'd', indexColumns: ['a'] },
  };
  assert.deepEqual(plan, expected);
});

test('no read transformation means a table of the files; a bare read_parquet takes the defaults', () => {
  assert.deepEqual(parseMLTable('paths:\n  - file: ./mnist\n', 'm/MLTable').read, { kind: 'paths' });
  assert.deepEqual(
    parseMLTable('paths:\n  - file: ./x.parquet\ntransformations:\n  - read_parquet', 'p/MLTable').read,
    {
      kind: 'parquet',
      includePathColumn: false,
      pathColumn: 'Path',
    },
  );
});

const BAD_MLTABLES: [string, string, RegExp][] = [
  [
    'unknown key',
    "paths:\n  - file: ./a.csv\ntransformations:\n  - read_delimited:\n      delimter: ','\n",
    /transformations\.0\.read_delimited\.delimter: unknown key/,
  ],
  ['unknown top-level key', 'paths:\n  - file: ./a.csv\nfoo: 1\n', /foo: unknown key/],
  ['no paths', 'transformations:\n  - take: 1\n', /paths: required key is missing/],
  [
    'bad header',
    'paths:\n  - file: ./a.csv\ntransformations:\n  - read_delimited:\n      header: first\n',
    /read_delimited\.header: expected one of/,
  ],
  [
    'filter',
    'paths:\n  - file: ./a.csv\ntransformations:\n  - read_delimited: {}\n  - filter: \'col("a") > 1\'\n',
    /transformations\.1\.filter: the filter transformation .* is not supported by Tessera/,
  ],
  [
    'delta lake',
    'paths:\n  - folder: ./t\ntransformations:\n  - read_delta_lake: {}\n',
    /Delta Lake tables are not supported/,
  ],
  [
    'read not first',
    'paths:\n  - file: ./a.csv\ntransformations:\n  - take: 1\n  - read_parquet: {}\n',
    /read_parquet: the read_\* transformation is not the first/,
  ],
  [
    'two reads',
    'paths:\n  - file: ./a.csv\ntransformations:\n  - read_parquet: {}\n  - read_json_lines: {}\n',
    /a second read_\* transformation/,
  ],
  [
    'two keys in one item',
    'paths:\n  - file: ./a.csv\ntransformations:\n  - take: 1\n    skip: 2\n',
    /transformations\.0: names 2 transformations/,
  ],
  [
    'utf32',
    'paths:\n  - file: ./a.csv\ntransformations:\n  - read_delimited: { encoding: utf32 }\n',
    /encoding: utf32 is not supported/,
  ],
  [
    'probability',
    'paths:\n  - file: ./a.csv\ntransformations:\n  - take_random_sample: { probability: 2 }\n',
    /probability: expected a probability in \(0, 1\]/,
  ],
  [
    'column type',
    'paths:\n  - file: ./a.csv\ntransformations:\n  - convert_column_types:\n      - columns: a\n        column_type: decimal\n',
    /column_type: expected one of/,
  ],
  [
    'stream_info',
    'paths:\n  - file: ./a.csv\ntransformations:\n  - convert_column_types:\n      - columns: a\n        column_type: stream_info\n',
    /stream_info columns are not supported/,
  ],
  [
    'datetime format',
    "paths:\n  - file: ./a.csv\ntransformations:\n  - convert_column_types:\n      - columns: a\n        column_type: { datetime: { formats: ['%Q'] } }\n",
    /formats\.0: '%Q' is not a supported directive/,
  ],
  [
    'partition format',
    "paths:\n  - file: ./a.csv\ntransformations:\n  - extract_columns_from_partition_format: 'no columns'\n",
    /extract_columns_from_partition_format: the format "no columns" is invalid/,
  ],
  ['YAML syntax', 'paths: [\n', /tables\/x\/MLTable:\d+:\d+: YAML syntax error/],
];

for (const [what, text, message] of BAD_MLTABLES) {
  test(`an MLTable with ${what} is a ValidationError naming the file and the key`, () => {
    assert.throws(
      () => parseMLTable(text, 'tables/x/MLTable'),
      (err: unknown) =>
        err instanceof ValidationError && message.test(err.message) && err.message.includes('tables/x/MLTable'),
    );
  });
}

interface InventoryFile {
  kind: string;
  corpus_path: string;
  features: string[];
  refs: { target: string; status: string }[];
}

async function corpusMLTables(): Promise<InventoryFile[]> {
  const inventory = JSON.parse(await readFile(join(CORPUS, 'inventory.json'), 'utf8')) as { files: InventoryFile[] };
  return inventory.files.filter((f) => f.kind === 'MLTable');
}

test(
  'every MLTable of the corpus parses, and its plan has the features the inventory lists',
  { skip: noShared },
  async () => {
    const files = await corpusMLTables();
    assert.ok(files.length >= 40, `only ${files.length} MLTable files`);
    for (const f of files) {
      const plan = parseMLTable(await readFile(join(CORPUS, f.corpus_path), 'utf8'), f.corpus_path);
      const has = (feature: string): boolean => f.features.includes(feature);
      const expectedRead = has('MLTable transformation read_delimited')
        ? 'delimited'
        : has('MLTable transformation read_parquet')
          ? 'parquet'
          : 'paths';
      assert.equal(plan.read.kind, expectedRead, f.corpus_path);
      assert.equal(
        plan.steps.some((s) => s.kind === 'take'),
        has('MLTable transformation take'),
        f.corpus_path,
      );
      assert.equal(
        plan.steps.some((s) => s.kind === 'convert_column_types'),
        has('MLTable transformation convert_column_types'),
        f.corpus_path,
      );
      assert.ok(
        plan.paths.every((p) => p.kind === 'file'),
        f.corpus_path,
      );
    }
  },
);

// ---------------------------------------------------------------------------------------------
// Executing: the peer datasets, uploaded to a datastore the way the CLI uploads them
// ---------------------------------------------------------------------------------------------

interface DatasetInfo {
  name: string;
  rows: number;
  columns: number;
  column_names: string[];
  split: { train_rows?: number; test_rows?: number };
}

test(
  'every peer dataset reads through its MLTable: columns, inferred types, row count, values',
  { skip: noShared },
  async () => {
    const { datasets } = JSON.parse(await readFile(join(DATASETS, 'datasets.json'), 'utf8')) as {
      datasets: DatasetInfo[];
    };
    assert.ok(datasets.length >= 10);
    const localReader = createMLTableReader({ data: createDataAccess({ datastores, localRoots: [DATASETS] }) });
    for (const ds of datasets) {
      // The 100k-row sets are read in place (uploading 30 MB adds seconds and nothing new) and only
      // previewed: csv-parse alone reads about 9 MB/s, so a full read takes seconds.
      const big = ds.rows > 50_000;
      const uri = big
        ? `file://${join(DATASETS, ds.name)}/`
        : (await uploadLocalPath({ datastores, workspace: 'team-a', localPath: join(DATASETS, ds.name) })).uri;
      const text = await readFile(join(DATASETS, ds.name, 'data.csv'), 'utf8');
      const csv = splitCsv(big ? text.slice(0, text.split('\n', 1001).join('\n').length) : text);
      assert.deepEqual(csv.header, ds.column_names, `${ds.name}: datasets.json agrees with the CSV`);
      const types = csv.header.map((_, i) => expectedType(csv.rows.map((r) => r[i] ?? '')));

      const preview = await (big ? localReader : reader).previewTable('team-a', uri, { rows: 5 });
      assert.deepEqual(
        preview.columns,
        csv.header.map((name, i) => ({ name, type: types[i] })),
        `${ds.name}: columns and inferred types`,
      );
      assert.equal(preview.rows.length, 5);
      preview.rows.forEach((row, r) =>
        row.forEach((v, c) =>
          assert.deepEqual(
            comparable(v),
            typedExpected(csv.rows[r]?.[c] ?? '', types[c] ?? ''),
            `${ds.name} [${r}][${c}]`,
          ),
        ),
      );

      if (big) continue;
      const table = await reader.open('team-a', uri);
      let count = 0;
      let last: Row | undefined;
      for await (const row of table.rows) {
        count++;
        last = row;
      }
      assert.equal(count, ds.rows, `${ds.name}: rows`);
      assert.equal(count, csv.rows.length, `${ds.name}: rows in the CSV`);
      const lastCsv = csv.rows[csv.rows.length - 1] ?? [];
      csv.header.forEach((name, c) =>
        assert.deepEqual(
          comparable(last?.[name] ?? null),
          typedExpected(lastCsv[c] ?? '', types[c] ?? ''),
          `${ds.name} last.${name}`,
        ),
      );
    }
  },
);

test('the head/tail split of datasets.json: take N trains, skip N tests', { skip: noShared }, async () => {
  for (const name of ['iris', 'diabetes', 'synth_mixed_20k']) {
    const info = (
      JSON.parse(await readFile(join(DATASETS, 'datasets.json'), 'utf8')) as { datasets: DatasetInfo[] }
    ).datasets.find((d) => d.name === name);
    const train = info?.split.train_rows ?? 0;
    const csv = splitCsv(await readFile(join(DATASETS, name, 'data.csv'), 'utf8'));
    const folder = `split/${name}/`;
    await put(`${folder}data.csv`, await readFile(join(DATASETS, name, 'data.csv')));
    const read =
      'paths:\n  - file: ./data.csv\ntransformations:\n  - read_delimited: { delimiter: ",", header: all_files_same_headers }\n';
    await put(`${folder}train/MLTable`, read.replace('./data.csv', '../data.csv') + `  - take: ${train}\n`);
    await put(`${folder}test/MLTable`, read.replace('./data.csv', '../data.csv') + `  - skip: ${train}\n`);
    const base = `azureml://datastores/workspaceblobstore/paths/${folder}`;

    const trainRows = await collect((await reader.open('team-a', `${base}train/`)).rows);
    const testRows = await collect((await reader.open('team-a', `${base}test/`)).rows);
    assert.equal(trainRows.length, train, name);
    assert.equal(testRows.length, csv.rows.length - train, name);
    const first = csv.header[0] ?? '';
    assert.equal(
      String(testRows[0]?.[first] ?? ''),
      String(Number(csv.rows[train]?.[0]) || csv.rows[train]?.[0]),
      name,
    );
    assert.equal(
      String(trainRows[train - 1]?.[first] ?? ''),
      String(Number(csv.rows[train - 1]?.[0]) || csv.rows[train - 1]?.[0]),
    );
  }
});

test('keep_columns, drop_columns and convert_column_types on iris match the CSV', { skip: noShared }, async () => {
  const csv = splitCsv(await readFile(join(DATASETS, 'iris', 'data.csv'), 'utf8'));
  await put('iris/data.csv', await readFile(join(DATASETS, 'iris', 'data.csv')));
  const mltable = (steps: string): Promise<string> =>
    put('iris/MLTable', `paths:\n  - file: ./data.csv\ntransformations:\n  - read_delimited: {}\n${steps}`);
  const uri = 'azureml://datastores/workspaceblobstore/paths/iris/';

  await mltable('  - keep_columns: [petal_width_cm, sepal_length_cm]\n  - skip: 3\n  - take: 4\n');
  const kept = await reader.previewTable('team-a', uri, { rows: 10 });
  assert.deepEqual(kept.columns, [
    { name: 'sepal_length_cm', type: 'float' },
    { name: 'petal_width_cm', type: 'float' },
  ]);
  assert.deepEqual(
    kept.rows,
    csv.rows.slice(3, 7).map((r) => [Number(r[0]), Number(r[3])]),
  );

  await mltable(
    '  - drop_columns: [target, sepal_width_cm]\n  - convert_column_types:\n      - columns: [sepal_length_cm]\n        column_type: string\n      - columns: petal_length_cm\n        column_type: int\n',
  );
  await assert.rejects(
    reader.previewTable('team-a', uri, { rows: 150 }),
    (err: unknown) => err instanceof ValidationError && /column 'petal_length_cm': 1\.4 is not int/.test(err.message),
    'a float that is not whole does not become an int',
  );

  await mltable(
    '  - drop_columns: [target, sepal_width_cm]\n  - convert_column_types:\n      - columns: [sepal_length_cm]\n        column_type: string\n',
  );
  const converted = await reader.previewTable('team-a', uri, { rows: 150 });
  assert.deepEqual(
    converted.columns.map((c) => `${c.name}:${c.type}`),
    ['sepal_length_cm:string', 'petal_length_cm:float', 'petal_width_cm:float'],
  );
  // A float column turned to string holds the number's text (5.0 reads back as '5').
  assert.deepEqual(
    converted.rows.map((r) => r[0]),
    csv.rows.map((r) => String(Number(r[0]))),
  );

  await mltable('  - keep_columns: [nope, target]\n');
  await assert.rejects(
    reader.previewTable('team-a', uri),
    (err: unknown) =>
      err instanceof ValidationError &&
      /keep_columns: no column 'nope'; the table has 'sepal_length_cm'/.test(err.message),
  );

  await mltable('  - take_random_sample: { probability: 0.3, seed: 42 }\n');
  const a = (await reader.previewTable('team-a', uri, { rows: 150 })).rows;
  const b = (await reader.previewTable('team-a', uri, { rows: 150 })).rows;
  assert.deepEqual(a, b, 'the same seed keeps the same rows');
  assert.ok(a.length > 20 && a.length < 75, `${a.length} of 150 rows kept at p=0.3`);
  const all = csv.rows.map((r) => JSON.stringify([...r.slice(0, 4).map(Number), r[4]]));
  let at = -1;
  for (const row of a) {
    const next = all.indexOf(JSON.stringify(row), at + 1);
    assert.ok(next > at, 'a sample keeps rows in their order');
    at = next;
  }
});

// ---------------------------------------------------------------------------------------------
// Executing: the corpus MLTable files that have their data beside them (read as local paths)
// ---------------------------------------------------------------------------------------------

test('the corpus MLTables with data read as their CSV and Parquet files say', { skip: noShared }, async () => {
  const local = createMLTableReader({ data: createDataAccess({ datastores, localRoots: [CORPUS] }) });
  const files = (await corpusMLTables()).filter(
    (f) =>
      f.refs.length > 0 &&
      f.refs.every((r) => r.status === 'file' && existsSync(join(CORPUS, 'azureml-examples', r.target))),
  );
  assert.ok(files.length >= 20, `only ${files.length} corpus MLTables have their data`);
  for (const f of files) {
    const folder = `file://${dirname(join(CORPUS, f.corpus_path))}/`;
    const dataFile = join(CORPUS, 'azureml-examples', f.refs[0]?.target ?? '');
    const table = await local.open('team-a', folder);
    const rows = await collect(table.rows);
    if (dataFile.endsWith('.parquet')) {
      const bytes = await readFile(dataFile);
      assert.equal(rows.length, Number(parquetMetadata(bytes).num_rows), f.corpus_path);
      continue;
    }
    const records = parseCsvSync(await readFile(dataFile), {
      relax_column_count: true,
      skip_empty_lines: true,
    }) as string[][];
    const plan = parseMLTable(await readFile(join(CORPUS, f.corpus_path), 'utf8'), f.corpus_path);
    const take = plan.steps.find((s) => s.kind === 'take');
    assert.equal(
      rows.length,
      Math.min(records.length - 1, take?.kind === 'take' ? take.count : Infinity),
      f.corpus_path,
    );
    assert.deepEqual(
      table.columns.map((c) => c.name),
      records[0],
      f.corpus_path,
    );
  }
});

test(
  'corpus: hardware-perf converts to int, bike-share to float; dates and quoted fields read right',
  { skip: noShared },
  async () => {
    const local = createMLTableReader({ data: createDataAccess({ datastores, localRoots: [CORPUS] }) });
    const cli = join(CORPUS, 'azureml-examples', 'cli');

    const hw = await local.previewTable(
      'team-a',
      `file://${cli}/jobs/automl-standalone-jobs/cli-automl-regression-task-hardware-perf/training-mltable-folder/`,
      { rows: 3 },
    );
    assert.deepEqual(
      hw.columns.map((c) => `${c.name}:${c.type}`),
      [
        'VendorName:string',
        'ModelName:string',
        'MYCT:int',
        'MMIN:int',
        'MMAX:int',
        'CACH:int',
        'CHMIN:int',
        'CHMAX:int',
        'PRP:int',
        'ERP:int',
      ],
    );
    assert.deepEqual(hw.rows[0], ['adviser', '32/60', 125, 256, 6000, 256, 16, 128, 198, 199]);

    const bike = await local.previewTable(
      'team-a',
      `file://${cli}/jobs/automl-standalone-jobs/cli-automl-forecasting-bike-share/training-mltable-folder/`,
      { rows: 2 },
    );
    assert.deepEqual(
      bike.columns.map((c) => `${c.name}:${c.type}`),
      [
        'instant:int',
        'date:datetime',
        'season:int',
        'yr:int',
        'mnth:int',
        'weekday:int',
        'weathersit:int',
        'temp:float',
        'atemp:float',
        'hum:float',
        'windspeed:float',
        'cnt:float',
      ],
    );
    assert.deepEqual(bike.rows[0], [
      1,
      new Date(Date.UTC(2011, 0, 1)),
      1,
      0,
      1,
      6,
      2,
      0.344167,
      0.363625,
      0.805833,
      0.160446,
      985,
    ]);

    const titanic = await local.previewTable('team-a', `file://${cli}/assets/data/local-mltable`, { rows: 891 });
    const csv = parseCsvSync(await readFile(join(cli, 'assets/data/local-mltable/titanic.csv')), {}) as string[][];
    const col = (name: string): number => titanic.columns.findIndex((c) => c.name === name);
    assert.equal(titanic.rows.length, csv.length - 1);
    assert.equal(titanic.rows[0]?.[col('Name')], 'Braund, Mr. Owen Harris');
    assert.equal(titanic.columns[col('Age')]?.type, 'float', 'ages like 0.83 make the column float');
    assert.equal(titanic.rows[0]?.[col('Cabin')], null, 'an empty field is null');
    assert.equal(titanic.columns[col('Survived')]?.type, 'int');
    const survived = titanic.rows.filter((r) => r[col('Survived')] === 1).length;
    assert.equal(survived, csv.slice(1).filter((r) => r[1] === '1').length);

    const energy = await local.previewTable(
      'team-a',
      `file://${cli}/jobs/automl-standalone-jobs/cli-automl-forecasting-task-energy-demand/test-mltable-folder/`,
      { rows: 1 },
    );
    assert.deepEqual(energy.rows[0], [new Date(Date.UTC(2017, 7, 8, 6)), 5590.992, 0, 66.17]);

    const programmers = await local.previewTable(
      'team-a',
      `file://${cli}/responsible-ai/cli-responsibleaidashboard-programmer-regression/data-programmer-regression/train/`,
      { rows: 1 },
    );
    assert.deepEqual(programmers.columns.slice(0, 3), [
      { name: 'score', type: 'float' },
      { name: 'style', type: 'string' },
      { name: 'YOE', type: 'float' },
    ]);
    assert.deepEqual(programmers.rows[0]?.slice(0, 3), [4, 'tabs', 6]);
    const housing = await local.previewTable(
      'team-a',
      `file://${cli}/responsible-ai/cli-responsibleaidashboard-housing-classification/data-housing-classification/test/`,
      { rows: 1 },
    );
    assert.deepEqual(housing.columns[0], { name: 'LotFrontage', type: 'int' });
    assert.deepEqual(housing.rows[0]?.slice(0, 3), [24, 2645, 8], 'INT64 values arrive as numbers');
  },
);

// ---------------------------------------------------------------------------------------------
// Executing: formats, paths and errors on small tables written here
// ---------------------------------------------------------------------------------------------

test('JSON lines over a pattern, with the path column and columns from the partition format', async () => {
  await put(
    'logs/2024/01/a.jsonl',
    '{"id": 1, "ok": true, "score": 0.5, "tags": ["x"]}\n{"id": 2, "ok": false, "score": 1}\n',
  );
  await put('logs/2024/02/b.jsonl', '\n{"id": 3, "ok": true, "score": 2.25, "extra": "late"}\r\n');
  await put('logs/2024/02/notes.txt', 'not json');
  await put(
    'logs/MLTable',
    [
      'paths:',
      '  - pattern: ./**/*.jsonl',
      'transformations:',
      '  - read_json_lines: { include_path_column: true }',
      "  - extract_columns_from_partition_format: '/{year}/{month}/'",
    ].join('\n'),
  );
  const preview = await reader.previewTable('team-a', 'azureml://datastores/workspaceblobstore/paths/logs/', {
    rows: 10,
  });
  assert.deepEqual(
    preview.columns.map((c) => `${c.name}:${c.type}`),
    [
      'id:int',
      'ok:boolean',
      'score:float',
      'tags:string',
      'extra:string',
      'Path:string',
      'year:string',
      'month:string',
    ],
  );
  const a = 'azureml://datastores/workspaceblobstore/paths/logs/2024/01/a.jsonl';
  const b = 'azureml://datastores/workspaceblobstore/paths/logs/2024/02/b.jsonl';
  assert.deepEqual(preview.rows, [
    [1, true, 0.5, '["x"]', null, a, '2024', '01'],
    [2, false, 1, null, null, a, '2024', '01'],
    [3, true, 2.25, null, 'late', b, '2024', '02'],
  ]);

  await put('bad/x.jsonl', '{"id": 1}\nnot json\n[1, 2]\n{"id": 4}\n');
  await put('bad/MLTable', 'paths:\n  - file: ./x.jsonl\ntransformations:\n  - read_json_lines: {}\n');
  await assert.rejects(
    reader.previewTable('team-a', 'azureml://datastores/workspaceblobstore/paths/bad/'),
    (err: unknown) =>
      err instanceof ValidationError && /x\.jsonl line 2 is not valid JSON.*invalid_lines: drop/.test(err.message),
  );
  await put(
    'bad/MLTable',
    'paths:\n  - file: ./x.jsonl\ntransformations:\n  - read_json_lines: { invalid_lines: drop }\n',
  );
  assert.deepEqual((await reader.previewTable('team-a', 'azureml://datastores/workspaceblobstore/paths/bad/')).rows, [
    [1],
    [4],
  ]);
});

test('delimited: headers across files, encodings, empty_as_string, datetime formats, no_header', async () => {
  await put('multi/p1.csv', 'a;b\n1;x\n2;\n');
  await put('multi/p2.csv', 'a;b\n3;z\n');
  await put(
    'multi/MLTable',
    "paths:\n  - folder: ./\n  - file: ./p1.csv\ntransformations:\n  - read_delimited: { delimiter: ';', empty_as_string: true }\n",
  );
  // The folder holds the MLTable file too; it is not read as data. Paths are read in the order given.
  assert.deepEqual((await reader.previewTable('team-a', 'azureml://datastores/workspaceblobstore/paths/multi/')).rows, [
    [1, 'x'],
    [2, ''],
    [3, 'z'],
    [1, 'x'],
    [2, ''],
  ]);
  await put('multi/p3.csv', 'a;c\n4;w\n');
  await assert.rejects(
    reader.previewTable('team-a', 'azureml://datastores/workspaceblobstore/paths/multi/'),
    (err: unknown) =>
      err instanceof ValidationError &&
      /p3\.csv has the header \[a, c\], but the first file has \[a, b\]/.test(err.message),
  );

  await put('diff/p1.csv', 'a,b\n1,x\n');
  await put('diff/p2.csv', 'b,c\ny,2020-01-02\n');
  await put(
    'diff/MLTable',
    'paths:\n  - pattern: ./*.csv\ntransformations:\n  - read_delimited: { header: all_files_different_headers }\n',
  );
  const diff = await reader.previewTable('team-a', 'azureml://datastores/workspaceblobstore/paths/diff/');
  assert.deepEqual(
    diff.columns.map((c) => `${c.name}:${c.type}`),
    ['a:int', 'b:string', 'c:datetime'],
  );
  assert.deepEqual(diff.rows, [
    [1, 'x', null],
    [null, 'y', new Date(Date.UTC(2020, 0, 2))],
  ]);

  await put('latin/x.csv', Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x0a, 0x63, 0x61, 0x66, 0xe9, 0x0a]));
  await put('latin/MLTable', 'paths:\n  - file: ./x.csv\ntransformations:\n  - read_delimited: { encoding: latin1 }\n');
  assert.deepEqual((await reader.previewTable('team-a', 'azureml://datastores/workspaceblobstore/paths/latin/')).rows, [
    ['café'],
  ]);

  await put('nohead/x.csv', '\uFEFF01/31/2024 13:05,yes\n02/01/2024 01:00,no\n');
  await put(
    'nohead/MLTable',
    [
      'paths:',
      '  - file: ./x.csv',
      'transformations:',
      '  - read_delimited: { header: no_header }',
      '  - convert_column_types:',
      '      - columns: Column1',
      "        column_type: { datetime: { formats: ['%Y-%m-%d', '%m/%d/%Y %H:%M'] } }",
      '      - columns: Column2',
      '        column_type: boolean',
    ].join('\n'),
  );
  const nohead = await reader.previewTable('team-a', 'azureml://datastores/workspaceblobstore/paths/nohead/');
  assert.deepEqual(nohead.columns, [
    { name: 'Column1', type: 'datetime' },
    { name: 'Column2', type: 'boolean' },
  ]);
  assert.deepEqual(nohead.rows, [
    [new Date(Date.UTC(2024, 0, 31, 13, 5)), true],
    [new Date(Date.UTC(2024, 1, 1, 1, 0)), false],
  ]);
});

test('a value that does not fit the inferred type names the file, the record and the column', async () => {
  const reader3 = createMLTableReader({ data: createDataAccess({ datastores }), inferenceRows: 3 });
  await put('late/x.csv', 'n\n1\n2\n3\nfour\n');
  await put('late/MLTable', 'paths:\n  - file: ./x.csv\ntransformations:\n  - read_delimited: {}\n');
  const uri = 'azureml://datastores/workspaceblobstore/paths/late/';
  assert.deepEqual((await reader3.previewTable('team-a', uri, { rows: 3 })).rows, [[1], [2], [3]]);
  await assert.rejects(
    reader3.previewTable('team-a', uri, { rows: 10 }),
    (err: unknown) =>
      err instanceof ValidationError &&
      err.message.includes('late/x.csv record 4') &&
      /column 'n' holds "four", which is not int \(the type inferred from the first 3 rows\)/.test(err.message),
  );
  await put(
    'late/MLTable',
    'paths:\n  - file: ./x.csv\ntransformations:\n  - read_delimited: { infer_column_types: false }\n',
  );
  assert.deepEqual((await reader3.previewTable('team-a', uri, { rows: 10 })).rows, [['1'], ['2'], ['3'], ['four']]);
});

test('previews of a uri_file by its extension and of a folder without an MLTable', async () => {
  const csv = await put('files/t.tsv', 'a\tb\n1\t2.5\n');
  assert.deepEqual(await reader.previewTable('team-a', csv, { type: 'uri_file' }), {
    columns: [
      { name: 'a', type: 'int' },
      { name: 'b', type: 'float' },
    ],
    rows: [[1, 2.5]],
  });
  const folder = await reader.previewTable('team-a', 'azureml://datastores/workspaceblobstore/paths/files', {
    type: 'uri_folder',
  });
  assert.deepEqual(folder, { columns: [{ name: 'Path', type: 'string' }], rows: [[csv]] });
  await assert.rejects(
    reader.previewTable('team-a', await put('files/model.pkl', 'x'), { type: 'uri_file' }),
    /extension 'pkl' is not a tabular format/,
  );
  await assert.rejects(
    reader.previewTable('team-a', csv, { type: 'uri_file', rows: 0 }),
    /rows must be an integer from 1/,
  );
});

test('what cannot be read says why: missing MLTable, no match, local paths on a server, large Parquet', async () => {
  await assert.rejects(
    reader.previewTable('team-a', 'azureml://datastores/workspaceblobstore/paths/nothing-here/'),
    (err: unknown) => err instanceof NotFoundError && /No MLTable file at .*nothing-here\/MLTable/.test(err.message),
  );
  await put('nomatch/MLTable', 'paths:\n  - pattern: ./*.parquet\n');
  await assert.rejects(
    reader.previewTable('team-a', 'azureml://datastores/workspaceblobstore/paths/nomatch/'),
    (err: unknown) => err instanceof NotFoundError && /No file matches the pattern/.test(err.message),
  );
  await put('local/MLTable', 'paths:\n  - file: /etc/passwd\ntransformations:\n  - read_delimited: {}\n');
  await assert.rejects(
    reader.previewTable('team-a', 'azureml://datastores/workspaceblobstore/paths/local/'),
    (err: unknown) => err instanceof ForbiddenError && /this process allows no local folders/.test(err.message),
  );
  if (noShared === false) {
    const tiny = createMLTableReader({
      data: createDataAccess({ datastores, localRoots: [CORPUS] }),
      maxParquetBytes: 1000,
    });
    const folder = join(
      CORPUS,
      'azureml-examples/cli/responsible-ai/cli-responsibleaidashboard-programmer-regression/data-programmer-regression/train',
    );
    await assert.rejects(
      tiny.previewTable('team-a', `file://${folder}/`),
      (err: unknown) => err instanceof ValidationError && /only up to 1000 bytes/.test(err.message),
    );
  }
});

test('a folder of files is copied into a datastore and previewed by its azureml URI (the data create flow)', async () => {
  const local = join(dir, 'upload', 'table');
  await mkdir(local, { recursive: true });
  await writeFile(join(local, 'part-1.csv'), 'k,v\na,1\n');
  await writeFile(join(local, 'part-2.csv'), 'k,v\nb,2\n');
  await writeFile(
    join(local, 'MLTable'),
    'paths:\n  - pattern: ./part-*.csv\ntransformations:\n  - read_delimited: {}\n',
  );
  const copy = join(dir, 'upload', 'copy');
  await cp(local, copy, { recursive: true });
  const { uri } = await uploadLocalPath({ datastores, workspace: 'team-b', localPath: local });
  const preview = await reader.previewTable('team-b', uri);
  assert.deepEqual(preview.rows, [
    ['a', 1],
    ['b', 2],
  ]);
  assert.equal(
    (await uploadLocalPath({ datastores, workspace: 'team-b', localPath: copy })).uri.replace('/copy/', '/table/'),
    uri,
  );
});

test('values: text type inference and strftime formats', () => {
  const cases: [(string | null)[], string][] = [
    [['1', '-2', null, ''], 'int'],
    [['1', '2.5', '1e3'], 'float'],
    [['1', 'NaN'], 'float'],
    [['true', 'False'], 'boolean'],
    [['0', '1'], 'int'],
    [['2024-01-31', '2024-02-01 10:00:00', '2024-02-01T10:00:00.5Z'], 'datetime'],
    [['2024-02-30'], 'string'],
    [['1', 'x'], 'string'],
    [[null, ''], 'string'],
    [['9007199254740993'], 'float'],
  ];
  for (const [values, type] of cases) assert.equal(inferTextType(values), type, JSON.stringify(values));
  assert.deepEqual(parseStrftime('31 Jan 2024, 1:05 PM', '%d %b %Y, %I:%M %p'), new Date(Date.UTC(2024, 0, 31, 13, 5)));
  assert.deepEqual(
    parseStrftime('2024-01-31T10:00:00+02:00', '%Y-%m-%dT%H:%M:%S%z'),
    new Date(Date.UTC(2024, 0, 31, 8)),
  );
  assert.equal(parseStrftime('2024-13-01', '%Y-%m-%d'), undefined);
  assert.equal(parseStrftime('2024-01-31 extra', '%Y-%m-%d'), undefined);
});
