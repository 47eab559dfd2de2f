import { z } from 'zod';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse, readQuery } from '../shared/http/index.js';

export const TOKEN_LIST = 'token-list';

const querySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  continuation: z.string().min(1).optional(),
});

export const tokenList = defineHttp({
  auth: 'admin',
  async handler({ services, request }) {
    return jsonResponse(200, await services.tokens.list(readQuery(request, querySchema)));
  },
});

registerHttp(TOKEN_LIST, { methods: ['GET'], route: 'tokens', handler: tokenList });
