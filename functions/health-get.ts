import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerHttp, registeredFunctions } from '../shared/function-catalog.js';
import { defineHttp, jsonResponse } from '../shared/http/index.js';

export const HEALTH_GET = 'health-get';

let version: Promise<string> | undefined;

/** The version in the app's package.json, read on first use; 'unknown' rather than a failure. */
function appVersion(): Promise<string> {
  version ??= (async () => {
    // Source and compiled files sit at different depths (functions/ vs dist/functions/): walk up.
    let dir = dirname(fileURLToPath(import.meta.url));
    for (let i = 0; i < 4; i++) {
      try {
        const pkg: unknown = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
        if (typeof pkg === 'object' && pkg !== null && typeof (pkg as { version?: unknown }).version === 'string') {
          return (pkg as { version: string }).version;
        }
      } catch {
        // not here; keep walking
      }
      dir = dirname(dir);
    }
    return 'unknown';
  })();
  return version;
}

export const healthGet = defineHttp({
  auth: 'public',
  async handler({ services }) {
    return jsonResponse(200, {
      status: 'ok',
      version: await appVersion(),
      stores: { metadata: services.store.kind, artifacts: services.artifacts.kind, queue: services.queue.kind },
      functions: registeredFunctions().length,
    });
  },
});

registerHttp(HEALTH_GET, { methods: ['GET'], route: 'health', handler: healthGet });
