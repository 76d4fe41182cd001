// The house rule on size, for lib/ and server/: files under ~300 lines,
// functions under 30 (STYLE.md, "Small and clear"). Measured with the
// TypeScript compiler's own parser; a function's lines run from its first
// line to its closing brace.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { expect, it } from 'vitest';

const REPO = new URL('../../', import.meta.url).pathname;
const MAX_FILE_LINES = 310;
const MAX_FUNCTION_LINES = 30;

/** The TypeScript sources of the Node side (lib/python is Python's). */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'python' ? [] : sources(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

function longFunctions(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const last = source.getLineAndCharacterOfPosition(node.end).line;
      if (last - first + 1 > MAX_FUNCTION_LINES)
        found.push(`${relative(REPO, file)}:${first + 1} (${last - first + 1} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const files = [...sources(join(REPO, 'lib')), ...sources(join(REPO, 'server'))];

it(`keeps every file of lib/ and server/ within ${MAX_FILE_LINES} lines`, () => {
  expect(files.length).toBeGreaterThan(40);
  const long = files
    .map((f) => [relative(REPO, f), readFileSync(f, 'utf8').split('\n').length - 1] as const)
    .filter(([, n]) => n > MAX_FILE_LINES);
  expect(long).toEqual([]);
});

it(`keeps every function of lib/ and server/ within ${MAX_FUNCTION_LINES} lines`, () => {
  expect(files.flatMap((f) => longFunctions(f, readFileSync(f, 'utf8')))).toEqual([]);
});
