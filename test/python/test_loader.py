"""Script import: unique module names, sibling imports, caching."""

import os
import sys
import unittest

from pypages_worker import loader
from pypages_worker.loader import load_script

from fakes import TempRoot


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


if __name__ == "__main__":
    unittest.main()
