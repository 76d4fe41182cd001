// The fork server's control channel, as bytes (lib/worker/launch/forkserver-protocol.md):
// the command lines Node writes to the zygote's fd 3, the event lines it reads
// from fd 4, and the header a forked child opens each connection with. The
// zygote's side is lib/python/pypages_worker/forkserver/control.py; both are
// tested against test/fixtures/forkserver-vectors.json.

/** Longest command line the zygote reads (its newline not counted). */
export const MAX_COMMAND_LINE = 16 * 1024 * 1024;
/** Longest event line Node reads (its newline not counted): longer is one rejected line. */
export const MAX_EVENT_LINE = 1024 * 1024;
/** Characters of a launch's token: it names the launch a connection belongs to. */
export const TOKEN_LENGTH = 32;
const MAX_COUNT = Number.MAX_SAFE_INTEGER;

/** A line that is not a command or event of the spec: its reader logs it and reads on. */
export class ControlError extends Error {
  override name = 'ControlError';
}

export type Command =
  | { cmd: 'fork'; token: string; cwd: string; env: Readonly<Record<string, string>>; argv: readonly string[] }
  | { cmd: 'ping'; id: number };

export type ZygoteEvent =
  | { event: 'ready'; pid: number; python: string; executable: string; preloaded: string[]; failed: string[] }
  | { event: 'forked'; token: string; pid: number; start: number | null }
  | { event: 'fork-failed'; token: string; error: string }
  | { event: 'pong'; id: number }
  | { event: 'exit'; pid: number; code: number | null; signal: NodeJS.Signals | null };

/** A field type of the spec's "Field types" table: its name there, and whether a JSON value is one. */
export interface FieldType {
  readonly name: string;
  accepts(value: unknown): boolean;
}

const type = (name: string, accepts: (value: unknown) => boolean): FieldType => ({ name, accepts });
const isString = (v: unknown): v is string => typeof v === 'string';
const integer = (low: number, high: number) => (v: unknown) =>
  typeof v === 'number' && Number.isInteger(v) && v >= low && v <= high;
const orNull = (t: FieldType): FieldType => type(`${t.name} or null`, (v) => v === null || t.accepts(v));

const STRING = type('string', isString);
const TOKEN = type('token', (v) => isString(v) && /^[A-Za-z0-9]{32}$/.test(v));
const PATH = type('path', (v) => isString(v) && v.startsWith('/'));
const ENV = type(
  'env',
  (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every(isString),
);
const STRINGS = type('strings', (v) => Array.isArray(v) && v.every(isString));
const COUNT = type('count', integer(0, MAX_COUNT));
const PID = type('pid', integer(1, MAX_COUNT));
const CODE = type('code', integer(0, 255));
const SIGNAL = type('signal', (v) => isString(v) && /^SIG[A-Z0-9]+$/.test(v));

type Fields = readonly (readonly [string, FieldType])[];

/** Each command's fields, in the order they are written (the spec's "Commands" table). */
export const COMMAND_FIELDS: Readonly<Record<Command['cmd'], Fields>> = {
  fork: [
    ['token', TOKEN],
    ['cwd', PATH],
    ['env', ENV],
    ['argv', STRINGS],
  ],
  ping: [['id', COUNT]],
};

/** Each event's fields, in order (the spec's "Events" table). */
export const EVENT_FIELDS: Readonly<Record<ZygoteEvent['event'], Fields>> = {
  ready: [
    ['pid', PID],
    ['python', STRING],
    ['executable', STRING],
    ['preloaded', STRINGS],
    ['failed', STRINGS],
  ],
  forked: [
    ['token', TOKEN],
    ['pid', PID],
    ['start', orNull(COUNT)],
  ],
  'fork-failed': [
    ['token', TOKEN],
    ['error', STRING],
  ],
  pong: [['id', COUNT]],
  exit: [
    ['pid', PID],
    ['code', orNull(CODE)],
    ['signal', orNull(SIGNAL)],
  ],
};

/**
 * A command's line in canonical form, its newline included: the discriminator
 * first, the fields in table order, no whitespace, pure ASCII (what Python's
 * json.dumps with separators (",", ":") writes). Throws ControlError for a
 * field of the wrong type or a line over MAX_COMMAND_LINE.
 */
export function encodeCommand(command: Command): Buffer {
  const fields = COMMAND_FIELDS[command.cmd];
  const ordered: Record<string, unknown> = { cmd: command.cmd };
  for (const [name, t] of fields)
    ordered[name] = checked(command as unknown as Record<string, unknown>, name, t, command.cmd);
  const line = asciiJson(ordered);
  if (line.length > MAX_COMMAND_LINE)
    throw new ControlError(`a ${command.cmd} command of ${line.length} bytes is over ${MAX_COMMAND_LINE}`);
  return Buffer.from(`${line}\n`, 'latin1');
}

/** JSON.stringify, with every UTF-16 unit from U+007F up written as a lower-case \uXXXX escape. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The event on one line (its bytes, without the newline): any JSON object in
 * UTF-8, whitespace and key order free; only the fields its table names are
 * kept. Throws ControlError for invalid UTF-8, a byte order mark, anything
 * but one JSON object, an unknown event, or a missing or wrongly typed field.
 */
export function decodeEvent(line: Buffer): ZygoteEvent {
  if (line.length > MAX_EVENT_LINE)
    throw new ControlError(`an event line of ${line.length} bytes is over ${MAX_EVENT_LINE}`);
  const data = parseObject(line);
  const name = data.event;
  if (typeof name !== 'string' || !Object.hasOwn(EVENT_FIELDS, name))
    throw new ControlError(`unknown event ${JSON.stringify(name ?? null)}`);
  const event: Record<string, unknown> = { event: name };
  for (const [field, t] of EVENT_FIELDS[name as ZygoteEvent['event']]) event[field] = checked(data, field, t, name);
  if (name === 'exit' && (event.code === null) === (event.signal === null))
    throw new ControlError('exit must have exactly one of code and signal');
  return event as ZygoteEvent;
}

function parseObject(line: Buffer): Record<string, unknown> {
  if (line[0] === 0xef && line[1] === 0xbb && line[2] === 0xbf)
    throw new ControlError('a byte order mark before the JSON');
  let text: string;
  try {
    text = UTF8.decode(line);
  } catch {
    throw new ControlError('not valid UTF-8');
  }
  let data: unknown;
  try {
    data = JSON.parse(text); // refuses NaN, Infinity, trailing text
  } catch (err) {
    throw new ControlError(`not JSON: ${(err as Error).message}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new ControlError('not a JSON object');
  return data as Record<string, unknown>;
}

function checked(data: Record<string, unknown>, field: string, t: FieldType, what: string): unknown {
  const value = Object.hasOwn(data, field) ? data[field] : undefined;
  if (value === undefined || !t.accepts(value)) throw new ControlError(`${what}: ${field} must be a ${t.name}`);
  return value;
}

/** What a forked child's connection carries: F its frames, O its stdout, E its stderr. */
export type ConnectionKind = 'F' | 'O' | 'E';

/** Bytes a forked child writes first on each connection: its token, then one letter. */
export const CONNECTION_HEADER_BYTES = TOKEN_LENGTH + 1;

/** The token and kind of a connection's first CONNECTION_HEADER_BYTES bytes, or null if they are not a header. */
export function readConnectionHeader(head: Buffer): { token: string; kind: ConnectionKind } | null {
  if (head.length !== CONNECTION_HEADER_BYTES) return null;
  const token = head.toString('latin1', 0, TOKEN_LENGTH);
  const kind = head.toString('latin1', TOKEN_LENGTH);
  return TOKEN.accepts(token) && (kind === 'F' || kind === 'O' || kind === 'E') ? { token, kind } : null;
}
