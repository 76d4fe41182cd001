// Review repro helper: loaded with `node --import` into the pypages CLI. In the
// server child (PYPAGES_SUPERVISED=1), on SIGUSR2 it plays a compromised server
// child: it sends the launcher the requests in the JSON file named by
// REVIEW_REQUESTS and prints each answer as "hostile: <JSON>" on stderr.
import { readFileSync } from 'node:fs';
if (process.env.PYPAGES_SUPERVISED === '1') {
  process.on('SIGUSR2', async () => {
    const dist = new URL(process.env.REVIEW_DIST ?? '../../dist/', import.meta.url).href;
    const { rootSide } = await import(new URL('lib/tenant/root-side.js', dist).href);
    const launcher = rootSide()?.launcher;
    if (!launcher) return process.stderr.write('hostile: {"error":"no launcher"}\n');
    const requests = JSON.parse(readFileSync(process.env.REVIEW_REQUESTS, 'utf8'));
    launcher.on('message', (m, h) => {
      process.stderr.write(`hostile: ${JSON.stringify(m)}\n`);
      // read a started process's stdout (fd 1 handle) and print it
      if (m?.pypages === 'pipe' && m.fd === '1' && h) h.on('data', (d) => process.stderr.write(`hostile-out ${m.id}: ${d}`));
      if (m?.pypages === 'pipe' && m.fd === '2' && h) h.on('data', (d) => process.stderr.write(`hostile-err ${m.id}: ${d}`));
    });
    for (const r of requests) launcher.send(r);
    process.stderr.write(`hostile: ${JSON.stringify({ sent: requests.length, uid: process.getuid() })}\n`);
  });
}
