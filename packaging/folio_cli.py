"""Entry point of the bundled ``folio-cli`` executable."""

import sys

from desktop.cli import main

sys.exit(main())
