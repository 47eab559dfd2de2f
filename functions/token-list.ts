import { pageQuerySchema } from '../shared/contracts/paging.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse, readQuery } from '../shared/http/index.js';

export const TOKEN_LIST = 'token-list';

export const tokenList = defineHttp({
  auth: 'admin',
  async handler({ services, request }) {
    return jsonResponse(200, await services.tokens.list(readQuery(request, pageQuerySchema)));
  },
});

registerHttp(TOKEN_LIST, { methods: ['GET'], route: 'tokens', handler: tokenList });
