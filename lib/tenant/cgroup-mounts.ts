// Where this process's cgroups are: the hierarchies the kernel mounted
// (/proc/self/mountinfo) and this process's place in each (/proc/self/cgroup).
// pypages puts its folder below its own cgroup, so whatever limits the
// operator or a container set on the server still bound its tenants; on v2,
// where a cgroup holding processes cannot hand controllers to children, the
// parent of its own cgroup is the second choice (lib/tenant/cgroups.ts tries both).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const CONTROLLERS = ['memory', 'cpu', 'pids'] as const;
export type Controller = (typeof CONTROLLERS)[number];

/** One hierarchy to use: the cgroup folder pypages makes its own folder in, and the controllers it offers. */
export interface Hierarchy {
  readonly dir: string;
  readonly controllers: readonly Controller[];
}

/** A way to place tenants: v2 (one hierarchy) or v1 (one per controller, or per co-mounted set). */
export interface Layout {
  readonly version: 1 | 2;
  readonly hierarchies: readonly Hierarchy[];
}

interface Mount {
  readonly root: string;
  readonly point: string;
  readonly fstype: string;
  readonly options: readonly string[];
}

/** The cgroup mounts of a mountinfo text ("ID PARENT DEV ROOT POINT OPTS [TAGS] - FSTYPE SOURCE SUPEROPTS"). */
export function parseMountinfo(text: string): Mount[] {
  return text.split('\n').flatMap((line) => {
    const [left, right] = line.split(' - ');
    const fields = left.split(' ');
    const [fstype, , superOptions = ''] = (right ?? '').split(' ');
    if (fields.length < 5 || (fstype !== 'cgroup' && fstype !== 'cgroup2')) return [];
    return [
      { root: unescapeOctal(fields[3]), point: unescapeOctal(fields[4]), fstype, options: superOptions.split(',') },
    ];
  });
}

// mountinfo writes a space as \040, a backslash as \134...
const unescapeOctal = (s: string) =>
  s.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));

/** This process's cgroup path by controller ("" for the v2 hierarchy), from /proc/self/cgroup. */
export function parseSelfCgroup(text: string): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (match) for (const controller of match[1].split(',')) paths.set(controller, match[2]);
  }
  return paths;
}

/** The folder of cgroup `cgroupPath` under a mount, or null when the mount does not show it. */
function folderIn(mount: Mount, cgroupPath: string | undefined): string | null {
  if (cgroupPath === undefined) return null;
  const root = mount.root === '/' ? '' : mount.root;
  if (cgroupPath !== root && !cgroupPath.startsWith(`${root}/`)) return null;
  return path.resolve(mount.point, `.${cgroupPath.slice(root.length)}`);
}

const offered = (names: readonly string[]) => CONTROLLERS.filter((c) => names.includes(c));

/** The v2 layouts: at this process's cgroup, then at its parent when that is within the mount. */
function v2Layouts(mount: Mount, self: Map<string, string>, controllersOf: (dir: string) => string[]): Layout[] {
  const dir = folderIn(mount, self.get(''));
  if (!dir) return [];
  const controllers = offered(controllersOf(dir));
  if (controllers.length === 0) return [];
  const dirs = dir === mount.point ? [dir] : [dir, path.dirname(dir)];
  return dirs.map((d) => ({ version: 2, hierarchies: [{ dir: d, controllers }] }));
}

/** The layouts the mounts offer, v2 first: v1 hierarchies of the same controllers (bind mounts) count once. */
export function locate(mountinfo: string, selfCgroup: string, controllersOf: (dir: string) => string[]): Layout[] {
  const mounts = parseMountinfo(mountinfo);
  const self = parseSelfCgroup(selfCgroup);
  const layouts = mounts.filter((m) => m.fstype === 'cgroup2').flatMap((m) => v2Layouts(m, self, controllersOf));
  const v1: Hierarchy[] = [];
  for (const mount of mounts.filter((m) => m.fstype === 'cgroup')) {
    const controllers = offered(mount.options);
    const dir = controllers.length ? folderIn(mount, self.get(controllers[0])) : null;
    if (dir && !v1.some((h) => h.controllers.includes(controllers[0]))) v1.push({ dir, controllers });
  }
  if (v1.length) layouts.push({ version: 1, hierarchies: v1 });
  return layouts;
}

/** The layouts of this process, from /proc (none where there is no /proc: not Linux). */
export function locateSelf(): Layout[] {
  const read = (file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  const controllersOf = (dir: string) => read(path.join(dir, 'cgroup.controllers')).split(/\s+/);
  return locate(read('/proc/self/mountinfo'), read('/proc/self/cgroup'), controllersOf);
}

/**
 * The layout of a folder laid out as a cgroup mount, for tests: v2 when it
 * holds cgroup.controllers, else v1 with a folder per controller holding cgroup.procs.
 */
export function locateAt(base: string): Layout[] {
  const controllersFile = path.join(base, 'cgroup.controllers');
  if (existsSync(controllersFile)) {
    const controllers = offered(readFileSync(controllersFile, 'utf8').split(/\s+/));
    return controllers.length ? [{ version: 2, hierarchies: [{ dir: base, controllers }] }] : [];
  }
  const hierarchies = CONTROLLERS.filter((c) => existsSync(path.join(base, c, 'cgroup.procs'))).map((c) => ({
    dir: path.join(base, c),
    controllers: [c],
  }));
  return hierarchies.length ? [{ version: 1, hierarchies }] : [];
}
