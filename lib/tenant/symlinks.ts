// symlinks: owner-match, as Apache's SymLinksIfOwnerMatch and nginx's
// disable_symlinks if_not_owner: a file or folder reached through a symlink
// is served (or run) only if every symlink followed on the way is owned by
// the owner of what it leads to (lstat's uid = stat's uid). A tenant can make
// a link to anything; it can only make one that counts to what it owns. The
// check is strict as theirs: a link root made to a tenant's file is refused
// too (chown -h it, or set symlinks: follow). A user folder's site also
// serves and runs only files its user (or root) owns: a file another tenant
// put there, or hard-linked there, is not its user's to publish.
//
// lib/http/resolve.ts calls linksFollowed only when realpath(dir/name) is
// not dir/name, i.e. when a link was followed: a path without links costs
// nothing more than it did.
import { lstatSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { machineAccounts } from './accounts.js';

/** One symlink followed: its path, what it says, its owner and the owner of what it leads to. */
export interface LinkHop {
  readonly link: string;
  readonly to: string;
  readonly linkUid: number;
  readonly targetUid: number;
}

/** How a site confines its files under owner-match. */
export interface OwnerMatch {
  /** A user folder's user: its site serves only files it (or root) owns; null for other sites. */
  readonly owner: number | null;
}

/** The kernel's limit on links followed in one lookup (ELOOP past it). */
const MAX_LINKS = 40;

/**
 * The symlinks met, in order, while following `name` in the real folder
 * `dir` (no symlink in `dir` itself), including links inside what a link
 * says; null when the path breaks (missing, ELOOP, EACCES) on the way.
 */
export function linksFollowed(dir: string, name: string): LinkHop[] | null {
  const hops: LinkHop[] = [];
  const rest = [name];
  let at = dir; // always a real path: every link before it is resolved
  try {
    while (rest.length > 0) {
      const part = rest.shift() as string;
      if (part === '' || part === '.') continue;
      // ".." of a real path is its parent, as the kernel takes it.
      if (part === '..') at = path.dirname(at);
      else at = follow(path.join(at, part), rest, hops);
      if (hops.length > MAX_LINKS) return null;
    }
    return hops;
  } catch {
    return null;
  }
}

/** Steps onto `next`: itself if it is no link; else records the link and queues what it says. Throws when broken. */
function follow(next: string, rest: string[], hops: LinkHop[]): string {
  const own = lstatSync(next);
  if (!own.isSymbolicLink()) return next;
  const to = readlinkSync(next);
  hops.push({ link: next, to, linkUid: own.uid, targetUid: statSync(next).uid });
  rest.unshift(...to.split('/'));
  return path.isAbsolute(to) ? '/' : path.dirname(next);
}

/**
 * Why owner-match refuses what was reached through `hops` (its real path
 * `real`, its owner `uid`, and whether it is a file); null when it may be
 * served. `nameOf` names uids for the log line.
 */
export function ownerMismatch(
  hops: readonly LinkHop[],
  reached: { real: string; uid: number; isFile: boolean },
  rule: OwnerMatch,
  nameOf: (uid: number) => string = userName,
): string | null {
  for (const hop of hops) {
    if (hop.linkUid === hop.targetUid) continue;
    const [link, target] = [owner(hop.linkUid, nameOf), owner(hop.targetUid, nameOf)];
    return `symlink ${hop.link} -> ${hop.to} is owned by ${link}, what it leads to (${reached.real}) by ${target} (symlinks: owner-match)`;
  }
  const { owner: siteUid } = rule;
  if (siteUid !== null && reached.isFile && reached.uid !== siteUid && reached.uid !== 0)
    return `${reached.real} is owned by ${owner(reached.uid, nameOf)}, not by the site's user ${owner(siteUid, nameOf)} (symlinks: owner-match)`;
  return null;
}

function owner(uid: number, nameOf: (uid: number) => string): string {
  const name = nameOf(uid);
  return name ? `uid ${uid} (${name})` : `uid ${uid}`;
}

/** The account name of `uid` in /etc/passwd, or "". */
export function userName(uid: number): string {
  return machineAccounts().user(uid)?.name ?? '';
}

/** The owner-match rule of a site (its symlinks setting, auto resolved), or undefined under follow. */
export function ownerMatchOf(
  site: { readonly symlinks: 'owner-match' | 'follow'; readonly user: string | null },
  accounts = machineAccounts(),
): OwnerMatch | undefined {
  if (site.symlinks !== 'owner-match') return undefined;
  // A user folder whose user left /etc/passwd since: uid -1 owns nothing, so only root's files are served.
  return { owner: site.user === null ? null : (accounts.user(site.user)?.uid ?? -1) };
}
