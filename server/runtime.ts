// What the running server serves with, swappable as a whole: the config and
// the groups built from it. SIGHUP builds a new Runtime from the re-read
// config; requests already running finish on the old one's workers.

import type { Config } from '../lib/config.js';
import { GroupManager } from '../lib/groups.js';
import type { Logger } from '../lib/log.js';
import { spawnWorkerProcess, type Launcher } from '../lib/worker-process.js';

export class Runtime {
  private constructor(
    readonly config: Config,
    readonly groups: GroupManager,
    private readonly stopLauncher: () => Promise<void>,
  ) {}

  /** Builds the groups for `config`, with a fork server unless launch is "spawn", and imports the preload scripts. */
  static async create(config: Config, interpreter: string, log: Logger): Promise<Runtime> {
    let launcher: Launcher = spawnWorkerProcess;
    let stopLauncher = async () => {};
    // WIRE-FORK: config.launch === 'fork' uses lib/forkserver.ts once it lands.
    const groups = new GroupManager({ config, interpreter, launcher, log });
    await groups.warmUp();
    return new Runtime(config, groups, stopLauncher);
  }

  /** Lets every worker finish its requests, then stops them and the fork server. */
  async drain(): Promise<void> {
    await this.groups.drain();
    await this.stopLauncher();
  }

  /** Stops every worker now. */
  async close(): Promise<void> {
    await this.groups.close();
    await this.stopLauncher();
  }
}
