// Help for a page that failed because Python could not import a module. It
// names the interpreter pypages runs (often not the `python3` of the user's
// shell) and the exact command for it; it suggests the import path when a
// file of that name is in the site (pip would then install a stranger's
// package of that name); and it names a distribution only when it is known:
// pip install of a guessed name is how typosquatted packages get installed.

/**
 * Import names whose distribution is named otherwise. Each pair is what the
 * project's own install instructions say (pypi.org/project/NAME: "pip
 * install NAME", then "import MODULE"); a module not listed is not guessed.
 */
export const DISTRIBUTIONS: Readonly<Record<string, string>> = Object.freeze({
  yaml: 'PyYAML',
  bs4: 'beautifulsoup4',
  PIL: 'Pillow',
  cv2: 'opencv-python',
  sklearn: 'scikit-learn',
  skimage: 'scikit-image',
  dateutil: 'python-dateutil',
  dotenv: 'python-dotenv',
  jwt: 'PyJWT',
  serial: 'pyserial',
  Crypto: 'pycryptodome',
  OpenSSL: 'pyOpenSSL',
  docx: 'python-docx',
  pptx: 'python-pptx',
  attr: 'attrs',
  MySQLdb: 'mysqlclient',
  zmq: 'pyzmq',
  fitz: 'PyMuPDF',
  gi: 'PyGObject',
  magic: 'python-magic',
});

export interface MissingModule {
  module: string;
  /** The interpreter that ran the page. */
  python: string;
  pip: boolean;
  /** Same-named .py files or packages in the site, relative to its root. */
  local: string[];
}

/** The module named by "ModuleNotFoundError: No module named 'x'", or null. */
export function missingModuleName(message: string): string | null {
  return /^ModuleNotFoundError: No module named '([\w.]+)'/.exec(message)?.[1] ?? null;
}

/** What to do about a missing module, for the terminal and the development page (paths and commands included). */
export function moduleHelp(m: MissingModule): string[] {
  const top = m.module.split('.')[0];
  const lines = [`The page imports '${m.module}', which the Python pypages runs it with (${m.python}) cannot find.`];
  if (m.local.length) return [...lines, ...localHelp(top, m.local)];
  const dist = DISTRIBUTIONS[top];
  const install = `${m.python} -m pip install ${dist ?? top}`;
  if (!m.pip) lines.push(`This Python has no pip: install '${dist ?? top}' with your system's package manager for it,`);
  else if (dist) lines.push(`Install it for that Python: ${install}   ('${top}' comes from the package ${dist})`);
  else
    lines.push(
      `If '${top}' is a package from PyPI, install it for that Python: ${install}`,
      `(check the package's own documentation first: an import name is not always its package name, and a look-alike name can be someone else's)`,
    );
  lines.push(
    `${m.pip ? 'Or' : 'or'} start pypages with --python set to a Python or virtualenv that has it (e.g. --python /usr/bin/python3, --python ./venv).`,
  );
  return lines;
}

function localHelp(top: string, local: string[]): string[] {
  const found = local.map((p) => `'${p}'`).join(', ');
  const folder = local[0].includes('/') ? local[0].slice(0, local[0].replace(/\/$/, '').lastIndexOf('/')) : '';
  return [
    `'${top}' is a file in your site (${found}), not a package to install: do not pip-install it.`,
    folder
      ? `A page imports modules from its own folder: move it next to the page, import it by its path (from ${folder.replaceAll('/', '.')} import ${top}, with an __init__.py in ${folder}/), or add its folder to python-path (--python-path ${folder}).`
      : `A page imports modules from its own folder; this page is in another one: move '${top}' next to it, or add the site's root to python-path (--python-path .).`,
  ];
}

/** The note the error page shows for a missing module outside development mode: no path, no command. */
export function safeModuleNote(module: string): string {
  return `The page needs the Python module '${module}', which is not installed for the Python that pypages runs it with. The server's log says which Python, and how to install it.`;
}
