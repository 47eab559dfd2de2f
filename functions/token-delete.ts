import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse } from '../shared/http/index.js';

export const TOKEN_DELETE = 'token-delete';

/** Revokes the token; answers with its (now revoked) description. */
export const tokenDelete = defineHttp({
  auth: 'admin',
  async handler({ services, request }) {
    return jsonResponse(200, await services.tokens.revoke(request.params.id ?? ''));
  },
});

registerHttp(TOKEN_DELETE, { methods: ['DELETE'], route: 'tokens/{id}', handler: tokenDelete });
