// ERROR's optional `details` (lib/worker/protocol.md, "ERROR details"): what
// the worker tells about an error beyond its message, for the development
// error page and the terminal. Made by lib/python/pypages_worker/explain.py.
// A page's code runs in the worker and could write to its frame pipe, so
// nothing here is trusted: every field is checked for its type, and what
// does not fit is left out (never an error: the request still gets its page).

/** One frame of the traceback, outermost first. */
export interface DetailFrame {
  file: string;
  line: number;
  function: string;
  /** The standard library's or an installed package's: folded on the page. */
  library: boolean;
  /** Line number of source[0]; 0 when the source could not be read. */
  first: number;
  source: string[];
  /** name → repr, truncated (the author's own frames only, in development mode). */
  locals: Record<string, string>;
}

export interface ErrorDetails {
  /** The exception's class name. */
  type?: string;
  frames?: DetailFrame[];
  /** Where a syntax error is: offset is the 1-based column of the caret. */
  syntax?: { file: string; line: number; offset: number; text: string; message: string };
  /** A ModuleNotFoundError: the module, the interpreter, whether it has pip, same-named files in the root. */
  missing?: { module: string; python: string; pip: boolean; local: string[] };
  /** Why a script is not a page, for its author. */
  hint?: string;
  /** The urlencoded form fields the page had read: name and value repr (development mode). */
  form?: [string, string][];
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const int = (v: unknown): number => (Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : 0);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s) => typeof s === 'string') : []);

const isPair = (v: unknown): v is [string, string] =>
  Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string';

/** ERROR's `details`, checked field by field; undefined when absent or not an object. */
export function checkedDetails(raw: unknown): ErrorDetails | undefined {
  if (!isObject(raw)) return undefined;
  const out: ErrorDetails = {};
  if (typeof raw.type === 'string') out.type = raw.type;
  if (typeof raw.hint === 'string' && raw.hint) out.hint = raw.hint;
  if (Array.isArray(raw.form)) out.form = raw.form.filter(isPair).slice(0, 100);
  if (Array.isArray(raw.frames)) out.frames = raw.frames.filter(isObject).map(frameOf);
  if (isObject(raw.syntax)) out.syntax = syntaxOf(raw.syntax);
  if (isObject(raw.missing) && typeof raw.missing.module === 'string') out.missing = missingOf(raw.missing);
  return out;
}

function frameOf(f: Json): DetailFrame {
  const locals: Record<string, string> = {};
  if (isObject(f.locals)) for (const [k, v] of Object.entries(f.locals)) if (typeof v === 'string') locals[k] = v;
  return {
    file: str(f.file),
    line: int(f.line),
    function: str(f.function),
    library: f.library === true,
    first: int(f.first),
    source: strings(f.source),
    locals,
  };
}

function syntaxOf(s: Json): NonNullable<ErrorDetails['syntax']> {
  return { file: str(s.file), line: int(s.line), offset: int(s.offset), text: str(s.text), message: str(s.message) };
}

function missingOf(m: Json): NonNullable<ErrorDetails['missing']> {
  return { module: str(m.module), python: str(m.python), pip: m.pip === true, local: strings(m.local) };
}
