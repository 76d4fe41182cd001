// Help for a missing module: the interpreter and the exact command, a local file before pip, known names only.
import { describe, expect, it } from 'vitest';
import { DISTRIBUTIONS, missingModuleName, moduleHelp, safeModuleNote } from '../../../lib/http/module-help.js';

const base = { python: '/opt/py/bin/python3', pip: true, local: [] as string[] };

describe('moduleHelp', () => {
  it('names the interpreter and the distribution of a known import name', () => {
    const help = moduleHelp({ ...base, module: 'yaml.loader' }).join('\n');
    expect(help).toContain('(/opt/py/bin/python3)');
    expect(help).toContain('/opt/py/bin/python3 -m pip install PyYAML');
    expect(help).not.toMatch(/python3-yaml|apt/);
  });

  it('stays generic for an unknown name, and warns that the names may differ', () => {
    const help = moduleHelp({ ...base, module: 'requests_not_there' }).join('\n');
    expect(help).toContain('/opt/py/bin/python3 -m pip install requests_not_there');
    expect(help).toContain("check the package's own documentation first");
    expect(help).not.toContain('python3-requests');
  });

  it('says when this Python has no pip', () => {
    const help = moduleHelp({ ...base, pip: false, module: 'bs4' }).join('\n');
    expect(help).toContain('This Python has no pip');
    expect(help).not.toContain('-m pip install');
  });

  it('suggests the import path, never pip, for a same-named file in the site', () => {
    const help = moduleHelp({ ...base, module: 'helper', local: ['lib/helper.py'] }).join('\n');
    expect(help).toContain("'lib/helper.py'");
    expect(help).toContain('from lib import helper');
    expect(help).toContain('--python-path lib');
    expect(help).not.toContain('-m pip install');
  });

  it('maps the usual import names to their distributions', () => {
    expect(DISTRIBUTIONS).toMatchObject({
      bs4: 'beautifulsoup4',
      PIL: 'Pillow',
      cv2: 'opencv-python',
      sklearn: 'scikit-learn',
    });
  });
});

describe('missingModuleName and safeModuleNote', () => {
  it('reads the module from the message only for ModuleNotFoundError', () => {
    expect(missingModuleName("ModuleNotFoundError: No module named 'yaml.loader'")).toBe('yaml.loader');
    expect(missingModuleName('ImportError: cannot import name x')).toBeNull();
    expect(missingModuleName("KeyError: 'No module named x'")).toBeNull();
  });

  it('outside development mode, names the module but no path and no command', () => {
    const note = safeModuleNote('flask');
    expect(note).toContain("'flask'");
    expect(note).not.toMatch(/\/|pip/);
  });
});
