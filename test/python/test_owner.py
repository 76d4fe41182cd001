"""owner.py: whose files a tenant's worker may import, on real temporary files; and
main.enter_folder, the other half of what a worker started as a user does itself.

The rule is given as an argument (uid, server_gid): the process's own uid as
the tenant, a gid of its own as the server's group. As root, a file given to
another uid is refused too.
"""

import os
import sys
import tempfile
import unittest
from unittest import mock

from pypages_worker import errors, loader, main, owner, request

ME = os.getuid()
SERVER_GID = 4343


class ParseTest(unittest.TestCase):
    def test_value(self):
        self.assertEqual(owner.parse("1001 33"), (1001, 33))
        for bad in (None, "", "1001", "a b", "1 2 3"):
            self.assertIsNone(owner.parse(bad), bad)


class RefusalTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(dir=self.safe_tmp())
        self.addCleanup(self.remove)
        self.page = os.path.join(self.dir, "page.py")
        with open(self.page, "w") as f:
            f.write("application = None\n")
        os.chmod(self.page, 0o644)
        os.chmod(self.dir, 0o755)

    def safe_tmp(self):
        # a folder every ancestor of which is root's or ours and written by no one else (or sticky)
        return tempfile.gettempdir()

    def remove(self):
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)

    def refusal(self, path):
        return owner.refusal_under((ME, SERVER_GID), path)

    def test_no_rule_imports_anything(self):
        os.chmod(self.page, 0o666)
        self.assertIsNone(owner.refusal_under(None, self.page))

    def test_own_file_in_own_folders(self):
        self.assertIsNone(self.refusal(self.page))
        self.assertIsNone(self.refusal(self.dir))

    def test_writable_by_everyone(self):
        os.chmod(self.page, 0o646)
        self.assertIn("is writable by everyone", self.refusal(self.page))
        os.chmod(self.page, 0o644)
        os.chmod(self.dir, 0o757)
        self.assertIn("%s is writable by everyone" % self.dir, self.refusal(self.page))

    def test_sticky_folder_is_fine(self):
        os.chmod(self.dir, 0o1777)
        self.assertIsNone(self.refusal(self.page))

    def test_writable_by_the_server_group(self):
        if os.getuid() != 0:
            self.skipTest("needs root to give a file to another group")
        os.chown(self.page, ME, SERVER_GID)
        os.chmod(self.page, 0o664)
        self.assertIn("writable by the server's group", self.refusal(self.page))
        os.chown(self.page, ME, SERVER_GID + 1)
        self.assertIsNone(self.refusal(self.page))

    def test_another_users_file_or_folder(self):
        if os.getuid() != 0:
            self.skipTest("needs root to give a file away")
        os.chown(self.page, 4242, 4242)
        self.assertIn("belongs to uid 4242", self.refusal(self.page))
        os.chown(self.page, 0, 0)
        os.chown(self.dir, 4242, 4242)
        self.assertIn("%s belongs to uid 4242" % self.dir, self.refusal(self.page))
        os.chown(self.dir, 0, 0)

    def test_a_link_counts_by_what_it_leads_to(self):
        link = os.path.join(self.dir, "link.py")
        os.symlink("/etc/passwd", link)  # root's and not writable: fine
        self.assertIsNone(self.refusal(link))
        os.unlink(link)
        if os.getuid() == 0:
            os.chown(self.page, 4242, 4242)
            os.symlink(self.page, link)
            self.assertIn("page.py: ", self.refusal(link))

    def test_missing_file(self):
        self.assertIn("No such file", self.refusal(os.path.join(self.dir, "gone.py")))


class LoaderTest(unittest.TestCase):
    def test_a_refused_script_is_not_imported(self):
        with tempfile.TemporaryDirectory() as d:
            os.chmod(d, 0o755)
            path = os.path.join(d, "evil.py")
            with open(path, "w") as f:
                f.write("import sys\nsys.evil_ran = True\n")
            os.chmod(path, 0o666)
            with mock.patch.object(owner, "RULE", (ME, SERVER_GID)):
                with self.assertRaises(PermissionError) as caught:
                    loader.load_script(path)
            self.assertIn("writable by everyone", str(caught.exception))
            self.assertFalse(getattr(sys, "evil_ran", False))

    def test_refused_import_folders_are_left_out(self):
        with tempfile.TemporaryDirectory() as good, tempfile.TemporaryDirectory() as bad:
            os.chmod(good, 0o755)
            os.chmod(bad, 0o777)
            with mock.patch.object(owner, "RULE", (ME, SERVER_GID)), mock.patch.object(main, "log") as log:
                self.assertEqual(main.importable([good, bad]), [good])
            self.assertIn("--python-path %s left out" % bad, log.call_args[0][0])


class UnreadTest(unittest.TestCase):
    def test_a_refused_file_is_not_even_parsed(self):
        # review-pd2 F5: its first line that is not Python came back in the SyntaxError's traceback
        if os.getuid() != 0:
            self.skipTest("needs root to give a file away")
        with tempfile.TemporaryDirectory() as d:
            os.chmod(d, 0o755)
            path = os.path.join(d, "netrc")
            with open(path, "w") as f:
                f.write("machine example.com login bob password s3cretPW\n")
            os.chown(path, 4242, 4242)
            with mock.patch.object(owner, "RULE", (ME, SERVER_GID)):
                with self.assertRaises(PermissionError) as caught:
                    request.find_app(path)
            self.assertNotIn("s3cretPW", "".join(errors.describe(caught.exception)))


class LinkedPathTest(unittest.TestCase):
    """A path through a link in a folder someone else may write (review-pd2 F2): what is imported,
    and the folder put on sys.path, are those checked, not names that other user can re-point."""

    def setUp(self):
        if os.getuid() != 0:
            self.skipTest("needs root to give a folder to another uid")
        self.own = tempfile.mkdtemp()
        self.other = tempfile.mkdtemp()  # the server's folder: another uid's
        os.chmod(self.own, 0o755)
        os.chmod(self.other, 0o755)
        self.addCleanup(self.cleanup)
        self.page = os.path.join(self.own, "page.py")
        with open(self.page, "w") as f:
            f.write("import rv_sibling_f2\napplication = None\n")
        with open(os.path.join(self.other, "rv_sibling_f2.py"), "w") as f:
            f.write("import sys\nsys.rv_f2_ran = True\n")
        self.link = os.path.join(self.other, "link.py")
        os.symlink(self.page, self.link)
        os.chown(self.other, 4242, 4242)
        path = list(sys.path)
        self.addCleanup(setattr, sys, "path", path)

    def cleanup(self):
        import shutil
        for d in (self.own, self.other):
            shutil.rmtree(d)
        sys.modules.pop("rv_sibling_f2", None)
        if hasattr(sys, "rv_f2_ran"):
            del sys.rv_f2_ran

    def test_the_other_users_folder_is_not_searched(self):
        with mock.patch.object(owner, "RULE", (ME, SERVER_GID)):
            with self.assertRaises(ImportError):  # the sibling is not next to the real page
                loader.load_script(self.link)
        self.assertFalse(getattr(sys, "rv_f2_ran", False), "a module of the other user's folder ran")
        self.assertNotIn(self.other, sys.path)

    def test_an_import_folder_is_kept_by_its_real_name(self):
        link = os.path.join(self.other, "lib")
        os.symlink(self.own, link)
        with mock.patch.object(owner, "RULE", (ME, SERVER_GID)):
            self.assertEqual(main.importable([link]), [os.path.realpath(self.own)])


class ForkedEnvironmentTest(unittest.TestCase):
    """A forked worker's variables come from the HTTP side: the vetted ones pass only as the fork server started."""

    def test_vetted_names_need_the_start_value(self):
        started = {"LD_LIBRARY_PATH": "/opt/oracle/lib", "HOME": "/home/alice"}
        env = {"LD_LIBRARY_PATH": "/opt/oracle/lib", "LD_PRELOAD": "/tmp/x.so", "HOME": "/tmp/www",
               "GIT_SSH_COMMAND": "sh /tmp/x", "PERL5OPT": "-Mx", "NODE_OPTIONS": "--require /tmp/x",
               "XDG_CONFIG_HOME": "/tmp", "APP_MODE": "prod", "DATABASE_URL": "x"}
        self.assertEqual(owner.env_refusal(env, (1001, 33), started),
                         ["GIT_SSH_COMMAND", "HOME", "LD_PRELOAD", "NODE_OPTIONS", "PERL5OPT", "XDG_CONFIG_HOME"])

    def test_no_rule_no_refusal(self):
        self.assertEqual(owner.env_refusal({"LD_PRELOAD": "/tmp/x.so"}, (), {}), [])

    def test_umask_never_lets_everyone_write(self):
        self.assertEqual(owner.umask_under_rule(0o000, (1001, 33)), 0o002)
        self.assertEqual(owner.umask_under_rule(0o027, (1001, 33)), 0o027)
        self.assertIsNone(owner.umask_under_rule(None, (1001, 33)))
        self.assertEqual(owner.umask_under_rule(0o000, ()), 0o000)


class EnterFolderTest(unittest.TestCase):
    """main.enter_folder: the folder the launcher names is entered by the worker itself."""

    def setUp(self):
        here = os.getcwd()
        self.addCleanup(os.chdir, here)

    def test_enters_and_forgets_the_variable(self):
        with tempfile.TemporaryDirectory() as d, mock.patch.dict(os.environ, {main.FOLDER_VARIABLE: d}):
            self.assertTrue(main.enter_folder())
            self.assertEqual(os.path.realpath(os.getcwd()), os.path.realpath(d))
            self.assertNotIn(main.FOLDER_VARIABLE, os.environ)

    def test_no_variable_stays(self):
        here = os.getcwd()
        with mock.patch.dict(os.environ, {}, clear=False):
            os.environ.pop(main.FOLDER_VARIABLE, None)
            self.assertTrue(main.enter_folder())
        self.assertEqual(os.getcwd(), here)

    def test_a_folder_it_cannot_enter_is_logged(self):
        with mock.patch.dict(os.environ, {main.FOLDER_VARIABLE: "/nonexistent/x"}), \
                mock.patch.object(main, "log") as log:
            self.assertFalse(main.enter_folder())
        self.assertIn("cannot enter the folder /nonexistent/x", log.call_args[0][0])


if __name__ == "__main__":
    unittest.main()
