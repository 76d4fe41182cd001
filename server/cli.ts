#!/usr/bin/env node
// The pypages command. It runs in one of two roles. As the supervisor (what
// a user starts; server/supervisor.ts) it parses the config, binds the
// listening socket and runs the server as a child, restarted if it dies. As
// the server (that child, or this process with PYPAGES_NO_SUPERVISOR=1) it
// serves on that socket and stops on signals.
// Exit codes: 0 ok, 1 the server kept crashing, 2 usage or config error,
// 3 no usable Python, 4 cannot listen.

// The supervisor loads only what it needs (config, socket, supervision):
// the server role's modules (Koa, the router, the workers) are imported by
// the server alone (./serve.ts), which keeps the supervisor's memory near
// a bare Node's.
import { ConfigError, parseCli, type Config } from '../lib/config/config.js';
import { InterpreterError } from '../lib/groups/interpreter.js';
import { bindListenHandle } from './listen-handle.js';
import { socketFromSupervisor, supervise } from './supervisor.js';

async function main(argv: string[]): Promise<number | null> {
  const parsed = parseCli(argv, process.cwd());
  if (parsed.kind === 'check') return check(parsed.config, parsed.problems);
  if (parsed.kind !== 'run') {
    process.stdout.write(parsed.text.endsWith('\n') ? parsed.text : `${parsed.text}\n`);
    return 0;
  }
  const { config } = parsed;
  const supervised = socketFromSupervisor();
  if (supervised) return (await import('./serve.js')).serve(argv, config, await supervised);
  if (process.env.PYPAGES_NO_SUPERVISOR === '1') return (await import('./serve.js')).serve(argv, config, null);
  const socket = await bindListenHandle(config.host, config.port);
  return supervise({ socket, host: config.host, port: config.port, config, argv });
}

/** --check: every problem (the settings' `found` first) on stderr and exit 2, or what would be served and exit 0. */
async function check(config: Config | null, found: string[]): Promise<number> {
  const { checkConfig, describeSites } = await import('../lib/site/check.js');
  const { problems, sites } = config ? await checkConfig(config) : { problems: [], sites: null };
  for (const problem of [...found, ...problems]) process.stderr.write(`pypages: ${problem}\n`);
  if (found.length > 0 || problems.length > 0 || !sites || !config) return 2;
  process.stdout.write(`${describeSites(sites, config).join('\n')}\npypages: configuration OK\n`);
  return 0;
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
