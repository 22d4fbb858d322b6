"""The one exception type for bad price data, and the warning for repaired data."""


class DataError(ValueError):
    """Price data that cannot be used as given.

    The message names the file, the row or date, the column, and what to do about it.
    """


class DataWarning(UserWarning):
    """Price data that was repaired (for example short gaps forward-filled)."""
