// A URL path's bytes: the percent-decoding of its pieces (and what makes a
// piece malformed: a 400), their two string forms (PEP 3333's latin-1, and
// the name on disk), and the percent-encoding of a Location. Pure; the URL
// rules that use them are ./resolve.ts.

/** One non-empty piece of the URL path between slashes, percent-decoded. */
export interface Segment {
  bytes: Buffer;
  /** PEP 3333 form: the decoded bytes as a latin-1 string. */
  latin1: string;
  /** The name used on disk: the bytes as UTF-8, or null when they are not UTF-8. */
  name: string | null;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Percent-decodes one piece to bytes, or says why the request is malformed. */
export function decodePiece(piece: string): Buffer | string {
  const out: number[] = [];
  for (let i = 0; i < piece.length; i++) {
    const c = piece.charCodeAt(i);
    if (c === 0x25) {
      const hex = piece.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return 'malformed percent-encoding';
      out.push(parseInt(hex, 16));
      i += 2;
    } else if (c > 0xff) {
      // Node hands over request-line bytes as latin-1, so this cannot come off the wire.
      return 'non-latin-1 character in raw path';
    } else {
      out.push(c);
    }
  }
  if (out.includes(0)) return 'nul byte in path';
  if (out.some((b) => b < 0x20 || b === 0x7f)) return 'control character in path';
  return Buffer.from(out);
}

/** A decoded piece in both its forms. */
export function toSegment(bytes: Buffer): Segment {
  let name: string | null;
  try {
    name = UTF8.decode(bytes);
  } catch {
    name = null;
  }
  return { bytes, latin1: bytes.toString('latin1'), name };
}

// Characters left as-is in a Location; everything else is percent-encoded so
// the header can hold no control character, space or fragment marker.
export const SAFE_PATH = /[A-Za-z0-9\-._~!$&'()*+,;=:@]/;
export const SAFE_QUERY = /[\x21-\x7e]/;

/** Percent-encodes every byte that is not ASCII and `safe` (and always '#'), in upper-case hex. */
export function encodeBytes(bytes: Buffer, safe: RegExp): string {
  let out = '';
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    out += b < 0x80 && safe.test(ch) && ch !== '#' ? ch : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Query chars stand for bytes like the path's; anything wider is sent as UTF-8. */
export function encodeText(text: string, safe: RegExp): string {
  const wide = [...text].some((ch) => ch.charCodeAt(0) > 0xff);
  return encodeBytes(Buffer.from(text, wide ? 'utf8' : 'latin1'), safe);
}

/** "/a/b" in PEP 3333's latin-1 form (SCRIPT_NAME, PATH_INFO); '' for no segments. */
export function joinLatin1(segs: Segment[]): string {
  return segs.length === 0 ? '' : `/${segs.map((s) => s.latin1).join('/')}`;
}

/** "/a/b" as names on disk; '' for no segments. */
export function joinNames(segs: Segment[]): string {
  return segs.length === 0 ? '' : `/${segs.map((s) => s.name).join('/')}`;
}
