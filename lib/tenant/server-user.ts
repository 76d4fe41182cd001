// The user the HTTP side runs as when pypages is started as root
// (server-user): www-data where the machine has it (Debian's web servers run
// as it), else nobody, as Apache's parent starts its children as `User`
// (server/drop.ts does the switch). server-user: root keeps today's root
// server (a banner warning says so).
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { unreadableBy } from './access.js';
import type { Accounts } from './accounts.js';
import type { RunAs } from './identity.js';

const DEFAULTS = ['www-data', 'nobody'];

/** The user `setting` names (its default for ""), null for root (no switch), or why it cannot be used. */
export function serverUserFor(setting: string, accounts: Accounts): RunAs | null | string {
  const names = setting ? [setting] : DEFAULTS;
  const account = names.map((n) => accounts.user(/^\d+$/.test(n) ? Number(n) : n)).find(Boolean);
  if (!account)
    return setting
      ? `server-user: ${setting} is not in /etc/passwd`
      : 'server-user: neither www-data nor nobody is in /etc/passwd; name a user with server-user (or root)';
  if (account.uid === 0) return null;
  return {
    user: account.name,
    uid: account.uid,
    gid: account.gid,
    groups: accounts.groupsOf(account),
    home: account.home,
  };
}

/**
 * Why `user` could not run the server from these files (Node itself and the
 * script it starts, say dist/server/cli.js), or null: an install in a private
 * folder (a clone under /root) is readable by root alone.
 */
export function cannotRun(user: RunAs, files: readonly string[]): string | null {
  for (const file of files) {
    try {
      const real = realpathSync(file);
      const why = unreadableBy(user, real, statSync(real), path.parse(real).root);
      if (why) return `${why} by the server-user ${user.user}`;
    } catch (err) {
      return `${file}: ${(err as Error).message}`;
    }
  }
  return null;
}
