"""What the zygote does once before it forks: shared preloads, and the check that no thread runs."""

import io
import threading
import unittest
from contextlib import redirect_stderr

from pypages_worker.forkserver import warm


class Warm(unittest.TestCase):
    def test_preload_logs_a_failing_import_and_goes_on(self):
        err = io.StringIO()
        with redirect_stderr(err):
            self.assertEqual(warm.preload(["json", "no_such_module_pypages", "email"]),
                             (["json", "email"], ["no_such_module_pypages"]))
        self.assertIn("shared-preload of no_such_module_pypages failed: ModuleNotFoundError", err.getvalue())

    def test_extra_threads_sees_a_running_thread(self):
        before = warm.extra_threads()
        stop = threading.Event()
        thread = threading.Thread(target=stop.wait, name="pypages-test-thread")
        thread.start()
        try:
            self.assertIn("pypages-test-thread", warm.extra_threads()[0])
        finally:
            stop.set()
            thread.join()
        self.assertEqual(warm.extra_threads(), before)


if __name__ == "__main__":
    unittest.main()
