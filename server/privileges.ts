// What the supervisor does with root, when it has it: it decides the
// server-user and checks that the server can run as it (its files, its TLS
// keys and state folder) before any child starts, and prepares what the
// server child writes (./handover.ts). Not root, or server-user: root: none
// of this, and the server child is root as before.
import { lstatSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { type Config, parseCli } from '../lib/config/config.js';
import { unreadableBy } from '../lib/tenant/access.js';
import { machineAccounts } from '../lib/tenant/accounts.js';
import { configRefusal } from '../lib/tenant/launch-policy.js';
import type { RunAs } from '../lib/tenant/identity.js';
import { cannotRun, serverUserFor } from '../lib/tenant/server-user.js';
import { handLogFile, handStateFolder, logFiles } from './handover.js';

export interface Privileges {
  readonly serverUser: RunAs;
  /** Before a start, SIGUSR1 and SIGHUP: the log files and the state folder made the server-user's. */
  prepare(): void;
  /** SIGHUP: the config read again for its log files (a config that does not parse keeps the old). */
  reread(argv: readonly string[]): void;
}

/**
 * The supervisor's privileges for `config`: null when it keeps none (not
 * root, or server-user: root), { keptRoot } when the default server-user
 * cannot reach pypages itself or a document root of root's own, or why it
 * cannot start.
 *
 * Why root is kept there rather than refused: `sudo pypages` over a
 * folder only root may enter (a clone under /root, a mkdtemp folder) is a
 * single administrator's own machine, and as php -S, Caddy or FrankenPHP
 * started as root it serves, with a warning that says how to drop. Only
 * for a root whose every folder and link on the way is root's: a tenant
 * who chmods, removes or relinks a site root of theirs must not turn the
 * whole HTTP side root (or, with a named server-user, stop the server);
 * such a root is said at start and the drop goes on (that site's requests
 * fail, as before). A server-user named in the config is the operator's
 * decision: then a root of root's it cannot reach is refused at start, as
 * a key it cannot read.
 */
export function privilegesFor(
  config: Config,
  accounts = machineAccounts(),
): Privileges | null | { keptRoot: string } | string {
  if (process.getuid?.() !== 0) return null;
  const user = serverUserFor(config.serverUser, accounts);
  if (user === null || typeof user === 'string') return user;
  const refusal = configRefusal(config.configFile, process.cwd());
  if (refusal) return `cannot serve as the server-user ${user.user}: ${refusal}`;
  const unreachable = cannotRun(user, [process.execPath, process.argv[1]]) ?? rootRefusal(config, user);
  if (unreachable && !config.serverUser)
    return { keptRoot: `${unreachable}; chmod o+x its folders, or set server-user` };
  const why = unreachable ?? tlsRefusal(config, user);
  if (why) return `cannot serve as the server-user ${user.user}: ${why}`;
  return new RootPrivileges(config, user);
}

/**
 * Why the server child could not enter a document root of root's own (the
 * root's or a site's; user folders are per request: a 404). One the
 * server-user cannot reach but someone else controls is only said.
 */
function rootRefusal(config: Config, user: RunAs): string | null {
  for (const root of [config.root, ...config.sites.map((site) => site.root)]) {
    let why: string;
    try {
      const inside = { uid: user.uid, gid: user.gid, mode: 0o600 }; // a file of its own there: only the folders count
      const found = unreadableBy(user, path.join(realpathSync(root), 'x'), inside, '/');
      if (!found) continue;
      why = `${found} by the server-user ${user.user} (document root ${root})`;
    } catch (err) {
      why = `${root}: ${(err as Error).message}`;
    }
    if (ownedByRoot(root)) return why;
    say(`${why}; it is not all root's, so HTTP is served as ${user.user} all the same`);
  }
  return null;
}

function ownedByRoot(dir: string): boolean {
  try {
    return rootsAllTheWay(dir);
  } catch {
    return false; // ENOTDIR, a link gone meanwhile: not root's folder as far as can be told
  }
}

/** Whether every folder and link on `dir`'s way from /, links followed (at most 16), is root's. */
function rootsAllTheWay(dir: string, links = 0): boolean {
  const parts = path.resolve(dir).split('/').filter(Boolean);
  let at = '/';
  for (const [i, part] of parts.entries()) {
    const next = path.join(at, part);
    const st = lstatSync(next, { throwIfNoEntry: false });
    if (st?.uid !== 0) return false;
    if (st.isSymbolicLink())
      return (
        links < 16 && rootsAllTheWay(path.join(path.resolve(at, readlinkSync(next)), ...parts.slice(i + 1)), links + 1)
      );
    at = next;
  }
  return true;
}

/** Key files the server child must read, and the state folder's parents it must pass (both opened by it, as server-user). */
function tlsRefusal(config: Config, user: RunAs): string | null {
  for (const file of [config.cert, config.key].filter(Boolean)) {
    const st = statSync(file, { throwIfNoEntry: false });
    const why = st && unreadableBy(user, path.resolve(file), st, '/');
    if (why) return `${why} (chgrp ${user.user} and chmod g+r it, or set server-user: root)`;
  }
  if (config.tls !== 'auto') return null;
  for (let dir = path.dirname(path.resolve(config.stateDir)); ; dir = path.dirname(dir)) {
    const st = statSync(dir, { throwIfNoEntry: false });
    if (st && unreadableBy(user, path.join(dir, 'x'), { uid: user.uid, gid: user.gid, mode: 0o600 }, '/'))
      return `state-dir ${config.stateDir} is in ${dir}, which it may not pass through (set state-dir, e.g. /var/lib/pypages)`;
    if (path.dirname(dir) === dir) return null;
  }
}

class RootPrivileges implements Privileges {
  constructor(
    private config: Config,
    readonly serverUser: RunAs,
  ) {}

  prepare(): void {
    const problems = logFiles(this.config).map((file) => handLogFile(file, this.serverUser));
    if (this.config.tls === 'auto') problems.push(handStateFolder(this.config.stateDir, this.serverUser));
    for (const why of problems) if (why) say(why);
  }

  reread(argv: readonly string[]): void {
    try {
      const parsed = parseCli([...argv], process.cwd());
      if (parsed.kind !== 'run') return;
      const why = configRefusal(parsed.config.configFile, process.cwd()); // else its log files could be any file
      if (why) return say(`keeping the log files of the config read before: ${why}`);
      this.config = parsed.config;
    } catch {} // the server child reports a config that does not read
  }
}

function say(message: string): void {
  process.stderr.write(`pypages: ${message}\n`);
}
