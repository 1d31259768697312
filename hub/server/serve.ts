import type { Server } from 'node:http';
import type { ApiDeps } from '../api/deps';
import { createHubApp } from './app';

export interface ServeOptions {
  /** Called once the server listens. */
  onListening?: () => void;
}

/**
 * Serves the hub until SIGINT/SIGTERM, then stops taking requests, lets the ones in flight
 * finish, and stops the API's background parts.
 */
export async function serve(deps: ApiDeps, say: (line: string) => void, options: ServeOptions = {}): Promise<void> {
  const { config } = deps;
  const hub = createHubApp(deps);
  await hub.start();
  try {
    await new Promise<void>((resolve, reject) => {
      const server: Server = hub.app.listen(config.hub.port, config.hub.host, () => {
        const base = `http://${config.hub.host}:${config.hub.port}`;
        say(`hub listening on ${base}  (API ${base}/v1, docs ${base}/v1/docs, liveness ${base}/healthz, readiness ${base}/readyz, metrics ${base}/metrics); Ctrl-C stops it`);
        options.onListening?.();
      });
      server.once('error', reject);
      const stop = () => {
        process.removeListener('SIGINT', stop);
        process.removeListener('SIGTERM', stop);
        say('stopping the hub');
        server.close(() => resolve());
        server.closeIdleConnections();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  } finally {
    await hub.stop();
  }
}
