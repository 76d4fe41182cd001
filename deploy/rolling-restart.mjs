#!/usr/bin/env node
// Restarts the pypages instances behind HAProxy one at a time, without losing
// a request (README "Deploying"). For each server of the backend, in order,
// once the others are UP:
//   1. drain: HAProxy sends it no new request (runtime API: set server ... state drain);
//   2. wait until the requests it is running are done (its scur is 0);
//   3. run the restart command, which returns once the old process has
//      stopped and the new one has started, as `systemctl restart` does
//      (the old pypages finishes whatever is still in flight: graceful stop);
//   4. wait until the new instance answers 200 on its health path;
//   5. ready: HAProxy may send it requests again; wait until its checks say UP.
// The first step that fails or times out stops the script (exit 1) with that
// server left drained, so a bad release takes down one instance at most; run
// it again once the cause is fixed.
//
//   deploy/rolling-restart.mjs --admin /run/haproxy/admin.sock --backend pypages \
//     --restart 'systemctl restart pypages@{port}'
// {name}, {host}, {port} and {addr} (host:port) in the command are the
// server's, as HAProxy lists them. Tested by test/deploy/rolling-restart.test.ts.

import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { parseArgs } from 'node:util';

const USAGE = `usage: rolling-restart.mjs --admin SOCKET --backend NAME --restart COMMAND
  --admin SOCKET    HAProxy's admin socket: a path, or HOST:PORT ("stats socket ... level admin")
  --backend NAME    the backend whose servers are pypages instances
  --restart COMMAND shell command restarting one instance; {name} {host} {port} {addr} are filled in
  --health PATH     pypages' health path (default /-/health)
  --timeout SECONDS longest wait for each step (default 120)`;

const POLL_MS = 200;
const startedAt = Date.now();

function log(text) {
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1).padStart(5);
  process.stderr.write(`rolling-restart: ${seconds} s: ${text}\n`);
}

/** Sends one command to HAProxy's runtime API and resolves with its whole answer. */
function haproxy(admin, command) {
  const at = admin.includes('/') ? { path: admin } : { host: admin.split(':')[0], port: Number(admin.split(':')[1]) };
  return new Promise((resolve, reject) => {
    const socket = connect(at);
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.end(`${command}\n`));
    socket.on('data', (d) => (answer += d));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });
}

/** The servers of a backend from `show stat`: name, address, state, sessions running. */
async function servers(admin, backend) {
  const [header, ...rows] = (await haproxy(admin, 'show stat')).trim().split('\n');
  const columns = header.replace(/^# /, '').split(',');
  const field = (cells, name) => cells[columns.indexOf(name)];
  return rows
    .map((row) => row.split(','))
    .filter((cells) => field(cells, 'pxname') === backend && !['FRONTEND', 'BACKEND'].includes(field(cells, 'svname')))
    .map((cells) => ({
      name: field(cells, 'svname'),
      addr: field(cells, 'addr'),
      status: field(cells, 'status'),
      sessions: Number(field(cells, 'scur')),
    }));
}

async function until(what, timeoutMs, probe) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function healthy(addr, path) {
  try {
    const res = await fetch(`http://${addr}${path}`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

function run(command, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'inherit', 'inherit'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`the restart command failed (${signal ?? `exit ${code}`}): ${command}`));
    });
  });
}

async function setState(options, name, state) {
  const answer = await haproxy(options.admin, `set server ${options.backend}/${name} state ${state}`);
  if (answer.trim())
    throw new Error(`HAProxy refused "set server ${options.backend}/${name} state ${state}": ${answer.trim()}`);
}

/** Steps 1 to 5 above for one server. */
async function restartOne(options, server) {
  const { admin, backend, timeoutMs } = options;
  const now = async () => (await servers(admin, backend)).find((s) => s.name === server.name);
  const say = (text) => log(`${server.name} (${server.addr}): ${text}`);
  // Never take one out while another is out: the others carry the load meanwhile. This one
  // may be out already, left drained by a run that failed.
  const othersUp = async () =>
    (await servers(admin, backend)).every((s) => s.status === 'UP' || s.name === server.name);
  await until(`the other servers of ${backend} to be UP`, timeoutMs, othersUp);
  await setState(options, server.name, 'drain');
  say('draining');
  await until(`${server.name}'s requests to finish`, timeoutMs, async () => (await now())?.sessions === 0);
  const [host, port] = [server.addr.replace(/:\d+$/, ''), server.addr.replace(/^.*:/, '')];
  const command = options.restart.replace(
    /\{(name|host|port|addr)\}/g,
    (_, key) => ({ name: server.name, host, port, addr: server.addr })[key],
  );
  say(`idle; restarting: ${command}`);
  await run(command, timeoutMs);
  say('restart command done');
  await until(`${server.addr}${options.health} to answer 200`, timeoutMs, () => healthy(server.addr, options.health));
  say('healthy; ready');
  await setState(options, server.name, 'ready');
  await until(`HAProxy to see ${server.name} UP`, timeoutMs, async () => (await now())?.status === 'UP');
  say('restarted, back in rotation');
}

/** Restarts every server of the backend in turn; resolves with how many were restarted. */
async function rollingRestart(options) {
  const list = await servers(options.admin, options.backend);
  if (list.length === 0) throw new Error(`HAProxy has no servers in backend "${options.backend}"`);
  for (const server of list) await restartOne(options, server);
  return list.length;
}

function parse(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      admin: { type: 'string' },
      backend: { type: 'string' },
      restart: { type: 'string' },
      health: { type: 'string', default: '/-/health' },
      timeout: { type: 'string', default: '120' },
    },
  });
  const timeoutMs = Number(values.timeout) * 1000;
  if (!values.admin || !values.backend || !values.restart || !(timeoutMs > 0)) return null;
  return { ...values, timeoutMs };
}

async function main() {
  let options;
  try {
    options = parse(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
  }
  if (!options) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  try {
    const count = await rollingRestart(options);
    log(`${count} server(s) of ${options.backend} restarted`);
    return 0;
  } catch (err) {
    log(err.message);
    return 1;
  }
}

main().then((code) => process.exit(code));
