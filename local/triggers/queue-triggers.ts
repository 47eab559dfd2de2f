/**
 * Delivers messages of the embedded queue to Service Bus queue triggers: peek-lock, complete
 * on success, abandon on failure (the delivery count grows; the queue dead-letters a message
 * after its maximum deliveries), at most `maxConcurrentCalls` invocations per function.
 */
import type { MessageQueue, ReceivedMessage } from '../../shared/ports/message-queue.js';
import type { RegisteredFunction } from '../registry.js';
import type { Invoker } from '../invoke.js';
import type { Logger } from '../logger.js';
import { resolveAppSettings } from '../settings.js';
import type { RpcTypedData } from '../registry.js';

export interface QueueTriggerOptions {
  maxConcurrentCalls: number;
  lockDurationMs?: number;
  /** How long one receive call waits for messages. */
  pollWaitMs?: number;
}

export function messageToTypedData(body: unknown): RpcTypedData {
  if (typeof body === 'string') return { string: body };
  if (Buffer.isBuffer(body)) return { bytes: body };
  return { json: JSON.stringify(body ?? null) };
}

export class QueueTriggers {
  private stopped = false;
  private readonly loops: Promise<void>[] = [];

  constructor(
    private readonly functions: RegisteredFunction[],
    private readonly queue: MessageQueue,
    private readonly invoker: Invoker,
    private readonly logger: Logger,
    private readonly options: QueueTriggerOptions,
  ) {}

  start(): void {
    for (const fn of this.functions) {
      let queueName: string;
      try {
        queueName = resolveAppSettings(String(fn.trigger.queueName ?? ''));
      } catch (err) {
        this.logger.error(`queue: function ${fn.name} names an unknown queue and will not run`, err);
        continue;
      }
      this.loops.push(this.loop(fn, queueName));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled(this.loops);
  }

  private async loop(fn: RegisteredFunction, queueName: string): Promise<void> {
    const running = new Set<Promise<void>>();
    while (!this.stopped) {
      const capacity = this.options.maxConcurrentCalls - running.size;
      if (capacity <= 0) {
        await Promise.race(running);
        continue;
      }
      let messages: ReceivedMessage[];
      try {
        messages = await this.queue.receive(queueName, {
          maxMessages: capacity,
          maxWaitMs: this.options.pollWaitMs ?? 1000,
          lockDurationMs: this.options.lockDurationMs ?? 5 * 60_000,
        });
      } catch (err) {
        if (this.stopped) break;
        this.logger.error(`queue: receiving from ${queueName} failed; retrying in 1 s`, err);
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      for (const message of messages) {
        const p = this.deliver(fn, queueName, message).finally(() => running.delete(p));
        running.add(p);
      }
    }
    await Promise.allSettled(running);
  }

  private async deliver(fn: RegisteredFunction, queueName: string, message: ReceivedMessage): Promise<void> {
    const metadata: Record<string, RpcTypedData> = {
      MessageId: { string: message.messageId },
      DeliveryCount: { int: message.deliveryCount },
      EnqueuedTimeUtc: { string: new Date(message.enqueuedTimeMs).toISOString() },
      LockToken: { string: message.lockToken },
      ApplicationProperties: { json: JSON.stringify(message.applicationProperties) },
      UserProperties: { json: JSON.stringify(message.applicationProperties) },
      ...(message.correlationId ? { CorrelationId: { string: message.correlationId } } : {}),
      ...(message.subject ? { Label: { string: message.subject }, Subject: { string: message.subject } } : {}),
    };
    try {
      await this.invoker.invoke(fn, [{ name: fn.triggerName, data: messageToTypedData(message.body) }], {
        triggerMetadata: metadata,
        retryContext: { retryCount: message.deliveryCount - 1, maxRetryCount: 0 },
      });
      await this.queue.complete(queueName, message);
    } catch (err) {
      this.logger.warn(
        `queue: ${fn.name} failed on message ${message.messageId} (delivery ${message.deliveryCount}): ${err instanceof Error ? err.message : String(err)}`,
      );
      try {
        await this.queue.abandon(queueName, message);
      } catch (abandonErr) {
        this.logger.error(
          `queue: could not abandon message ${message.messageId}; it is redelivered when its lock expires`,
          abandonErr,
        );
      }
    }
  }
}
