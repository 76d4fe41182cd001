// The launcher process: started as root by the server child (server/drop.ts)
// just before that child becomes server-user, and run until the child's IPC
// channel closes. It reads the config itself, from the command line the
// child was started with, for its policy (lib/tenant/launch-policy.ts),
// and again when the child asks after a SIGHUP (re-reading what root
// controls gives a compromised child nothing). Signals sent to the server's
// group (systemd's KillMode, a stop) are the child's: the launcher ends with
// its channel, once the child has stopped its workers.
import { parseCli, type Config } from '../lib/config/config.js';
import { type Accounts, machineAccounts } from '../lib/tenant/accounts.js';
import { configRefusal, type LaunchPolicy, policyOf } from '../lib/tenant/launch-policy.js';
import { serverUserFor } from '../lib/tenant/server-user.js';
import { Launcher, type Peer } from './launcher.js';
import { INSTANCE_VARIABLE } from './leftovers.js';

const IGNORED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'];

function main(argv: string[]): void {
  if (!process.send) throw new Error('it is started by the server, not by hand');
  const accounts = machineAccounts();
  let policy = policyFor(read(argv), accounts);
  const launcher = new Launcher({
    child: parent(),
    instance: process.env[INSTANCE_VARIABLE] ?? String(process.ppid),
    policy: () => policy,
    accounts,
    say,
    cgroupName: `pypages-${process.pid}-0`, // the pypages-PID-N of lib/tenant/cgroup-launcher.ts: swept once this pid is gone
  });
  for (const signal of IGNORED) process.on(signal, () => {});
  const reread = () => {
    try {
      policy = policyFor(read(argv), accounts);
    } catch (err) {
      say(`launcher: keeping its policy, the config does not read: ${(err as Error).message}`);
    }
  };
  process.on('message', (m: { pypages?: string }) => (m?.pypages === 'reread' ? reread() : launcher.handle(m)));
  process.once('disconnect', () => {
    launcher.end();
    process.exit(0);
  });
  process.send!({ pypages: 'launcher-ready', cgroups: launcher.describeCgroups });
}

function policyFor(config: Config, accounts: Accounts): LaunchPolicy {
  const user = serverUserFor(config.serverUser, accounts);
  if (user === null || typeof user === 'string') throw new Error(`no server-user to launch for (${user})`);
  return policyOf(config, user, accounts);
}

/** The server child, this process's parent, over its IPC channel. */
function parent(): Peer {
  return {
    pid: process.ppid,
    get connected() {
      return process.connected;
    },
    send: (message, handle) => process.send!(message, handle as never),
  };
}

/** The config, if only root can change it (else a server child could write its own policy and ask for a re-read). */
function read(argv: string[]): Config {
  const parsed = parseCli(argv, process.cwd());
  if (parsed.kind !== 'run') throw new Error('not a command line that serves');
  const why = configRefusal(parsed.config.configFile, process.cwd());
  if (why) throw new Error(why);
  return parsed.config;
}

function say(message: string): void {
  process.stderr.write(`pypages: ${message}\n`);
}

process.stderr.on('error', () => {});
try {
  main(process.argv.slice(2));
} catch (err) {
  say(`the launcher cannot start: ${(err as Error).message}`);
  process.exit(1);
}
