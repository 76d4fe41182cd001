// What the running server serves with: the config, the sites made from it,
// the groups that run their scripts, and how worker processes start. SIGHUP
// calls reload() with the re-read config; requests already running finish on
// the old workers.

import type { Config } from '../lib/config/config.js';
import type { GroupObserver } from '../lib/groups/observer.js';
import { GroupRegistry } from '../lib/groups/registry.js';
import { perSite, sitesOf, type Site, type Sites } from '../lib/site/site.js';
import type { Logger } from '../lib/util/log.js';
import { LogFiles } from '../lib/util/log-files.js';
import { forkingLauncher } from '../lib/worker/launch/fork-launcher.js';
import { killingLeftovers } from '../lib/worker/launch/page-leftovers.js';
import { spawnWorkerProcess, type Launcher } from '../lib/worker/launch/spawn.js';
import { TenantCgroups } from '../lib/tenant/cgroup-launcher.js';

interface LauncherHandle {
  launch: Launcher;
  warm(python: string): Promise<void>;
  close(): Promise<void>;
}

/** A fork server unless launch is "spawn"; either way, what a worker's page leaves running dies with the worker. */
function makeLauncher(config: Config, log: Logger, cgroups: TenantCgroups): LauncherHandle {
  if (config.launch === 'spawn')
    return { launch: killingLeftovers(cgroups.wrap(spawnWorkerProcess)), warm: async () => {}, close: async () => {} };
  const forking = forkingLauncher({ sharedPreload: config.sharedPreload, log });
  return { ...forking, launch: killingLeftovers(cgroups.wrap(forking.launch)) };
}

export class Runtime {
  /** Each site's logger, over log files that outlive reloads (SIGUSR1 reopens them). */
  readonly logs: LogFiles;
  private siteLogs: (site: Site) => Logger;

  private constructor(
    private current: { config: Config; sites: Sites },
    readonly groups: GroupRegistry,
    private launcher: LauncherHandle,
    readonly cgroups: TenantCgroups,
    private readonly log: Logger,
    logs: LogFiles,
    private readonly observer?: GroupObserver,
  ) {
    this.logs = logs;
    this.siteLogs = perSite((site) => logs.loggerFor(site.logs));
  }

  /** The logger of `site`: its access-log and error-log. */
  logFor(site: Site): Logger {
    return this.siteLogs(site);
  }

  get config(): Config {
    return this.current.config;
  }

  /** The sites requests are served from; replaced with the config. */
  get sites(): Sites {
    return this.current.sites;
  }

  /**
   * Builds the sites and groups for `config` and imports the preload scripts.
   * `interpreter`: the checked default Python; `observer` is told of the groups' workers (metrics).
   */
  static async create(config: Config, interpreter: string, log: Logger, observer?: GroupObserver): Promise<Runtime> {
    const cgroups = TenantCgroups.detect(log);
    const launcher = makeLauncher(config, log, cgroups);
    await launcher.warm(interpreter); // so the first page does not wait for the warm parent to start
    const sites = sitesOf(config, interpreter);
    const logs = new LogFiles(log);
    const logFor = perSite((site) => logs.loggerFor(site.logs));
    const groups = new GroupRegistry({
      sites,
      maxWorkers: config.maxWorkers,
      launcher: launcher.launch,
      log,
      logFor,
      observer,
    });
    await groups.warmUp();
    return new Runtime({ config, sites }, groups, launcher, cgroups, log, logs, observer);
  }

  /** Serves with `config` from now on: new sites, new groups, new workers; old workers finish their requests. */
  async reload(config: Config, interpreter: string): Promise<void> {
    const oldLauncher = this.launcher;
    this.launcher = makeLauncher(config, this.log, this.cgroups);
    await this.launcher.warm(interpreter);
    const sites = sitesOf(config, interpreter);
    this.current = { config, sites };
    this.siteLogs = perSite((site) => this.logs.loggerFor(site.logs));
    await this.groups.reconfigure({
      sites,
      maxWorkers: config.maxWorkers,
      launcher: this.launcher.launch,
      log: this.log,
      observer: this.observer,
      logFor: (site) => this.logFor(site),
    });
    this.logs.retain(sites.all.map((site) => site.logs));
    await oldLauncher.close();
  }

  /** Lets every worker finish its requests, then stops them and the fork server. */
  async drain(): Promise<void> {
    await this.groups.drain();
    await this.launcher.close();
    this.cgroups.close();
  }

  /** Stops every worker now. */
  async close(): Promise<void> {
    await this.groups.close();
    await this.launcher.close();
    this.cgroups.close();
  }
}
