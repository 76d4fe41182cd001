// The listening socket the supervisor owns: bound here, put into LISTEN by
// the server child it is passed to, and held open here for as long as
// pypages runs, so connections made while no server child runs wait in the
// kernel's backlog instead of being refused.

import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { getSystemErrorName } from 'node:util';

/** A bound, not yet listening, TCP socket handle (Node's internal TCP wrap; `server.listen(handle)` accepts it). */
export type ListenHandle = object & { close(): void };

export interface BoundSocket {
  handle: ListenHandle;
  /** The address it is bound to (the host, resolved). */
  address: string;
  /** The port it is bound to (the kernel's choice when asked for 0). */
  port: number;
}

interface TcpHandle extends ListenHandle {
  getsockname(out: { port?: number }): number;
}

type CreateServerHandle = (
  address: string,
  port: number,
  addressType: 4 | 6,
  fd?: number,
  flags?: number,
) => TcpHandle | number;

/**
 * Resolves `host` (a name goes through dns.lookup, as server.listen would),
 * creates a TCP socket and binds it to host:port WITHOUT listening. Rejects
 * with an errno-style error carrying code, address and port (or hostname for
 * ENOTFOUND), as server.listen would.
 *
 * Why Node's internal net._createServerHandle: it is what the cluster module
 * uses to share a socket with workers. Every public way to get a bound socket
 * (server.listen) also starts accepting on it in this process; the
 * supervisor must hold the socket and never take a connection, so only the
 * server child accepts. Its result is a handle that `server.listen(handle)`
 * takes and child.send() passes to a child (with close-on-exec set there, so
 * Python workers do not inherit it).
 */
export async function bindListenHandle(host: string, port: number): Promise<BoundSocket> {
  const { address, family } = await lookup(host);
  const create = (net as unknown as { _createServerHandle: CreateServerHandle })._createServerHandle;
  const handle = create(address, port, family === 6 ? 6 : 4);
  if (typeof handle === 'number') throw listenError(handle, address, port);
  // libuv delays EADDRINUSE from bind to listen; getsockname reports it now.
  const out: { port?: number } = {};
  const err = handle.getsockname(out);
  if (err) {
    handle.close();
    throw listenError(err, address, port);
  }
  return { handle, address, port: out.port ?? port };
}

function listenError(
  errno: number,
  address: string,
  port: number,
): NodeJS.ErrnoException & { address: string; port: number } {
  const code = getSystemErrorName(errno);
  return Object.assign(new Error(`listen ${code}: ${address}:${port}`), {
    errno,
    code,
    syscall: 'listen',
    address,
    port,
  });
}
