// Compression ratio and CPU cost of the static-file compression
// (lib/http/static/compressed.ts): the demo site's CSS and a 1 MiB text
// file (this repository's own TypeScript and README, concatenated up to
// 1 MiB: real, varied text, not a repeated line), with gzip and brotli at
// the levels pypages uses and a few around them.
//
//   npx tsc -p . && node bench/compression.mjs   # a table
//   node bench/compression.mjs --json     # the same as JSON
//
// CPU time is process.cpuUsage() (user + system) per synchronous zlib
// call, the median of five rounds; pypages compresses once per file
// version, on the thread pool, and serves the result from memory after.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { zlibOptions } from '../dist/lib/http/compression.js';

const ROOT = new URL('..', import.meta.url).pathname;

function sourceText(bytes) {
  const files = [join(ROOT, 'README.md')];
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ts|py|md|mjs)$/.test(name)) files.push(path);
    }
  };
  walk(join(ROOT, 'lib'));
  walk(join(ROOT, 'test'));
  const parts = [];
  let total = 0;
  for (const f of files) {
    if (total >= bytes) break;
    const b = readFileSync(f);
    parts.push(b);
    total += b.length;
  }
  return Buffer.concat(parts).subarray(0, bytes);
}

const CODECS = [
  ['gzip 6 (pypages)', (b) => gzipSync(b, zlibOptions('gzip', b.length))],
  ['gzip 9', (b) => gzipSync(b, { level: 9 })],
  ['brotli (pypages: 11 up to 64 KiB, else 5)', (b) => brotliCompressSync(b, zlibOptions('br', b.length))],
  ['brotli 5', (b) => brotli(b, 5)],
  ['brotli 9', (b) => brotli(b, 9)],
  ['brotli 11', (b) => brotli(b, 11)],
];

/** Brotli at `quality` with the window pypages picks for the size. */
function brotli(b, quality) {
  const options = zlibOptions('br', b.length);
  return brotliCompressSync(b, { params: { ...options.params, [constants.BROTLI_PARAM_QUALITY]: quality } });
}

function measure(input, codec) {
  const out = codec(input); // warm up
  const t0 = process.hrtime.bigint();
  codec(input);
  const once = Number(process.hrtime.bigint() - t0) / 1e6;
  const calls = Math.max(1, Math.min(2000, Math.round(100 / Math.max(once, 0.001))));
  const perCall = [];
  for (let round = 0; round < 5; round++) {
    const t = process.cpuUsage();
    for (let i = 0; i < calls; i++) codec(input);
    const d = process.cpuUsage(t);
    perCall.push((d.user + d.system) / 1000 / calls);
  }
  perCall.sort((a, b) => a - b);
  return { bytes: out.length, ratio: input.length / out.length, cpuMs: perCall[2] };
}

const inputs = [
  ['www/style.css', readFileSync(join(ROOT, 'www/style.css'))],
  ['1 MiB text', sourceText(1024 * 1024)],
];
const rows = [];
for (const [name, input] of inputs)
  for (const [codec, fn] of CODECS) rows.push({ input: name, size: input.length, codec, ...measure(input, fn) });

if (process.argv.includes('--json')) console.log(JSON.stringify(rows, null, 2));
else {
  console.log('| input | size | codec | compressed | ratio | CPU ms |\n|---|---:|---|---:|---:|---:|');
  for (const r of rows)
    console.log(`| ${r.input} | ${r.size} | ${r.codec} | ${r.bytes} | ${r.ratio.toFixed(2)} | ${r.cpuMs.toFixed(2)} |`);
}
