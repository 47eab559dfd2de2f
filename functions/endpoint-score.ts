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
offerDirectLane(ENDPOINT_SCORE, async (request) =>
  score(await getServices(), request.params.name ?? '', request.headers, request.body),
);
