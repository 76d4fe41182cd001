"""The bytes of the fork server's channels (lib/worker/launch/forkserver-protocol.md): command
and event lines, and the header a forked child opens its connections with.

Every command and event is checked field by field, on the way in and on the
way out, against the tables below; test/fixtures/forkserver-vectors.json pins
the exact bytes, for this codec and for Node's.
"""

import json
import re

MAX_COMMAND_LINE = 16 * 1024 * 1024  # Node -> zygote; a longer line is a broken peer, not a big env
MAX_EVENT_LINE = 1024 * 1024  # zygote -> Node
MAX_INTEGER = 2 ** 53 - 1  # the largest integer a JavaScript number holds exactly
TOKEN_LENGTH = 32
# What a forked child's connection carries: its frames, its stdout, or its stderr.
FRAMES, OUTPUT, ERRORS = b"F", b"O", b"E"

_TOKEN = re.compile(r"[A-Za-z0-9]{%d}\Z" % TOKEN_LENGTH)
_SIGNAL = re.compile(r"SIG[A-Z0-9]+\Z")


class ControlError(ValueError):
    """A line that is not a command (or event) of the spec; the reader logs it and reads on."""


class LineTooLong(ControlError):
    """A line longer than the limit: the peer is broken, and the reader stops."""


class _Type:
    """A field type of the spec: its name there, what it accepts, and how it normalises a value."""

    def __init__(self, name, description, accept, nullable=False):
        self.name, self.description, self.nullable = name, description, nullable
        self._accept = accept

    def check(self, value):
        """Return `value` as the field holds it, or raise ValueError with `description`."""
        if value is None and self.nullable:
            return None
        accepted = self._accept(value)
        if accepted is None:
            raise ValueError(self.description)
        return accepted

    def or_null(self):
        return _Type(self.name + " or null", self.description + " or null", self._accept, nullable=True)


def _integer(low, high):
    # An integral value, as JavaScript sees numbers: 7.0 is 7; booleans are not numbers.
    def accept(value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        if isinstance(value, float) and not value.is_integer():
            return None
        return int(value) if low <= value <= high else None
    return accept


def _all_str(values):
    return all(isinstance(v, str) for v in values)


STRING = _Type("string", "a string", lambda v: v if isinstance(v, str) else None)
TOKEN = _Type("token", "%d ASCII letters or digits" % TOKEN_LENGTH,
              lambda v: v if isinstance(v, str) and _TOKEN.match(v) else None)
PATH = _Type("path", "an absolute path (a string starting with /)",
             lambda v: v if isinstance(v, str) and v.startswith("/") else None)
ENV = _Type("env", "an object whose values are strings",
            lambda v: v if isinstance(v, dict) and _all_str(v.values()) else None)
STRINGS = _Type("strings", "an array of strings", lambda v: v if isinstance(v, list) and _all_str(v) else None)
COUNT = _Type("count", "an integer from 0 to %d" % MAX_INTEGER, _integer(0, MAX_INTEGER))
PID = _Type("pid", "an integer from 1 to %d" % MAX_INTEGER, _integer(1, MAX_INTEGER))
CODE = _Type("code", "an integer from 0 to 255", _integer(0, 255))
SIGNAL = _Type("signal", "a signal name such as SIGKILL",
               lambda v: v if isinstance(v, str) and _SIGNAL.match(v) else None)

# Each command and event: its fields in the order they are written, each with its check.
COMMANDS = {
    "fork": (("token", TOKEN), ("cwd", PATH), ("env", ENV), ("argv", STRINGS)),
    "ping": (("id", COUNT),),
}
EVENTS = {
    "ready": (("pid", PID), ("python", STRING), ("executable", STRING), ("preloaded", STRINGS), ("failed", STRINGS)),
    "forked": (("token", TOKEN), ("pid", PID), ("start", COUNT.or_null())),
    "fork-failed": (("token", TOKEN), ("error", STRING)),
    "pong": (("id", COUNT),),
    "exit": (("pid", PID), ("code", CODE.or_null()), ("signal", SIGNAL.or_null())),
}


def decode_command(line):
    """Return the command on `line` (bytes, without its newline) as a dict; raises ControlError."""
    return _checked(_load(line), "cmd", COMMANDS)


def encode_command(command):
    """Return the line (bytes, with its newline) for a command dict; raises ControlError if it breaks the spec."""
    return _dump(_checked(command, "cmd", COMMANDS), MAX_COMMAND_LINE)


def decode_event(line):
    """Return the event on `line` (bytes, without its newline) as a dict; raises ControlError."""
    return _checked(_load(line), "event", EVENTS)


def encode_event(event):
    """Return the line (bytes, with its newline) for an event dict; raises ControlError if it breaks the spec."""
    return _dump(_checked(event, "event", EVENTS), MAX_EVENT_LINE)


def connection_header(token, kind):
    """The first bytes a forked child writes on each connection: its launch's token and FRAMES, OUTPUT or ERRORS."""
    if not isinstance(token, str) or not _TOKEN.match(token) or kind not in (FRAMES, OUTPUT, ERRORS):
        raise ControlError("a connection header needs a token of %s and F, O or E" % TOKEN.description)
    return token.encode("ascii") + kind


def _reject_constant(name):
    raise ValueError("%s is not JSON" % name)


def _load(line):
    try:
        return json.loads(bytes(line).decode("utf-8"), parse_constant=_reject_constant)
    except ValueError as err:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ControlError("not a JSON text in UTF-8: %s" % err)


def _checked(obj, key, specs):
    # The object with the fields its spec names, in that order, each checked; others are dropped.
    if not isinstance(obj, dict):
        raise ControlError("not a JSON object")
    name = obj.get(key)
    fields = specs.get(name) if isinstance(name, str) else None
    if fields is None:
        raise ControlError("%s %r is not one of: %s" % (key, name, ", ".join(sorted(specs))))
    checked = {key: name}
    for field, type_ in fields:
        if field not in obj:
            raise ControlError("a %s's %s is missing" % (name, field))
        try:
            checked[field] = type_.check(obj[field])
        except ValueError as err:
            raise ControlError("a %s's %s must be %s" % (name, field, err))
    if name == "exit" and (checked["code"] is None) == (checked["signal"] is None):
        raise ControlError("an exit has a code or a signal, and the other null")
    return checked


def _dump(obj, limit):
    line = json.dumps(obj, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    if len(line) > limit:
        raise LineTooLong("a %d-byte line exceeds %d" % (len(line), limit))
    return line + b"\n"


class LineReader:
    """Cuts a byte stream into lines of at most `limit` bytes (the newline not counted)."""

    def __init__(self, limit):
        self._limit = limit
        self._buf = bytearray()

    def feed(self, data):
        """Yield, in order, the lines that `data` completes, without their newline; empty lines are skipped.

        Iterate it to the end: then it raises LineTooLong if a line, complete
        or not, exceeds the limit (after yielding the lines before it).
        """
        head, newline, rest = bytes(data).rpartition(b"\n")
        if newline:
            lines = (bytes(self._buf) + head).split(b"\n")
            self._buf = bytearray(rest)
            for line in lines:
                if len(line) > self._limit:
                    raise LineTooLong("a line of %d bytes exceeds %d" % (len(line), self._limit))
                if line:
                    yield line
        else:
            self._buf += data
        if len(self._buf) > self._limit:
            raise LineTooLong("a line of more than %d bytes" % self._limit)
