// The server role of the pypages command (./cli.ts): serves on the
// supervisor's socket (or binds its own), reloads on SIGHUP, reopens its logs
// on SIGUSR1, and stops on SIGINT/SIGTERM or when the supervisor is gone.
import { ConfigError, parseCli, type Config } from '../lib/config/config.js';
import { describeSites } from '../lib/site/check.js';
import { startPypages, type RunningServer } from './app.js';
import { announce, stoppingNote } from './banner.js';
import { coalesced, dieOf, onStopSignals } from './signals.js';
import { reportReady, type SupervisedSocket } from './supervisor.js';

/** The server role: listens on the supervisor's socket (or binds its own), serves, stops on SIGINT/SIGTERM or when the supervisor is gone. */
export async function serve(argv: string[], config: Config, supervisor: SupervisedSocket | null): Promise<null> {
  if (supervisor) config = adopt(config, supervisor);
  const running = await startPypages(config, { handle: supervisor?.handle });
  announce(running, config);
  const { sites } = running.runtime;
  if (sites.all.length > 1 || config.userdir) process.stdout.write(`${describeSites(sites, config).join('\n')}\n`);
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    say(`${why}: ${stoppingNote(running.inflight, running.runtime.config)}`);
    running.close().then(() => process.exit(0));
  };
  onStopSignals({ stop, force: (signal) => forceStop(signal, supervisor !== null) });
  process.on(
    'SIGHUP',
    coalesced(() => reload(running, argv, config)),
  );
  process.on('SIGUSR1', () => reopenLogs(running));
  if (supervisor) reportReady(() => stop('the supervisor is gone'));
  return null;
}

/**
 * A second stop signal, a moment after the first. A supervised server leaves
 * it to its supervisor, which got its own copy and kills the server's whole
 * process group if it means it; alone, the server dies of it at once.
 */
function forceStop(signal: NodeJS.Signals, supervised: boolean): void {
  if (supervised && process.connected) return say(`${signal} again: the supervisor decides (pid ${process.ppid})`);
  say(`${signal} again: stopping at once`);
  dieOf(signal);
}

function say(message: string): void {
  process.stderr.write(`pypages: ${message}\n`);
}

/** logrotate's postrotate: lines already held go to the renamed files, the next ones to new files. */
function reopenLogs(running: RunningServer): void {
  running.runtime.logs.reopen();
  say('SIGUSR1: log files reopened');
}

/** The supervisor's socket wins over host and port read now: the config may have changed since it bound. */
function adopt(config: Config, socket: SupervisedSocket): Config {
  if (config.host === socket.host && config.port === socket.port) return config;
  process.stderr.write(
    `pypages: host or port changed; it takes effect after a restart of pypages (serving on ${socket.host}, port ${socket.port})\n`,
  );
  return Object.freeze({ ...config, host: socket.host, port: socket.port });
}

/** SIGHUP: re-read the config file and flags; a bad config is reported and the old one kept. */
async function reload(running: RunningServer, argv: string[], first: Config): Promise<void> {
  process.stderr.write('pypages: SIGHUP: re-reading the configuration\n');
  try {
    const parsed = parseCli(argv, process.cwd());
    if (parsed.kind !== 'run') return;
    const next = parsed.config;
    for (const key of ['port', 'host', 'cert', 'key', 'maxHeaderSize'] as const) {
      if (JSON.stringify(next[key]) !== JSON.stringify(first[key]))
        process.stderr.write(`pypages: ${key} changed; it takes effect after a restart\n`);
    }
    await running.reload(next);
    process.stderr.write('pypages: configuration reloaded; workers replaced\n');
  } catch (err) {
    process.stderr.write(`pypages: reload failed, keeping the running configuration: ${describe(err)}\n`);
  }
}

function describe(err: unknown): string {
  if (err instanceof ConfigError) return err.message;
  return (err as Error)?.stack ?? String(err);
}
