// The server process of test/harness/child-server.mjs: pypages (the built
// dist/, with its console logs) in a process of its own, so that a test can
// see it crash (exit code, signal, last lines of stderr) instead of dying
// with it. It calls startPypages, not the `pypages` command: a supervisor
// there would restart a crashed server, and these tests count crashes.
//
// argv[2]: JSON { root, config } (config: makeConfig overrides, root excluded).
// Once listening it prints one line "PYPAGES-CHILD-READY {"port":N,"pid":N}"
// on stdout. SIGTERM: graceful close, then exit 0.
// The fixtures belong to whoever runs the tests (root in CI): allowRootPages, as test/helpers.ts AS_RUNNER.

import { makeConfig } from '../../dist/lib/config/config.js';
import { consoleLogger } from '../../dist/lib/util/log.js';
import { startPypages } from '../../dist/server/app.js';

const { root, config } = JSON.parse(process.argv[2]);
const running = await startPypages(makeConfig({ port: 0, host: '127.0.0.1', allowRootPages: true, ...config, root }), {
  log: consoleLogger(),
});
process.stdout.write(`PYPAGES-CHILD-READY ${JSON.stringify({ port: running.port, pid: process.pid })}\n`);
process.once('SIGTERM', () => {
  running.close().then(() => process.exit(0));
});
