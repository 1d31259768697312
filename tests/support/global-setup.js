// Brings the local stack up before integration and e2e tests; a no-op when it is running.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

module.exports = async function globalSetup() {
  if (globalThis.__liandongStackUp) return;
  const cli = path.resolve(__dirname, '..', '..', 'bin', 'liandong.js');
  const result = spawnSync(process.execPath, [cli, 'stack', 'up'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error(`liandong stack up failed (exit ${result.status}); see the output above`);
  globalThis.__liandongStackUp = true;
};
