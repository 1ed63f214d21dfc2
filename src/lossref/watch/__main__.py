"""``python -m lossref.watch [--strict] [--lang zh] [--level info] [--calls N] SCRIPT [ARGS…]``."""

import sys

from lossref.watch import main

sys.exit(main())
