import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveCredentials } from '../../cli/sdk/credentials.js';
import { MLClient, MLClientError } from '../../cli/sdk/ml-client.js';
import { runCli } from '../../cli/tessera.js';

/** A recording HTTP server: answers each request from `reply` and remembers what it was sent. */
let server: Server;
let endpoint: string;
const seen: { method: string; url: string; authorization: string | undefined; body: string }[] = [];
let reply: (req: IncomingMessage) => { status: number; body: unknown } = () => ({ status: 200, body: {} });

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body });
      const r = reply(req);
      res.writeHead(r.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(r.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('credentials: explicit option > environment > credentials.json > default', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'tessera-cred-'));
  try {
    assert.deepEqual(
      { ...(await resolveCredentials({ dataDir, env: {} })), sources: undefined },
      { endpoint: 'http://127.0.0.1:7071', token: undefined, workspace: 'default', sources: undefined },
    );
    await writeFile(
      join(dataDir, 'credentials.json'),
      JSON.stringify({
        endpoint: 'http://file',
        token: 'tsr_file',
        workspace: 'ws-file',
        tokenId: 'x',
        createdAt: 'y',
      }),
    );
    const fromFile = await resolveCredentials({ env: { TESSERA_DATA_DIR: dataDir } });
    assert.equal(fromFile.endpoint, 'http://file');
    assert.equal(fromFile.token, 'tsr_file');
    assert.equal(fromFile.workspace, 'ws-file');
    const fromEnv = await resolveCredentials({
      dataDir,
      env: { TESSERA_TOKEN: 'tsr_env', TESSERA_ENDPOINT: 'http://env' },
    });
    assert.equal(fromEnv.token, 'tsr_env');
    assert.equal(fromEnv.endpoint, 'http://env');
    assert.equal(fromEnv.sources.token, 'TESSERA_TOKEN');
    const explicit = await resolveCredentials({ dataDir, token: 'tsr_opt', env: { TESSERA_TOKEN: 'tsr_env' } });
    assert.equal(explicit.token, 'tsr_opt');
    await writeFile(join(dataDir, 'credentials.json'), '{oops');
    await assert.rejects(resolveCredentials({ dataDir, env: {} }), /not valid JSON/);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('the SDK sends the token and surfaces the server error JSON', async () => {
  const client = new MLClient({ endpoint: `${endpoint}/api/`, token: 'tsr_abc' });
  reply = () => ({ status: 200, body: { name: 'team-a' } });
  assert.deepEqual(await client.workspaces.put('team-a', { description: 'x' }), { name: 'team-a' });
  const last = seen.at(-1);
  assert.equal(last?.method, 'PUT');
  assert.equal(last?.url, '/api/workspaces/team-a');
  assert.equal(last?.authorization, 'Bearer tsr_abc');
  assert.deepEqual(JSON.parse(last?.body ?? ''), { description: 'x' });

  reply = () => ({
    status: 400,
    body: { error: { code: 'ValidationError', message: 'tags.owner: expected string', target: 'tags.owner' } },
  });
  await assert.rejects(client.workspaces.get('team-a'), (err: unknown) => {
    assert.ok(err instanceof MLClientError);
    assert.equal(err.status, 400);
    assert.equal(err.code, 'ValidationError');
    assert.equal(err.target, 'tags.owner');
    assert.equal(err.message, 'tags.owner: expected string');
    return true;
  });

  const unreachable = new MLClient({ endpoint: 'http://127.0.0.1:1' });
  await assert.rejects(
    unreachable.health(),
    (err: unknown) => err instanceof MLClientError && err.code === 'ConnectionFailed',
  );
});

test('the CLI prints JSON, and exits non-zero with the server message on failure', async () => {
  const out: string[] = [];
  const errors: string[] = [];
  const io = { stdout: (t: string) => out.push(t), stderr: (t: string) => errors.push(t), env: {} };

  reply = () => ({ status: 201, body: { id: 'tok_1', token: 'tsr_new', workspaces: ['team-a'] } });
  const code = await runCli(
    [
      'token',
      'create',
      '--workspace',
      'team-a,team-b',
      '--description',
      'ci',
      '--endpoint',
      endpoint,
      '--token',
      'tsr_admin',
    ],
    io,
  );
  assert.equal(code, 0);
  assert.deepEqual(JSON.parse(out.join('')), { id: 'tok_1', token: 'tsr_new', workspaces: ['team-a'] });
  assert.deepEqual(JSON.parse(seen.at(-1)?.body ?? ''), { workspaces: ['team-a', 'team-b'], description: 'ci' });

  reply = () => ({
    status: 403,
    body: { error: { code: 'Forbidden', message: 'API token tok_x has no access to workspace ws.' } },
  });
  assert.equal(await runCli(['workspace', 'show', '--name', 'ws', '--endpoint', endpoint], io), 1);
  assert.match(errors.join(''), /Forbidden: API token tok_x has no access to workspace ws\./);

  assert.equal(await runCli(['workspace', 'create', '--endpoint', endpoint], io), 2);
  assert.match(errors.join(''), /--name is required/);
  assert.equal(await runCli(['frobnicate', '--endpoint', endpoint], io), 2);
  assert.equal(await runCli(['health', '--bogus'], io), 2);
});
