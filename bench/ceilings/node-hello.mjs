// The overall ceiling: a bare node:http hello world (12 bytes), no framework.
// Usage: node node-hello.mjs PORT
import http from 'node:http';

const body = Buffer.from('Hello world\n');
const port = Number(process.argv[2]);
http
  .createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
    res.end(body);
  })
  .listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
