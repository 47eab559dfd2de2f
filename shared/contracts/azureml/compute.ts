import { z } from 'zod';
import { byType, ciEnum, properties, resourceIdentity, resourceName, tags, yamlBoolean, yamlCount } from './common.js';

/**
 * Compute specs (`az ml compute create` / `attach`). Tessera records every kind az ml knows; jobs
 * run on `local` (child processes of the local host) and, on Azure, on the compute the platform
 * maps each kind to.
 */

const common = {
  name: resourceName,
  description: z.string().optional(),
  tags: tags.optional(),
  location: z.string().optional(),
};

/** SSH access to the nodes. */
const sshSettings = z.strictObject({
  admin_username: z.string().min(1),
  admin_password: z.string().optional(),
  ssh_key_value: z.string().optional(),
  ssh_private_key_file: z.string().optional(),
  ssh_port: yamlCount.optional(),
});

const networkSettings = z.strictObject({
  vnet_name: z.string().optional(),
  subnet: z.string().optional(),
});

/** A cron or recurrence trigger (compute instance start/stop schedules). */
const trigger = z.strictObject({
  type: ciEnum(['cron', 'recurrence']),
  expression: z.string().optional(),
  frequency: ciEnum(['minute', 'hour', 'day', 'week', 'month']).optional(),
  interval: yamlCount.optional(),
  schedule: z
    .strictObject({
      hours: z.union([yamlCount, z.array(yamlCount)]).optional(),
      minutes: z.union([yamlCount, z.array(yamlCount)]).optional(),
      week_days: z.union([z.string(), z.array(z.string())]).optional(),
      month_days: z.union([yamlCount, z.array(yamlCount)]).optional(),
    })
    .optional(),
  start_time: z.string().optional(),
  end_time: z.string().optional(),
  time_zone: z.string().optional(),
});

export const amlComputeSpec = z.strictObject({
  ...common,
  type: z.literal('amlcompute'),
  size: z.string().optional(),
  tier: ciEnum(['dedicated', 'low_priority']).optional(),
  min_instances: yamlCount.optional(),
  max_instances: yamlCount.optional(),
  idle_time_before_scale_down: yamlCount.optional(),
  identity: resourceIdentity.optional(),
  ssh_settings: sshSettings.optional(),
  ssh_public_access_enabled: yamlBoolean.optional(),
  network_settings: networkSettings.optional(),
  enable_node_public_ip: yamlBoolean.optional(),
});

export const computeInstanceSpec = z.strictObject({
  ...common,
  type: z.literal('computeinstance'),
  size: z.string().optional(),
  schedules: z
    .strictObject({
      compute_start_stop: z.array(
        z.strictObject({
          action: ciEnum(['start', 'stop']),
          state: ciEnum(['enabled', 'disabled']).optional(),
          trigger,
        }),
      ),
    })
    .optional(),
  idle_time_before_shutdown: z.string().optional(),
  idle_time_before_shutdown_minutes: yamlCount.optional(),
  identity: resourceIdentity.optional(),
  ssh_public_access_enabled: yamlBoolean.optional(),
  ssh_settings: z.strictObject({ ssh_key_value: z.string().optional() }).optional(),
  network_settings: networkSettings.optional(),
  enable_node_public_ip: yamlBoolean.optional(),
  create_on_behalf_of: z.strictObject({ user_tenant_id: z.string(), user_object_id: z.string() }).optional(),
  setup_scripts: z.record(z.string(), z.unknown()).optional(),
});

export const kubernetesComputeSpec = z.strictObject({
  ...common,
  type: z.literal('kubernetes'),
  resource_id: z.string().min(1),
  namespace: z.string().optional(),
  identity: resourceIdentity.optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
});

export const virtualMachineComputeSpec = z.strictObject({
  ...common,
  type: z.literal('virtualmachine'),
  resource_id: z.string().min(1),
  ssh_settings: sshSettings.optional(),
});

export const synapseSparkComputeSpec = z.strictObject({
  ...common,
  type: z.literal('synapsespark'),
  resource_id: z.string().min(1),
  identity: resourceIdentity.optional(),
  auto_scale_settings: z
    .strictObject({
      min_node_count: yamlCount.optional(),
      max_node_count: yamlCount.optional(),
      enabled: yamlBoolean.optional(),
    })
    .optional(),
  auto_pause_settings: z
    .strictObject({ delay_in_minutes: yamlCount.optional(), enabled: yamlBoolean.optional() })
    .optional(),
});

/** Tessera's own compute: jobs run as child processes of the host, `max_concurrent_jobs` at a time. */
export const localComputeSpec = z.strictObject({
  ...common,
  type: z.literal('local'),
  max_concurrent_jobs: yamlCount.optional(),
  properties: properties.optional(),
});

/** A compute of any kind, chosen by `type`. */
export const computeSpecSchema = byType(
  {
    amlcompute: amlComputeSpec,
    computeinstance: computeInstanceSpec,
    kubernetes: kubernetesComputeSpec,
    virtualmachine: virtualMachineComputeSpec,
    synapsespark: synapseSparkComputeSpec,
    local: localComputeSpec,
  },
  {
    unsupported: {
      aisc: 'AISC (Singularity) compute is not supported by Tessera',
      serverless: 'serverless compute is chosen per job (compute left out), not created',
    },
  },
);
export type ComputeSpec = z.output<typeof computeSpecSchema>;
