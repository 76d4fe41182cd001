// npm start's build step: runs the TypeScript compiler only when a source
// (lib/, server/, tsconfig.json) is newer than dist/server/cli.js, so a
// start with nothing changed does not spend seconds recompiling.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const OUTPUT = 'dist/server/cli.js';

function newest(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return path.endsWith('.ts') || path.endsWith('.json') ? s.mtimeMs : 0;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

function built() {
  try {
    return statSync(OUTPUT).mtimeMs;
  } catch {
    return -1;
  }
}

const sources = Math.max(newest('lib'), newest('server'), newest('tsconfig.json'));
if (built() < sources) {
  process.stderr.write('pypages: compiling TypeScript (sources changed since the last build)\n');
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], { stdio: 'inherit' });
  process.exit(tsc.status ?? 1);
}
