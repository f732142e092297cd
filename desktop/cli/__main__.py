"""``python -m desktop.cli``: the same as ``folio-cli``."""

import sys

from desktop.cli import main

sys.exit(main())
