"""A forked child's connections to Node."""

import os
import shutil
import socket
import tempfile
import unittest

from pypages_worker.forkserver import child
from pypages_worker.forkserver.control import FRAMES

from fakes import high_dup

TOKEN = "0123456789abcdef0123456789abcdef"


class Connect(unittest.TestCase):
    def test_connect_sends_the_token_and_becomes_the_given_fds(self):
        folder = tempfile.mkdtemp(prefix="pypages-fs-")
        self.addCleanup(shutil.rmtree, folder)
        path = os.path.join(folder, "s")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(1)
        self.addCleanup(listener.close)
        fds = [high_dup(os.open(os.devnull, os.O_RDONLY)) for _ in range(2)]  # placeholders to replace
        self.addCleanup(lambda: [os.close(fd) for fd in fds])
        child.connect(path, TOKEN, FRAMES, fds)
        peer, _ = listener.accept()
        self.addCleanup(peer.close)
        os.write(fds[1], b"out")
        peer.sendall(b"in")
        self.assertEqual(peer.recv(64), TOKEN.encode() + b"F" + b"out")
        self.assertEqual(os.read(fds[0], 64), b"in")


if __name__ == "__main__":
    unittest.main()
