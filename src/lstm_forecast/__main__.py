"""``python -m lstm_forecast``: the same as the ``lstm-forecast`` command."""

from .cli import main

main()
