import type { Server } from 'node:http';
import type { Config } from '../../lib/config';
import { createApp } from './app';

/** Serves the hub until SIGINT/SIGTERM, then closes cleanly. */
export function serve(config: Config, say: (line: string) => void): Promise<void> {
  const app = createApp(config);
  return new Promise((resolve, reject) => {
    const server: Server = app.listen(config.hub.port, config.hub.host, () => {
      const base = `http://${config.hub.host}:${config.hub.port}`;
      say(`hub listening on ${base}  (liveness ${base}/healthz, readiness ${base}/readyz); Ctrl-C stops it`);
    });
    server.once('error', reject);
    const stop = () => {
      say('stopping the hub');
      server.close(() => resolve());
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
