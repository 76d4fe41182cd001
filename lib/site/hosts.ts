// Host names → sites. A site's host patterns are exact names
// (`shop.example.com`) or wildcards (`*.example.com`: any name below
// example.com, not example.com itself), each with an optional `:port`.
// A request's Host is compared case-insensitively, without a trailing dot.
//
// Order, most specific first (as nginx's server_name, and unlike Apache's
// "first vhost listed wins" for wildcards):
//   1. the exact name with the request's port, 2. the exact name with no port,
//   3. wildcards, the longest suffix first; with the port before without.
// Between sites giving the same pattern, the first listed wins.
// A Host without a port is on port 80 or 443: patterns with either match it.

/** A host pattern as written in `hosts:`, normalised; null if it is not one. */
export function hostPattern(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const { name, port } = splitHost(raw.trim().toLowerCase());
  const label = '[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?';
  const named = new RegExp(`^(?:\\*\\.)?${label}(?:\\.${label})*$`).test(name);
  const v6 = /^\[[0-9a-f:.]+\]$/.test(name);
  if (!(named || v6) || (port !== null && !/^\d{1,5}$/.test(port))) return null;
  return port === null ? name : `${name}:${Number(port)}`;
}

/** "Shop.Example.COM.:8080" → { name: "shop.example.com", port: "8080" }; "[::1]:80" keeps its brackets. */
export function splitHost(host: string): { name: string; port: string | null } {
  const lower = host.toLowerCase();
  const colon = lower.lastIndexOf(':');
  const hasPort =
    colon !== -1 && lower.indexOf(']', colon) === -1 && (lower.startsWith('[') || lower.indexOf(':') === colon);
  const name = (hasPort ? lower.slice(0, colon) : lower).replace(/\.$/, '');
  return { name, port: hasPort ? lower.slice(colon + 1) : null };
}

/** A site for each Host: `entries` in the order sites are listed. */
export function hostMatcher<T>(entries: readonly { readonly hosts: readonly string[]; readonly value: T }[]) {
  const exact = new Map<string, T>();
  const wild: { suffix: string; port: string | null; value: T }[] = [];
  for (const { hosts, value } of entries) {
    for (const pattern of hosts) {
      const { name, port } = splitHost(pattern);
      if (name.startsWith('*.')) wild.push({ suffix: name.slice(1), port, value });
      else if (!exact.has(pattern)) exact.set(pattern, value);
    }
  }
  // Longest suffix first; with a port before without; stable, so the first listed wins a tie.
  wild.sort((a, b) => b.suffix.length - a.suffix.length || Number(b.port !== null) - Number(a.port !== null));
  return (host: string): T | undefined => {
    const { name, port } = splitHost(host);
    const ports = port === null ? ['80', '443'] : [String(Number(port))];
    for (const p of ports) {
      const hit = exact.get(`${name}:${p}`);
      if (hit !== undefined) return hit;
    }
    const hit = exact.get(name);
    if (hit !== undefined) return hit;
    return wild.find((w) => name.endsWith(w.suffix) && (w.port === null || ports.includes(w.port)))?.value;
  };
}
