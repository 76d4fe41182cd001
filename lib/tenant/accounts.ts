// The system's users and groups, from /etc/passwd and /etc/group, read again
// when either file changes. Read, not asked
// of `getent`: a lookup must not start a process, and users known only to
// NSS (LDAP, sssd) are therefore not seen (README "Security model").
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface Account {
  readonly name: string;
  readonly uid: number;
  readonly gid: number; // primary group
  readonly home: string;
}

export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

export interface Accounts {
  user(nameOrUid: string | number): Account | undefined;
  group(nameOrGid: string | number): GroupEntry | undefined;
  /** The gids of `account`: its primary group, then every group that lists it, each once, sorted. */
  groupsOf(account: Account): number[];
}

/** name:x:uid:gid:gecos:home:shell lines → accounts (the first of a name or uid wins, as getpwnam). */
export function parsePasswd(text: string): Account[] {
  const out: Account[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || !/^\d+$/.test(f[2]) || !/^\d+$/.test(f[3]) || !path.isAbsolute(f[5])) continue;
    out.push({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] });
  }
  return out;
}

/** name:x:gid:member,member lines → groups. */
export function parseGroups(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || f[0] === '' || !/^\d+$/.test(f[2])) continue;
    out.push({ name: f[0], gid: Number(f[2]), members: f[3].split(',').filter((m) => m !== '') });
  }
  return out;
}

/** Accounts as `passwd` and `group` say now, re-read when they change. */
export function systemAccounts(passwd = '/etc/passwd', group = '/etc/group'): Accounts {
  const users = cachedFile(passwd, (text) => indexBy(parsePasswd(text), (a) => [a.name, String(a.uid)]));
  const groups = cachedFile(group, (text) => {
    const list = parseGroups(text);
    return { list, index: indexBy(list, (g) => [g.name, String(g.gid)]) };
  });
  return {
    user: (key) => users().get(String(key)),
    group: (key) => groups().index.get(String(key)),
    groupsOf: (account) => {
      const gids = groups()
        .list.filter((g) => g.members.includes(account.name))
        .map((g) => g.gid);
      return [...new Set([account.gid, ...gids])].sort((a, b) => a - b);
    },
  };
}

function indexBy<T>(items: T[], keys: (item: T) => string[]): Map<string, T> {
  const index = new Map<string, T>();
  for (const item of items) for (const key of keys(item)) if (!index.has(key)) index.set(key, item);
  return index;
}

/**
 * `parse(file's text)`, parsed again when the file's stamp changes. Stat'ed at
 * every lookup (lookups happen when a group's spec is made, not per request):
 * a user removed and another added in the same second may reuse a uid, and a
 * stale name for it would run a page as the wrong account's name and home.
 */
function cachedFile<T>(file: string, parse: (text: string) => T): () => T {
  let [value, stamp] = [parse(''), ''];
  return () => {
    const s = statSync(file, { throwIfNoEntry: false });
    const now = s ? `${s.mtimeMs}:${s.ctimeMs}:${s.size}:${s.ino}` : '';
    if (now !== stamp) [value, stamp] = [parse(s ? readFileSync(file, 'utf8') : ''), now];
    return value;
  };
}

let system: Accounts | null = null;

/** The machine's accounts, one reader shared by every caller. */
export function machineAccounts(): Accounts {
  system ??= systemAccounts();
  return system;
}
