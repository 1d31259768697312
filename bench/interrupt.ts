/**
 * Clean-up that must also run when the bench is stopped with Ctrl-C or SIGTERM, which skip
 * every `finally`: child processes detached into groups of their own, the bench database,
 * the run's topics. Registered steps run newest first (the reverse of how they were set up),
 * each bounded in time, and then the process exits with the signal's conventional status.
 *
 * @example
 *   const forget = onInterrupt(() => bench.drop());
 *   try { … } finally { forget(); await bench.drop(); }
 */
type Step = () => void | Promise<void>;

const steps: Step[] = [];
const STEP_TIMEOUT_MS = 15_000;
let installed = false;

async function interrupted(signal: NodeJS.Signals): Promise<void> {
  process.stderr.write(`bench interrupted (${signal}): cleaning up…\n`);
  for (const step of [...steps].reverse()) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, STEP_TIMEOUT_MS)));
    await Promise.race([Promise.resolve().then(step).catch(() => undefined), timeout]);
    clearTimeout(timer);
  }
  process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
}

/** Registers a clean-up step for an interrupted run; returns the function that unregisters it. */
export function onInterrupt(step: Step): () => void {
  if (!installed) {
    installed = true;
    // once: a second Ctrl-C during the clean-up falls back to Node's default (exit at once).
    process.once('SIGINT', (signal) => void interrupted(signal));
    process.once('SIGTERM', (signal) => void interrupted(signal));
  }
  steps.push(step);
  return () => {
    const at = steps.indexOf(step);
    if (at >= 0) steps.splice(at, 1);
  };
}

/**
 * `fn` made safe to call from both an interrupt and the normal path: the first call runs it,
 * every later call gets the same promise, so whoever comes second waits for the work to finish
 * instead of finding it "done" while it is still under way (and exiting under it).
 */
export function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  return () => (running ??= fn());
}
