import { z } from 'zod';
import { registerHttp } from '../shared/function-catalog.js';
import { ValidationError } from '../shared/errors.js';
import { defineHttp, jsonResponse, readQuery } from '../shared/http/index.js';
import { createDataAccess } from '../shared/services/data-access.js';
import { createMLTableReader, MAX_PREVIEW_ROWS } from '../shared/services/mltable-reader.js';
import type { PreviewDataType } from '../shared/services/mltable-reader.js';

export const DATA_PREVIEW = 'data-preview';

const previewQuerySchema = z.object({
  rows: z.coerce.number().int().min(1).max(MAX_PREVIEW_ROWS).default(10),
});

const PREVIEW_TYPES: readonly PreviewDataType[] = ['mltable', 'uri_file', 'uri_folder'];

/**
 * The first rows and the inferred column types of a data asset version: an mltable is read as
 * its MLTable file says; a uri_file by its extension (csv, tsv, jsonl, parquet); a uri_folder is
 * the table its MLTable file describes, or else the list of its files.
 */
export const dataPreview = defineHttp({
  auth: 'workspace',
  async handler({ services, request, workspace = '' }) {
    const { rows } = readQuery(request, previewQuerySchema);
    const name = request.params.name ?? '';
    const version = request.params.version ?? '';
    const asset = await services.assets.getVersion(workspace, 'data', name, version);
    const type = asset.spec['type'];
    const path = asset.spec['path'];
    if (typeof path !== 'string' || !PREVIEW_TYPES.includes(type as PreviewDataType)) {
      throw new ValidationError(`Data asset ${name}:${version} has no path of type mltable, uri_file or uri_folder.`, {
        target: 'path',
      });
    }
    // Composition belongs in shared/wiring.ts; until Services carries a table reader, build one over the resolver.
    const tables = createMLTableReader({ data: createDataAccess({ datastores: services.datastores }) });
    const preview = await tables.previewTable(workspace, path, { rows, type: type as PreviewDataType });
    return jsonResponse(200, { name, version, type, path, columns: preview.columns, rows: preview.rows });
  },
});

registerHttp(DATA_PREVIEW, {
  methods: ['GET'],
  route: 'workspaces/{ws}/data/{name}/versions/{version}/preview',
  handler: dataPreview,
});
