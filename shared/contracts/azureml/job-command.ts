import { z } from 'zod';
import {
  commandJobLimits,
  computeTarget,
  distribution,
  environmentVariables,
  jobIdentity,
  jobInputs,
  jobOutputs,
  jobResources,
  jobService,
  properties,
  queueSettings,
  reference,
  resourceName,
  tags,
} from './common.js';
import { environmentField } from './environment.js';

/**
 * Command jobs (`az ml job create` with `type: command`, or no `type` at all): run one command in an
 * environment, with inputs and outputs bound through `${{inputs.x}}` / `${{outputs.y}}`.
 */

/** Keys every job kind has (az ml's BaseJobSchema). */
export const baseJobFields = {
  name: resourceName.optional(),
  display_name: z.string().optional(),
  description: z.string().optional(),
  tags: tags.optional(),
  properties: properties.optional(),
  experiment_name: z.string().optional(),
  compute: computeTarget.optional(),
  identity: jobIdentity.optional(),
  services: z.record(z.string(), jobService).optional(),
};

/** What to run and where: shared by command jobs, command components and sweep trials. */
export const commandFields = {
  command: z.string().min(1),
  code: reference.optional(),
  environment: environmentField,
  environment_variables: environmentVariables.optional(),
  resources: jobResources.optional(),
  distribution: distribution.optional(),
  queue_settings: queueSettings.optional(),
};

export const commandJobSchema = z.strictObject({
  type: z.literal('command'),
  ...baseJobFields,
  ...commandFields,
  limits: commandJobLimits.optional(),
  inputs: jobInputs.optional(),
  outputs: jobOutputs.optional(),
  parent_job_name: z.string().optional(),
});
export type CommandJobSpec = z.output<typeof commandJobSchema>;
