// What the running server serves with: the config, the sites made from it,
// the groups that run their scripts, and how worker processes start. SIGHUP
// calls reload() with the re-read config; requests already running finish on
// the old workers.

import type { Config } from '../lib/config/config.js';
import { GroupRegistry } from '../lib/groups/registry.js';
import { sitesOf, type Sites } from '../lib/site/site.js';
import type { Logger } from '../lib/util/log.js';
import { forkingLauncher } from '../lib/worker/launch/fork-launcher.js';
import { killingLeftovers } from '../lib/worker/launch/page-leftovers.js';
import { spawnWorkerProcess, type Launcher } from '../lib/worker/launch/spawn.js';

interface LauncherHandle {
  launch: Launcher;
  warm(python: string): Promise<void>;
  close(): Promise<void>;
}

/** A fork server unless launch is "spawn"; either way, what a worker's page leaves running dies with the worker. */
function makeLauncher(config: Config, log: Logger): LauncherHandle {
  if (config.launch === 'spawn')
    return { launch: killingLeftovers(spawnWorkerProcess), warm: async () => {}, close: async () => {} };
  const forking = forkingLauncher({ sharedPreload: config.sharedPreload, log });
  return { ...forking, launch: killingLeftovers(forking.launch) };
}

export class Runtime {
  private constructor(
    private current: { config: Config; sites: Sites },
    readonly groups: GroupRegistry,
    private launcher: LauncherHandle,
    private readonly log: Logger,
  ) {}

  get config(): Config {
    return this.current.config;
  }

  /** The sites requests are served from; replaced with the config. */
  get sites(): Sites {
    return this.current.sites;
  }

  /** Builds the sites and groups for `config` and imports the preload scripts. `interpreter`: the checked default Python. */
  static async create(config: Config, interpreter: string, log: Logger): Promise<Runtime> {
    const launcher = makeLauncher(config, log);
    await launcher.warm(interpreter); // so the first page does not wait for the warm parent to start
    const sites = sitesOf(config, interpreter);
    const groups = new GroupRegistry({ sites, maxWorkers: config.maxWorkers, launcher: launcher.launch, log });
    await groups.warmUp();
    return new Runtime({ config, sites }, groups, launcher, log);
  }

  /** Serves with `config` from now on: new sites, new groups, new workers; old workers finish their requests. */
  async reload(config: Config, interpreter: string): Promise<void> {
    const oldLauncher = this.launcher;
    this.launcher = makeLauncher(config, this.log);
    await this.launcher.warm(interpreter);
    const sites = sitesOf(config, interpreter);
    this.current = { config, sites };
    await this.groups.reconfigure({
      sites,
      maxWorkers: config.maxWorkers,
      launcher: this.launcher.launch,
      log: this.log,
    });
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
