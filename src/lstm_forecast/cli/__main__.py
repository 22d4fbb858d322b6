"""``python -m lstm_forecast.cli``."""

from . import main

main()
