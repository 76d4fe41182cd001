"""Entry point: ``python -u -m pypages_worker --root DIR --threads N``."""

import sys

from .main import main

if __name__ == "__main__":
    sys.exit(main())
