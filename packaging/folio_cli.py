"""Entry point of the bundled ``folio-cli`` executable."""

import sys

from desktop.folio_cli import main

sys.exit(main())
