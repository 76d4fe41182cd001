// The static-file ceiling: node:http + fs, no framework, no caching. Each
// request opens the file, fstats it (Content-Length, Last-Modified, ETag) and
// reads it whole (files up to 1 MiB; larger ones are streamed), then closes it:
// the fewest thread-pool round trips for a correct answer that sees edits.
// (stat + createReadStream, as koa-static's `send` does, is about half as fast
// for a 1 KB file: see bench/README.md.)
// Usage: node node-static.mjs PORT DOCROOT   (serves /static/... only)
import { close, createReadStream, fstat, open, read } from 'node:fs';
import http from 'node:http';
import { extname, join, normalize } from 'node:path';

const port = Number(process.argv[2]);
const root = process.argv[3];
const types = {
  '.txt': 'text/plain; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};
const WHOLE = 1024 * 1024;

function notFound(res) {
  res.writeHead(404, { 'Content-Length': 0 }).end();
}

http
  .createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0]));
    if (!path.startsWith('/static/')) return notFound(res);
    const file = join(root, path);
    open(file, 'r', (err, fd) => {
      if (err) return notFound(res);
      fstat(fd, (err, st) => {
        if (err || !st.isFile()) return close(fd, () => notFound(res));
        const headers = {
          'Content-Type': types[extname(file)] ?? 'application/octet-stream',
          'Content-Length': st.size,
          'Last-Modified': st.mtime.toUTCString(),
          ETag: `W/"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`,
        };
        if (req.method === 'HEAD') return close(fd, () => res.writeHead(200, headers).end());
        if (st.size > WHOLE) {
          res.writeHead(200, headers);
          return void createReadStream(file, { fd }).pipe(res);
        }
        const buf = Buffer.allocUnsafe(st.size);
        read(fd, buf, 0, st.size, 0, (err, n) => {
          close(fd, () => {});
          if (err) return void res.destroy();
          res.writeHead(200, headers).end(n === st.size ? buf : buf.subarray(0, n));
        });
      });
    });
  })
  .listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
