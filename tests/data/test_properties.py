"""Property tests: exact CSV round trips, and garbage gives a result or a DataError."""

import contextlib
import string

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstm_forecast.data import DataError, read_prices

prices = st.floats(min_value=1e-6, max_value=1e9, allow_nan=False, allow_infinity=False)
names = st.text(string.ascii_uppercase, min_size=1, max_size=5).filter(
    lambda s: s.lower() not in {"date", "time", "day", "name"}
)


@st.composite
def frames(draw):
    tickers = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    start = draw(st.integers(0, 20000))
    # daily data: consecutive dates a few days apart at most (weekly and coarser is refused)
    gaps = draw(st.lists(st.integers(1, 4), min_size=0, max_size=29))
    offsets = start + np.cumsum([0, *gaps])
    dates = pd.Timestamp("1970-01-01") + pd.to_timedelta(offsets, unit="D")
    data = {t: draw(st.lists(prices, min_size=len(dates), max_size=len(dates))) for t in tickers}
    return pd.DataFrame(data, index=pd.DatetimeIndex(dates, name="date"))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(frame=frames())
@pytest.mark.filterwarnings("ignore::lstm_forecast.data.DataWarning")  # random, not real, prices
def test_csv_round_trip_is_exact(tmp_path, frame):
    path = tmp_path / "f.csv"
    frame.to_csv(path)
    out = read_prices(path)
    pd.testing.assert_frame_equal(out, frame, check_exact=True, check_freq=False)


cells = st.one_of(
    st.text(max_size=8),
    prices.map(repr),
    st.sampled_from(
        ["", "nan", "inf", "-1", "0", "2020-01-02", "2020-13-01", "1e400", "1,5", "  "]
    ),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=st.lists(
        st.sampled_from(["date", "Date", "A", "close", "ticker", "x", ""]), min_size=0, max_size=4
    ),
    rows=st.lists(st.lists(cells, min_size=0, max_size=5), max_size=6),
)
def test_garbage_gives_a_frame_or_a_data_error(tmp_path, header, rows):
    path = tmp_path / "g.csv"
    path.write_text("\n".join([",".join(header), *(",".join(r) for r in rows)]))
    try:
        frame = read_prices(path)
    except DataError:
        return
    assert isinstance(frame.index, pd.DatetimeIndex) and frame.index.is_monotonic_increasing
    assert all(frame.dtypes == np.float64)


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(blob=st.binary(max_size=200))
def test_binary_garbage(tmp_path, blob):
    path = tmp_path / "b.csv"
    path.write_bytes(blob)
    with contextlib.suppress(DataError):
        read_prices(path)
