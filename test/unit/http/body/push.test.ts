// BodyPush: a request body sent within the page's credit, and the "page waits
// on its client" accounting that request-timeout relies on.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BodyPush, type BodyOutlet } from '../../../../lib/http/body/push.js';

const WINDOW = 8;

function outlet(): BodyOutlet & { sent: string[]; waits: number; broke: boolean; ended: boolean } {
  const o = {
    sent: [] as string[],
    waits: 0,
    broke: false,
    ended: false,
    send: (chunk: Buffer) => void o.sent.push(chunk.toString()),
    over: () => o.ended,
    broken: () => void (o.broke = true),
    waitOnClient: (delta: number) => void (o.waits += delta),
  };
  return o;
}

const turn = () => new Promise((r) => setImmediate(r));

describe('BodyPush', () => {
  it('sends unasked up to its credit, then only what the page grants, and an empty piece at the end', async () => {
    const body = new PassThrough();
    const out = outlet();
    const push = new BodyPush(body, WINDOW, WINDOW, out);
    push.start();
    body.write('0123456789abcdef');
    await turn();
    expect(out.sent).toEqual(['01234567']);
    push.grant(4);
    await turn();
    expect(out.sent).toEqual(['01234567', '89ab']);
    body.end();
    push.grant(8);
    await turn();
    expect(out.sent).toEqual(['01234567', '89ab', 'cdef', '']);
  });

  it('with no credit up front, sends nothing until the page asks', async () => {
    const body = new PassThrough();
    const out = outlet();
    const push = new BodyPush(body, WINDOW, 0, out);
    push.start();
    body.end('abc');
    await turn();
    expect(out.sent).toEqual([]);
    push.grant(WINDOW);
    await turn();
    expect(out.sent).toEqual(['abc', '']);
  });

  it('counts the page as waiting on its client from a grant of the whole window until a piece goes', async () => {
    const body = new PassThrough();
    const out = outlet();
    const push = new BodyPush(body, WINDOW, 0, out);
    push.grant(WINDOW);
    expect(out.waits).toBe(1);
    await turn();
    expect(out.waits).toBe(1); // nothing has come from the client yet
    body.write('x');
    await turn();
    expect(out.sent).toEqual(['x']);
    expect(out.waits).toBe(0);
  });

  it('reports a body that cannot be read to its end, and stops waiting', async () => {
    const body = new PassThrough();
    const out = outlet();
    const push = new BodyPush(body, WINDOW, 0, out);
    push.grant(WINDOW);
    body.destroy(new Error('gone'));
    await turn();
    expect(out.broke).toBe(true);
    expect(out.waits).toBe(0);
  });

  it('sends nothing more once the request is over, and drain() lets the rest flow away', async () => {
    const body = new PassThrough();
    const out = outlet();
    const push = new BodyPush(body, WINDOW, WINDOW, out);
    push.start();
    out.ended = true;
    body.write('late');
    await turn();
    expect(out.sent).toEqual([]);
    push.drain();
    body.end('more');
    await new Promise((r) => body.once('end', r));
  });
});
