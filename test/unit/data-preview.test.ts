import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The library is a CommonJS bundle whose classes Node cannot list as named ESM exports.
import azureFunctions from '@azure/functions';
import type { HttpResponseInit } from '@azure/functions';
import { loadConfig } from '../../shared/config.js';
import { closeServicesOf, createServices, setServicesForTesting } from '../../shared/wiring.js';
import type { Services } from '../../shared/wiring.js';
import { dataPreview } from '../../functions/data-preview.js';
import { uploadLocalPath } from '../../shared/services/upload-service.js';

const { HttpRequest, InvocationContext } = azureFunctions;

let dataDir: string;
let services: Services;
let teamA: string;
let teamB: string;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tessera-data-preview-'));
  services = await createServices(loadConfig({ TESSERA_DATA_DIR: join(dataDir, 'host'), PORT: '7997' }));
  setServicesForTesting(services);
  teamA = (await services.tokens.create({ workspaces: ['team-a'] })).token;
  teamB = (await services.tokens.create({ workspaces: ['team-b'] })).token;
  await services.workspaces.put('team-a', {});
  await services.workspaces.put('team-b', {});

  const local = join(dataDir, 'local', 'iris');
  await mkdir(local, { recursive: true });
  await writeFile(join(local, 'data.csv'), 'sepal,species\n5.1,setosa\n4.9,setosa\n7.0,versicolor\n6.4,versicolor\n');
  await writeFile(
    join(local, 'MLTable'),
    'paths:\n  - file: ./data.csv\ntransformations:\n  - read_delimited: { header: all_files_same_headers }\n  - skip: 1\n',
  );
  const { uri } = await uploadLocalPath({ datastores: services.datastores, workspace: 'team-a', localPath: local });
  await services.assets.putVersion('team-a', 'data', 'iris', '1', { type: 'mltable', path: uri });
  await services.assets.putVersion('team-a', 'data', 'iris-csv', '1', { type: 'uri_file', path: `${uri}data.csv` });
  await services.assets.putVersion('team-a', 'data', 'laptop', '1', {
    type: 'uri_file',
    path: `file:${join(local, 'data.csv')}`,
  });
});

after(async () => {
  setServicesForTesting(undefined);
  await closeServicesOf(services);
  await rm(dataDir, { recursive: true, force: true });
});

async function get(
  name: string,
  version: string,
  token: string | undefined,
  query: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const request = new HttpRequest({
    method: 'GET',
    url: `http://127.0.0.1:7997/api/workspaces/team-a/data/${name}/versions/${version}/preview`,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    params: { ws: 'team-a', name, version },
    query,
  });
  const context = new InvocationContext({ invocationId: 'inv-preview', functionName: 'data-preview' });
  const raw = (await dataPreview(request, context)) as HttpResponseInit;
  // Through JSON, as a client sees it (dates become ISO strings).
  return { status: raw.status ?? 200, json: JSON.parse(JSON.stringify(raw.jsonBody ?? {})) as Record<string, unknown> };
}

test('an mltable data asset previews its first rows and its column types', async () => {
  const res = await get('iris', '1', teamA, { rows: '2' });
  assert.equal(res.status, 200);
  assert.deepEqual(res.json['columns'], [
    { name: 'sepal', type: 'float' },
    { name: 'species', type: 'string' },
  ]);
  assert.deepEqual(res.json['rows'], [
    [4.9, 'setosa'],
    [7, 'versicolor'],
  ]);
  assert.equal(res.json['type'], 'mltable');
});

test('a uri_file previews by its extension; the default is 10 rows', async () => {
  const res = await get('iris-csv', '1', teamA);
  assert.equal(res.status, 200);
  assert.equal((res.json['rows'] as unknown[]).length, 4);
});

test('errors: unknown version 404, bad rows 400, other workspace 403, a local path the server cannot read 403', async () => {
  assert.equal((await get('iris', '9', teamA)).status, 404);
  const bad = await get('iris', '1', teamA, { rows: '5000' });
  assert.equal(bad.status, 400);
  assert.equal((await get('iris', '1', teamB)).status, 403);
  assert.equal((await get('iris', '1', undefined)).status, 401);
  const local = await get('laptop', '1', teamA);
  assert.equal(local.status, 403);
  assert.match((local.json['error'] as { message: string }).message, /allows no local folders/);
});
