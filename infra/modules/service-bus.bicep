// Service Bus namespace with the jobs queue. Entra ID only (no SAS keys). Duplicate detection
// makes the job name, used as the message id, an idempotency key.

@description('Azure region of the namespace.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Namespace name: 6-50 letters, digits and hyphens, globally unique.')
@minLength(6)
@maxLength(50)
param name string

@description('Deliveries of a jobs message before it moves to the dead-letter queue.')
@minValue(1)
param maxDeliveryCount int = 10

resource namespace 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
  }
}

resource jobsQueue 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' = {
  parent: namespace
  // The trainer's progress and completion reports (shared/contracts/job.ts JOB_EVENTS_QUEUE).
  name: 'job-events'
  properties: {
    maxDeliveryCount: maxDeliveryCount
    lockDuration: 'PT5M'
    defaultMessageTimeToLive: 'P14D'
    deadLetteringOnMessageExpiration: true
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'PT1H'
  }
}

output name string = namespace.name
// serviceBusEndpoint is https://<name>.servicebus.windows.net:443/ (suffix differs in sovereign clouds).
output fullyQualifiedNamespace string = replace(split(split(namespace.properties.serviceBusEndpoint, '//')[1], ':')[0], '/', '')
output jobsQueueName string = jobsQueue.name
