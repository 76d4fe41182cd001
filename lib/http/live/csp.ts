// Whether a page's Content-Security-Policy lets the live-reload script run:
// an inline <script> (script-src-elem, script-src, else default-src) and an
// EventSource to this origin (connect-src, else default-src). A nonce, a hash
// or 'strict-dynamic' turns 'unsafe-inline' off (CSP Level 3), so their
// presence forbids it too. Report-Only policies enforce nothing: ignored.

type Directives = Map<string, string[]>;

/** Why `policies` (every Content-Security-Policy value of a response) forbid the injected script; null if they allow it. */
export function cspForbids(policies: readonly string[]): string | null {
  // One header may carry several policies, comma-separated; each must allow it.
  for (const policy of policies.flatMap((p) => p.split(','))) {
    const directives = parse(policy);
    const scriptName = ['script-src-elem', 'script-src', 'default-src'].find((d) => directives.has(d));
    if (scriptName && !inlineAllowed(directives.get(scriptName)!))
      return `its Content-Security-Policy (${scriptName}) forbids inline scripts`;
    const connectName = ['connect-src', 'default-src'].find((d) => directives.has(d));
    if (connectName && !directives.get(connectName)!.some((s) => s === "'self'" || s === '*'))
      return `its Content-Security-Policy (${connectName}) forbids connecting to this server`;
  }
  return null;
}

function parse(policy: string): Directives {
  const directives: Directives = new Map();
  for (const part of policy.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    // The first occurrence of a directive wins (CSP 3, 2.2.1).
    if (name && !directives.has(name.toLowerCase()))
      directives.set(
        name.toLowerCase(),
        sources.map((s) => s.toLowerCase()),
      );
  }
  return directives;
}

function inlineAllowed(sources: readonly string[]): boolean {
  if (!sources.includes("'unsafe-inline'")) return false;
  return !sources.some((s) => /^'(?:nonce-|sha256-|sha384-|sha512-|strict-dynamic')/.test(s));
}
