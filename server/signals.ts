// How the pypages process reads its signals. Stop signals (SIGINT, SIGTERM)
// often arrive in copies of one intent: systemd's KillMode=control-group
// signals every process of the unit, `npm start` passes on the Ctrl-C its
// process group already got from the terminal. So the first starts a
// graceful stop, copies within REPEAT_MS are ignored, and only one that comes
// later (a second Ctrl-C a moment later) forces. Reloads (SIGHUP) run one at
// a time, and a burst of them makes at most one more after the one running.

/** Stop signals within this long of the first are copies of it, not a second request. */
export const REPEAT_MS = 500;

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export interface StopHandlers {
  /** The first stop signal: stop gracefully. */
  stop(signal: NodeJS.Signals): void;
  /** A stop signal REPEAT_MS or more after the first: stop at once. */
  force(signal: NodeJS.Signals): void;
}

/** Listens for SIGINT and SIGTERM for good (a signal with no listener would kill the process). */
export function onStopSignals(handlers: StopHandlers): void {
  let firstAt: number | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (firstAt === null) {
      firstAt = Date.now();
      handlers.stop(signal);
    } else if (Date.now() - firstAt >= REPEAT_MS) {
      handlers.force(signal);
    }
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
}

/** Dies of `signal`, as a process without a handler for it would (its parent sees that signal). */
export function dieOf(signal: NodeJS.Signals): void {
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
}

/**
 * Makes `reload` safe to call on every SIGHUP: one runs at a time, and calls
 * while one runs are coalesced into one more, run after it (it reads the
 * configuration as it is then). `reload` must not reject.
 */
export function coalesced(reload: () => Promise<void>): () => void {
  let running = false;
  let again = false;
  const run = async () => {
    running = true;
    try {
      do {
        again = false;
        await reload();
      } while (again);
    } finally {
      running = false;
    }
  };
  return () => {
    if (running) again = true;
    else void run();
  };
}
