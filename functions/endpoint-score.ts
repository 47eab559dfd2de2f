import { registerHttp } from '../shared/function-catalog.js';
import { offerDirectLane } from '../shared/http/direct-lane.js';
import { defineHttp } from '../shared/http/index.js';
import { getServices } from '../shared/wiring.js';
import type { Services } from '../shared/wiring.js';

export const ENDPOINT_SCORE = 'endpoint-score';

async function score(services: Services, name: string, headers: Record<string, string>, body: Buffer) {
  const answer = await services.scoring.score(name, {
    body,
    headers,
    ...(headers['content-type'] === undefined ? {} : { contentType: headers['content-type'] }),
  });
  return {
    status: answer.status,
    headers: { 'content-type': answer.contentType, ...answer.headers },
    body: answer.body,
  };
}

/**
 * An online endpoint's scoring URI (`scoring_uri`): the caller is checked against the endpoint's
 * own keys or aml tokens (not workspace tokens), then the router picks the deployment — by the
 * `azureml-model-deployment` header, else by traffic — and its scorer answers. Every answer,
 * errors included, comes from the data plane (shared/serving/router.ts).
 */
export const endpointScore = defineHttp({
  auth: 'public',
  async handler({ services, request }) {
    const headers: Record<string, string> = {};
    request.headers.forEach((value, key) => (headers[key] = value));
    return score(services, request.params.name ?? '', headers, Buffer.from(await request.arrayBuffer()));
  },
});

registerHttp(ENDPOINT_SCORE, {
  methods: ['POST'],
  route: 'endpoints/{name}/score',
  handler: endpointScore,
});

// The local host serves the same answer without the invocation pipeline (shared/http/direct-lane.ts).
// A scoring replica serves endpoints whose deployments are all no-code ONNX without a data collector
// (one ONNX Runtime session per process is cheap). Scoring scripts and Python run once, and collected
// data has one writer: the host's main process, which gets those requests forwarded.
offerDirectLane(ENDPOINT_SCORE, async (request) => {
  const services = await getServices();
  const name = request.params.name ?? '';
  if (request.replica) {
    const found = await services.endpoints.directory.lookup(name);
    if (found?.deployments.some((d) => d.kind !== 'onnx' || d.data_collector !== undefined)) return undefined;
  }
  return score(services, name, request.headers, request.body);
});
