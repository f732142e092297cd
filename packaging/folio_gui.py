"""Entry point of the bundled ``folio`` executable: the window."""

import sys

from desktop.app import run_window

sys.exit(run_window())
