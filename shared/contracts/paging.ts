import { z } from 'zod';

/** Query string of every list endpoint: `?limit=N&continuation=<token from the previous page>`. */
export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  continuation: z.string().min(1).optional(),
});
export type PageQuery = z.infer<typeof pageQuerySchema>;
