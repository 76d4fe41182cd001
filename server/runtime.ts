// What the running server serves with: the config, the groups built from it,
// and how worker processes start. SIGHUP calls reload() with the re-read
// config; requests already running finish on the old workers.

import type { Config } from '../lib/config/config.js';
import { GroupManager } from '../lib/groups/registry.js';
import type { Logger } from '../lib/util/log.js';
import { forkingLauncher } from '../lib/worker/launch/fork-launcher.js';
import { spawnWorkerProcess, type Launcher } from '../lib/worker/launch/spawn.js';

interface LauncherHandle { launch: Launcher; warm(python: string): Promise<void>; close(): Promise<void> }

/** A fork server unless launch is "spawn". */
function makeLauncher(config: Config, log: Logger): LauncherHandle {
  if (config.launch === 'fork') return forkingLauncher({ sharedPreload: config.sharedPreload, log });
  return { launch: spawnWorkerProcess, warm: async () => {}, close: async () => {} };
}

export class Runtime {
  private constructor(
    private current: Config,
    readonly groups: GroupManager,
    private launcher: LauncherHandle,
    private readonly log: Logger,
  ) {}

  get config(): Config {
    return this.current;
  }

  /** Builds the groups for `config` and imports the preload scripts. */
  static async create(config: Config, interpreter: string, log: Logger): Promise<Runtime> {
    const launcher = makeLauncher(config, log);
    await launcher.warm(interpreter); // so the first page does not wait for the warm parent to start
    const groups = new GroupManager({ config, interpreter, launcher: launcher.launch, log });
    await groups.warmUp();
    return new Runtime(config, groups, launcher, log);
  }

  /** Serves with `config` from now on: new groups, new workers; old workers finish their requests. */
  async reload(config: Config, interpreter: string): Promise<void> {
    const oldLauncher = this.launcher;
    this.launcher = makeLauncher(config, this.log);
    await this.launcher.warm(interpreter);
    this.current = config;
    await this.groups.reconfigure({ config, interpreter, launcher: this.launcher.launch, log: this.log });
    await oldLauncher.close();
  }

  /** Lets every worker finish its requests, then stops them and the fork server. */
  async drain(): Promise<void> {
    await this.groups.drain();
    await this.launcher.close();
  }

  /** Stops every worker now. */
  async close(): Promise<void> {
    await this.groups.close();
    await this.launcher.close();
  }
}
