import azureFunctions from '@azure/functions';
import type { InvocationContext, LogHandler } from '@azure/functions';
import * as df from 'durable-functions';

/**
 * An InvocationContext whose durable client binding points at `origin` (a stub of the Durable HTTP
 * API a test serves), as the Functions host would bind it: for calling handlers that start or
 * signal orchestrations without a host.
 */
export function contextWithDurableClient(options: {
  origin: string;
  invocationId: string;
  functionName?: string;
  trigger?: { type: 'httpTrigger' | 'timerTrigger'; name: string };
  logHandler?: LogHandler;
}): InvocationContext {
  const { origin } = options;
  const clientInput = df.input.durableClient();
  const context = new azureFunctions.InvocationContext({
    invocationId: options.invocationId,
    functionName: options.functionName ?? 'test',
    logHandler: options.logHandler ?? (() => {}),
    options: {
      trigger: options.trigger ?? { type: 'httpTrigger', name: 'req' },
      extraInputs: [clientInput],
      extraOutputs: [],
    },
  });
  context.extraInputs.set(clientInput, {
    taskHubName: 'tessera',
    creationUrls: { createNewInstancePostUri: `${origin}/x`, createAndWaitOnNewInstancePostUri: `${origin}/x` },
    managementUrls: {
      id: 'INSTANCEID',
      statusQueryGetUri: `${origin}/x`,
      sendEventPostUri: `${origin}/x`,
      terminatePostUri: `${origin}/x`,
      rewindPostUri: `${origin}/x`,
      purgeHistoryDeleteUri: `${origin}/x`,
    },
    baseUrl: origin,
    requiredQueryStringParameters: '',
    rpcBaseUrl: `${origin}/durabletask/`,
  });
  return context;
}
