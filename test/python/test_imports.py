"""The imported files and the stat recorded before each import read it."""

import importlib
import os
import py_compile
import shutil
import sys
import tempfile
import unittest

from pypages_worker import imports
from pypages_worker.loader import load_script
from pypages_worker.imports import watched_files

from fakes import TempRoot


class WatchedFiles(TempRoot):
    def test_lists_the_script_and_its_helper_and_nothing_outside(self):
        outside = tempfile.mkdtemp(prefix="pypages-outside-")
        self.addCleanup(shutil.rmtree, outside)
        with open(os.path.join(outside, "outside_for_watch.py"), "w") as f:
            f.write("Y = 2\n")
        sys.path.append(outside)
        helper = self.write("lib/helper_for_watch.py", "X = 1\n")
        script = self.write("lib/page.py", "import helper_for_watch, outside_for_watch, json\napplication = None\n")
        load_script(script, self.root)
        self.assertIn("outside_for_watch", sys.modules)
        files = watched_files(self.root)
        self.assertEqual([f[0] for f in files], sorted([helper, script]))
        for path, mtime_ns, size in files:
            st = os.stat(path)
            self.assertEqual((mtime_ns, size), (st.st_mtime_ns, st.st_size))

    def test_reports_the_stat_seen_before_the_import(self):
        script = self.write("seen.py", "X = 1\n")
        load_script(script, self.root)
        before = watched_files(self.root)
        self.write("seen.py", "X = 2  # edited after the import\n")
        self.assertEqual(watched_files(self.root), before)

    def test_a_module_run_from_its_pyc_keeps_the_stat_taken_before_the_read(self):
        # The .py itself is never opened: only stat'ed, to check the .pyc against it.
        helper = self.write("pyc_helper_for_watch.py", """
            FROM = "pyc"
            with open(__file__, "a") as f:
                f.write("# edited while it ran\\n")
            """)
        py_compile.compile(helper, doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        self.write("pyc_helper_for_watch.py", "FROM = 'source'\n")  # the .pyc is used all the same
        before = os.stat(helper)
        sys.path.insert(0, self.root)
        self.assertEqual(__import__("pyc_helper_for_watch").FROM, "pyc")
        self.assertNotEqual(os.stat(helper).st_size, before.st_size)
        self.assertEqual(watched_files(self.root), [[helper, before.st_mtime_ns, before.st_size]])

    def test_reading_a_module_as_data_before_its_import_records_nothing(self):
        helper = self.write("data_helper_for_watch.py", "X = 1\n")
        with open(helper, "rb") as f:  # e.g. a page showing its source, or linecache
            f.read()
        self.write("data_helper_for_watch.py", "X = 2  # edited before the import\n")
        sys.path.insert(0, self.root)
        __import__("data_helper_for_watch")
        st = os.stat(helper)
        self.assertEqual(watched_files(self.root), [[helper, st.st_mtime_ns, st.st_size]])


class OtherLoadersAreWatched(TempRoot):
    """Modules loaded without path_stats (a .pyc with no source) are recorded too."""

    def test_a_sourceless_pyc_module_is_recorded_before_it_runs(self):
        source = os.path.join(self.root, "onlypyc_src.py")
        with open(source, "w") as f:
            f.write("VALUE = 1\n")
        compiled = os.path.join(self.root, "onlypyc.pyc")
        py_compile.compile(source, cfile=compiled)
        os.remove(source)
        before = imports.recorded_count()
        sys.path.insert(0, self.root)
        try:
            importlib.import_module("onlypyc")
        finally:
            sys.path.remove(self.root)
            sys.modules.pop("onlypyc", None)
        paths, _ = imports.recorded_since(before)
        self.assertIn(compiled, paths)


if __name__ == "__main__":
    unittest.main()
