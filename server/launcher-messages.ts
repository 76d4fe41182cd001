// The shape of a start request to the launcher (server/launcher.ts), checked
// before anything else is read of it: it comes from the server child, which
// parses untrusted bytes and must be assumed compromised. Only shapes here;
// who may be started is lib/tenant/launch-policy.ts's question.
import type { StartRequest } from '../lib/tenant/root-side.js';

export interface StartMessage extends StartRequest {
  readonly id: number;
}

const MAX_ARGS = 2000;
const MAX_TEXT = 64 * 1024;
const MAX_ENV = 1000;

/** The request, or why it is not one. */
export function checkedStart(m: Record<string, unknown>): StartMessage | string {
  const { id, python, args, cwd, env, user, tenant, fork } = m;
  if (!Number.isSafeInteger(id)) return 'no request id';
  if (!text(python) || !text(cwd)) return 'python and cwd must be text';
  if (!Array.isArray(args) || args.length > MAX_ARGS || !args.every(text)) return 'args must be a list of text';
  if (!isEnv(env)) return 'env must map names to text';
  if (user !== null && !isIds(user)) return 'user must be null or { uid, gid }';
  if (tenant !== undefined && !isTenant(tenant)) return 'tenant must be { name, caps }';
  if (fork !== undefined && typeof fork !== 'boolean') return 'fork must be true or false';
  return { id: id as number, python, args, cwd, env, user, tenant, fork } as StartMessage;
}

function text(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0 && x.length <= MAX_TEXT && !x.includes('\0');
}

function isEnv(x: unknown): x is Record<string, string> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const entries = Object.entries(x);
  return entries.length <= MAX_ENV && entries.every(([, v]) => typeof v === 'string' && v.length <= MAX_TEXT);
}

function isIds(x: unknown): x is { uid: number; gid: number } {
  const u = x as { uid?: unknown; gid?: unknown } | null;
  return typeof u === 'object' && u !== null && Number.isSafeInteger(u.uid) && Number.isSafeInteger(u.gid);
}

function isTenant(x: unknown): boolean {
  const t = x as { name?: unknown; caps?: Record<string, unknown> } | null;
  if (typeof t !== 'object' || t === null || typeof t.name !== 'string' || t.name.length > 200) return false;
  const caps = t.caps ?? {};
  return ['memory', 'cpuPercent', 'pids'].every((k) => Number.isFinite(caps[k]) && (caps[k] as number) >= 0);
}
