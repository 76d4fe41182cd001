// The server child giving up root (README "Security model"). The supervisor,
// root, names the server-user in SERVER_USER_VARIABLE; the child, first thing
// and before it reads a byte from a client, starts its launcher
// (./launcher-main.ts: root, its own child, in its session) and then drops
// its groups, gid and uid. With every uid non-zero the kernel clears the
// permitted and effective capability sets (nothing keeps them: no
// PR_SET_KEEPCAPS), so not even CAP_SETUID is left to take root back; the
// drop is checked in /proc/self/status and the child exits if it did not
// hold. A launcher that dies takes the child with it (exit 1: the supervisor
// starts both again).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { machineAccounts } from '../lib/tenant/accounts.js';
import { useRootSide } from '../lib/tenant/root-side.js';
import { serverUserFor } from '../lib/tenant/server-user.js';
import { RootClient } from '../lib/worker/launch/root-client.js';

/** Set by the supervisor in the server child's environment: the user to serve as. */
export const SERVER_USER_VARIABLE = 'PYPAGES_SERVER_USER';
/** Set instead when root is kept though no server-user: root asked for it: why (the banner's warning, server/privileges.ts). */
export const ROOT_KEPT_VARIABLE = 'PYPAGES_ROOT_KEPT';
const LAUNCHER_MAIN = fileURLToPath(new URL('./launcher-main.js', import.meta.url));
const READY_MS = 30_000;

/** In the server child: becomes the server-user the supervisor named, with a launcher for root's work; nothing if none. */
export async function dropRoot(argv: readonly string[]): Promise<void> {
  const name = process.env[SERVER_USER_VARIABLE];
  delete process.env[SERVER_USER_VARIABLE]; // not for the launcher, the workers nor a pypages a page might start
  if (!name || process.getuid?.() !== 0) return;
  const user = serverUserFor(name, machineAccounts());
  if (user === null || typeof user === 'string') throw new Error(`cannot serve as ${name}: ${user ?? 'it is root'}`);
  const launcher = spawn(process.execPath, [LAUNCHER_MAIN, ...argv], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const cgroups = await launcherReady(launcher);
  // Node makes these streams when first used; on a terminal libuv then opens the pty again by name, which
  // root may and server-user may not (a pty is its owner's): so now (lib/util/terminal.ts needs that file).
  void [process.stdout.fd, process.stderr.fd];
  process.setgroups!(user.groups.length ? [...user.groups] : [user.gid]);
  process.setgid!(user.gid);
  process.setuid!(user.uid);
  const left = privilegesLeft(user.uid);
  if (left) throw new Error(`the drop to ${user.user} did not hold: ${left}`);
  launcher.once('exit', (code, signal) => {
    process.stderr.write(`pypages: the launcher died (${signal ?? `code ${code}`}); the server stops with it\n`);
    process.exit(1);
  });
  useRootSide(new RootClient(launcher, user.user, cgroups));
}

/** Its "ready" (with its cgroups, for the banner), or a rejection when it exits or stays silent. */
function launcherReady(launcher: ReturnType<typeof spawn>): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(`no answer within ${READY_MS / 1000} s`), READY_MS);
    const onMessage = (m: { pypages?: string; cgroups?: string }) => {
      if (m?.pypages !== 'launcher-ready') return;
      clearTimeout(timer);
      launcher.off('message', onMessage).off('exit', onExit);
      resolve(String(m.cgroups));
    };
    const onExit = (code: number | null) => fail(`it exited with code ${code}`);
    const fail = (why: string) => {
      launcher.kill('SIGKILL');
      reject(new Error(`the launcher did not start: ${why}`));
    };
    launcher
      .on('message', onMessage)
      .once('exit', onExit)
      .once('error', (err) => fail(err.message));
  });
}

/** What is left of root in this process (a uid 0, a capability), or null. */
export function privilegesLeft(uid: number, status = readFileSync('/proc/self/status', 'latin1')): string | null {
  const uids = /^Uid:\s+(.*)$/m.exec(status)?.[1].trim().split(/\s+/).map(Number) ?? [];
  if (uids.length !== 4 || uids.some((u) => u !== uid)) return `uids ${uids.join(' ')}`;
  for (const set of ['CapPrm', 'CapEff', 'CapAmb']) {
    const caps = new RegExp(`^${set}:\\s+([0-9a-f]+)`, 'm').exec(status)?.[1];
    if (caps === undefined || BigInt(`0x${caps}`) !== 0n) return `${set} ${caps ?? 'unknown'}`;
  }
  return null;
}
