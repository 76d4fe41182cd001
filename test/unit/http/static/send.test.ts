// Static sending's Content-Type: from the URL's extension, as koa-send chooses it.
import { describe, expect, it } from 'vitest';
import { contentTypeOf } from '../../../../lib/http/static/send.js';

describe('contentTypeOf', () => {
  it("takes mime-types' type for the extension, with a charset for text", () => {
    expect(contentTypeOf('/a/style.css')).toBe('text/css; charset=utf-8');
    expect(contentTypeOf('/logo.png')).toBe('image/png');
    expect(contentTypeOf('/LOGO.PNG')).toBe('image/png');
  });

  it('falls back to application/octet-stream, the URL deciding rather than a link target', () => {
    expect(contentTypeOf('/notes')).toBe('application/octet-stream');
    expect(contentTypeOf('/x.unknown-ext')).toBe('application/octet-stream');
  });
});
