// The root launcher (server/launcher.ts) under a flood from a compromised
// server child: its requests go to a real Launcher, its answers are collected.
import { describe, expect, it } from 'vitest';
import { machineAccounts } from '../../../lib/tenant/accounts.js';
import type { LaunchPolicy } from '../../../lib/tenant/launch-policy.js';
import { waitFor } from '../../helpers.js';
import { Launcher, PROBES_AT_ONCE } from '../../../server/launcher.js';

const POLICY: LaunchPolicy = {
  allowRoot: false,
  serverUid: 33,
  serverGid: 33,
  uidMin: 1000,
  uidMax: 60000,
  gidMin: 1000,
  gidMax: 60000,
  namedUids: new Set(),
  namedGids: new Set(),
  operatorEnv: new Set(),
};

describe('the launcher', () => {
  it('runs a few root probes at once; past them it answers "probe it yourself" (review-pd2 F4)', async () => {
    const answers: { id: number; result: unknown }[] = [];
    const child = { pid: process.pid, connected: true, send: (m: object) => answers.push(m as never) };
    const said: string[] = [];
    const launcher = new Launcher({
      child,
      instance: 'test',
      policy: () => POLICY,
      accounts: machineAccounts(),
      say: (m) => said.push(m),
      cgroupName: `pypages-${process.pid}-91`,
    });
    try {
      const flood = PROBES_AT_ONCE + 8;
      for (let id = 1; id <= flood; id++) launcher.handle({ pypages: 'probe', id, file: '/usr/bin/python3' });
      expect(answers.filter((a) => a.result === null)).toHaveLength(flood - PROBES_AT_ONCE); // at once, no process
      await waitFor(() => answers.length === flood, 'the probes that ran', 20_000);
      expect(answers.filter((a) => a.result !== null)).toHaveLength(PROBES_AT_ONCE);
      launcher.handle({ pypages: 'probe', id: 99, file: '/usr/bin/python3' }); // room again
      await waitFor(() => answers.length === flood + 1, 'a later probe', 20_000);
      expect(answers.at(-1)?.result).not.toBe(null);
    } finally {
      launcher.end();
    }
  }, 30_000);
});
