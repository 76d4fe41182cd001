"""The frame format of lib/worker/protocol.md, mirrored from lib/worker/protocol.ts.

A frame is a 9-byte header (type uint8, id uint32 BE, length uint32 BE)
followed by `length` payload bytes. This module owns only the bytes: no
knowledge of requests or WSGI.
"""

import json
import json.encoder
import mmap
import os
import select
import struct
import threading
from collections import namedtuple

HEADER = struct.Struct(">BII")
HEADER_SIZE = HEADER.size
MAX_PAYLOAD = 16 * 1024 * 1024
MAX_BODY_CHUNK = 256 * 1024
BODY_WINDOW = 256 * 1024  # request-body bytes Node may push before the worker reads them
# Frames whose payloads add up to less are joined into one buffer before their write; larger
# ones go out with os.writev, uncopied (a 64 KiB copy costs more than the gather).
GATHER_BELOW = 16 * 1024
MAX_ID = 0xFFFFFFFF

# Node -> Python
REQUEST = 0x01
BODY = 0x02  # request-body bytes, pushed within the worker's credit; empty = end of body
CREDIT = 0x03
ABORT = 0x04
PING = 0x05
FILE_OPENED = 0x06

# Python -> Node
READY = 0x81
START = 0x82
RESPONSE_BODY = 0x83  # "BODY" in the spec; BODY here is 0x02, the request body
END = 0x84
ERROR = 0x85
READ = 0x86
FILE = 0x87
WATCH = 0x88
PONG = 0x89

NAMES = {
    REQUEST: "REQUEST", BODY: "BODY", CREDIT: "CREDIT", ABORT: "ABORT",
    PING: "PING", FILE_OPENED: "FILE_OPENED", READY: "READY", START: "START",
    RESPONSE_BODY: "BODY", END: "END", ERROR: "ERROR", READ: "READ",
    FILE: "FILE", WATCH: "WATCH", PONG: "PONG",
}

Frame = namedtuple("Frame", "type id payload")


class ProtocolError(Exception):
    """The peer broke the frame format; the stream is no longer usable."""


def encode(type_, id_, payload=b""):
    """Return one whole frame as bytes; raises ValueError on out-of-range fields."""
    return _header(type_, id_, len(payload)) + bytes(payload)


def _header(type_, id_, length):
    if not 0 <= type_ <= 0xFF:
        raise ValueError("frame type %r out of range" % (type_,))
    if not 0 <= id_ <= MAX_ID:
        raise ValueError("frame id %r out of range" % (id_,))
    if length > MAX_PAYLOAD:
        raise ValueError("payload of %d bytes exceeds %d" % (length, MAX_PAYLOAD))
    return HEADER.pack(type_, id_, length)


def decode(data):
    """Return the single Frame that `data` holds exactly; raises ProtocolError otherwise."""
    if len(data) < HEADER_SIZE:
        raise ProtocolError("frame shorter than its %d-byte header" % HEADER_SIZE)
    type_, id_, length = HEADER.unpack_from(data)
    _check_length(length)
    if len(data) != HEADER_SIZE + length:
        raise ProtocolError("frame says %d payload bytes, has %d" % (length, len(data) - HEADER_SIZE))
    return Frame(type_, id_, bytes(data[HEADER_SIZE:]))


def _check_length(length):
    if length > MAX_PAYLOAD:
        raise ProtocolError("frame length %d exceeds %d" % (length, MAX_PAYLOAD))


def uint32(n):
    """Return the 4-byte big-endian payload for CREDIT/READ."""
    return struct.pack(">I", n)


def read_uint32(payload):
    """Return the number in a 4-byte payload; raises ProtocolError on a wrong size."""
    if len(payload) != 4:
        raise ProtocolError("expected a 4-byte payload, got %d bytes" % len(payload))
    return struct.unpack(">I", payload)[0]


def dump_json(obj):
    """Return `obj` as a compact JSON payload (ASCII, so a lone surrogate cannot fail)."""
    return json.dumps(obj, separators=(",", ":")).encode("ascii")


def _acyclic_dumps():
    # json.dumps builds a new encoder on every call, which costs more than
    # encoding a START. This one is built once; it does not look for
    # reference cycles (a fresh one would), so it is only for objects that
    # cannot hold any. Without the C accelerator, json.dumps it is.
    make = json.encoder.c_make_encoder
    if make is None:
        return lambda obj: json.dumps(obj, separators=(",", ":"))
    iterencode = make(None, json.JSONEncoder().default, json.encoder.encode_basestring_ascii,
                      None, ":", ",", False, False, True)  # json.dumps's defaults otherwise
    return lambda obj: "".join(iterencode(obj, 0))


_dumps_acyclic = _acyclic_dumps()


def start_payload(status, headers):
    """START's JSON payload, as dump_json makes it, for a str status and (name, value) str pairs."""
    return _dumps_acyclic({"status": status, "headers": headers}).encode("ascii")


_scan_json = json.JSONDecoder().scan_once  # json.loads's parser, without its Python around it


def load_json(payload):
    """Return the JSON object in `payload`; raises ProtocolError if it is not one."""
    try:
        value = _loads(bytes(payload).decode("utf-8"))
    except ValueError as err:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ProtocolError("bad JSON payload: %s" % err)
    if not isinstance(value, dict):
        raise ProtocolError("JSON payload is not an object")
    return value


def _loads(text):
    # json.loads's layers around the parser cost a third of a REQUEST's
    # parse. A text that is one JSON value with nothing around it, as Node
    # sends, needs none of them; any other text, errors included, goes
    # through json.loads.
    try:
        value, end = _scan_json(text, 0)
    except (ValueError, StopIteration):
        end = -1
    return value if end == len(text) else json.loads(text)


class FrameReader:
    """Reads whole frames from a file descriptor or a binary file object.

    read() returns the next Frame, or None at end of file on a frame
    boundary; EOF inside a frame or an oversize length raise ProtocolError.
    """

    def __init__(self, source, chunk_size=256 * 1024):
        if isinstance(source, int):
            # Read into one reused buffer: os.read(fd, 256 KiB) would allocate
            # (and, past the allocator's mmap threshold, map) 256 KiB per read.
            # An anonymous mmap, unlike a bytearray, is not zero-filled up
            # front: a worker that only ever gets small frames keeps its pages
            # untouched (shared with its fork server, not its own memory).
            view = memoryview(mmap.mmap(-1, chunk_size))
            self._read = lambda n: view[:os.readv(source, [view])]
            self._fd = source
        else:
            self._read = getattr(source, "read1", None) or source.read
            self._fd = None
        self._chunk = chunk_size
        self._buf = bytearray()
        self._eof = False  # absorb() met end of file

    def read(self):
        """Return the next Frame, or None at a clean end of file."""
        if not self._fill(HEADER_SIZE):
            return None
        type_, id_, length = HEADER.unpack_from(self._buf)
        _check_length(length)
        self._fill(HEADER_SIZE + length)
        payload = bytes(self._buf[HEADER_SIZE:HEADER_SIZE + length])
        del self._buf[:HEADER_SIZE + length]
        return Frame(type_, id_, payload)

    def buffered(self):
        """True if a whole frame is buffered already: read() will return it without reading."""
        return self.buffered_type() is not None

    def buffered_type(self):
        """The type of the next frame if it is buffered whole already, else None."""
        if len(self._buf) < HEADER_SIZE:
            return None
        type_, _, length = HEADER.unpack_from(self._buf)
        return type_ if len(self._buf) >= HEADER_SIZE + length else None

    def absorb(self):
        """Buffer what a file descriptor source holds right now, without blocking.

        (One read at most: frames that arrive later are not "already here".)
        Does nothing for a file object source.
        """
        if self._fd is None or self._eof or not select.select([self._fd], [], [], 0)[0]:
            return
        data = self._read(self._chunk)
        if data:
            self._buf += data
        else:
            self._eof = True

    def _fill(self, size):
        # True once `size` bytes are buffered; False at EOF on an empty buffer.
        while len(self._buf) < size:
            data = b"" if self._eof else self._read(self._chunk)
            if not data:
                if self._buf:
                    raise ProtocolError("end of file inside a frame (%d of %d bytes)"
                                        % (len(self._buf), size))
                return False
            self._buf += data
        return True

    def __iter__(self):
        frame = self.read()
        while frame is not None:
            yield frame
            frame = self.read()


class FrameWriter:
    """Writes frames to a file descriptor; safe to call from many threads.

    Each frame goes out in one locked os.write loop, so frames of concurrent
    requests never interleave. Raises OSError (e.g. BrokenPipeError) if Node
    is gone.
    """

    def __init__(self, fd):
        self._fd = fd
        self._lock = threading.Lock()

    def send(self, type_, id_, payload=b""):
        """Write one frame whole."""
        self._write(encode(type_, id_, payload))

    def send_many(self, frames):
        """Write several (type, id, payload) frames whole, in one write when they fit."""
        parts, size = [], 0
        for type_, id_, payload in frames:
            parts += (_header(type_, id_, len(payload)), payload)
            size += len(payload)
        if size < GATHER_BELOW:
            self._write(b"".join(parts))  # joined once: encode() would copy each payload a first time
        else:
            self._writev(parts)

    def _writev(self, parts):
        # Headers and payloads leave as they are (os.writev), uncopied; a short write resumes where it stopped.
        with self._lock:
            while parts:
                n = os.writev(self._fd, parts)
                i = 0
                while i < len(parts) and n >= len(parts[i]):
                    n -= len(parts[i])
                    i += 1
                parts = parts[i:]
                if n:
                    parts[0] = memoryview(parts[0])[n:]

    def _write(self, data):
        view = memoryview(data)
        with self._lock:
            while view:
                view = view[os.write(self._fd, view):]
