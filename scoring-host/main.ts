#!/usr/bin/env node
/**
 * The Python scoring image's server (PYTHON_SCORING_IMAGE, built by infra/scoring-host/Dockerfile):
 * what one Container Apps revision of a Python online deployment runs
 * (shared/adapters/container-apps-deployments.ts sets its variables, shared/contracts/scoring-image.ts).
 *
 * On start it copies the deployment's model (TESSERA_MODEL_URI) and code (TESSERA_CODE_URI) from
 * the workspace's datastores to local disk, reading them as the Function app does (the same store
 * settings, given to the revision), starts the scoring script AZUREML_ENTRY_SCRIPT's init() in a
 * long-lived python3 process (shared/serving/python-scorer.ts, as the local host runs score.py),
 * then serves:
 *   GET  /        liveness and readiness: 200 once init() has run (503 before);
 *   POST /score   `Authorization: Bearer $TESSERA_SCORING_KEY` (compared in constant time; else
 *                 401), the body to run(), its answer back.
 * Tessera's router (shared/serving/remote-scorer.ts) is its only caller; auth, traffic, limits and
 * metrics are the Function app's. A model or script that cannot be loaded ends the process with the
 * reason on stderr, which the revision's logs keep and provisioning reports as Failed.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCORING_ENV, SCORING_PORT } from '../shared/contracts/scoring-image.js';
import { createDataAccess } from '../shared/services/data-access.js';
import { createFileFetcher } from '../shared/serving/fetch-files.js';
import { createPythonScorer } from '../shared/serving/python-scorer.js';
import { errorResponse, MAX_BODY_BYTES, type Scorer, type ScoreResponse } from '../shared/serving/scorer.js';
import { closeServices, getServices } from '../shared/wiring.js';

/** How long one run() may take before its caller gets a 504 (the router's own timeout is the deployment's). */
const RUN_TIMEOUT_MS = 180_000;

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(
      `${name} is not set: the Container Apps revision of a Python deployment sets it (see shared/contracts/scoring-image.ts)`,
    );
  }
  return value;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

async function load(): Promise<Scorer> {
  const workspace = required(SCORING_ENV.workspace);
  const entryScript = required(SCORING_ENV.entryScript);
  const codeUri = required(SCORING_ENV.codeUri);
  const modelUri = process.env[SCORING_ENV.modelUri];
  const services = await getServices();
  const fetchFiles = createFileFetcher({
    data: createDataAccess({ datastores: services.datastores }),
    workspace: () => workspace,
    cacheDir: await mkdtemp(join(tmpdir(), 'tessera-scoring-')),
  });
  const codeDir = await fetchFiles(codeUri);
  const modelDir = modelUri === undefined || modelUri === '' ? undefined : await fetchFiles(modelUri);
  return createPythonScorer(
    {
      kind: 'python',
      codeDir,
      ...(modelDir === undefined ? {} : { modelDir }),
      scoringScript: entryScript,
      instanceCount: 1,
      environmentVariables: {},
    },
    {},
    { onOutput: (text) => process.stderr.write(text) },
  );
}

async function main(): Promise<void> {
  const key = digest(required(SCORING_ENV.scoringKey));
  const port = Number(process.env.PORT ?? SCORING_PORT);
  // Set once init() has run; the server answers before that (liveness 503, scoring 503).
  const loaded: { scorer?: Scorer } = {};
  const send = (res: ServerResponse, answer: ScoreResponse): void => {
    res.writeHead(answer.status, { 'content-type': answer.contentType, ...answer.headers });
    res.end(answer.body);
  };
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/') {
      res.writeHead(loaded.scorer === undefined ? 503 : 200, { 'content-type': 'text/plain' });
      res.end(loaded.scorer === undefined ? 'loading' : 'Healthy');
      return;
    }
    if (path !== '/score') return send(res, errorResponse(404, 'NotFound', `no route ${path}: POST /score`));
    if (req.method !== 'POST') return send(res, errorResponse(405, 'MethodNotAllowed', 'POST /score'));
    const presented = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
    if (!timingSafeEqual(digest(presented), key)) {
      return send(
        res,
        errorResponse(401, 'Unauthorized', "the scoring key is missing or wrong ('Authorization: Bearer <key>')"),
      );
    }
    const ready = loaded.scorer;
    if (ready === undefined) {
      return send(res, errorResponse(503, 'NotReady', 'the scoring script is still loading', { 'Retry-After': '5' }));
    }
    void readBody(req).then(
      async (body) => {
        if (body === undefined) {
          return send(res, errorResponse(413, 'PayloadTooLarge', `the request body is over ${MAX_BODY_BYTES} bytes`));
        }
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) {
          if (typeof value === 'string') headers[name] = value;
        }
        const contentType = req.headers['content-type'];
        const answer = await ready.score(
          { body, headers, ...(contentType === undefined ? {} : { contentType }) },
          AbortSignal.timeout(RUN_TIMEOUT_MS),
        );
        send(res, answer);
      },
      (err: unknown) => send(res, errorResponse(400, 'BadRequest', `the request could not be read: ${String(err)}`)),
    );
  });
  await new Promise<void>((resolve) => server.listen(port, '0.0.0.0', resolve));
  const listening = (server.address() as AddressInfo).port;
  process.stdout.write(`tessera scoring host: listening on ${listening}, loading the scoring script\n`);
  loaded.scorer = await load();
  process.stdout.write(`tessera scoring host: ${process.env[SCORING_ENV.entryScript]} ready\n`);
  const stop = () => {
    server.close();
    void (loaded.scorer?.close() ?? Promise.resolve()).then(() => closeServices()).finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`tessera scoring host: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
