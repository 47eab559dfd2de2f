import { z } from 'zod';

/**
 * The hourly housekeeping orchestration: its name, its activities' names, and the data that
 * crosses the orchestration boundary (only numbers, so history stays small).
 */

export const HOUSEKEEPING_ORCHESTRATION = 'housekeeping';
export const DELETE_EXPIRED_TOKENS_ACTIVITY = 'housekeeping-delete-expired-tokens';
export const DELETE_EXPIRED_UPLOAD_SESSIONS_ACTIVITY = 'housekeeping-delete-expired-upload-sessions';

/** Upload sessions live here (created by the upload API); each document has `expiresAt` in epoch ms. */
export const UPLOAD_SESSIONS_CONTAINER = 'uploadSessions';

/** Activity input: the orchestration's replay-safe "now", so every replay deletes by the same cut-off. */
export const housekeepingActivityInputSchema = z.object({ nowMs: z.number().int().nonnegative() });
export type HousekeepingActivityInput = z.infer<typeof housekeepingActivityInputSchema>;

/** Activity output: how many documents were deleted. */
export const deletedCountSchema = z.number().int().nonnegative();

export const housekeepingResultSchema = z.object({
  tokens: z.number().int().nonnegative(),
  uploadSessions: z.number().int().nonnegative(),
});
export type HousekeepingResult = z.infer<typeof housekeepingResultSchema>;
