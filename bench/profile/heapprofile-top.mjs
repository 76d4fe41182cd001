#!/usr/bin/env node
// Summarises a V8 sampling heap profile (.heapprofile): bytes allocated by each
// function itself, and by each function with everything it calls, per request.
//
//   node bench/profile/heapprofile-top.mjs FILE.heapprofile [--top 30] [--requests N]

import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '30' }, requests: { type: 'string', default: '1' } },
  });
  if (!positionals.length) {
    console.error('usage: node bench/profile/heapprofile-top.mjs FILE.heapprofile [--top N] [--requests N]');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));
  console.log(summariseHeap(profile, { top: Number(values.top), requests: Number(values.requests) }));
}

/** Text report: the sampled bytes of every call-tree node, by function, per request. */
export function summariseHeap(profile, { top = 30, requests = 1 } = {}) {
  const self = new Map();
  const inclusive = new Map();
  const keyOf = (f) => `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
  let total = 0;
  const walk = (node, onStack) => {
    const key = keyOf(node.callFrame);
    const own = node.selfSize ?? 0;
    total += own;
    self.set(key, (self.get(key) ?? 0) + own);
    const stack = new Set(onStack).add(key);
    const below = own + (node.children ?? []).reduce((sum, child) => sum + walk(child, stack), 0);
    if (!onStack.has(key)) inclusive.set(key, (inclusive.get(key) ?? 0) + below);
    return below;
  };
  walk(profile.head, new Set());
  const per = (bytes) => `${(bytes / requests).toFixed(0).padStart(7)} B`;
  const table = (map) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => `${per(v)}  ${k}`)
      .join('\n');
  return [
    `allocated: ${per(total)} per request (${requests} requests)`,
    '',
    'by function itself:',
    table(self),
    '',
    'by function with its callees:',
    table(inclusive),
  ].join('\n');
}

function shortUrl(url) {
  if (!url) return '';
  const at = url.search(/\/(dist|node_modules)\//);
  return at >= 0 ? url.slice(at + 1) : url.replace(/^node:/, '');
}
