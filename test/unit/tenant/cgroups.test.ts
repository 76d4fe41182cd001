// Cgroups on a folder laid out as a cgroup mount (v1 and v2): the files a
// tenant's caps write, their order, names, updates, zero caps, errors; the
// parsing of /proc's mount and cgroup tables; the enter script with a real sh.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { capWrites } from '../../../lib/tenant/cgroup-caps.js';
import { locate } from '../../../lib/tenant/cgroup-mounts.js';
import { Cgroups, ENTER_SCRIPT, enterCommand, tenantFolder } from '../../../lib/tenant/cgroups.js';
import { memoryLogger } from '../../../lib/util/log.js';
import { removeDir, tempDir } from '../../helpers.js';

const NAME = 'pypages-test';
const CAPS = { memory: 64 << 20, cpuPercent: 20, pids: 8 };
const NONE = { memory: 0, cpuPercent: 0, pids: 0 };

let base: string;
beforeEach(() => {
  base = tempDir('pypages-cgroups-');
});
afterEach(() => removeDir(base));

/** A file of the fake mount, made with its folders. */
function put(file: string, text = ''): void {
  mkdirSync(path.dirname(path.join(base, file)), { recursive: true });
  writeFileSync(path.join(base, file), text);
}
const read = (file: string) => readFileSync(file, 'utf8');

/** A v1 mount: a hierarchy per controller; `swap` adds the kernel's memsw files to the server's folder. */
function layV1(swap: boolean): void {
  for (const c of ['memory', 'cpu', 'pids']) put(`${c}/cgroup.procs`);
  put(`memory/${NAME}/memory.swappiness`, '60\n');
  if (swap) put(`memory/${NAME}/memory.memsw.limit_in_bytes`, '9223372036854771712\n');
}

function detect(log = memoryLogger()): Cgroups {
  const cgroups = Cgroups.detect({ base, log, name: NAME });
  if (!cgroups) throw new Error(`not detected: ${log.errors.join('; ')}`);
  return cgroups;
}

describe('cgroup v1 layout', () => {
  it('writes memory (with memsw), cpu quota and pids caps, one cgroup.procs per hierarchy', () => {
    layV1(true);
    const cgroups = detect();
    expect(cgroups.describe).toBe('cgroup v1 (memory, cpu, pids)');
    const files = cgroups.enter('user:alice', CAPS);
    const folder = tenantFolder('user:alice');
    expect(files).toEqual(['memory', 'cpu', 'pids'].map((c) => path.join(base, c, NAME, folder, 'cgroup.procs')));
    const dir = (c: string) => path.join(base, c, NAME, folder);
    expect(read(`${dir('memory')}/memory.limit_in_bytes`)).toBe(String(64 << 20));
    expect(read(`${dir('memory')}/memory.memsw.limit_in_bytes`)).toBe(String(64 << 20));
    expect(existsSync(`${dir('memory')}/memory.swappiness`)).toBe(false);
    expect(read(`${dir('cpu')}/cpu.cfs_period_us`)).toBe('100000');
    expect(read(`${dir('cpu')}/cpu.cfs_quota_us`)).toBe('20000');
    expect(read(`${dir('pids')}/pids.max`)).toBe('8');
  });

  it('updates an existing tenant, and a zero cap writes "no limit"', () => {
    layV1(true);
    const cgroups = detect();
    const dir = (c: string) => path.join(base, c, NAME, tenantFolder('user:alice'));
    cgroups.enter('user:alice', CAPS);
    expect(cgroups.enter('user:alice', { memory: 128 << 20, cpuPercent: 150, pids: 40 })).toHaveLength(3);
    expect(read(`${dir('memory')}/memory.limit_in_bytes`)).toBe(String(128 << 20));
    expect(read(`${dir('cpu')}/cpu.cfs_quota_us`)).toBe('150000');
    expect(read(`${dir('pids')}/pids.max`)).toBe('40');
    expect(cgroups.enter('user:alice', NONE)).toHaveLength(3);
    expect(read(`${dir('memory')}/memory.limit_in_bytes`)).toBe('-1');
    expect(read(`${dir('memory')}/memory.memsw.limit_in_bytes`)).toBe('-1');
    expect(read(`${dir('cpu')}/cpu.cfs_quota_us`)).toBe('-1');
    expect(read(`${dir('pids')}/pids.max`)).toBe('max');
  });

  it('opens memsw before moving the memory limit and closes it after (the kernel keeps memsw >= memory)', () => {
    const server = (file: string) => (file === 'memory.memsw.limit_in_bytes' ? '9223372036854771712' : '60');
    expect(capWrites(1, ['memory'], CAPS, server)).toEqual([
      ['memory.memsw.limit_in_bytes', '-1'],
      ['memory.limit_in_bytes', String(64 << 20)],
      ['memory.memsw.limit_in_bytes', String(64 << 20)],
    ]);
    expect(capWrites(1, ['memory'], NONE, server)).toEqual([
      ['memory.memsw.limit_in_bytes', '-1'],
      ['memory.limit_in_bytes', '-1'],
    ]);
  });

  it('without swap accounting keeps a capped tenant out of swap by swappiness 0, and gives it back uncapped', () => {
    layV1(false);
    const cgroups = detect();
    const dir = path.join(base, 'memory', NAME, tenantFolder('site:default'));
    cgroups.enter('site:default', CAPS);
    expect(read(`${dir}/memory.swappiness`)).toBe('0');
    expect(existsSync(`${dir}/memory.memsw.limit_in_bytes`)).toBe(false);
    cgroups.enter('site:default', NONE);
    expect(read(`${dir}/memory.swappiness`)).toBe('60');
  });

  it('uses the controllers that are there', () => {
    put('pids/cgroup.procs');
    expect(detect().describe).toBe('cgroup v1 (pids)');
  });
});

describe('cgroup v2 layout', () => {
  it('enables the controllers for children and writes memory.max, memory.swap.max, cpu.max, pids.max', () => {
    put('cgroup.controllers', 'cpuset cpu io memory hugetlb pids rdma\n');
    put(`${NAME}/memory.swap.max`, 'max\n');
    const cgroups = detect();
    expect(cgroups.describe).toBe('cgroup v2 (memory, cpu, pids)');
    expect(read(`${base}/cgroup.subtree_control`)).toBe('+memory +cpu +pids');
    expect(read(`${base}/${NAME}/cgroup.subtree_control`)).toBe('+memory +cpu +pids');
    const dir = path.join(base, NAME, tenantFolder('user:bob'));
    expect(cgroups.enter('user:bob', CAPS)).toEqual([`${dir}/cgroup.procs`]);
    expect(read(`${dir}/memory.max`)).toBe(String(64 << 20));
    expect(read(`${dir}/memory.swap.max`)).toBe('0');
    expect(read(`${dir}/cpu.max`)).toBe('20000 100000');
    expect(read(`${dir}/pids.max`)).toBe('8');
    expect(cgroups.enter('user:bob', NONE)).toHaveLength(1);
    expect([read(`${dir}/memory.max`), read(`${dir}/memory.swap.max`), read(`${dir}/cpu.max`)]).toEqual([
      'max',
      'max',
      'max 100000',
    ]);
    expect(read(`${dir}/pids.max`)).toBe('max');
  });

  it('leaves enabled controllers alone, and writes no swap file where the kernel has none', () => {
    put('cgroup.controllers', 'cpu io\n');
    put('cgroup.subtree_control', 'cpu io\n');
    const cgroups = detect();
    expect(cgroups.describe).toBe('cgroup v2 (cpu)');
    expect(read(`${base}/cgroup.subtree_control`)).toBe('cpu io\n');
    cgroups.enter('user:bob', { memory: 1 << 20, cpuPercent: 0.5, pids: 0 });
    const dir = path.join(base, NAME, tenantFolder('user:bob'));
    expect(read(`${dir}/cpu.max`)).toBe('1000 100000'); // the kernel's smallest quota
    expect(existsSync(`${dir}/memory.max`)).toBe(false);
  });
});

describe('tenant folders and errors', () => {
  it('names tenants by safe, distinct folder names', () => {
    const tenants = [
      'user:alice',
      'user:a_b',
      'user:a:b',
      'user:a/b',
      'site:../../etc',
      'site:.',
      'user:é',
      'x'.repeat(300),
    ];
    const names = tenants.map(tenantFolder);
    expect(new Set(names).size).toBe(tenants.length);
    for (const name of names) {
      expect(name).toMatch(/^t-[A-Za-z0-9_.-]+-[0-9a-f]{10}$/);
      expect(name.length).toBeLessThan(60);
    }
    expect(tenantFolder('user:alice')).toBe(tenantFolder('user:alice'));
    expect(tenantFolder('user:alice')).toMatch(/^t-user_alice-/);
  });

  it('logs one line naming the file and returns [] when a write fails', () => {
    layV1(true);
    const log = memoryLogger();
    const cgroups = detect(log);
    rmSync(path.join(base, 'cpu', NAME), { recursive: true });
    expect(cgroups.enter('user:alice', CAPS)).toEqual([]);
    expect(log.errors).toHaveLength(1);
    expect(log.errors[0]).toMatch(
      /tenant user:alice .*cgroup v1.*memory 64M, cpu 20%, pids 8.*cpu\/pypages-test.*ENOENT/,
    );
    expect(log.errors[0]).toMatch(/per-process limits only/);
  });

  it('rejects a cap that is not a number >= 0', () => {
    layV1(true);
    const log = memoryLogger();
    expect(detect(log).enter('user:alice', { ...CAPS, pids: -1 })).toEqual([]);
    expect(log.errors[0]).toMatch(/pids cap -1/);
  });

  it('detects nothing in an empty mount, and says why', () => {
    const lines: string[] = [];
    const log = { ...memoryLogger(), info: (m: string) => lines.push(m) };
    expect(Cgroups.detect({ base, log, name: NAME })).toBeNull();
    expect(lines.join()).toMatch(/cgroups: not used \(no memory, cpu or pids controller is mounted\)/);
  });

  it('close() never throws and says what it could not remove', () => {
    layV1(true);
    const log = memoryLogger();
    const cgroups = detect(log);
    cgroups.enter('user:alice', CAPS);
    cgroups.close(); // a plain folder keeps its files: rmdir fails, where a cgroup's would not
    expect(log.errors.join('\n')).toMatch(/could not remove .*t-user_alice/);
    expect(cgroups.enter('user:alice', CAPS)).toEqual([]);
  });
});

// This machine's tables (cgroup v1 controllers plus an empty v2 hierarchy).
const MOUNTINFO = `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
41 22 0:35 / /mnt/pids\\040again rw,relatime - cgroup cgroup rw,pids`;
const SELF = '9:name=systemd:/\n8:pids:/\n4:memory:/process_api/abc\n1:cpu,cpuacct:/\n0::/\n';

describe('locating the hierarchies', () => {
  it('finds v1 hierarchies below this process cgroup, and v2 only with controllers', () => {
    expect(locate(MOUNTINFO, SELF, () => ['hugetlb'])).toEqual([
      {
        version: 1,
        hierarchies: [
          { dir: '/sys/fs/cgroup/cpu,cpuacct', controllers: ['cpu'] },
          { dir: '/sys/fs/cgroup/memory/process_api/abc', controllers: ['memory'] },
          { dir: '/sys/fs/cgroup/pids', controllers: ['pids'] },
        ],
      },
    ]);
  });

  it('offers v2 at the process cgroup, then at its parent; a container mount root is taken off', () => {
    const info = '50 22 0:40 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n';
    const layouts = locate(info, '0::/docker/abc/app\n', () => ['memory', 'pids']);
    expect(layouts.map((l) => l.hierarchies[0])).toEqual([
      { dir: '/sys/fs/cgroup/app', controllers: ['memory', 'pids'] },
      { dir: '/sys/fs/cgroup', controllers: ['memory', 'pids'] },
    ]);
    expect(locate(info, '0::/elsewhere\n', () => ['memory'])).toEqual([]);
    expect(locate('50 22 0:40 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw', '0::/\n', () => ['cpu'])).toHaveLength(1);
  });

  it('reads escaped mount points', () => {
    const info = '41 22 0:35 / /mnt/pids\\040here rw,relatime - cgroup cgroup rw,pids';
    expect(locate(info, '8:pids:/x\n', () => [])[0].hierarchies[0].dir).toBe('/mnt/pids here/x');
  });
});

describe('the enter script', () => {
  const run = (files: string[], command: string, args: string[]) => {
    const c = enterCommand(files, command, args);
    return spawnSync(c.command, c.args, { encoding: 'utf8', timeout: 10_000 });
  };

  it('writes its pid into every file, then execs the command as the same process', () => {
    const files = [path.join(base, 'a'), path.join(base, 'b')];
    const done = run(files, '/bin/sh', ['-c', 'echo "$$" "$0" "$1"', 'zero', 'one two']);
    expect(done.status).toBe(0);
    const [pid, ...rest] = done.stdout.trim().split(' ');
    expect(rest).toEqual(['zero', 'one', 'two']);
    expect(files.map(read)).toEqual([`${pid}\n`, `${pid}\n`]);
  });

  it('stops with 71 and a message, running nothing, when a file cannot be written', () => {
    const marker = path.join(base, 'ran');
    const done = run([path.join(base, 'gone', 'cgroup.procs')], '/bin/touch', [marker]);
    expect(done.status).toBe(71);
    expect(done.stderr).toMatch(/pypages-enter: could not enter the cgroup .*gone\/cgroup.procs/);
    expect(existsSync(marker)).toBe(false);
  });

  it('runs the command unchanged without files; refuses a line without a command', () => {
    expect(enterCommand([], 'python3', ['-c', 'x'])).toEqual({ command: 'python3', args: ['-c', 'x'] });
    const done = spawnSync('/bin/sh', ['-c', ENTER_SCRIPT, 'pypages-enter', path.join(base, 'a'), '--']);
    expect(done.status).toBe(64);
    expect(ENTER_SCRIPT.split('\n').length).toBeLessThanOrEqual(20);
  });
});
