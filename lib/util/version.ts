// The pypages version, read once from the package.json of this installation:
// `pypages --version` and SERVER_SOFTWARE both say it.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './paths.js';

/** "0.1.0", or "unknown" when the package.json has no version. */
export const VERSION: string = readVersion();

/** What pages see in SERVER_SOFTWARE: "pypages/0.1.0". */
export const SERVER_SOFTWARE = `pypages/${VERSION}`;

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
