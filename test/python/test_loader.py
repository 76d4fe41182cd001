"""Page detection without execution, script import, and the watched files."""

import importlib
import os
import py_compile
import shutil
import sys
import tempfile
import unittest

from pypages_worker import loader
from pypages_worker.loader import is_page_source, load_script, watched_files

from fakes import TempRoot

PAGES = {
    "def": "def application(environ, start_response):\n    pass\n",
    "async def": "async def application(scope, receive, send):\n    pass\n",
    "class": "class application:\n    pass\n",
    "assignment": "application = make_app()\n",
    "chained assignment": "app = application = make_app()\n",
    "tuple unpacking": "application, other = make()\n",
    "list unpacking": "[first, application] = make()\n",
    "starred unpacking": "first, *application = make()\n",
    "annotated assignment": "application: object = make()\n",
    "augmented assignment": "application += wrap\n",
    "walrus": "(application := make())\n",
    "import as": "import myapp as application\n",
    "import": "import application\n",
    "from import": "from myapp import application\n",
    "from import as": "from myapp import app as application\n",
    "star import": "from myapp import *\n",
    "for target": "for application in apps:\n    pass\n",
    "with as": "with make() as application:\n    pass\n",
    "except as": "try:\n    pass\nexcept Exception as application:\n    pass\n",
    "if": "if DEBUG:\n    application = debug_app\n",
    "else": "if DEBUG:\n    pass\nelse:\n    from prod import application\n",
    "elif": "if a:\n    pass\nelif b:\n    application = x\n",
    "try body": "try:\n    from fast import application\nexcept ImportError:\n    pass\n",
    "except body": "try:\n    pass\nexcept ImportError:\n    def application(e, s): pass\n",
    "try else": "try:\n    pass\nexcept Exception:\n    pass\nelse:\n    application = x\n",
    "finally": "try:\n    pass\nfinally:\n    application = x\n",
    "with body": "with lock:\n    application = x\n",
    "nested if in try": "try:\n    if x:\n        application = y\nfinally:\n    pass\n",
    "while body": "while True:\n    application = x\n    break\n",
    "global in a function": "def setup():\n    global application\n    application = x\nsetup()\n",
    "walrus in a comprehension": "[(application := f) for f in fs]\n",
}

NOT_PAGES = {
    "helper module": "def helper():\n    return 42\n\nVALUE = 1\n",
    "empty file": "",
    "inside a function": "def make():\n    application = 1\n    return application\n",
    "inside a class": "class App:\n    application = None\n    def application(self): pass\n",
    "inside a method": "class App:\n    def run(self):\n        from x import application\n",
    "inside a lambda": "f = lambda application: application\n",
    "function parameter": "def f(application):\n    return application\n",
    "comprehension target": "apps = [application for application in range(3)]\n",
    "annotation only": "application: object\n",
    "only read": "print(application)\n",
    "deleted": "del application\n",
    "attribute": "app.application = 1\n",
    "submodule import": "import myapp.application\n",
    "other name imported": "from application import app\n",
    "string": "'application = 1'\n",
}


class IsPageSource(unittest.TestCase):
    def test_every_binding_form_is_a_page(self):
        for name, source in PAGES.items():
            with self.subTest(name):
                self.assertTrue(is_page_source(source), source)

    def test_bindings_that_are_not_module_level_are_not_pages(self):
        for name, source in NOT_PAGES.items():
            with self.subTest(name):
                self.assertFalse(is_page_source(source), source)

    def test_bytes_with_a_coding_cookie(self):
        source = "# -*- coding: latin-1 -*-\nname = 'caf\xe9'\napplication = 1\n".encode("latin-1")
        self.assertTrue(is_page_source(source))

    @unittest.skipIf(sys.version_info < (3, 10), "match statements need Python 3.10")
    def test_match_capture(self):
        self.assertTrue(is_page_source("match x:\n    case [application]:\n        pass\n"))

    def test_syntax_error_propagates(self):
        with self.assertRaises(SyntaxError):
            is_page_source("def application(:\n")

    def test_the_source_is_not_executed(self):
        self.assertTrue(is_page_source("raise SystemExit('executed')\napplication = 1\n"))


class LoadScript(TempRoot):
    def test_same_basename_in_two_folders_gives_two_modules(self):
        a = load_script(self.write("a/index.py", "WHO = 'a'\n"), self.root)
        b = load_script(self.write("b/index.py", "WHO = 'b'\n"), self.root)
        self.assertNotEqual(a.__name__, b.__name__)
        self.assertEqual((a.WHO, b.WHO), ("a", "b"))
        self.assertIs(sys.modules[a.__name__], a)

    def test_not_main_and_file_set(self):
        path = self.write("page.py", "NAME = __name__\nFILE = __file__\n")
        module = load_script(path, self.root)
        self.assertNotEqual(module.NAME, "__main__")
        self.assertTrue(module.NAME.startswith("_pypages_page_"))
        self.assertEqual(module.FILE, path)

    def test_sibling_import_works_and_folder_is_on_sys_path_once(self):
        self.write("site/helper_for_sibling.py", "VALUE = 41\n")
        path = self.write("site/page.py", "import helper_for_sibling\nVALUE = helper_for_sibling.VALUE + 1\n")
        self.assertEqual(load_script(path, self.root).VALUE, 42)
        self.write("site/other.py", "X = 1\n")
        load_script(os.path.join(self.root, "site/other.py"), self.root)
        self.assertEqual(sys.path.count(os.path.join(self.root, "site")), 1)
        self.assertEqual(sys.path[0], os.path.join(self.root, "site"))

    def test_module_state_persists_between_calls(self):
        path = self.write("counter.py", "COUNT = 0\n")
        load_script(path, self.root).COUNT += 1
        self.assertIs(load_script(path, self.root), load_script(path, self.root))
        self.assertEqual(load_script(path, self.root).COUNT, 1)
        self.assertTrue(loader.is_loaded(path))

    def test_one_module_whichever_way_the_path_is_spelt(self):
        path = self.write("sub/spelt.py", "X = 1\n")
        odd = os.path.join(self.root, "sub", ".", "..", "sub", "spelt.py")
        self.assertFalse(loader.is_loaded(odd))
        module = load_script(odd, self.root)
        self.assertTrue(loader.is_loaded(path) and loader.is_loaded(odd))
        self.assertIs(load_script(path, self.root), module)
        self.assertIs(load_script(odd), module)

    def test_failed_import_is_not_cached(self):
        path = self.write("broken.py", "raise RuntimeError('boom')\n")
        with self.assertRaisesRegex(RuntimeError, "boom"):
            load_script(path, self.root)
        self.assertFalse(loader.is_loaded(path))
        self.assertNotIn(loader.module_name(path, self.root), sys.modules)
        self.write("broken.py", "OK = True\n")
        self.assertTrue(load_script(path, self.root).OK)


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


if __name__ == "__main__":
    unittest.main()


class OtherLoadersAreWatched(TempRoot):
    """Modules loaded without path_stats (a .pyc with no source) are recorded too."""

    def test_a_sourceless_pyc_module_is_recorded_before_it_runs(self):

        source = os.path.join(self.root, "onlypyc_src.py")
        with open(source, "w") as f:
            f.write("VALUE = 1\n")
        compiled = os.path.join(self.root, "onlypyc.pyc")
        py_compile.compile(source, cfile=compiled)
        os.remove(source)
        before = loader.recorded_count()
        sys.path.insert(0, self.root)
        try:
            importlib.import_module("onlypyc")
        finally:
            sys.path.remove(self.root)
            sys.modules.pop("onlypyc", None)
        paths, _ = loader.recorded_since(before)
        self.assertIn(compiled, paths)
