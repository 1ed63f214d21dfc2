"""``python -m lossref.watch [--strict] [--lang zh] [--level info] [--calls N] SCRIPT [ARGS…]``."""

import sys

if __name__ == "__main__":      # not when a doctest collector imports this module
    from lossref.watch import main

    sys.exit(main())
