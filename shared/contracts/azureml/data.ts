import { z } from 'zod';
import { assetMetadata, ciEnum, DATA_TYPES, reference, yamlBoolean } from './common.js';

/**
 * Data asset specs (`az ml data create`): a named, versioned pointer to a file (uri_file), a folder
 * (uri_folder, the default as in az ml) or an MLTable folder (mltable). `path` is a datastore URI,
 * a URL, or a local path that the loader has made absolute (`file:/...`) for the CLI to upload.
 */
export const dataSpecSchema = z.strictObject({
  ...assetMetadata,
  type: ciEnum(DATA_TYPES).default('uri_folder'),
  path: reference,
  datastore: z.string().optional(),
  stage: z.string().optional(),
  auto_delete_setting: z
    .strictObject({ condition: ciEnum(['created_greater_than', 'last_accessed_greater_than']), value: z.string() })
    .optional(),
  is_anonymous: yamlBoolean.optional(),
});
export type DataSpec = z.output<typeof dataSpecSchema>;
