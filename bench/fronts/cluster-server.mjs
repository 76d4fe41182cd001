#!/usr/bin/env node
// The many-fronts prototype's server (bench/fronts.mjs starts it): N pypages
// fronts, each a Node process of its own, sharing one listening socket.
//
//   node bench/fronts/cluster-server.mjs --fronts N --port P --root DIR [--cores LIST]
//
// Node's cluster module with SCHED_NONE: the primary binds the socket once
// and every front accept()s on the same handle, so the kernel spreads the
// connections (nginx's shared listen socket; Node 20 has no SO_REUSEPORT
// option). Each front here is a whole pypages with groups of its own: the
// prototype measures what several fronts cost and give on the HTTP side,
// not the design bench/README.md proposes for sharing the workers.
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    fronts: { type: 'string', default: '1' },
    port: { type: 'string' },
    root: { type: 'string' },
    python: { type: 'string', default: '/usr/bin/python3' },
    dist: { type: 'string', default: new URL('../../dist/', import.meta.url).pathname },
  },
});

if (cluster.isPrimary) {
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const fronts = Number(values.fronts);
  let ready = 0;
  for (let i = 0; i < fronts; i++) {
    const front = cluster.fork();
    front.on('message', (m) => {
      if (m === 'ready' && ++ready === fronts) console.log(`fronts ready: ${fronts} on port ${values.port}`);
    });
  }
  cluster.on('exit', (w, code, signal) => {
    console.error(`front ${w.process.pid} exited (${code ?? signal})`);
    process.exitCode = 1;
  });
  const stop = () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    setTimeout(() => process.exit(), 3000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const { makeConfig } = await import(`${values.dist}lib/config/config.js`);
  const { startPypages } = await import(`${values.dist}server/app.js`);
  const config = makeConfig({
    root: values.root,
    port: Number(values.port),
    host: '127.0.0.1',
    python: values.python,
    dev: false,
    accessLog: '/dev/null',
    allowRootPages: process.getuid?.() === 0, // the bench's copy of bench/docroot is root's, as for bench/run.mjs
  });
  const quiet = { access: () => {}, error: (m) => console.error(m), info: () => {} };
  const running = await startPypages(config, { log: quiet });
  process.send?.('ready');
  process.on('SIGTERM', async () => {
    await running.close?.();
    process.exit(0);
  });
}
