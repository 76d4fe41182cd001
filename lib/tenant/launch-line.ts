// The command line and environment a worker (or a fork server) of a tenant
// starts with, when pypages runs as root: setpriv (util-linux) switches to
// the user, its group and its supplementary groups, and sets no_new_privs
// (a page's setuid programs — su, sudo — cannot gain anything back) before
// the interpreter starts; nothing of the user's code ever runs as root. The
// environment is made afresh for the user: nothing of the operator's leaks.
import { enterCommand } from './cgroup-enter.js';
import type { RunAs } from './identity.js';

export const SETPRIV = 'setpriv';
const SAFE_PATH = '/usr/local/bin:/usr/bin:/bin';
/** Server variables a page may still see: they describe the machine's locale, not the operator. */
const KEPT = /^(LANG|LANGUAGE|LC_[A-Z]+|TZ)$/;

export interface CommandLine {
  readonly command: string;
  readonly args: readonly string[];
}

/** `command args` as run as `runAs` (unchanged for null: the server's own user), first entering the cgroups whose cgroup.procs are `cgroup`. */
export function asUser(
  command: string,
  args: readonly string[],
  runAs: RunAs | null,
  cgroup: readonly string[] = [],
): CommandLine {
  if (!runAs) return enterCommand(cgroup, command, args);
  const ids = ['--reuid', String(runAs.uid), '--regid', String(runAs.gid)];
  const groups = runAs.groups.length ? ['--groups', runAs.groups.join(',')] : ['--clear-groups'];
  return enterCommand(cgroup, SETPRIV, [...ids, ...groups, '--no-new-privs', '--', command, ...args]);
}

/** The environment a process of `runAs` starts from (the server's own for null). */
export function baseEnvironment(runAs: RunAs | null, server: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (!runAs) return server;
  const kept = Object.fromEntries(Object.entries(server).filter(([name]) => KEPT.test(name)));
  return { ...kept, PATH: SAFE_PATH, HOME: runAs.home, USER: runAs.user, LOGNAME: runAs.user, SHELL: '/bin/sh' };
}
