// HTTP-01 challenges (RFC 8555 8.3): while an order is under way, the CA
// fetches http://NAME/.well-known/acme-challenge/TOKEN on port 80 (setting
// http-port) and expects the key authorization. The plain-HTTP server asks
// answerChallenge() first, for every request.

import type { IncomingMessage, ServerResponse } from 'node:http';

/** Token → key authorization, for the orders under way. */
export type Challenges = Map<string, string>;

const PREFIX = '/.well-known/acme-challenge/';

/** Answers `req` if it is a challenge request (the answer, or 404 for an unknown token); false otherwise. */
export function answerChallenge(challenges: Challenges, req: IncomingMessage, res: ServerResponse): boolean {
  const url = req.url ?? '';
  if (!url.startsWith(PREFIX)) return false;
  const answer = challenges.get(url.slice(PREFIX.length).split('?')[0]);
  const body = answer ?? 'no such challenge\n';
  res.writeHead(answer ? 200 : 404, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
