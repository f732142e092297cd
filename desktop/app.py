"""The composition root: settings, then services, then (for ``folio``) the window.

``run_window`` is the only place that wires the window to the services; the services
themselves live in ``desktop.services`` and import no UI.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

from desktop import __version__
from desktop.core.errors import FolioError
from desktop.core.library.channel import ChannelServer, Reply
from desktop.services import (
    Services,
    build_services,
    freeze_long_lived_objects,
    log_to_data_folder,
)

log = logging.getLogger(__name__)


def run_window(
    argv: list[str] | None = None,
    answer: Callable[[Services, list[str]], Reply] | None = None,
) -> int:
    """``folio``: the window on the user's library.

    With ``answer`` (``desktop.cli.answer``), the window runs read-only ``folio-cli``
    commands that other processes send it while it has the library open.
    """

    parser = argparse.ArgumentParser(prog="folio", description="Chat with your documents.")
    parser.add_argument("--version", action="version", version=f"folio {__version__}")
    parser.add_argument("--home", help="data folder (default: $FOLIO_HOME or the platform's)")
    parser.add_argument(
        "--self-test",
        metavar="PNG",
        help="open the window, wait for start-up work, save a screenshot to PNG and quit",
    )
    args = parser.parse_args(argv)

    # Imported on first use: it loads httpx, which takes a while.
    from desktop.ui import messages
    from desktop.ui.collector import UiThreadCollector
    from desktop.ui.main_window import MainWindow, app_icon
    from desktop.ui.qt import QApplication, QTimer

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("Folio")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(app_icon())
    # Background work must never collect a cycle that holds a widget: Qt would crash.
    UiThreadCollector(parent=app)
    services: Services | None = None
    try:
        services = build_services(args.home)
        services.claim()  # before the log file is opened: a refused window writes nothing
        log_to_data_folder(services.home)
        services.store  # noqa: B018  (open it now: a second instance is told at once)
        window = MainWindow(services)  # it opens the chats and the library's databases
    except (FolioError, sqlite3.Error, OSError) as exc:
        # A database that cannot be read or written stops the window before it is shown:
        # said in a box, never only as a traceback nobody sees.
        # INFO: kept in folio.log once it is open, never printed as a traceback before then.
        log.info("The window cannot open", exc_info=exc)
        text = messages.failure_text(exc, services.home if services is not None else None)
        if args.self_test:  # nobody is there to close a dialog: said on the terminal
            print(f"folio: {exc if isinstance(exc, FolioError) else text}", file=sys.stderr)
        else:
            messages.show_critical(text)
        if services is not None:
            services.close()
        return 1
    channel = None
    if answer is not None:
        try:
            channel = ChannelServer(services.home, lambda line: answer(services, line))
        except OSError:
            # The window works without it: folio-cli is then told the library is in use.
            log.warning("folio-cli cannot ask this window (no channel)", exc_info=True)
    sys.excepthook = window.excepthook
    freeze_long_lived_objects()
    window.show()
    # SIGTERM (a logout, `kill`) closes the window as its close button does, so background
    # work stops at a safe point and the library is closed cleanly. Python runs signal
    # handlers only between bytecodes: the timer gives it that chance inside Qt's loop.
    signal.signal(signal.SIGTERM, lambda *_: window.close())
    wake = QTimer(window)
    wake.timeout.connect(lambda: None)
    wake.start(250)
    QTimer.singleShot(0, window.library.sync)  # pick up what changed while Folio was closed
    if args.self_test:
        # Imported on first use: it loads httpx, which takes a while.
        from desktop.ui.self_test import run_self_test

        run_self_test(window, Path(args.self_test))
    try:
        return app.exec()
    finally:
        sys.excepthook = sys.__excepthook__  # the window it reported to is closing
        if channel is not None:
            channel.close()
        services.close()
