// What a folder listing says about each script: page or not, its docstring's
// first line, or why it does not parse. Asked of Python itself
// (pypages_worker/survey.py: the worker's own page test, on the syntax tree,
// never importing the file), one short process per listing for the scripts it
// has not seen in this version; answers are remembered per file version.

import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import type { Logger } from '../../util/log.js';
import { pythonPackageDir } from '../../util/paths.js';

/** One script, as the listing tells it. */
export interface ScriptFacts {
  page?: boolean;
  /** The first line of its module docstring ('' when it has none). */
  doc?: string;
  /** Why it is not a page, for its author ('' when nothing suggests a mistake). */
  hint?: string;
  /** Why nothing could be said: a syntax error, an unreadable file. */
  error?: string;
}

const MAX_REMEMBERED = 2000;
const TIMEOUT_MS = 10_000;
const CODE = `import sys; sys.path.insert(0, ${JSON.stringify(pythonPackageDir)}); from pypages_worker.survey import main; main()`;

export class ScriptSurvey {
  /** Real path → its version (mtime and size) and what was found then. */
  private readonly known = new Map<string, { version: string; facts: ScriptFacts }>();

  constructor(private readonly log: Logger) {}

  /** The facts about each of `files` (real paths), asking `python` about those not known in their current version. */
  async facts(python: string, files: readonly string[]): Promise<Map<string, ScriptFacts>> {
    const versions = new Map(files.map((f) => [f, versionOf(f)]));
    const unknown = files.filter((f) => this.known.get(f)?.version !== versions.get(f));
    if (unknown.length > 0) {
      const found = await this.ask(python, unknown);
      if (this.known.size + unknown.length > MAX_REMEMBERED) this.known.clear();
      for (const f of unknown) this.known.set(f, { version: versions.get(f)!, facts: found[f] ?? LOST });
    }
    return new Map(files.map((f) => [f, this.known.get(f)?.facts ?? LOST]));
  }

  private ask(python: string, files: string[]): Promise<Record<string, ScriptFacts>> {
    return new Promise((resolve) => {
      const child = execFile(
        python,
        ['-I', '-B', '-c', CODE],
        { timeout: TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 },
        (err, stdout, stderr) => {
          if (!err) return resolve(parsed(stdout));
          this.log.error(`folder listing: ${python} could not look at the scripts: ${stderr.trim() || err.message}`);
          resolve({});
        },
      );
      child.stdin?.on('error', () => {}); // it died before reading: the callback says why
      child.stdin?.end(JSON.stringify(files));
    });
  }
}

const LOST: ScriptFacts = Object.freeze({ error: 'could not be looked at (see the server log)' });

function parsed(stdout: string): Record<string, ScriptFacts> {
  try {
    const value = JSON.parse(stdout);
    return value !== null && typeof value === 'object' ? value : {};
  } catch {
    return {};
  }
}

function versionOf(file: string): string {
  try {
    const s = statSync(file);
    return `${s.mtimeMs}:${s.size}`;
  } catch {
    return 'gone';
  }
}
