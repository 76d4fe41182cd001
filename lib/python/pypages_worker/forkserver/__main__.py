"""Entry point: ``python -u -m pypages_worker.forkserver --socket PATH [--preload MODULE]...``.

The zygote is Node's child: it dies with Node (lifeline.py), set first, even
before the imports that take most of its start.
"""

import sys

from ..lifeline import die_with_parent


if __name__ == "__main__":
    die_with_parent()
    from .main import main
    sys.exit(main())
