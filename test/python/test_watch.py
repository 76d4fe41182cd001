"""WATCH: the imported document-root files, sent when their set grows."""

import os
import sys
import threading
import unittest
from unittest import mock

from pypages_worker import protocol, watch
from pypages_worker.loader import load_script
from pypages_worker.watch import WatchReporter

from fakes import TempRoot


class Watch(TempRoot):
    def setUp(self):
        super().setUp()
        self.sent = []
        self.reporter = WatchReporter(self.root, lambda t, i, p: self.sent.append(protocol.load_json(p)))

    def test_sends_only_when_the_set_grows_with_mtime_as_a_string(self):
        a = self.write("a.py", "application = None\n")
        load_script(a, self.root)
        self.reporter.report()
        self.reporter.report()
        st = os.stat(a)
        self.assertEqual(self.sent, [{"files": [[a, str(st.st_mtime_ns), st.st_size]]}])
        b = self.write("b_for_watch.py", "X = 1\n")
        sys.path.insert(0, self.root)
        __import__("b_for_watch")
        self.reporter.report()
        self.assertEqual([f[0] for f in self.sent[-1]["files"]], sorted([a, b]))
        self.assertEqual(len(self.sent), 2)

    def test_a_module_imported_while_sys_modules_is_listed_is_reported_next_time(self):
        # Without the loader's import hook, report() lists sys.modules when it grew;
        # an import landing between that listing and the count must not be lost.
        late = self.write("late_for_watch.py", "X = 1\n")
        sys.path.insert(0, self.root)
        imported = []

        def list_then_import(modules):
            listed = list(modules)
            if not imported:  # another thread, right after the first listing
                imported.append(__import__("late_for_watch"))
            return listed
        with mock.patch.object(watch.imports, "imports_watched", return_value=False), \
                mock.patch.object(watch, "list", list_then_import, create=True):
            reporter = WatchReporter(self.root, lambda t, i, p: self.sent.append(protocol.load_json(p)))
            load_script(self.write("first.py", "application = None\n"), self.root)
            reporter.report()
            self.assertEqual(len(imported), 1)
            self.assertNotIn(late, [f[0] for f in self.sent[-1]["files"]])
            reporter.report()
            self.assertIn(late, [f[0] for f in self.sent[-1]["files"]])

    def test_a_report_returns_only_once_a_watch_in_flight_is_out(self):
        # A request's terminal frame follows its report(): a module it imported
        # must be in a WATCH already sent, even if another thread is sending it.
        sending, release, done = threading.Event(), threading.Event(), []

        def send(type_, id_, payload):
            sending.set()
            release.wait(5)
            done.append(protocol.load_json(payload))
        reporter = WatchReporter(self.root, send)
        load_script(self.write("inflight.py", "X = 1\n"), self.root)
        first = threading.Thread(target=reporter.report)
        first.start()
        self.assertTrue(sending.wait(5))
        second = threading.Thread(target=reporter.report)
        second.start()
        second.join(0.2)
        self.assertTrue(second.is_alive())  # waits for the WATCH the first is sending
        release.set()
        first.join(5)
        second.join(5)
        self.assertEqual(len(done), 1)
        reporter.report()  # nothing new: returns at once
        self.assertEqual(len(done), 1)


if __name__ == "__main__":
    unittest.main()
