#!/usr/bin/env node
// The pypages command: parse flags and config, start, stop on signals.
// Exit codes: 0 ok, 2 usage or config error, 3 no usable Python, 4 cannot listen.

import { ConfigError, parseCli } from '../lib/config.js';
import { InterpreterError } from '../lib/interpreter.js';
import { startPypages } from './app.js';

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
      process.stderr.write(`pypages: ${signal}: shutting down\n`);
      running.close().then(() => process.exit(0));
    });
  }
  return null;
}

function exitCodeFor(err: unknown): number {
  if (err instanceof ConfigError) return 2;
  if (err instanceof InterpreterError) return 3;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') return 4;
  return 1;
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
  if (e.code === 'EADDRINUSE') return `${e.address}:${e.port} is already in use; choose another port with --port N (or "port:" in pypages.yaml)`;
  if (e.code === 'EACCES') return `not allowed to listen on ${e.address}:${e.port}; ports below 1024 need privileges, choose another with --port N`;
  if (e.code === 'EADDRNOTAVAIL') return `cannot listen on ${e.address}: no such address on this machine; check --host`;
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
