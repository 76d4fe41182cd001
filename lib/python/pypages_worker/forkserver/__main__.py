"""Entry point: ``python -u -m pypages_worker.forkserver --socket PATH [--preload MODULE]...``."""

import sys

from .main import main

if __name__ == "__main__":
    sys.exit(main())
