import { Agent } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:https';
import { createHttpsServer } from '@vercel/cosmosdb-server';
import { CosmosClient } from '@azure/cosmos';

/**
 * An in-process Cosmos DB (NoSQL API) emulator for contract tests: @vercel/cosmosdb-server on
 * 127.0.0.1 and an ephemeral port, over HTTPS with the self-signed certificate the package ships
 * (cert.pem/key.pem). Its data lives in memory and goes away with `stop()`.
 */
export interface CosmosEmulator {
  endpoint: string;
  /** A client for this emulator only: certificate checks are off, for the self-signed certificate. */
  client(): CosmosClient;
  stop(): Promise<void>;
}

export async function startCosmosEmulator(): Promise<CosmosEmulator> {
  const server: Server = createHttpsServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `https://127.0.0.1:${port}`;
  // Test-only: the emulator's certificate is self-signed.
  const agent = new Agent({ rejectUnauthorized: false, keepAlive: true });
  const clients: CosmosClient[] = [];
  return {
    endpoint,
    client() {
      const c = new CosmosClient({
        endpoint,
        key: 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==',
        agent,
        connectionPolicy: { enableEndpointDiscovery: false },
      });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.dispose();
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
