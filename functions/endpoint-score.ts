import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp } from '../shared/http/index.js';

export const ENDPOINT_SCORE = 'endpoint-score';

/**
 * An online endpoint's scoring URI (`scoring_uri`): the caller is checked against the endpoint's
 * own keys or aml tokens (not workspace tokens), then the router picks the deployment — by the
 * `azureml-model-deployment` header, else by traffic — and its scorer answers. Every answer,
 * errors included, comes from the data plane (shared/serving/router.ts).
 */
export const endpointScore = defineHttp({
  auth: 'public',
  async handler({ services, request }) {
    const name = request.params.name ?? '';
    const headers: Record<string, string> = {};
    request.headers.forEach((value, key) => (headers[key] = value));
    const body = Buffer.from(await request.arrayBuffer());
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
  },
});

registerHttp(ENDPOINT_SCORE, {
  methods: ['POST'],
  route: 'endpoints/{name}/score',
  handler: endpointScore,
});
