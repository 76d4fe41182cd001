"""Stop signals in-process: a page's own handler still works and is kept in forked children."""

import os
import signal
import unittest

from pypages_worker import signals


def seen_in_a_forked_child(signum):
    """What signal.getsignal(signum) is in a fork() child: 'ours', 'default', 'pythons' or 'other'."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        handler = signal.getsignal(signum)
        name = ("ours" if handler is signals._not_ours else "default" if handler == signal.SIG_DFL
                else "pythons" if handler is signal.default_int_handler else "other")
        os.write(w, name.encode())
        os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    with os.fdopen(r, "rb") as f:
        return f.read().decode()


class StopSignals(unittest.TestCase):
    def setUp(self):
        saved = {s: signal.getsignal(s) for s in signals.STOP_SIGNALS}
        self.addCleanup(lambda: [signal.signal(s, h) for s, h in saved.items()])
        signals.ignore_stop_signals()
        signals.default_in_forked_children()

    def test_the_signal_is_caught_and_nothing_happens(self):
        for signum in signals.STOP_SIGNALS:
            os.kill(os.getpid(), signum)  # delivered before kill() returns: to us, the main thread
        self.assertIs(signal.getsignal(signal.SIGTERM), signals._not_ours)

    def test_forked_children_get_the_usual_dispositions(self):
        self.assertEqual([seen_in_a_forked_child(s) for s in signals.STOP_SIGNALS],
                         ["default", "pythons", "default"])
        self.assertIs(signal.getsignal(signal.SIGTERM), signals._not_ours)  # the parent keeps its own

    def test_a_page_can_install_its_own_handler_and_its_children_keep_it(self):
        got = []
        signal.signal(signal.SIGTERM, lambda signum, frame: got.append(signum))
        os.kill(os.getpid(), signal.SIGTERM)
        self.assertEqual(got, [signal.SIGTERM])
        self.assertEqual(seen_in_a_forked_child(signal.SIGTERM), "other")


if __name__ == "__main__":
    unittest.main()
