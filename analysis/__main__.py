"""``python -m analysis``: see :mod:`analysis.commands`."""

import sys

from analysis.commands import main

if __name__ == "__main__":
    sys.exit(main())
