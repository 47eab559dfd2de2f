import { z } from 'zod';
import {
  assetMetadata,
  assetVersion,
  byShape,
  ciEnum,
  properties,
  reference,
  resourceName,
  tags,
  yamlCount,
} from './common.js';

/**
 * Environment specs: the container a job runs in. Tessera records all three ways az ml builds one —
 * a Docker image, an image plus a conda file, or a Docker build context — and resolves the local
 * `conda_file` and `build.path` against the YAML's folder (see spec-loader).
 */

/** `build:` — a Docker build context (a folder or URL) and the Dockerfile inside it. */
export const environmentBuild = z.strictObject({
  path: reference,
  dockerfile_path: z.string().min(1).optional(),
});

/** A conda specification written inline (`conda_file: {channels: [...], dependencies: [...]}`). */
export const inlineCondaFile = z.record(z.string(), z.unknown());

/** A route of a custom inference container. */
const inferenceRoute = z.strictObject({ path: z.string().min(1), port: yamlCount });

const environmentFields = {
  image: z.string().min(1).optional(),
  conda_file: byShape([reference, inlineCondaFile], (v) =>
    typeof v === 'string' ? reference : inlineCondaFile,
  ).optional(),
  build: environmentBuild.optional(),
  os_type: ciEnum(['linux', 'windows']).optional(),
  inference_config: z
    .strictObject({
      liveness_route: inferenceRoute.optional(),
      readiness_route: inferenceRoute.optional(),
      scoring_route: inferenceRoute.optional(),
    })
    .optional(),
  datastore: z.string().optional(),
  intellectual_property: z.record(z.string(), z.unknown()).optional(),
};

function checkImageOrBuild(
  value: { image?: string | undefined; build?: unknown; conda_file?: unknown },
  ctx: z.RefinementCtx,
): void {
  if (value.image === undefined && value.build === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['image'],
      message: 'an environment needs either image or build (a Docker build context)',
    });
  } else if (value.image !== undefined && value.build !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['build'], message: 'give either image or build, not both' });
  } else if (value.build !== undefined && value.conda_file !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['conda_file'],
      message: 'conda_file goes with image; with build, install packages in the Dockerfile',
    });
  }
}

/** An environment asset (`az ml environment create`). */
export const environmentSpecSchema = z
  .strictObject({ ...assetMetadata, ...environmentFields })
  .superRefine(checkImageOrBuild);
export type EnvironmentSpec = z.output<typeof environmentSpecSchema>;

/** An environment written inline in a job or component: the same keys, `name` optional. */
export const inlineEnvironment = z
  .strictObject({
    name: resourceName.optional(),
    version: assetVersion.optional(),
    description: z.string().optional(),
    tags: tags.optional(),
    properties: properties.optional(),
    ...environmentFields,
  })
  .superRefine(checkImageOrBuild);
export type InlineEnvironment = z.output<typeof inlineEnvironment>;

/** `environment:` of a job or component: a reference (`azureml:name:version`, `azureml:name@latest`, ...) or inline. */
export const environmentField = byShape([reference, inlineEnvironment], (v) =>
  typeof v === 'string' ? reference : inlineEnvironment,
);
export type EnvironmentField = z.output<typeof environmentField>;

/** An environment written inline in an online deployment: as in a job, plus the `id` of the registered one. */
export const deploymentInlineEnvironment = z
  .strictObject({
    id: z.string().min(1).optional(),
    name: resourceName.optional(),
    version: assetVersion.optional(),
    description: z.string().optional(),
    tags: tags.optional(),
    properties: properties.optional(),
    ...environmentFields,
  })
  .superRefine(checkImageOrBuild);

/** `environment:` of an online deployment: a reference, or inline. */
export const deploymentEnvironmentField = byShape([reference, deploymentInlineEnvironment], (v) =>
  typeof v === 'string' ? reference : deploymentInlineEnvironment,
);
