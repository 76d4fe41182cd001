// Who a group's workers run as. Started as root, pypages never runs a page as
// root by default: each group runs as its `user` (a name, a uid, or "owner":
// the owner of the script, as Passenger and suEXEC decide), a user folder's
// as its user; a page that would run as root is refused unless the operator
// allows it (allow-root-pages). Not started as root, nothing is switched:
// every page runs as the server's own user (README "Security model").
import { statSync } from 'node:fs';
import type { Accounts } from './accounts.js';
import { rootSide } from './root-side.js';

/** A user to run as: what setpriv (lib/tenant/launch-line.ts) and the worker's environment need. */
export interface RunAs {
  readonly user: string;
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups: the user's own (its primary group and every group listing it). */
  readonly groups: readonly number[];
  readonly home: string;
}

export type Identity =
  | { readonly kind: 'server' } // as the server's own user: not root, or root allowed
  | { readonly kind: 'user'; readonly runAs: RunAs }
  | { readonly kind: 'refused'; readonly reason: string };

export interface IdentityRequest {
  /** The `user` setting: "", "owner", a name or a uid. */
  readonly user: string;
  /** The `group` setting: "" (the user's primary group), a name or a gid. */
  readonly group: string;
  readonly allowRootPages: boolean;
  /** The script (absolute), whose owner "owner" means. */
  readonly script: string;
  /** A user folder's user, the default of its groups; null for other sites. */
  readonly siteUser: string | null;
}

export const SERVER: Identity = Object.freeze({ kind: 'server' });

/** Root, or a server child that gave root up, keeping a launcher (server/drop.ts): pages run as users either way. */
export function startedAsRoot(): boolean {
  return process.getuid?.() === 0 || rootSide() !== null;
}

/** The identity a group with these settings runs as, when the server runs as root (else SERVER). */
export function identityFor(req: IdentityRequest, accounts: Accounts, asRoot = startedAsRoot()): Identity {
  if (!asRoot) return SERVER;
  const wanted = req.user || req.siteUser || 'owner';
  const account = wanted === 'owner' ? ownerOf(req.script, accounts) : accounts.user(wanted);
  if (typeof account === 'string') return refused(account);
  if (!account) return refused(`its user ${wanted} is not in /etc/passwd`);
  if (account.uid === 0)
    return req.allowRootPages
      ? SERVER
      : refused(
          `it would run as root (${wanted === 'owner' ? 'the script is owned by root' : `user: ${wanted}`}); ` +
            'give it a user (user:, or chown the script) or set allow-root-pages',
        );
  const group = req.group ? accounts.group(req.group) : { gid: account.gid };
  if (!group) return refused(`its group ${req.group} is not in /etc/group`);
  const runAs = { user: account.name, uid: account.uid, gid: group.gid, groups: accounts.groupsOf(account) };
  return Object.freeze({ kind: 'user', runAs: Object.freeze({ ...runAs, home: account.home }) });
}

/** The tenant a group belongs to: its user when users are switched, else its site. */
export function tenantOf(identity: Identity, siteName: string): string {
  return identity.kind === 'user' ? `user:${identity.runAs.user}` : `site:${siteName}`;
}

function ownerOf(script: string, accounts: Accounts): ReturnType<Accounts['user']> | string {
  const s = statSync(script, { throwIfNoEntry: false });
  if (!s) return `its script ${script} is gone`;
  return (
    accounts.user(s.uid) ??
    (s.uid === 0 ? { name: 'root', uid: 0, gid: 0, home: '/root' } : `its owner (uid ${s.uid}) is not in /etc/passwd`)
  );
}

function refused(reason: string): Identity {
  return Object.freeze({ kind: 'refused', reason });
}
