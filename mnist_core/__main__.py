"""`python -m mnist_core`: the command line (mnist_core/cli)."""

import sys

from mnist_core.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
