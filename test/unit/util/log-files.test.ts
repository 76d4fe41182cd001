// Per-site log files: "-" keeps the server's streams, a path is opened once
// for appending, reopen() moves later lines to a new file with none lost,
// and a file that cannot be written falls back to the server's log.
import { existsSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LogFiles } from '../../../lib/util/log-files.js';
import { memoryLogger } from '../../../lib/util/log.js';
import { removeDir, tempDir, waitFor } from '../../helpers.js';

const dir = tempDir('pypages-logs-');
afterAll(() => removeDir(dir));
const read = (name: string) => (existsSync(path.join(dir, name)) ? readFileSync(path.join(dir, name), 'utf8') : '');

describe('LogFiles', () => {
  it('sends "-" to the base logger and a path to its file, one stream per path', async () => {
    const base = memoryLogger();
    const files = new LogFiles(base);
    const a = files.loggerFor({ access: path.join(dir, 'a.log'), error: '-' });
    const b = files.loggerFor({ access: path.join(dir, 'a.log'), error: path.join(dir, 'b.err') });
    a.access('one');
    b.access('two');
    a.error('to the base');
    b.error('to b');
    await waitFor(() => read('a.log') === 'one\ntwo\n' && read('b.err').includes('[error] to b\n'), 'the lines');
    expect(base.errors).toEqual(['to the base']);
    expect(base.lines).toEqual([]);
  });

  it('reopen(): lines before go to the renamed file, lines after to a new one', async () => {
    const files = new LogFiles(memoryLogger());
    const log = files.loggerFor({ access: path.join(dir, 'r.log'), error: '-' });
    log.access('before');
    await waitFor(() => read('r.log') !== '', 'the file to be open');
    for (let i = 0; i < 99; i++) log.access(`before ${i}`); // still held when the file is renamed
    renameSync(path.join(dir, 'r.log'), path.join(dir, 'r.log.1'));
    files.reopen();
    for (let i = 0; i < 100; i++) log.access(`after ${i}`);
    await waitFor(
      () => read('r.log.1').split('\n').length === 101 && read('r.log').split('\n').length === 101,
      'both files',
    );
    expect(read('r.log.1')).not.toContain('after');
    expect(read('r.log')).not.toContain('before');
  });

  it('says once that a file cannot be written, and the base logger takes its lines', async () => {
    const base = memoryLogger();
    const log = new LogFiles(base).loggerFor({ access: path.join(dir, 'missing', 'x.log'), error: '-' });
    log.access('lost while opening');
    await waitFor(() => base.errors.length === 1, 'the failure');
    expect(base.errors[0]).toMatch(/log file .*missing\/x\.log cannot be written \(ENOENT\)/);
    log.access('later');
    expect(base.lines).toEqual(['later']);
  });
});
