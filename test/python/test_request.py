"""The request flow around the WSGI call: REQUEST checks, finding the app."""

import os
import unittest

from pypages_worker import protocol
from pypages_worker.loader import load_script
from pypages_worker.protocol import ProtocolError
from pypages_worker.request import NotAPage, find_app, handle_request, parse_request
from pypages_worker.watch import WatchReporter

from fakes import FakeNode, TempRoot

GOOD = {"script": "/srv/www/a.py", "environ": {"PATH_INFO": "/"}, "body": True, "window": 10, "push": 4096,
        "details": True}


def payload(**changes):
    return protocol.dump_json(dict(GOOD, **changes))


class ParseRequest(unittest.TestCase):
    def test_accepts_a_well_formed_request(self):
        self.assertEqual(parse_request(payload()), GOOD)

    def test_push_defaults_to_none(self):
        request = dict(GOOD)
        del request["push"]
        self.assertEqual(parse_request(protocol.dump_json(request))["push"], 0)

    def test_details_defaults_to_false(self):
        request = dict(GOOD)
        del request["details"]
        self.assertIs(parse_request(protocol.dump_json(request))["details"], False)

    def test_rejects_bad_fields(self):
        for bad in ({"script": "relative.py"}, {"script": None}, {"environ": {"A": 1}},
                    {"environ": []}, {"body": "yes"}, {"window": -1}, {"window": True},
                    {"push": -1}, {"push": False}, {"push": "4096"}, {"details": 1}):
            with self.subTest(bad):
                with self.assertRaises(ProtocolError):
                    parse_request(payload(**bad))


class FindApp(TempRoot):
    def test_returns_the_callable(self):
        path = self.write("page.py", "def application(e, s):\n    return []\n")
        self.assertTrue(callable(find_app(path, self.root)))

    def test_helper_is_not_a_page_and_is_not_executed(self):
        marker = os.path.join(self.root, "marker")
        path = self.write("helper.py", "open(%r, 'w').close()\n" % marker)
        with self.assertRaises(NotAPage):
            find_app(path, self.root)
        self.assertFalse(os.path.exists(marker))

    def test_application_that_is_not_callable_is_not_a_page(self):
        with self.assertRaisesRegex(NotAPage, "not callable"):
            find_app(self.write("data.py", "application = 42\n"), self.root)

    def test_a_flask_app_named_app_gets_a_hint(self):
        with self.assertRaises(NotAPage) as caught:
            find_app(self.write("shop.py", "from flask import Flask\napp = Flask(__name__)\n"), self.root)
        self.assertIn("add `application = app`", caught.exception.hint)

    def test_missing_file_is_not_a_page(self):
        with self.assertRaises(NotAPage):
            find_app(os.path.join(self.root, "gone.py"), self.root)

    def test_import_errors_propagate(self):
        with self.assertRaises(ImportError):
            find_app(self.write("bad.py", "import no_such_module_x\napplication = 1\n"), self.root)

    def test_request_aborted_while_queued_never_calls_the_app(self):
        path = self.write("never.py", "CALLS = []\ndef application(e, s):\n    CALLS.append(1)\n")
        node = FakeNode()
        node.channel.on_abort()
        handle_request(node.channel, parse_request(payload(script=path)), self.root, False,
                       WatchReporter(self.root, node.send))
        self.assertEqual(node.terminal(), ("END", {"complete": False}))
        self.assertEqual(load_script(path).CALLS, [])


if __name__ == "__main__":
    unittest.main()
