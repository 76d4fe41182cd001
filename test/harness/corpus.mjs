// Reads the request corpus (test/corpus/http/*.http; the format is in that
// folder's README.md) and judges an exchange against an entry's expectation.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const CORPUS_DIR = new URL('../corpus/http/', import.meta.url).pathname;

/** Every entry of the corpus, sorted by file name. */
export function loadCorpus(dir = CORPUS_DIR) {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.http'))
    .sort()
    .map((f) => parseEntry(f, readFileSync(join(dir, f), 'latin1')));
}

/** One .http file: { name, meta, expect (alternatives), bytes, fin, head, body }. */
export function parseEntry(name, text) {
  const lines = text.split('\n');
  /** @type {Record<string, string>} */
  const meta = {};
  let i = 0;
  for (; i < lines.length && lines[i].startsWith('#'); i++) {
    const m = /^#\s*([a-z-]+):\s?(.*)$/.exec(lines[i]);
    if (!m) throw new Error(`${name}: line ${i + 1}: metadata lines are "# key: value"`);
    meta[m[1]] = meta[m[1]] === undefined ? m[2] : `${meta[m[1]]} ${m[2]}`;
  }
  if (!meta.expect) throw new Error(`${name}: no "# expect:" line`);
  const request = lines.slice(i).join('\n');
  return {
    name,
    meta,
    expect: parseExpect(name, meta.expect),
    bytes: requestBytes(request, meta.raw === 'yes'),
    fin: meta.fin === 'yes',
    head: meta.head === 'yes',
    body: meta.body,
  };
}

/** "400 closed | closed" → [{ statuses: [400], closed: true }, { statuses: [], closed: true }]. */
function parseExpect(name, text) {
  return text.split('|').map((alt) => {
    const words = alt.trim().split(/\s+/);
    const closed = words.at(-1) === 'closed';
    const statuses = (closed ? words.slice(0, -1) : words).map(Number);
    if (statuses.some((s) => !(s >= 100 && s <= 599)) || (!closed && !statuses.length))
      throw new Error(`${name}: bad expect alternative "${alt.trim()}"`);
    return { statuses, closed };
  });
}

/**
 * The bytes of a request as written in the file: {{repeat N text}} is
 * expanded, each newline becomes CRLF (unless raw), a backslash just before a
 * newline removes that line ending, and \r \n \t \0 \\ \xHH are escapes.
 */
export function requestBytes(text, raw = false) {
  const s = text.replace(/\{\{repeat (\d+) ([^}]*)\}\}/g, (_, n, what) => what.repeat(Number(n)));
  const ESCAPES = { r: '\r', n: '\n', t: '\t', 0: '\0', '\\': '\\', '\n': '' };
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\n') out += raw ? '\n' : '\r\n';
    else if (c !== '\\') out += c;
    else if (s[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 2, i + 4)))
      [out, i] = [out + String.fromCharCode(parseInt(s.slice(i + 2, i + 4), 16)), i + 3];
    else if (s[i + 1] in ESCAPES) [out, i] = [out + ESCAPES[s[i + 1]], i + 1];
    else out += c; // a backslash before anything else is itself
  }
  return Buffer.from(out, 'latin1');
}

/** What happened, in the corpus's words: "100 200 closed", "closed", "400 (still open)". */
export function describeOutcome(result) {
  const statuses = result.responses.map((r) => r.status).join(' ');
  if (result.error) return `${statuses} then a malformed response: ${result.error}`.trim();
  if (result.timedOut) return `${statuses} then no end within the deadline`.trim();
  return result.closed ? `${statuses} closed`.trim() : `${statuses || 'nothing'} (still open)`;
}

/** Null when `result` (from exchange()) matches one of the entry's alternatives, else why not. */
export function judge(entry, result) {
  const got = describeOutcome(result);
  if (result.error || result.timedOut) return `got ${got}`;
  const statuses = result.responses.map((r) => r.status);
  const match = entry.expect.some(
    (alt) =>
      alt.closed === result.closed &&
      alt.statuses.length === statuses.length &&
      alt.statuses.every((s, i) => s === statuses[i]),
  );
  if (!match) return `expected ${entry.meta.expect}, got ${got}`;
  const last = result.responses.at(-1);
  if (entry.body !== undefined && last && last.status < 300 && last.body.toString('latin1') !== entry.body) {
    return `expected the body ${JSON.stringify(entry.body)}, got ${JSON.stringify(last.body.toString('latin1').slice(0, 200))}`;
  }
  return null;
}
