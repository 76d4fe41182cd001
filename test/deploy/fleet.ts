// pypages instances as systemd runs them (Restart=always): each one the
// `pypages` command on its own port, started again when it exits, its pid in
// DIR/NAME.pid. So a shell command can restart one as `systemctl restart`
// does: signal the old pid, return once the new one has started.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AS_RUNNER_ARGS, stopChild, waitFor } from '../helpers.js';

const CLI = new URL('../../dist/server/cli.js', import.meta.url).pathname;
const MAX_LAUNCHES = 10; // an instance that keeps exiting is not started forever

export interface Instance {
  name: string;
  port: number;
  /** The pid of every process that ran this instance, oldest first. */
  pids: number[];
  child: ChildProcess;
}

export class Fleet {
  readonly instances: Instance[] = [];
  private closing = false;

  /** `root` is the document root every instance serves; `dir` holds pid files and logs. */
  constructor(
    private readonly root: string,
    private readonly dir: string,
    private readonly args: string[] = [],
  ) {}

  /** Starts instance `name` on `port`; resolves once it answers on its health path. */
  async start(name: string, port: number): Promise<Instance> {
    const instance = { name, port, pids: [], child: null as unknown as ChildProcess };
    this.instances.push(instance);
    this.launch(instance);
    await waitFor(() => healthy(port), `${name} to serve`, 30_000);
    return instance;
  }

  /** The command that restarts instance {name} and returns once it is started again, as systemctl restart does. */
  restartCommand(): string {
    const pidFile = `${this.dir}/{name}.pid`;
    return (
      `old=$(cat ${pidFile}) && kill -TERM "$old" && n=0 && ` +
      `while [ "$(cat ${pidFile})" = "$old" ]; do n=$((n+1)); [ $n -le 1200 ] || exit 1; sleep 0.05; done`
    );
  }

  /** Stops every instance (SIGTERM, then SIGKILL after 10 s), for good. */
  async stop(): Promise<void> {
    this.closing = true;
    await Promise.all(this.instances.map((i) => stopChild(i.child, 10_000)));
  }

  private launch(instance: Instance): void {
    const log = openSync(join(this.dir, `${instance.name}.log`), 'a');
    const argv = [
      CLI,
      this.root,
      '--host',
      '127.0.0.1',
      '--port',
      String(instance.port),
      ...AS_RUNNER_ARGS,
      ...this.args,
    ];
    const child = spawn(process.execPath, argv, {
      stdio: ['ignore', log, log],
      env: { ...process.env, PYPAGES_TEST_INSTANCE: instance.name },
    });
    closeSync(log);
    instance.child = child;
    instance.pids.push(child.pid!);
    // Written whole, then renamed: a reader never sees a half-written pid.
    writeFileSync(join(this.dir, `${instance.name}.pid.new`), String(child.pid));
    renameSync(join(this.dir, `${instance.name}.pid.new`), join(this.dir, `${instance.name}.pid`));
    child.once('exit', () => this.closing || instance.pids.length >= MAX_LAUNCHES || this.launch(instance));
  }

  /** The last lines of an instance's log, for a failure's message. */
  tail(name: string, lines = 30): string {
    return readFileSync(join(this.dir, `${name}.log`), 'utf8')
      .split('\n')
      .slice(-lines)
      .join('\n');
  }
}

async function healthy(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/-/health`)).status === 200;
  } catch {
    return false;
  }
}
