import { archiveActionSchema } from '../shared/contracts/assets.js';
import { parseOrThrow } from '../shared/contracts/validation.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse } from '../shared/http/index.js';

export const JOB_ARCHIVE = 'job-archive';

/** POST .../jobs/{name}/archive or /restore: hides a job from lists (it stays readable), or shows it again. */
export const jobArchive = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    const archived = parseOrThrow(archiveActionSchema, request.params.action, 'action');
    return jsonResponse(
      200,
      await services.jobs.setArchived(request.params.ws ?? '', request.params.name ?? '', archived),
    );
  },
});

registerHttp(JOB_ARCHIVE, {
  methods: ['POST'],
  route: 'workspaces/{ws}/jobs/{name}/{action:regex(^(archive|restore)$)}',
  handler: jobArchive,
});
