"""Page detection from the syntax tree, without execution."""

import sys
import unittest

from pypages_worker.page_source import is_page_source

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


if __name__ == "__main__":
    unittest.main()
