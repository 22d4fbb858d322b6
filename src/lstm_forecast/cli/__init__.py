"""The ``lstm-forecast`` command line: parses arguments, calls the library, prints with rich.

Heavy libraries (NumPy, matplotlib, torch) are imported inside the commands so that
``lstm-forecast --help`` answers at once. Layout: :mod:`.options` (shared flags) and
:mod:`.common` (the apps, the console, one-line errors) sit below the command modules
(:mod:`.demos`, :mod:`.backtest`, :mod:`.models`); this package imports them to register
their commands, and nothing imports it back.
"""

from __future__ import annotations

import typer
from rich.markup import escape

from . import backtest, demos, models  # noqa: F401  (register their commands)
from .common import app, console

__all__ = ["app", "main"]


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one yellow line of their text, not 'src/.../reader.py:270: DataWarning:'."""
    console.print(
        f"[yellow]warning:[/yellow] {escape(str(message))}",
        markup=True,
        highlight=False,
        soft_wrap=True,
    )


def main() -> None:
    """Entry point of the ``lstm-forecast`` console script: usage errors (a bad flag value, an
    unknown option) as one line like every other error, warnings as their text."""
    import sys
    import warnings

    warnings.showwarning = _show_warning
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        console.print("aborted")
        sys.exit(1)
    except typer.TyperException as exc:
        context = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and context is not None:
            console.print(context.get_help(), markup=False, highlight=False)
            sys.exit(2)
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        command = f" {context.command_path}" if context is not None else ""
        console.print(
            f"[red]error:[/red] {escape(message)} (see{command} --help)",
            markup=True,
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(getattr(exc, "exit_code", 2))
    sys.exit(code if isinstance(code, int) else 0)
