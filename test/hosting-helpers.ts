// Requests as a shared host receives them: each with its own Host header.
import { request } from 'node:http';

/** A request with this Host header (a POST when it has a body). */
export function hostGet(
  s: { port: number },
  host: string,
  target: string,
  body = '',
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const method = body ? 'POST' : 'GET';
    const req = request({ host: '127.0.0.1', port: s.port, path: target, method, headers: { host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
