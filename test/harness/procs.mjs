// Processes as /proc shows them (Linux): who is whose child, what a process
// carries in its environment, and what it holds (resident memory, open fds).

import { readdirSync, readFileSync } from 'node:fs';

/**
 * Every process we may read: pid → { pid, ppid, comm, environ }. `environ`
 * (NUL-separated, as in /proc) is read for Python processes only; '' when
 * unreadable (another user's, or a zombie).
 */
export function processTable() {
  const table = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      table.set(Number(entry), {
        pid: Number(entry),
        ppid,
        comm,
        environ: comm.startsWith('python') ? readEnviron(entry) : '',
      });
    } catch {
      // the process ended while we looked
    }
  }
  return table;
}

function readEnviron(pid) {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return '';
  }
}

/** { rssKiB, fds } of a process; nulls when it is gone. */
export function statsOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKiB = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
    return { rssKiB, fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return { rssKiB: null, fds: null };
  }
}

/**
 * Bytes the kernel holds unread for each IPv4 TCP socket, from /proc/net/tcp:
 * "localPort>remotePort" → bytes. One read serves many lookups: the file
 * takes milliseconds to produce on a busy machine.
 */
export function unreadTable() {
  const table = new Map();
  for (const line of readFileSync('/proc/net/tcp', 'latin1').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || !f[1].includes(':') || !f[4].includes(':')) continue;
    const port = (addr) => parseInt(addr.split(':')[1], 16);
    table.set(`${port(f[1])}>${port(f[2])}`, parseInt(f[4].split(':')[1], 16));
  }
  return table;
}
