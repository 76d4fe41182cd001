#!/usr/bin/env node
// The pypages command. It runs in one of two roles. As the supervisor (what
// a user starts; server/supervisor.ts) it parses the config, binds the
// listening socket and runs the server as a child, restarted if it dies. As
// the server (that child, or this process with PYPAGES_NO_SUPERVISOR=1) it
// serves on that socket and stops on signals.
// Exit codes: 0 ok, 1 the server kept crashing, 2 usage or config error,
// 3 no usable Python, 4 cannot listen.

import { ConfigError, parseCli, type Config } from '../lib/config/config.js';
import { InterpreterError } from '../lib/groups/interpreter.js';
import { checkConfig, describeSites } from '../lib/site/check.js';
import { startPypages, type RunningServer } from './app.js';
import { announce, stoppingNote } from './banner.js';
import { bindListenHandle } from './listen-handle.js';
import { coalesced, dieOf, onStopSignals } from './signals.js';
import { reportReady, socketFromSupervisor, supervise, type SupervisedSocket } from './supervisor.js';

async function main(argv: string[]): Promise<number | null> {
  const parsed = parseCli(argv, process.cwd());
  if (parsed.kind === 'check') return check(parsed.config, parsed.problems);
  if (parsed.kind !== 'run') {
    process.stdout.write(parsed.text.endsWith('\n') ? parsed.text : `${parsed.text}\n`);
    return 0;
  }
  const { config } = parsed;
  const supervised = socketFromSupervisor();
  if (supervised) return serve(argv, config, await supervised);
  if (process.env.PYPAGES_NO_SUPERVISOR === '1') return serve(argv, config, null);
  const socket = await bindListenHandle(config.host, config.port);
  return supervise({ socket, host: config.host, port: config.port, config, argv });
}

/** The server role: listens on the supervisor's socket (or binds its own), serves, stops on SIGINT/SIGTERM or when the supervisor is gone. */
async function serve(argv: string[], config: Config, supervisor: SupervisedSocket | null): Promise<null> {
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

/** --check: every problem (the settings' `found` first) on stderr and exit 2, or what would be served and exit 0. */
async function check(config: Config | null, found: string[]): Promise<number> {
  const { problems, sites } = config ? await checkConfig(config) : { problems: [], sites: null };
  for (const problem of [...found, ...problems]) process.stderr.write(`pypages: ${problem}\n`);
  if (found.length > 0 || problems.length > 0 || !sites || !config) return 2;
  process.stdout.write(`${describeSites(sites, config).join('\n')}\npypages: configuration OK\n`);
  return 0;
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

function exitCodeFor(err: unknown): number {
  if (err instanceof ConfigError) return 2;
  if (err instanceof InterpreterError) return 3;
  const code = (err as NodeJS.ErrnoException).code;
  if (
    code === 'EADDRINUSE' ||
    code === 'EACCES' ||
    code === 'EADDRNOTAVAIL' ||
    code === 'ENOTFOUND' ||
    code === 'EAI_AGAIN'
  )
    return 4;
  return 1;
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { port?: number; address?: string; hostname?: string };
  if (e.code === 'EADDRINUSE')
    return `${e.address}:${e.port} is already in use; choose another port with --port N (or "port:" in pypages.yaml)`;
  if (e.code === 'EACCES')
    return `not allowed to listen on ${e.address}:${e.port}; ports below 1024 need privileges, choose another with --port N`;
  if (e.code === 'EADDRNOTAVAIL') return `cannot listen on ${e.address}: no such address on this machine; check --host`;
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN')
    return `cannot listen on ${e.hostname ?? 'that host'}: not an address or a name this machine resolves; check --host`;
  if (err instanceof ConfigError || err instanceof InterpreterError) return e.message;
  return e.stack ?? String(err);
}

main(process.argv.slice(2)).then(
  (code) => code !== null && process.exit(code),
  (err) => {
    process.stderr.write(`pypages: ${describe(err)}\n`);
    process.exit(exitCodeFor(err));
  },
);
