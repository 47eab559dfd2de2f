import { z } from 'zod';
import {
  binding,
  byShape,
  byType,
  commandJobLimits,
  computeTarget,
  distribution,
  environmentVariables,
  jobIdentity,
  jobInputs,
  jobOutputs,
  jobResources,
  jobService,
  nodeOutputs,
  properties,
  queueSettings,
  reference,
  resourceName,
  sparkResources,
  tags,
  yamlBoolean,
  yamlCount,
} from './common.js';
import {
  componentMetadata,
  inlineCommandComponent,
  inlineParallelComponent,
  inlineSparkComponent,
  parallelFields,
} from './component.js';
import { environmentField } from './environment.js';
import { automlNodeSchema } from './job-automl.js';
import { baseJobFields } from './job-command.js';
import { sparkFields } from './job-spark.js';
import { sweepFields } from './job-sweep.js';

/**
 * Pipelines: a graph of nodes (`jobs:`) wired by `${{parent.inputs.x}}` and
 * `${{parent.jobs.<node>.outputs.y}}` bindings, kept verbatim as strings. A node runs a component —
 * referenced (`azureml:name:version`, `azureml:name@label`, `azureml://registries/...`, a local
 * file) or written inline — or is a command, Spark, parallel, sweep or AutoML step written out in
 * place, or a control-flow node (do_while, if_else, parallel_for) over other nodes. Pipeline jobs
 * and pipeline components share the node schemas; a pipeline component can itself be a node.
 */

/** The looser shape of nodes nested inside an inline pipeline component (the types stop recursing there). */
export type NestedPipelineNode = { type: string } & Record<string, unknown>;

/** Keys every runnable node has. */
const nodeCommon = {
  name: resourceName.optional(),
  display_name: z.string().optional(),
  description: z.string().optional(),
  tags: tags.optional(),
  properties: properties.optional(),
  experiment_name: z.string().optional(),
  compute: computeTarget.optional(),
  inputs: jobInputs.optional(),
  outputs: nodeOutputs.optional(),
};

function componentRef<S extends z.ZodType>(inline: S) {
  return byShape([reference, inline], (v) => (typeof v === 'string' ? reference : inline));
}

function requireOneOf(keys: readonly string[], what: string) {
  return (value: Record<string, unknown>, ctx: z.RefinementCtx): void => {
    if (keys.some((k) => value[k] !== undefined)) return;
    ctx.addIssue({ code: 'custom', path: [keys[0] ?? ''], message: `${what} needs ${keys.join(' or ')}` });
  };
}

export const commandNode = z
  .strictObject({
    type: z.literal('command'),
    ...nodeCommon,
    component: componentRef(inlineCommandComponent).optional(),
    command: z.string().min(1).optional(),
    code: reference.optional(),
    environment: environmentField.optional(),
    environment_variables: environmentVariables.optional(),
    resources: jobResources.optional(),
    distribution: distribution.optional(),
    limits: commandJobLimits.optional(),
    identity: jobIdentity.optional(),
    services: z.record(z.string(), jobService).optional(),
    queue_settings: queueSettings.optional(),
  })
  .superRefine(requireOneOf(['component', 'command'], 'a command node'));

export const sweepNode = z.strictObject({
  type: z.literal('sweep'),
  ...nodeCommon,
  ...sweepFields,
  trial: componentRef(inlineCommandComponent),
  identity: jobIdentity.optional(),
  resources: jobResources.optional(),
  queue_settings: queueSettings.optional(),
});

export const sparkNode = z
  .strictObject({
    type: z.literal('spark'),
    ...nodeCommon,
    ...sparkFields,
    component: componentRef(inlineSparkComponent).optional(),
    resources: sparkResources.optional(),
    identity: jobIdentity.optional(),
  })
  .superRefine(requireOneOf(['component', 'entry'], 'a Spark node'));

export const parallelNode = z
  .strictObject({
    type: z.literal('parallel'),
    ...nodeCommon,
    ...parallelFields,
    task: parallelFields.task.optional(),
    component: componentRef(inlineParallelComponent).optional(),
    identity: jobIdentity.optional(),
  })
  .superRefine(requireOneOf(['component', 'task'], 'a parallel node'));

/** `settings:` of a pipeline job or pipeline node. */
export const pipelineSettings = z.strictObject({
  default_compute: computeTarget.optional(),
  default_datastore: z.string().min(1).optional(),
  default_environment: z.string().min(1).optional(),
  continue_on_step_failure: yamlBoolean.optional(),
  continue_run_on_failed_optional_input: yamlBoolean.optional(),
  force_rerun: yamlBoolean.optional(),
  on_init: z.string().optional(),
  on_finalize: z.string().optional(),
  timeout: yamlCount.optional(),
  priority: z.string().optional(),
});

const nestedJobs: z.ZodType<Record<string, NestedPipelineNode>> = z.lazy(
  () => pipelineJobs as unknown as z.ZodType<Record<string, NestedPipelineNode>>,
);

/** A pipeline component written inline in a pipeline node. */
const inlinePipelineComponent = byType(
  {
    pipeline: z.strictObject({
      type: z.literal('pipeline'),
      ...componentMetadata,
      jobs: nestedJobs,
    }),
  },
  { default: 'pipeline' },
);

export const pipelineNode = z.strictObject({
  type: z.literal('pipeline'),
  ...nodeCommon,
  component: componentRef(inlinePipelineComponent),
  settings: pipelineSettings.optional(),
});

/** A node reference (`${{parent.jobs.<node>}}`) or several. */
const blockRef = z.union([binding, z.array(binding)]);

export const doWhileNode = z.strictObject({
  type: z.literal('do_while'),
  name: resourceName.optional(),
  display_name: z.string().optional(),
  body: binding,
  /** A control output of the body (`${{parent.jobs.body.outputs.again}}`, or its name); absent: loop until the limit. */
  condition: z.union([z.string().min(1), yamlBoolean]).optional(),
  /** Body output → body input(s) it feeds in the next iteration. */
  mapping: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
  limits: z.strictObject({ max_iteration_count: yamlCount }),
});

export const ifElseNode = z.strictObject({
  type: z.literal('if_else'),
  name: resourceName.optional(),
  display_name: z.string().optional(),
  condition: z.union([binding, yamlBoolean]),
  true_block: blockRef.optional(),
  false_block: blockRef.optional(),
});

export const parallelForNode = z.strictObject({
  type: z.literal('parallel_for'),
  name: resourceName.optional(),
  display_name: z.string().optional(),
  body: binding,
  items: z.union([z.string(), z.array(z.unknown()), z.record(z.string(), z.unknown())]),
  max_concurrency: yamlCount.optional(),
  outputs: nodeOutputs.optional(),
});

/** One node of a pipeline, chosen by `type` (a node without one runs a command component). */
export const pipelineNodeSchema = byType(
  {
    command: commandNode,
    sweep: sweepNode,
    spark: sparkNode,
    parallel: parallelNode,
    automl: automlNodeSchema,
    pipeline: pipelineNode,
    do_while: doWhileNode,
    if_else: ifElseNode,
    parallel_for: parallelForNode,
  },
  {
    default: 'command',
    unsupported: {
      data_transfer: 'data transfer nodes are not supported by Tessera yet',
      import: 'import nodes (data import) are not supported by Tessera yet',
      flow: 'prompt flow nodes are not supported by Tessera yet',
      finetuning: 'fine-tuning nodes are not supported by Tessera yet',
    },
  },
);
export type PipelineNodeSpec = z.output<typeof pipelineNodeSchema>;

/** `jobs:` of a pipeline job or pipeline component: node name to node. */
export const pipelineJobs = z.record(z.string(), pipelineNodeSchema);

export const pipelineComponentSchema = z.strictObject({
  type: z.literal('pipeline'),
  ...componentMetadata,
  jobs: pipelineJobs,
});
export type PipelineComponentSpec = z.output<typeof pipelineComponentSchema>;

export const pipelineJobSchema = z
  .strictObject({
    type: z.literal('pipeline'),
    ...baseJobFields,
    inputs: jobInputs.optional(),
    outputs: jobOutputs.optional(),
    settings: pipelineSettings.optional(),
    jobs: pipelineJobs.optional(),
    component: reference.optional(),
  })
  .superRefine(requireOneOf(['jobs', 'component'], 'a pipeline job'));
export type PipelineJobSpec = z.output<typeof pipelineJobSchema>;
