// Issue 3's flow as a user runs it: `tessera <group> create --file` against a running host,
// then show / list / preview / download, versions and labels, and bad specs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../support/fixture-app.js';
import { startHostProcess } from '../support/host-process.js';
import type { HostProcess } from '../support/host-process.js';
import type * as Sdk from '../../cli/sdk/index.js';
import { runTessera, type CliResult } from '../support/tessera-cli.js';

const run = promisify(execFile);

describe('workspace assets through the tessera CLI', () => {
  let host: HostProcess;
  let dataDir: string;
  let specs: string;

  before(async () => {
    dataDir = tempDir('assets-cli');
    host = await startHostProcess({ dataDir });
    specs = tempDir('assets-specs');
    mkdirSync(join(specs, 'table'));
    writeFileSync(
      join(specs, 'table', 'rows.csv'),
      'id,name,score,passed\n1,ada,9.5,True\n2,bob,7.25,False\n3,cy,8,True\n',
    );
    writeFileSync(
      join(specs, 'table', 'MLTable'),
      'paths:\n  - file: ./rows.csv\ntransformations:\n  - read_delimited:\n      delimiter: ","\n      header: all_files_same_headers\n',
    );
    writeFileSync(
      join(specs, 'data.yml'),
      '$schema: https://azuremlschemas.azureedge.net/latest/data.schema.json\r\nname: scores\r\ntype: mltable\r\npath: ./table\r\ndescription: exam scores\r\n',
    );
    mkdirSync(join(specs, 'model', 'nested'), { recursive: true });
    writeFileSync(join(specs, 'model', 'weights.bin'), Buffer.from([1, 2, 3, 4]));
    writeFileSync(join(specs, 'model', 'nested', 'config.json'), '{"layers":2}');
    writeFileSync(join(specs, 'model.yml'), 'name: scorer\ntype: custom_model\npath: model\n');
    writeFileSync(
      join(specs, 'datastore.yml'),
      'name: external\ntype: azure_blob\naccount_name: someaccount\ncontainer_name: data\ncredentials:\n  account_key: c2VjcmV0LWtleS12YWx1ZQ==\n',
    );
    writeFileSync(
      join(specs, 'unknown-key.yml'),
      'name: broken\ntype: uri_file\npath: https://example.com/a.csv\ncolour: blue\n',
    );
    writeFileSync(join(specs, 'wrong-type.yml'), 'name: broken\ntype: csv\npath: ./table\n');
    writeFileSync(join(specs, 'malformed.yml'), 'name: [broken\n  type: uri_file\n');
  });
  after(async () => {
    await host.stop('SIGTERM');
  });

  const tessera = (...args: string[]): Promise<CliResult> => runTessera(args, { dataDir, cwd: specs });
  const json = <T>(r: { code: number; stdout: string; stderr: string }): T => {
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as T;
  };

  it('creates an MLTable data asset, shows it, previews it; a second create makes version 2 and latest follows', async () => {
    const first = json<{ version: string; spec: { path: string } }>(
      await tessera('data', 'create', '--file', 'data.yml'),
    );
    assert.equal(first.version, '1');
    assert.match(
      first.spec.path,
      /^azureml:\/\/datastores\/workspaceblobstore\/paths\/LocalUpload\/[0-9a-f]{64}\/table\/$/,
    );
    const shown = json<{ name: string; description: string }>(await tessera('data', 'show', '-n', 'scores', '-v', '1'));
    assert.equal(shown.description, 'exam scores');
    const preview = json<{ columns: { name: string; type: string }[]; rows: unknown[][] }>(
      await tessera('data', 'preview', '-n', 'scores', '-v', '1', '--rows', '2'),
    );
    assert.deepEqual(
      preview.columns.map((c) => `${c.name}:${c.type}`),
      ['id:int', 'name:string', 'score:float', 'passed:boolean'],
    );
    assert.deepEqual(preview.rows, [
      [1, 'ada', 9.5, true],
      [2, 'bob', 7.25, false],
    ]);
    const second = json<{ version: string; spec: { path: string } }>(
      await tessera('data', 'create', '--file', 'data.yml'),
    );
    assert.equal(second.version, '2');
    assert.equal(second.spec.path, first.spec.path, 'unchanged content is uploaded to the same place');
    const latest = json<{ version: string }>(await tessera('data', 'show', '-n', 'scores', '-l', 'latest'));
    assert.equal(latest.version, '2');
    const table = await tessera('data', 'list', '-o', 'table');
    assert.match(table.stdout, /scores\s+2\s+exam scores/);
  });

  it('runs as `npx tessera` from the repository (the package bin through its symlink)', async () => {
    const { stdout } = await run('npx', ['--no-install', 'tessera', 'data', 'show', '-n', 'scores', '-l', 'latest'], {
      cwd: resolve('.'),
      env: { ...process.env, TESSERA_DATA_DIR: dataDir, TESSERA_TOKEN: '', TESSERA_ENDPOINT: '' },
    });
    assert.equal((JSON.parse(stdout) as { version: string }).version, '2');
  });

  it('rejects bad specs with the file, the key path and a hint, a non-zero exit, and nothing created', async () => {
    const unknown = await tessera('data', 'create', '--file', 'unknown-key.yml');
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /unknown-key\.yml: colour: unknown key/);
    const wrong = await tessera('data', 'create', '--file', 'wrong-type.yml');
    assert.match(wrong.stderr, /wrong-type\.yml: type: expected one of uri_file, uri_folder, mltable, found "csv"/);
    const malformed = await tessera('data', 'create', '--file', 'malformed.yml');
    assert.match(malformed.stderr, /malformed\.yml:1:\d+: YAML syntax error/);
    const missing = await tessera('data', 'show', '-n', 'broken');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /broken/);
  });

  it('registers a model from a folder and downloads its files', async () => {
    json(await tessera('model', 'create', '--file', 'model.yml'));
    const out = tempDir('download');
    const result = json<{ directory: string; files: string[] }>(
      await tessera('model', 'download', '-n', 'scorer', '-v', '1', '--download-path', out),
    );
    assert.deepEqual(result.files.sort(), ['model/nested/config.json', 'model/weights.bin']);
    assert.deepEqual([...readFileSync(join(out, 'scorer', 'model', 'weights.bin'))], [1, 2, 3, 4]);
  });

  it('registers a model from a local folder with --path (no spec file), uploaded as create --file does', async () => {
    const created = json<{ version: string; spec: { path: string; type: string } }>(
      await tessera('model', 'create', '--name', 'scorer-cli', '--path', 'model', '--type', 'custom_model'),
    );
    assert.equal(created.version, '1');
    assert.match(
      created.spec.path,
      /^azureml:\/\/datastores\/workspaceblobstore\/paths\/LocalUpload\/[0-9a-f]{64}\/model\/$/,
    );
    const fromFile = json<{ spec: { path: string } }>(await tessera('model', 'show', '-n', 'scorer', '-v', '1'));
    assert.equal(created.spec.path, fromFile.spec.path, 'the same content lands in the same place');
    const missing = await tessera('model', 'create', '--name', 'scorer-cli', '--path', 'no-such-folder');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no-such-folder does not exist/);
  });

  it('works from the SDK the package exports (import { MLClient } from "tessera")', async () => {
    const sdk = (await import('tessera')) as typeof Sdk;
    const ml = await sdk.MLClient.fromEnvironment({ dataDir, endpoint: host.origin });
    const asset = await ml.data.get('scores', { label: 'latest' });
    assert.equal(asset.version, '2');
    const names = (await ml.data.list()).value.map((a) => a.name);
    assert.ok(names.includes('scores'));
    const created = await ml.data.createOrUpdate({
      name: 'remote-csv',
      type: 'uri_file',
      path: 'https://example.com/a.csv',
    });
    assert.equal(created.version, '1');
    await assert.rejects(
      ml.models.get('no-such-model'),
      (err: unknown) => err instanceof sdk.MLClientError && err.status === 404,
    );
  });

  it('never shows datastore credentials, and lists the built-in datastores', async () => {
    const created = json<{ spec: { credentials: { account_key: string } } }>(
      await tessera('datastore', 'create', '--file', 'datastore.yml'),
    );
    assert.equal(created.spec.credentials.account_key, '***');
    const shown = await tessera('datastore', 'show', '-n', 'external', '-o', 'yaml');
    assert.ok(!shown.stdout.includes('c2VjcmV0LWtleS12YWx1ZQ=='));
    const list = json<{ value: { name: string }[] }>(await tessera('datastore', 'list'));
    const names = list.value.map((d) => d.name);
    for (const builtin of [
      'workspaceblobstore',
      'workspaceartifactstore',
      'workspacefilestore',
      'workspaceworkingdirectory',
      'external',
    ]) {
      assert.ok(names.includes(builtin), `missing ${builtin}`);
    }
    for (const file of ['metadata.db', 'metadata.db-wal']) {
      let raw = '';
      try {
        raw = readFileSync(join(dataDir, file)).toString('latin1');
      } catch {
        continue;
      }
      assert.ok(!raw.includes('c2VjcmV0LWtleS12YWx1ZQ=='), `${file} holds the secret in clear`);
    }
  });
});
