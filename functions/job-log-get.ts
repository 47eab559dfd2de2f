import { JOB_STATUS_HEADER, LOG_NEXT_OFFSET_HEADER, jobLogQuerySchema } from '../shared/contracts/job.js';
import { registerHttp } from '../shared/function-catalog.js';
import { defineHttp, readQuery } from '../shared/http/index.js';

export const JOB_LOG_GET = 'job-log-get';

/**
 * `GET .../jobs/{name}/logs?offset=N`: user_logs/std_log.txt from byte N (up to 1 MiB), with where
 * the next read starts and the job's status in headers, so a client can follow a running job.
 */
export const jobLogGet = defineHttp({
  auth: 'workspace',
  async handler({ services, request }) {
    const { offset } = readQuery(request, jobLogQuerySchema);
    const log = await services.jobs.readLog(request.params.ws ?? '', request.params.name ?? '', offset);
    return {
      status: 200,
      body: log.data,
      headers: {
        'content-type': 'text/plain; charset=utf-8',
        [LOG_NEXT_OFFSET_HEADER]: String(log.nextOffset),
        [JOB_STATUS_HEADER]: log.status,
        'cache-control': 'no-store',
      },
    };
  },
});

registerHttp(JOB_LOG_GET, { methods: ['GET'], route: 'workspaces/{ws}/jobs/{name}/logs', handler: jobLogGet });
