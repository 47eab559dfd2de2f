import { z } from 'zod';
import { assetMetadata, ciEnum, MODEL_TYPES, reference } from './common.js';

/**
 * Model asset specs (`az ml model create`): a named, versioned model folder or file. `type` defaults
 * to custom_model as in az ml; `path` is a local path (made absolute by the loader), a datastore
 * URI, a URL, or a job output (`azureml://jobs/<job>/outputs/<output>/paths/...`).
 */
export const modelSpecSchema = z.strictObject({
  ...assetMetadata,
  type: ciEnum(MODEL_TYPES).default('custom_model'),
  path: reference,
  flavors: z.record(z.string(), z.unknown()).optional(),
  stage: z.string().optional(),
  job_name: z.string().optional(),
  datastore: z.string().optional(),
  intellectual_property: z.record(z.string(), z.unknown()).optional(),
});
export type ModelSpec = z.output<typeof modelSpecSchema>;
