"""The zygote's loop, in-process: what it reports of a child's end."""

import os
import signal
import unittest

from pypages_worker.forkserver import zygote


class ExitEvent(unittest.TestCase):
    def reaped(self, child):
        pid = os.fork()
        if pid == 0:
            child()
            os._exit(0)
        return zygote.exit_event(pid, os.waitpid(pid, 0)[1]), pid

    def test_exit_code(self):
        event, pid = self.reaped(lambda: os._exit(3))
        self.assertEqual(event, {"event": "exit", "pid": pid, "code": 3, "signal": None})

    def test_killed_by_a_signal_is_named_as_node_names_it(self):
        event, pid = self.reaped(lambda: os.kill(os.getpid(), signal.SIGKILL))
        self.assertEqual(event, {"event": "exit", "pid": pid, "code": None, "signal": "SIGKILL"})


if __name__ == "__main__":
    unittest.main()
