// Fork-server folders are named for their owner (pid and start time): those
// whose owner has died are removed, a live owner's never.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeForkFolder, removeStaleForkFolders } from '../../../../lib/worker/launch/fork-folders.js';
import { memoryLogger } from '../../../../lib/util/log.js';
import { identify } from '../../../../lib/util/process-identity.js';
import { removeDir, tempDir } from '../../../helpers.js';

let dir: string | undefined;
afterEach(() => removeDir(dir));

describe('fork-server folders', () => {
  it('are private and named for this process', () => {
    const folder = makeForkFolder();
    try {
      expect(basename(folder)).toMatch(new RegExp(`^pypages-fork-${process.pid}-${identify(process.pid)!.start}-`));
      expect(statSync(folder).mode & 0o777).toBe(0o700);
    } finally {
      removeDir(folder);
    }
  });

  it("removes those of dead owners (gone, or a reused pid), and keeps live owners', other names and files", async () => {
    dir = tempDir('pypages-folders-');
    const dead = spawn('true');
    await once(dead, 'exit');
    const me = identify(process.pid)!;
    const names = {
      gone: `pypages-fork-${dead.pid}-${me.start}-aaaaaa`,
      reused: `pypages-fork-${process.pid}-${me.start! - 1}-bbbbbb`,
      live: `pypages-fork-${process.pid}-${me.start}-cccccc`,
      older: 'pypages-fork-dddddd', // named before owners were: cannot be told from a live one
      file: `pypages-fork-${dead.pid}-${me.start}-eeeeee`,
    };
    for (const [key, name] of Object.entries(names)) {
      if (key === 'file') writeFileSync(join(dir, name), '');
      else mkdirSync(join(dir, name), { mode: 0o700 });
    }
    writeFileSync(join(dir, names.gone, 'workers.sock'), '');
    const log = memoryLogger();
    const removed = removeStaleForkFolders(log, dir);
    expect(removed.map((p) => basename(p)).sort()).toEqual([names.gone, names.reused].sort());
    expect(readdirSync(dir).sort()).toEqual([names.live, names.older, names.file].sort());
    expect(existsSync(join(dir, names.gone))).toBe(false);
    expect(removeStaleForkFolders(log, dir)).toEqual([]);
    expect(removeStaleForkFolders(log, join(dir, 'missing'))).toEqual([]);
  });

  // As root, removing another user's folder recursively lets that user swap a subfolder for a link
  // meanwhile and have root delete what it leads to (docs/review13/rimraf-race.mjs): another user's is left.
  it.runIf(process.getuid?.() === 0)("leaves a dead owner's folder alone when another user owns it (root)", () => {
    dir = tempDir('pypages-folders-');
    const planted = join(dir, 'pypages-fork-999999999-0-planted');
    mkdirSync(join(planted, 'sub'), { recursive: true });
    chownSync(planted, 65534, 65534);
    expect(removeStaleForkFolders(memoryLogger(), dir)).toEqual([]);
    expect(existsSync(join(planted, 'sub'))).toBe(true);
  });
});
