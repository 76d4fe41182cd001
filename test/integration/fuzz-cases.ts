// The fuzzer's cases (fast-check arbitraries): valid requests to known
// pages, the same with random byte mutations, and requests made malformed in
// one of the ways RFC 9112 says a server must refuse (fuzz-malformed.ts).
// Each case knows what a correct server may answer (fuzz.test.ts judges).
import fc from 'fast-check';
import { malformedCase } from './fuzz-malformed.js';
import { request, serialize, type FuzzCase } from './fuzz-requests.js';

/** One valid request, or two pipelined (the first keeps the connection open). */
const requests = fc.oneof(
  request(false).map((r) => [r]),
  fc.tuple(request(true), request(false)),
);

const validCase = fc.record({ reqs: requests, fin: fc.boolean() }).map(
  ({ reqs, fin }): FuzzCase => ({
    kind: 'valid',
    label: `valid x${reqs.length}`,
    bytes: Buffer.concat(reqs.map((r) => serialize(r))),
    fin,
    expect: reqs.map((r) => r.expectBody),
    mustClose: false,
  }),
);

/** Bytes worth inserting: separators, framing words, whole field lines. */
const INTERESTING = [
  '\r',
  '\n',
  '\r\n',
  '\0',
  ' ',
  '\t',
  ':',
  ';',
  ',',
  '0',
  '-',
  'chunked',
  '\r\n\r\n',
  'Content-Length: 5\r\n',
  'Transfer-Encoding: chunked\r\n',
  'Host: x\r\n',
  ' x\r\n',
  '\xff',
  'HTTP/1.1',
  'GET / HTTP/1.1\r\n',
];

const mutation = fc.oneof(
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    what: fc.oneof(
      fc.constantFrom(...INTERESTING).map((s) => Buffer.from(s, 'latin1')),
      fc.uint8Array({ minLength: 1, maxLength: 4 }).map((u) => Buffer.from(u)),
    ),
  }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('duplicate-line' as const), at: fc.nat() }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(bytes: Buffer, m: Mutation): Buffer {
  if (bytes.length === 0) return bytes;
  const at = m.at % bytes.length;
  switch (m.op) {
    case 'insert':
      return Buffer.concat([bytes.subarray(0, at), m.what, bytes.subarray(at)]);
    case 'delete':
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
    case 'replace':
      return Buffer.concat([bytes.subarray(0, at), Buffer.from([m.byte]), bytes.subarray(at + 1)]);
    case 'duplicate-line': {
      const start = bytes.lastIndexOf('\r\n', at) + 2;
      const end = bytes.indexOf('\r\n', at);
      if (start < 2 || end === -1 || end <= start) return bytes;
      return Buffer.concat([bytes.subarray(0, end + 2), bytes.subarray(start, end + 2), bytes.subarray(end + 2)]);
    }
  }
}

const mutatedCase = fc
  .record({ reqs: requests, mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }), fin: fc.boolean() })
  .map(
    ({ reqs, mutations, fin }): FuzzCase => ({
      kind: 'mutated',
      label: `mutated (${mutations.map((m) => m.op).join(', ')})`,
      bytes: mutations.reduce(mutate, Buffer.concat(reqs.map((r) => serialize(r)))),
      fin,
      expect: [],
      mustClose: false,
    }),
  );

/** The mix: 15% valid, 45% mutated, 40% malformed. */
export const fuzzCase: fc.Arbitrary<FuzzCase> = fc.oneof(
  { weight: 3, arbitrary: validCase },
  { weight: 9, arbitrary: mutatedCase },
  { weight: 8, arbitrary: malformedCase },
);
