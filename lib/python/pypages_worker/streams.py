"""wsgi.input and wsgi.file_wrapper.

InputStream pulls the request body from Node on demand and buffers only
what it was sent, so a large upload never sits whole in memory unless the
app asks for all of it with read().
"""

import io
import os
import stat
import sys

READ_SIZE = 64 * 1024  # what one READ asks for when the app wants less
MAX_READ = 1024 * 1024  # what one READ asks for at most


class InputStream:
    """A read-only binary stream over pull(n), which returns 1..n bytes or b'' at the end.

    pull raises OSError (ClientAborted) once the client has gone away.
    """

    def __init__(self, pull, keep=0):
        self._pull = pull
        self._buf = bytearray()
        self._eof = False
        #: The first `keep` bytes the page read, for the development error page's form fields.
        self.kept = bytearray()
        self._keep = keep

    def _fill(self, wanted):
        # Add one pulled chunk to the buffer; False at the end of the body.
        if self._eof:
            return False
        data = self._pull(min(max(wanted, READ_SIZE), MAX_READ))
        if not data:
            self._eof = True
            return False
        self._buf += data
        return True

    def _take(self, n):
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return self._note(data)

    def _note(self, data):
        if len(self.kept) < self._keep:
            self.kept += data[:self._keep - len(self.kept)]
        return data

    def read(self, size=-1):
        """Return up to `size` bytes (fewer only at the end); all the rest if size is None or < 0."""
        if size is None or size < 0:
            while self._fill(MAX_READ):
                pass
            return self._take(len(self._buf))
        if not self._buf and not self._eof and size > 0:
            # Nothing buffered: a pulled chunk of exactly `size` bytes goes out as it is, uncopied.
            data = self._pull(min(max(size, READ_SIZE), MAX_READ))
            if len(data) == size:
                return self._note(data)
            if not data:
                self._eof = True
            self._buf += data
        while len(self._buf) < size and self._fill(size - len(self._buf)):
            pass
        return self._take(size)

    def readline(self, size=-1):
        """Return one line including its b'\\n' (at most `size` bytes if size >= 0)."""
        limit = None if size is None or size < 0 else size
        scanned = 0
        while True:
            newline = self._buf.find(b"\n", scanned)
            if newline >= 0:
                end = newline + 1
                break
            scanned = len(self._buf)
            if (limit is not None and scanned >= limit) or not self._fill(READ_SIZE):
                end = len(self._buf)
                break
        return self._take(end if limit is None else min(end, limit))

    def readlines(self, hint=-1):
        """Return the remaining lines, stopping once their total size reaches `hint` (if > 0)."""
        lines, total = [], 0
        for line in self:
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def close(self):
        """Nothing to release: Node owns the connection (present for file-like callers)."""


class FileWrapper:
    """wsgi.file_wrapper: iterates a file-like object in blocks and closes it.

    The WSGI layer may bypass the iteration and have Node send the file
    itself (see sendable_file).
    """

    def __init__(self, filelike, blksize=8192):
        self.filelike = filelike
        self.blksize = blksize

    def __iter__(self):
        return self

    def __next__(self):
        data = self.filelike.read(self.blksize)
        if not data:
            raise StopIteration
        return data

    def close(self):
        """Close the wrapped file, if it can be closed."""
        close = getattr(self.filelike, "close", None)
        if close is not None:
            close()


def sendable_file(result):
    """Return (path, offset, size) for Node to open if `result` wraps a regular file, else None.

    `path` is /proc/<pid>/fd/<n> (Linux only); `offset` is the file's current
    position and `size` its total size.
    """
    if not isinstance(result, FileWrapper) or not sys.platform.startswith("linux"):
        return None
    filelike = result.filelike
    if isinstance(filelike, io.TextIOBase):
        return None  # tell() is not a byte offset; iterating yields str, a WSGI error
    try:
        fd = filelike.fileno()
        st = os.fstat(fd)
        offset = filelike.tell()
    except (AttributeError, OSError, ValueError):
        return None  # no fd (BytesIO), closed, or unseekable: iterate instead
    if not stat.S_ISREG(st.st_mode):
        return None
    return ("/proc/%d/fd/%d" % (os.getpid(), fd), offset, st.st_size)
