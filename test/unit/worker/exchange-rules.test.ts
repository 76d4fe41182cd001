import { describe, expect, it } from 'vitest';
import {
  checkBodyGrant,
  CREDIT_BATCH,
  INITIAL_WINDOW,
  MAX_BODY_FRAME,
  parseStatus,
  ResponseCredit,
} from '../../../lib/worker/exchange-rules.js';
import { BODY_WINDOW, ProtocolError } from '../../../lib/worker/protocol.js';

describe('ResponseCredit', () => {
  it('takes frames up to the window, and more as credit is given back', () => {
    const sent: number[] = [];
    const credit = new ResponseCredit((n) => sent.push(n));
    credit.take(MAX_BODY_FRAME);
    credit.take(MAX_BODY_FRAME); // exactly the window
    expect(() => credit.take(1)).toThrow(ProtocolError);
    credit.give(MAX_BODY_FRAME);
    credit.take(MAX_BODY_FRAME);
    expect(sent).toEqual([MAX_BODY_FRAME]);
  });

  it('counts every byte outstanding, however the frames are cut', () => {
    const sent: number[] = [];
    const credit = new ResponseCredit((n) => sent.push(n));
    credit.take(100);
    credit.take(MAX_BODY_FRAME);
    expect(() => credit.take(MAX_BODY_FRAME)).toThrow(/beyond the credit granted: 524388 outstanding/);
    credit.give(100); // flushed, but less than a batch: held back, still outstanding
    expect(sent).toEqual([]);
    expect(() => credit.take(MAX_BODY_FRAME)).toThrow(ProtocolError);
    credit.give(MAX_BODY_FRAME);
    expect(sent).toEqual([MAX_BODY_FRAME + 100]);
    credit.take(MAX_BODY_FRAME);
    credit.take(MAX_BODY_FRAME); // nothing was outstanding: the whole window again
    expect(INITIAL_WINDOW).toBe(2 * MAX_BODY_FRAME);
  });

  it('returns credit in batches, and a page that waits for credit always gets it once its bytes have left', () => {
    // The worker's side of step 4 (channel.py _take_credit): it sends while its frame fits the window.
    const granted: number[] = [];
    const credit = new ResponseCredit((n) => granted.push(n));
    let workerOutstanding = 0;
    const sizes = [1, 65536, 100, MAX_BODY_FRAME, 4096, 65536, 65536, 65535, 7, MAX_BODY_FRAME, 3000];
    for (let i = 0; i < 400; i++) {
      const n = sizes[i % sizes.length];
      // Node has flushed everything: what it holds back must leave room for any frame.
      expect(workerOutstanding + MAX_BODY_FRAME).toBeLessThanOrEqual(INITIAL_WINDOW);
      credit.take(n);
      workerOutstanding += n;
      credit.give(n); // flushed to the client
      for (const g of granted.splice(0)) workerOutstanding -= g;
    }
    expect(CREDIT_BATCH).toBe(INITIAL_WINDOW - MAX_BODY_FRAME);
  });

  it('refuses empty frames and frames over 256 KiB', () => {
    const credit = new ResponseCredit(() => {});
    expect(() => credit.take(0)).toThrow(ProtocolError);
    expect(() => credit.take(MAX_BODY_FRAME + 1)).toThrow(ProtocolError);
  });
});

describe('the other rules', () => {
  it('READ may top the body credit up to the window, no further', () => {
    expect(() => checkBodyGrant(0, BODY_WINDOW)).not.toThrow();
    expect(() => checkBodyGrant(100, BODY_WINDOW - 100)).not.toThrow();
    expect(() => checkBodyGrant(100, BODY_WINDOW - 99)).toThrow(ProtocolError);
    expect(() => checkBodyGrant(0, 0xffffffff)).toThrow(ProtocolError);
  });

  it('reads a status line; a 1xx or a malformed one is refused (not as a protocol violation)', () => {
    expect(parseStatus('200 OK')).toEqual([200, 'OK']);
    expect(parseStatus('204')).toEqual([204, '']);
    for (const bad of ['103 Early Hints', 'OK', '2000 x']) {
      expect(() => parseStatus(bad)).toThrow(Error);
      expect(() => parseStatus(bad)).not.toThrow(ProtocolError);
    }
  });
});
