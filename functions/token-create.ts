import { registerHttp } from '../shared/function-catalog.js';
import { tokenCreateBodySchema } from '../shared/contracts/token.js';
import { defineHttp, jsonResponse, readJsonBody } from '../shared/http/index.js';

export const TOKEN_CREATE = 'token-create';

/** Creates an API token; the response is the only place its secret ever appears. */
export const tokenCreate = defineHttp({
  auth: 'admin',
  async handler({ services, request, principal }) {
    const body = await readJsonBody(request, tokenCreateBodySchema);
    const created = await services.tokens.create(body, { createdBy: `${principal.kind}:${principal.id}` });
    return jsonResponse(201, created, { 'cache-control': 'no-store' });
  },
});

registerHttp(TOKEN_CREATE, { methods: ['POST'], route: 'tokens', handler: tokenCreate });
