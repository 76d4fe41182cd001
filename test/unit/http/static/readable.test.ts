// lib/http/static/readable.ts: started as root, a static file is sent only if
// an unprivileged web server could read it. Real files and folders; the
// "started as root" question is passed in, so it runs as any user.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { staticRefusal } from '../../../../lib/http/static/readable.js';
import { removeDir, tempDir } from '../../../helpers.js';

const root = tempDir('pypages-readable-');
afterAll(() => {
  chmodSync(path.join(root, 'closed'), 0o755);
  removeDir(root);
});
mkdirSync(path.join(root, 'open', 'deeper'), { recursive: true });
mkdirSync(path.join(root, 'closed'));
mkdirSync(path.join(root, 'listable-only'));
const files: Record<string, number> = {
  'public.txt': 0o644,
  'private.txt': 0o600,
  'group-only.txt': 0o640,
  'others-only.txt': 0o604,
  'open/deeper/public.txt': 0o644,
  'closed/public.txt': 0o644,
  'listable-only/public.txt': 0o644,
};
for (const [rel, mode] of Object.entries(files)) {
  writeFileSync(path.join(root, rel), rel);
  chmodSync(path.join(root, rel), mode);
}
chmodSync(path.join(root, 'closed'), 0o750);
chmodSync(path.join(root, 'listable-only'), 0o754);
const refusal = (rel: string, asRoot = true) => staticRefusal(root, path.join(root, rel), asRoot);

describe('staticRefusal', () => {
  it('sends what others may read below folders others may pass', () => {
    expect(refusal('public.txt')).toBeNull();
    expect(refusal('others-only.txt')).toBeNull();
    expect(refusal('open/deeper/public.txt')).toBeNull();
  });
  it('refuses a file others may not read, whoever else may, saying what to chmod', () => {
    expect(refusal('private.txt')).toMatch(/private\.txt \(mode 0600, .*\) may not be read by others: .*chmod o\+r/);
    expect(refusal('group-only.txt')).toMatch(/mode 0640/);
  });
  it('refuses a file below a folder others may not pass, even one they may list', () => {
    expect(refusal('closed/public.txt')).toMatch(/folder .*\/closed \(mode 0750, .*\) may not be passed through/);
    expect(refusal('listable-only/public.txt')).toMatch(/folder .*\/listable-only \(mode 0754/);
  });
  it('counts the site root itself', () => {
    const closed = tempDir('pypages-readable-root-');
    try {
      writeFileSync(path.join(closed, 'public.txt'), 'x');
      chmodSync(closed, 0o700);
      expect(staticRefusal(closed, path.join(closed, 'public.txt'), true)).toMatch(
        /folder .* \(mode 0700, .*\) may not be passed through/,
      );
    } finally {
      removeDir(closed);
    }
  });
  it("sees a file's chmod at once, a folder's within a second", async () => {
    writeFileSync(path.join(root, 'open', 'later.txt'), 'x');
    expect(refusal('open/later.txt')).toBeNull();
    chmodSync(path.join(root, 'open', 'later.txt'), 0o600);
    expect(refusal('open/later.txt')).toMatch(/mode 0600/);
    chmodSync(path.join(root, 'open', 'later.txt'), 0o644);
    chmodSync(path.join(root, 'open'), 0o750);
    try {
      await new Promise((r) => setTimeout(r, 1100));
      expect(refusal('open/later.txt')).toMatch(/folder .*\/open \(mode 0750/);
    } finally {
      chmodSync(path.join(root, 'open'), 0o755);
    }
  });
  it('checks nothing when not started as root, and leaves a file gone since to the sender (404)', () => {
    expect(refusal('private.txt', false)).toBeNull();
    expect(refusal('closed/public.txt', false)).toBeNull();
    expect(refusal('gone.txt')).toBeNull();
  });
});
