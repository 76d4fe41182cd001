"""What a development error page is told about an exception: frames, locals, syntax errors, missing modules,
and why a script is not a page."""

import json
import os
import sys

from pypages_worker import explain, loader
from pypages_worker.page_source import not_page_hint

from fakes import TempRoot


def raised(fn, *args):
    try:
        fn(*args)
    except BaseException as err:
        return err
    raise AssertionError("did not raise")


class Frames(TempRoot):
    def test_the_authors_frames_have_source_and_escaped_nothing_and_locals(self):
        path = self.write("page.py", "def application(e, s):\n    secret = '<script>' * 200\n    return 1 / 0\n")
        err = raised(loader.load_script(path, self.root).application, {}, None)
        frames = explain.details(err, self.root, frames=True)["frames"]
        self.assertEqual([f["function"] for f in frames], ["raised", "application"])  # the test's own, then the page
        page = frames[-1]
        self.assertEqual((page["file"], page["line"], page["first"]), (path, 3, 1))
        self.assertEqual(page["source"][2], "    return 1 / 0")
        self.assertLessEqual(len(page["locals"]["secret"]), explain.MAX_REPR)
        self.assertTrue(page["locals"]["secret"].startswith("'<script>"))  # escaping is the renderer's job
        json.dumps(frames)  # it goes in a JSON frame

    def test_a_failing_repr_is_reported_not_raised(self):
        class Bad:
            def __repr__(self):
                raise RuntimeError("no")
        self.assertIn("Bad", explain.local_reprs({"b": Bad()})["b"])

    def test_library_frames_are_marked(self):
        self.assertTrue(explain.is_library(json.__file__))
        self.assertTrue(explain.is_library("<frozen importlib._bootstrap>"))
        self.assertFalse(explain.is_library(os.path.join(self.root, "page.py")))

    def test_without_frames_only_the_type(self):
        self.assertEqual(explain.details(ValueError("x"), self.root), {"type": "ValueError"})


class Syntax(TempRoot):
    def test_the_place_of_a_syntax_error(self):
        path = self.write("bad.py", "def application(e, s)\n    return []\n")
        err = raised(loader.load_script, path, self.root)
        place = explain.details(err, self.root, frames=True)["syntax"]
        self.assertEqual((place["file"], place["line"]), (path, 1))
        self.assertEqual(place["text"], "def application(e, s)")
        self.assertGreater(place["offset"], 0)


class Missing(TempRoot):
    def test_names_the_interpreter_and_same_named_files_in_the_root(self):
        self.write("lib/helper.py", "X = 1\n")
        path = self.write("page.py", "import helper\n")
        err = raised(loader.load_script, path, self.root)
        missing = explain.details(err, self.root)["missing"]
        self.assertEqual(missing["module"], "helper")
        self.assertEqual(missing["python"], sys.executable)
        self.assertEqual(missing["local"], ["lib/helper.py"])
        self.assertIsInstance(missing["pip"], bool)

    def test_other_errors_have_no_missing_part(self):
        self.assertNotIn("missing", explain.details(ImportError("x"), self.root))


class AppPlace(TempRoot):
    def test_points_at_the_return_of_the_application(self):
        path = self.write("page.py", "def application(e, s):\n    s('200 OK', [])\n\n    return ['text']\n")
        app = loader.load_script(path, self.root).application
        self.assertEqual(explain.app_place(app), (path, 4, "application"))


class NotPageHints(TempRoot):
    def test_hints(self):
        cases = {
            "from flask import Flask\napp = Flask(__name__)\n": "a Flask app here",
            "print('Content-Type: text/html')\nprint()\nprint('<p>hi')\n": "like a CGI script",
            "def Application(environ, start_response):\n    pass\n": "case-sensitive",
            "def hello(environ, start_response):\n    pass\n": "add `application = hello`",
            "def main():\n    pass\nif __name__ == '__main__':\n    main()\n": "never runs them as __main__",
        }
        for source, expected in cases.items():
            with self.subTest(source):
                self.assertIn(expected, not_page_hint(source))

    def test_a_helper_module_gets_no_hint(self):
        self.assertEqual(not_page_hint("def helper():\n    print(1)\n"), "")
        self.assertEqual(not_page_hint("def broken(:\n"), "")
