#!/usr/bin/env node
// The pypages command: parse flags and config, start, stop on signals.
// Exit codes: 0 ok, 2 usage or config error, 3 no usable Python, 4 cannot listen.

import { ConfigError, parseCli, type Config } from '../lib/config.js';
import { InterpreterError } from '../lib/interpreter.js';
import { startPypages, type RunningServer } from './app.js';

async function main(argv: string[]): Promise<number | null> {
  const parsed = parseCli(argv, process.cwd());
  if (parsed.kind !== 'run') {
    process.stdout.write(parsed.text.endsWith('\n') ? parsed.text : parsed.text + '\n');
    return 0;
  }
  const { config } = parsed;
  const running = await startPypages(config);
  process.stderr.write(`pypages: Python ${running.interpreter.version} (${running.interpreter.path})\n`);
  process.stdout.write(`pypages: serving ${config.root} at ${running.url}\n`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`pypages: ${signal}: finishing requests in flight, then stopping\n`);
      running.close().then(() => process.exit(0));
    });
  }
  process.on('SIGHUP', () => reload(running, argv, config));
  return null;
}

/** SIGHUP: re-read the config file and flags; a bad config is reported and the old one kept. */
async function reload(running: RunningServer, argv: string[], first: Config): Promise<void> {
  process.stderr.write('pypages: SIGHUP: re-reading the configuration\n');
  try {
    const parsed = parseCli(argv, process.cwd());
    if (parsed.kind !== 'run') return;
    const next = parsed.config;
    for (const key of ['port', 'host', 'cert', 'key', 'maxHeaderSize'] as const) {
      if (JSON.stringify(next[key]) !== JSON.stringify(first[key])) process.stderr.write(`pypages: ${key} changed; it takes effect after a restart\n`);
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
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 4;
  return 1;
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { port?: number; address?: string; hostname?: string };
  if (e.code === 'EADDRINUSE') return `${e.address}:${e.port} is already in use; choose another port with --port N (or "port:" in pypages.yaml)`;
  if (e.code === 'EACCES') return `not allowed to listen on ${e.address}:${e.port}; ports below 1024 need privileges, choose another with --port N`;
  if (e.code === 'EADDRNOTAVAIL') return `cannot listen on ${e.address}: no such address on this machine; check --host`;
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return `cannot listen on ${e.hostname ?? 'that host'}: not an address or a name this machine resolves; check --host`;
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
