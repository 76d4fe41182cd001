#!/usr/bin/env node
// Summarises a V8 .cpuprofile (node --cpu-prof): top functions by self time,
// top by inclusive time, and self time grouped by where the code lives.
//
//   node bench/profile/cpuprofile-top.mjs FILE.cpuprofile [--top 30] [--requests N]
//
// With --requests, times are also given per request (µs).

import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '30' }, requests: { type: 'string' } },
  });
  if (!positionals.length) {
    console.error('usage: node bench/profile/cpuprofile-top.mjs FILE.cpuprofile [--top N] [--requests N]');
    process.exit(2);
  }
  const requests = values.requests ? Number(values.requests) : null;
  console.log(summarise(JSON.parse(readFileSync(positionals[0], 'utf8')), { top: Number(values.top), requests }));
}

/** Text report of one profile. */
export function summarise(profile, { top = 30, requests = null } = {}) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map(); // node id -> µs
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);

  const keyOf = (n) => {
    const f = n.callFrame;
    const name = f.functionName || '(anonymous)';
    return f.url ? `${name} ${shortUrl(f.url)}:${f.lineNumber + 1}` : name;
  };
  const bySelf = new Map();
  const byGroup = new Map();
  for (const [id, us] of self) {
    const n = nodes.get(id);
    bySelf.set(keyOf(n), (bySelf.get(keyOf(n)) ?? 0) + us);
    const g = group(n.callFrame);
    byGroup.set(g, (byGroup.get(g) ?? 0) + us);
  }
  // Inclusive: a sample counts once for each distinct function on its stack.
  const inclusive = new Map();
  for (const [id, us] of self) {
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const k = keyOf(nodes.get(cur));
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }
  const busy = total - (byGroup.get('(idle)') ?? 0);
  const fmt = (us) =>
    `${(us / 1000).toFixed(0).padStart(6)} ms ${((100 * us) / busy).toFixed(1).padStart(5)}%${requests ? ` ${(us / requests).toFixed(1).padStart(7)} µs/req` : ''}`;
  const lines = [];
  lines.push(
    `profile: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s not idle (percentages are of non-idle time)${requests ? `, ${requests} requests` : ''}`,
  );
  lines.push('', 'self time by where the code lives:');
  for (const [k, us] of [...byGroup].sort((a, b) => b[1] - a[1]).filter(([k]) => k !== '(idle)'))
    lines.push(`  ${fmt(us)}  ${k}`);
  lines.push('', `top ${top} functions by self time:`);
  for (const [k, us] of [...bySelf]
    .sort((a, b) => b[1] - a[1])
    .filter(([k]) => k !== '(idle)')
    .slice(0, top))
    lines.push(`  ${fmt(us)}  ${k}`);
  lines.push('', `top ${top} functions by inclusive time:`);
  for (const [k, us] of [...inclusive]
    .sort((a, b) => b[1] - a[1])
    .filter(([k]) => k !== '(root)' && k !== '(idle)')
    .slice(0, top))
    lines.push(`  ${fmt(us)}  ${k}`);
  return lines.join('\n');
}

function shortUrl(url) {
  return url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, 'node_modules/')
    .replace(/^.*\/dist\//, 'dist/');
}

function group({ functionName, url }) {
  if (!url) {
    if (['(idle)', '(garbage collector)', '(program)', '(root)'].includes(functionName)) return functionName;
    return '(native / builtins)';
  }
  if (url.startsWith('node:')) return `node core: ${url.slice(5).split('/')[0]}`;
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return `npm: ${m[1]}`;
  const d = /\/dist\/(.*)$/.exec(url);
  if (d) return `pypages: ${d[1]}`;
  return url;
}
