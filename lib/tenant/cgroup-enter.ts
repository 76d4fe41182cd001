// How a worker enters its tenant's cgroups before it runs anything: a tiny
// POSIX sh that writes its own pid into each cgroup.procs file, then execs
// the command in the same process. Run as root, before privileges are
// dropped (cgroup folders are root's); writing before exec means no byte of
// the page ever runs outside the cgroup, and a failed write stops the launch
// (exit 71, EX_OSERR) rather than running the page uncapped.
//
//   sh -c ENTER_SCRIPT pypages-enter FILE... -- COMMAND ARGS...

export const ENTER_EXIT_CODE = 71;

export const ENTER_SCRIPT = `while [ "$#" -gt 0 ]; do
  f=$1
  shift
  if [ "$f" = -- ]; then
    [ "$#" -gt 0 ] || break
    exec "$@"
  fi
  printf '%s\\n' "$$" >"$f" || {
    echo "pypages-enter: could not enter the cgroup $f (writing pid $$ failed)" >&2
    exit ${ENTER_EXIT_CODE}
  }
done
echo 'pypages-enter: usage: pypages-enter FILE... -- COMMAND [ARG...]' >&2
exit 64
`;

/** `command args` run inside the cgroups whose cgroup.procs are `files`; unchanged when there are none. */
export function enterCommand(
  files: readonly string[],
  command: string,
  args: readonly string[],
): { command: string; args: string[] } {
  if (files.length === 0) return { command, args: [...args] };
  return { command: '/bin/sh', args: ['-c', ENTER_SCRIPT, 'pypages-enter', ...files, '--', command, ...args] };
}
