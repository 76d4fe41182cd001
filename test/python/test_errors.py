"""The ERROR kinds: the same closed set as lib/worker/protocol.md's table;
exceptions described for the page's author."""

import os
import re
import unittest

from pypages_worker import errors

from fakes import PACKAGE_PARENT

SPEC = os.path.join(os.path.dirname(PACKAGE_PARENT), "worker", "protocol.md")


def spec_kinds():
    """{kind: status} from the table under "## ERROR kinds" in lib/worker/protocol.md."""
    with open(SPEC) as f:
        text = f.read()
    section = text.split("\n## ERROR kinds\n", 1)[1].split("\n## ", 1)[0]
    return {kind: int(status) for kind, status in re.findall(r"^\| `([a-z-]+)` +\| (\d{3}) +\|", section, re.M)}


def caught_inside_the_package(fail):
    """Call fail() from a frame whose file is in the package, as the worker calls a page; return what it raised."""
    namespace = {}
    inside = os.path.join(PACKAGE_PARENT, "pypages_worker", "caller.py")
    exec(compile("def call(f):\n    try:\n        f()\n    except Exception as err:\n        return err\n",
                 inside, "exec"), namespace)
    return namespace["call"](fail)


class Kinds(unittest.TestCase):
    def test_the_spec_lists_exactly_these_kinds_with_these_statuses(self):
        self.assertEqual(spec_kinds(), errors.STATUS)

    def test_the_names_are_the_kinds(self):
        self.assertEqual({errors.NOT_PAGE, errors.NOT_CALLABLE, errors.LOAD, errors.APP, errors.PROTOCOL},
                         errors.KINDS)


class Describe(unittest.TestCase):
    def test_message_is_the_exception_line(self):
        def page():
            raise ValueError("bad value")
        message, _ = errors.describe(caught_inside_the_package(page))
        self.assertEqual(message, "ValueError: bad value")

    def test_the_packages_own_frames_on_top_are_left_out(self):
        def page():
            raise KeyError("k")
        _, text = errors.describe(caught_inside_the_package(page))
        self.assertNotIn("caller.py", text)
        lines = text.splitlines()
        self.assertEqual(lines[0], "Traceback (most recent call last):")
        self.assertIn(os.path.basename(__file__), lines[1])  # the first frame is the page's
        self.assertTrue(lines[1].endswith(", in page"), lines[1])


if __name__ == "__main__":
    unittest.main()
