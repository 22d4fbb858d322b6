"""read_prices: the three layouts, the embedded datasets, and every documented error."""

import warnings

import numpy as np
import pandas as pd
import pytest

from lstm_forecast.data import DataError, DataWarning, check_history, read_prices
from lstm_forecast.data.ohlcv import ohlcv_of


def write(tmp_path, text, name="prices.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_embedded_sp500_is_ohlcv_with_adjusted_close():
    frame = read_prices("sp500")
    assert list(frame.columns) == ["SP500"] and len(frame) == 5031
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    assert frame.index[0] == pd.Timestamp("1999-01-04")
    ohlcv = ohlcv_of(frame)
    assert list(ohlcv.columns) == ["open", "high", "low", "close", "adj_close", "volume"]
    np.testing.assert_array_equal(frame["SP500"], ohlcv["adj_close"])


def test_embedded_stocks_and_index():
    frame = read_prices("sp500-stocks", tickers=["AAPL", "SP500"])
    assert list(frame.columns) == ["AAPL", "SP500"] and len(frame) == 8313
    assert frame.loc["1990-01-02", "SP500"] == 359.69


def test_wide_layout_case_insensitive_and_sorted(tmp_path):
    path = write(tmp_path, "DATE,aaa,bbb\n2020-01-03,2,20\n2020-01-02,1,10\n")
    frame = read_prices(path)
    assert list(frame.columns) == ["aaa", "bbb"]
    assert list(frame["aaa"]) == [1.0, 2.0]


def test_long_layout(tmp_path):
    path = write(
        tmp_path,
        "Date,Symbol,Close\n2020-01-02,A,1\n2020-01-02,B,5\n2020-01-03,A,2\n2020-01-03,B,6\n",
    )
    frame = read_prices(path)
    assert list(frame.columns) == ["A", "B"] and frame.loc["2020-01-03", "B"] == 6


def test_single_ticker_download_prefers_adjusted_close(tmp_path):
    path = write(
        tmp_path,
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2020-01-02,1,2,0.5,1.5,1.4,100\n2020-01-03,1,2,0.5,1.6,1.5,0\n",
        name="AAPL.csv",
    )
    frame = read_prices(path)
    assert list(frame.columns) == ["AAPL"] and list(frame["AAPL"]) == [1.4, 1.5]
    assert ohlcv_of(frame)["volume"].iloc[1] == 0


def test_thousands_separators_and_semicolons(tmp_path):
    path = write(tmp_path, 'date;A;B\n2020-01-02;"1,234.5";7\n')
    frame = read_prices(path)
    assert frame.loc["2020-01-02", "A"] == 1234.5 and frame.loc["2020-01-02", "B"] == 7


def test_decimal_comma_is_an_error_not_a_guess(tmp_path):
    with pytest.raises(DataError, match=r"line 2: '1,5'.*not a number"):
        read_prices(write(tmp_path, 'date,A\n2020-01-02,"1,5"\n'))


def test_overrides(tmp_path):
    path = write(tmp_path, "when,who,px,other\n2020-01-02,A,1,9\n2020-01-03,A,2,9\n")
    frame = read_prices(path, date_col="WHEN", ticker_col="who", price_col="px")
    assert list(frame.columns) == ["A"] and list(frame["A"]) == [1.0, 2.0]


def test_parquet(tmp_path):
    frame = pd.DataFrame({"date": pd.to_datetime(["2020-01-02", "2020-01-03"]), "X": [1.0, 2.5]})
    frame.to_parquet(tmp_path / "p.parquet")
    out = read_prices(tmp_path / "p.parquet")
    assert list(out["X"]) == [1.0, 2.5]
    frame["x"] = [1.0, 2.0]  # 'X' and 'x': one ticker written two ways, or two? asked
    frame.to_parquet(tmp_path / "q.parquet")
    with pytest.raises(DataError, match="named 'X' and 'x', one name when case is ignored"):
        read_prices(tmp_path / "q.parquet")


@pytest.mark.parametrize("kind", ["csv", "xlsx", "parquet"])
def test_a_frame_saved_by_pandas_reads_back(tmp_path, kind):
    """prices.to_csv() (to_excel, to_parquet) of a frame on an unnamed DatetimeIndex writes
    its dates under no name: they are the date column. Written with reset_index(), the row
    numbers 0, 1, 2 ... in an unnamed first column are not a ticker."""
    index = pd.DatetimeIndex(["2020-01-02", "2020-01-03", "2020-01-06"])
    prices = pd.DataFrame({"AAPL": [1.0, 2.0, 3.0], "MSFT": [4.0, 5.0, 6.0]}, index=index)
    path = tmp_path / f"p.{kind}"
    getattr(prices, f"to_{'excel' if kind == 'xlsx' else kind}")(path)
    back = read_prices(path)
    pd.testing.assert_frame_equal(back, prices, check_names=False, check_freq=False)
    assert (
        "a wide file, a column per ticker; dates from the unnamed first column"
        in (back.attrs["read_as"])
    )
    if kind == "csv":
        prices.rename_axis("date").reset_index().to_csv(path)  # ,date,AAPL,MSFT / 0,...
        assert list(read_prices(path).columns) == ["AAPL", "MSFT"]
        prices.rename_axis("date").reset_index().to_csv(path, index=False)
        assert list(read_prices(path).columns) == ["AAPL", "MSFT"]


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("Date;A;\n2020-01-02;1;\n2020-01-03;2;\n", ["A"]),  # a trailing ';' on each line
        ("Date,A,B,,\n2020-01-02,1,2,,\n2020-01-03,2,3,,\n", ["A", "B"]),
        ("Date,A,,B\n2020-01-02,1,7,2\n2020-01-03,2,,3\n", "column 3 has values .*no name"),
        ("date,A\n2020-01-02,1\n,\n2020-01-03,2\n", ["A"]),
        (",date,A\nx,2020-01-02,1\ny,2020-01-03,2\n", "column 1 has values .*'x'.*no name"),
    ],
)
def test_columns_without_a_name(tmp_path, text, outcome):
    path = write(tmp_path, text)
    if isinstance(outcome, str):
        with pytest.raises(DataError, match=outcome):
            read_prices(path)
    else:
        assert list(read_prices(path).columns) == outcome


def test_time_zone_aware_dates_in_one_zone(tmp_path):
    path = write(tmp_path, "date,X\n2020-01-02T00:00:00+01:00,1\n2020-01-03T00:00:00+01:00,2\n")
    assert read_prices(path).index[0] == pd.Timestamp("2020-01-02")


def test_one_row_a_day_with_a_time_of_day_is_daily(tmp_path):
    path = write(tmp_path, "date,A\n2020-01-02 16:00,1\n2020-01-03 16:00,2\n")
    assert list(read_prices(path)["A"]) == [1.0, 2.0]


def test_daylight_saving_offsets_are_one_zone_read_as_local_dates(tmp_path):
    """A yfinance export: midnight New York time, -05:00 in winter and -04:00 in summer.
    Each row is its local date (in UTC the summer rows would fall at 04:00)."""
    cells = ["2020-03-05 00:00:00-05:00", "2020-03-06 00:00:00-05:00"]
    cells += ["2020-03-09 00:00:00-04:00", "2020-03-10 00:00:00-04:00"]
    text = "Date,Close\n" + "".join(f"{c},{k + 1}\n" for k, c in enumerate(cells))
    frame = read_prices(write(tmp_path, text))
    expected = pd.to_datetime(["2020-03-05", "2020-03-06", "2020-03-09", "2020-03-10"])
    assert list(frame.index) == list(expected) and list(frame.iloc[:, 0]) == [1, 2, 3, 4]
    given = read_prices(write(tmp_path, text), date_format="%Y-%m-%d %H:%M:%S%z")
    assert given.equals(frame)
    zoned = pd.DataFrame({"date": expected.tz_localize("America/New_York"), "X": [1.0] * 4})
    zoned.to_parquet(tmp_path / "z.parquet")
    assert list(read_prices(tmp_path / "z.parquet").index) == list(expected)


@pytest.mark.parametrize(
    ("cells", "match"),
    [
        (["2020-01-02T00:00+01:00", "2020-01-03T00:00+03:00"], "mixes time zones"),
        (["2020-01-02T00:00-05:00", "2020-01-03T00:00Z"], "mixes time zones"),
        (["2020-01-02T00:00", "2020-01-03T00:00-05:00"], "with and without a UTC offset"),
    ],
)
def test_offsets_of_different_zones_are_refused(tmp_path, cells, match):
    text = "date,X\n" + "".join(f"{c},1\n" for c in cells)
    with pytest.raises(DataError, match=match):
        read_prices(write(tmp_path, text))


def test_leading_missing_allowed_and_short_gaps_filled_with_warning(tmp_path):
    path = write(
        tmp_path, "date,A,B\n2020-01-01,1,\n2020-01-02,2,\n2020-01-03,,7\n2020-01-06,4,8\n"
    )
    with pytest.warns(DataWarning, match="forward-filled 1"):
        frame = read_prices(path)
    assert np.isnan(frame["B"].iloc[0]) and frame["A"].iloc[2] == 2.0


def test_no_warning_for_clean_data():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_prices("sp500")


def test_a_series_that_ends_is_kept_ending_never_filled_flat(tmp_path):
    """A delisted ticker (or one not updated) is read as ending on its last price, with a
    warning that says so: no flat prices after it, and the others read as they are."""
    text = "date,A,B\n" + "".join(
        f"2020-01-{d:02d},{d},{'' if d >= 5 else 10 + d}\n" for d in range(1, 16)
    )
    path = write(tmp_path, text)
    with pytest.warns(DataWarning, match=r"no prices for B after 2020-01-04 \(delisted"):
        frame = read_prices(path)
    assert frame["B"].last_valid_index() == pd.Timestamp("2020-01-04")
    assert frame["B"].iloc[4:].isna().all() and list(frame["B"].iloc[:4]) == [11, 12, 13, 14]
    assert list(frame["A"]) == list(range(1, 16))
    text = "date,A,B\n" + "".join(  # a short gap before its end is filled as ever
        f"2020-01-{d:02d},{d},{'' if d in (3, 4) or d >= 9 else 10 + d}\n" for d in range(1, 16)
    )
    with pytest.warns(DataWarning, match="forward-filled 2 missing"):
        frame = read_prices(write(tmp_path, text, "gap.csv"))
    assert list(frame["B"].iloc[:8]) == [11, 12, 12, 12, 15, 16, 17, 18]
    assert frame["B"].iloc[8:].isna().all()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "empty"),
        ("date,A\n", "header only"),
        ("date,A\n2020-01-02,1\nnot a date,2\n", r"line 3: 'not a date'.*not a date"),
        ("date,A\n2020-02-30,1\n", r"line 2: '2020-02-30'.*not a date"),
        ("date,A\n43832,1\n43833,2\n", r"Excel day numbers, not dates \(43832 is 2020-01-02\)"),
        ("date,A,A\n2020-01-02,1,2\n", r"columns 2 and 3 are both named 'A'; rename or remove"),
        (
            "date,ticker,close\n2020-01-02,AAPL,1\n2020-01-03,aapl,2\n",
            r"tickers 'AAPL' \(line 2\) and 'aapl' \(line 3\) differ only in case",
        ),
        ("date;B;B\n2020-01-02;1;2\n", r"columns 2 and 3 are both named 'B'"),
        (
            "date,AAPL,aapl\n2020-01-02,1,2\n",
            r"columns 2 and 3 are named 'AAPL' and 'aapl', one name when case is ignored",
        ),
        ("date,A\n2020-01-02T00:00+01:00,1\n2020-01-03T00:00+05:00,2\n", "mixes time zones"),
        (
            "date,A\n2020-01-02 09:30,1\n2020-01-02 10:30,2\n2020-01-03 09:30,3\n",
            r"2 rows fall on 1 dates .*2020-01-02 at 09:30 to 10:30\): intraday bars",
        ),
        ("date,ticker,close\n2020-01-02 09:30,A,1\n2020-01-02 16:00,A,2\n", "intraday bars"),
        (
            "date,A\n" + "".join(f"2020-{m:02d}-28,{m}\n" for m in range(1, 7)),
            r"dates are 3[01] days apart \(median\): monthly data; .* give daily prices",
        ),
        (
            "date,A\n" + "".join(f"2020-01-{d:02d},{d}\n" for d in (3, 10, 17, 24, 31)),
            r"dates are 7 days apart \(median\): weekly data",
        ),
        (
            "date,A\n2020-01-02,1\n2020-01-02,2\n2020-01-03,3\n",
            r"share a date: 2020-01-02 \(line 2\)",
        ),
        ("date,A\n2020-01-02,1\n2020-01-03,abc\n", r"column 'A', line 3: 'abc'.*not a number"),
        ("date,A\n2020-01-02,1\n2020-01-03,1e400\n", "infinite"),
        ("date,A\n2020-01-02,1\n2020-01-03,inf\n", "not a number"),
        ("date,A\n2020-01-02,1\n2020-01-03,0\n", "zero or negative"),
        ("date,A\n2020-01-02,-1\n", r"line 2.*zero or negative"),
        ("price,A\n1,2\n", "no date column"),
        ("date\n2020-01-02\n", "only a date column"),
        ("date,A\n2020-01-02,\n", "no prices at all"),
        ("date,ticker\n2020-01-02,A\n", "no price column"),
        ("date,ticker,close\n2020-01-02,A,1\n2020-01-02,A,2\n", "repeat a date.*A 2020-01-02"),
        (
            "date,A,B\n"
            + "".join(f"2020-01-{d:02d},{'' if 3 <= d <= 9 else 1},1\n" for d in range(1, 12)),
            r"7 missing prices in a row from 2020-01-03",
        ),
    ],
)
def test_errors_name_the_problem(tmp_path, text, match):
    path = write(tmp_path, text)
    with pytest.raises(DataError, match=match) as info:
        read_prices(path)
    assert str(path) in str(info.value)


def test_absent_ticker_lists_present(tmp_path):
    with pytest.raises(DataError, match=r"\['ZZZ'\] not found; present: \['SP500'\]"):
        read_prices("sp500", tickers=["ZZZ"])
    said = r"\['MSFTT', 'ZZZ'\] not found \(did you mean 'MSFT' for 'MSFTT'\?\); present"
    with pytest.raises(DataError, match=said):
        read_prices("sp500-stocks", tickers=["AAPL", "MSFTT", "ZZZ"])


def test_absent_override_column_lists_columns(tmp_path):
    path = write(tmp_path, "date,A\n2020-01-02,1\n")
    with pytest.raises(DataError, match=r"no price column 'px'; columns present: \['date', 'A'\]"):
        read_prices(path, price_col="px")


def test_missing_file_and_unknown_dataset(tmp_path):
    with pytest.raises(DataError, match="no such file.*sp500-stocks"):
        read_prices(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="is a directory"):
        read_prices(tmp_path)


def test_history_too_short():
    frame = read_prices("sp500").iloc[:100]
    check_history(frame, lookback=20, test_days=50)
    with pytest.raises(DataError, match="'SP500' has 100 prices.*need at least 562"):
        check_history(frame, lookback=60, test_days=500)


def test_history_of_a_ticker_that_ended_counts_the_test_days_it_has():
    """A ticker delisted inside the test window needs its lookback, its training rows and the
    test days it has, not the whole window's; one listed late is left to the refits, which
    fit it from the first with enough of its own prices (evaluation.splits.fold_tickers)."""
    dates = pd.bdate_range("2020-01-01", periods=700)
    prices = pd.DataFrame({"A": 100.0, "OLD": 50.0}, index=dates)
    prices.iloc[600:, 1] = np.nan  # 600 prices, 100 of them in the last 200 dates
    check_history(prices, lookback=60, test_days=200)
    with pytest.raises(DataError, match="'A' has 700 prices.*500 test days need at least 702"):
        check_history(prices, lookback=200, test_days=500)
    late = prices.copy()
    late.iloc[:380, 1] = np.nan  # listed inside the test window, and ended
    check_history(late, lookback=120, test_days=200)


YF_ONE = """Price,Close,High,Low,Open,Volume
Ticker,AAPL,AAPL,AAPL,AAPL,AAPL
Date,,,,,
2024-01-02,184.5,186.0,183.0,185.0,82488700
2024-01-03,183.0,185.5,182.7,184.2,58414500
2024-01-04,181.0,182.9,180.5,182.1,71983600
"""


def test_a_yfinance_download_reads_as_its_ticker_with_its_bars(tmp_path):
    """yf.download("AAPL").to_csv(): three header lines (Price, Ticker, Date) since 0.2.51."""
    frame = read_prices(write(tmp_path, YF_ONE, "aapl.csv"))
    assert list(frame.columns) == ["AAPL"] and list(frame["AAPL"]) == [184.5, 183.0, 181.0]
    assert list(ohlcv_of(frame)["volume"]) == [82488700, 58414500, 71983600]
    assert list(read_prices(write(tmp_path, YF_ONE), ticker="apple").columns) == ["apple"]
    bad = YF_ONE.replace("183.0,185.5", "n/a?,185.5")
    with pytest.raises(DataError, match=r"column 'Close', line 5: 'n/a\?': not a number"):
        read_prices(write(tmp_path, bad))


def test_a_yfinance_download_of_several_tickers_is_a_panel(tmp_path):
    text = (
        "Ticker,AAPL,MSFT,AAPL,MSFT\n"  # the older order: Ticker before Price
        "Price,Adj Close,Adj Close,Close,Close\n"
        "Date,,,,\n"
        "2024-01-02,180.0,365.0,184.5,370.0\n"
        "2024-01-03,178.5,,183.0,\n"
        "2024-01-04,177.0,366.0,181.0,371.0\n"
    )
    with pytest.warns(DataWarning, match="forward-filled 1"):
        frame = read_prices(write(tmp_path, text))
    assert list(frame.columns) == ["AAPL", "MSFT"]
    assert list(frame["AAPL"]) == [180.0, 178.5, 177.0]  # the adjusted close
    assert list(frame["MSFT"]) == [365.0, 365.0, 366.0]
    wrong = text.replace("2024-01-04,177.0,", "2024-01-04,")
    with pytest.raises(DataError, match="whose header has 5 fields and line 6 4; download"):
        read_prices(write(tmp_path, wrong))


def test_a_plain_file_that_starts_with_price_is_not_taken_for_yfinance(tmp_path):
    text = "Price,Close\nTicker,3\n2024-01-02,4\n"
    with pytest.raises(DataError, match="no date column"):
        read_prices(write(tmp_path, text))


def _yfinance_frame(tickers):
    """A frame shaped like yf.download(tickers): columns (Price, Ticker), dates as index."""
    days = pd.bdate_range("2024-01-02", periods=4, name="Date")
    fields = ["Close", "High", "Low", "Open", "Volume"]
    columns = pd.MultiIndex.from_product([fields, tickers], names=["Price", "Ticker"])
    values = np.arange(4 * len(columns), dtype=float).reshape(4, -1) + 100.0
    return pd.DataFrame(values, index=days, columns=columns)


@pytest.mark.parametrize("suffix", ["parquet", "xlsx"])
@pytest.mark.filterwarnings("ignore:.*contradict themselves")  # fields told apart by value
def test_yfinance_frames_saved_as_parquet_or_excel(tmp_path, suffix):
    two = _yfinance_frame(["AAPL", "MSFT"])
    path = tmp_path / f"two.{suffix}"
    two.to_parquet(path) if suffix == "parquet" else two.to_excel(path, engine="openpyxl")
    frame = read_prices(path)
    assert list(frame.columns) == ["AAPL", "MSFT"]
    assert list(frame["MSFT"]) == list(two[("Close", "MSFT")])
    assert list(frame.index) == list(two.index)
    from lstm_forecast.data.ohlcv import bars_of

    assert list(bars_of(frame, "MSFT")["volume"]) == list(two[("Volume", "MSFT")])
    one = _yfinance_frame(["AAPL"])
    path = tmp_path / f"one.{suffix}"
    one.to_parquet(path) if suffix == "parquet" else one.to_excel(path, engine="openpyxl")
    frame = read_prices(path)
    assert list(frame.columns) == ["AAPL"]
    assert list(ohlcv_of(frame)["volume"]) == list(one[("Volume", "AAPL")])


def test_parquet_column_levels_without_a_close_are_refused(tmp_path):
    frame = _yfinance_frame(["AAPL"]).drop(columns="Close", level=0)
    frame.to_parquet(tmp_path / "x.parquet")
    with pytest.raises(DataError, match="two levels of column names and neither holds a close"):
        read_prices(tmp_path / "x.parquet")


def test_a_long_file_keeps_each_tickers_bars(tmp_path):
    from lstm_forecast.data.ohlcv import bars_of

    text = (
        "date,ticker,open,high,low,close,volume\n"
        "2024-01-02,A,10,11,9,10.5,100\n"
        "2024-01-02,B,20,22,19,21,200\n"
        "2024-01-03,A,10.5,11.5,10,11,110\n"
        "2024-01-03,B,21,23,20,22,0\n"
    )
    frame = read_prices(write(tmp_path, text))
    assert list(bars_of(frame, "A")["high"]) == [11.0, 11.5]
    assert list(bars_of(frame, "B")["volume"]) == [200.0, 0.0]  # a zero volume is a volume
    only_b = read_prices(write(tmp_path, text), tickers=["b"])
    assert list(ohlcv_of(only_b)["open"]) == [20.0, 21.0]  # chosen tickers keep theirs
    bad = text.replace("22,0\n", "22,-5\n")
    with pytest.raises(DataError, match="column 'volume', line 5: '-5': negative"):
        read_prices(write(tmp_path, bad))


def test_bars_and_covariates_ride_along_slices_without_copies(tmp_path):
    """pandas deep-copies attrs at every slice; the read-only holders are shared instead
    (a panel's bars copied at each of a backtest's slices once cost 50 ms a slice)."""
    from lstm_forecast.data.covariates import attach_covariates, covariates_of
    from lstm_forecast.data.ohlcv import bars_of

    text = "".join(
        f"2024-01-{d:02d},{t},10,11,9,10.5,100\n" for d in (2, 3, 4, 5) for t in ("A", "B")
    )
    frame = read_prices(write(tmp_path, "date,ticker,open,high,low,close,volume\n" + text))
    table = pd.DataFrame({"rate": [1.0, 2.0]}, index=pd.to_datetime(["2024-01-02", "2024-01-04"]))
    frame = attach_covariates(frame, table)
    part = frame.loc[:"2024-01-03", ["B"]]
    assert part.attrs["ohlcv"] is frame.attrs["ohlcv"]
    assert part.attrs["covariates"] is frame.attrs["covariates"]
    assert list(bars_of(part, "B").index) == list(part.index) and bars_of(part, "A") is None
    assert list(covariates_of(part)["rate"]) == [1.0, 1.0]


def test_daily_data_with_gaps_is_still_daily(tmp_path):
    """A market shut at weekends, and a thin stock that trades every other day, are daily
    data; the check for weekly rows looks at the median gap between dates."""
    every_other = "".join(f"2020-01-{d:02d},{d}\n" for d in range(2, 31, 2))
    assert len(read_prices(write(tmp_path, "date,A\n" + every_other))) == 15


def test_a_move_of_a_splits_size_is_warned_about(tmp_path):
    """An unadjusted split (4:1 on a day the stock also rose 3%, a 1:10 reverse split) is
    named with its date and ratio; ordinary moves, and the embedded adjusted data (whose
    -52% and -67% days look like splits), are not."""
    days = pd.bdate_range("2020-01-01", periods=300)
    price = 100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.01, 300)))
    clean = pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "close": price})
    clean.to_csv(tmp_path / "clean.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_prices(tmp_path / "clean.csv")
        read_prices("sp500-stocks")
    split = price.copy()
    split[200:] /= 4
    split[200] *= 1.03
    split[250:] *= 10
    clean.assign(close=split).to_csv(tmp_path / "split.csv", index=False)
    with pytest.warns(DataWarning, match="about a split's size") as caught:
        read_prices(tmp_path / "split.csv")
    said = str(caught[0].message)
    assert f"split {days[200]:%Y-%m-%d}" in said and "4:1" in said
    assert f"{days[250]:%Y-%m-%d}" in said and "1:10" in said


def test_a_change_of_units_and_a_one_day_spike_are_warned_about(tmp_path):
    """A London price quoted in pounds, then in pence (x100), and one close off by a factor
    of 1000 (a misplaced decimal point) and back the next day: each named with its date;
    the spike once, as a spike, not as two split-sized moves."""
    days = pd.bdate_range("2020-01-01", periods=300)
    price = 10 * np.exp(np.cumsum(np.random.default_rng(1).normal(0, 0.01, 300)))
    frame = pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "close": price})
    units = price.copy()
    units[150:] *= 100
    frame.assign(close=units).to_csv(tmp_path / "units.csv", index=False)
    with pytest.warns(DataWarning, match="about a split's size") as caught:
        read_prices(tmp_path / "units.csv")
    said = " ".join(str(w.message) for w in caught)
    assert f"units {days[150]:%Y-%m-%d}" in said and "1:100 or a change of units" in said
    assert "pence to pounds" in said and "far from the days around it" not in said
    typo = price.copy()
    typo[200] *= 1000
    frame.assign(close=typo).to_csv(tmp_path / "typo.csv", index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_prices(tmp_path / "typo.csv")
    said = [str(w.message) for w in caught]
    assert len(said) == 1 and "one day's close far from the days around it" in said[0]
    assert f"typo {days[200]:%Y-%m-%d} ({typo[199]:,.4g}, then {typo[200]:,.4g}" in said[0]
    # a real two-day round trip of 8% is not a spike, nor is a stock that doubles and stays
    moves = price.copy()
    moves[100] *= 1.08
    moves[250:] *= 2.2
    frame.assign(close=moves).to_csv(tmp_path / "moves.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_prices(tmp_path / "moves.csv")


def test_bars_that_contradict_themselves_are_named_and_left_out_of_the_proxy(tmp_path):
    from lstm_forecast.features import log_returns
    from lstm_forecast.features.volatility import variance_proxy

    days = pd.bdate_range("2020-01-01", periods=60)
    close = 100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.01, 60)))
    bars = pd.DataFrame(
        {"Date": days.strftime("%Y-%m-%d"), "Open": close, "High": close * 1.01,
         "Low": close * 0.99, "Close": close, "Volume": 1000}
    )  # fmt: skip
    bars.to_csv(tmp_path / "good.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        good = read_prices(tmp_path / "good.csv")
    bars.loc[10, "High"] = bars.loc[10, "Low"] * 0.9  # a high below the low
    bars.loc[20, "Close"] = bars.loc[20, "High"] * 1.05  # a close above the high
    bars.loc[30, "Close"] = bars.loc[30, "High"] * 1.0005  # rounding: not judged
    bars.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.warns(DataWarning, match=r"2 daily bar\(s\) contradict themselves") as caught:
        bad = read_prices(tmp_path / "bad.csv")
    assert f"bad {days[10]:%Y-%m-%d}: open" in str(caught[0].message)
    proxy, _ = variance_proxy(bad)
    squared = log_returns(bad) ** 2
    for row in (10, 20):  # the squared return stands in for the bar's Garman-Klass
        assert proxy.iloc[row, 0] == squared.iloc[row, 0]
    assert proxy.iloc[30, 0] != squared.iloc[30, 0]
    assert variance_proxy(good)[0].iloc[10, 0] != squared.iloc[10, 0]


def test_plain_and_written_out_numbers_mix_in_one_column(tmp_path):
    """Plain numbers take a fast path, the rest (thousands, currency, blanks) the full
    reading; one column may hold both, and every cell lands on its own row."""
    path = write(
        tmp_path,
        'date,A\n2020-01-02,10.5\n2020-01-03,"1,234.5"\n2020-01-06,$12\n2020-01-07,\n'
        "2020-01-08,1e1\n2020-01-09,+7\n",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the blank date is dropped, with a warning
        got = read_prices(path)["A"].tolist()
    assert got == [10.5, 1234.5, 12.0, 10.0, 7.0]
    with pytest.raises(DataError, match=r"line 3: '1_000'"):
        read_prices(write(tmp_path, "date,A\n2020-01-02,1\n2020-01-03,1_000\n"))


def test_closes_that_stand_still_are_warned_about(tmp_path):
    days = pd.bdate_range("2020-01-01", periods=80)
    close = 100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.01, 80)))
    close[30:45] = close[30]  # 14 unchanged closes after day 30: a halt
    frame = pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "X": close})
    frame.to_csv(tmp_path / "halt.csv", index=False)
    with pytest.warns(DataWarning, match=rf"X: 14 from {days[30]:%Y-%m-%d}\): a halt"):
        read_prices(tmp_path / "halt.csv")
    frame.assign(X=frame["X"].where(~frame.index.isin(range(40, 45)), frame["X"] * 1.01)).to_csv(
        tmp_path / "short.csv", index=False
    )  # nine unchanged closes: not warned about
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_prices(tmp_path / "short.csv")


def test_a_date_column_named_in_german_or_spanish(tmp_path):
    for name in ("Datum", "Fecha"):
        text = f"{name};Kurs\n15.01.2020;1.200,5\n16.01.2020;1.201,5\n"
        frame = read_prices(write(tmp_path, text), decimal=",")
        assert list(frame["Kurs"]) == [1200.5, 1201.5]
        assert frame.index[0] == pd.Timestamp("2020-01-15")


def test_tickers_named_in_one_string_are_split_as_the_cli_splits_them():
    assert list(read_prices("sp500-stocks", tickers="AAPL, ko").columns) == ["AAPL", "KO"]
    assert list(read_prices("sp500-stocks", tickers="KO").columns) == ["KO"]


def test_a_jump_in_the_dates_and_a_date_after_today_are_warned_about(tmp_path):
    """Six months of rows missing: the return across them would be read as one day's; a last
    date in 2081 (a typo for 2018) would date the forecasts. Holidays, a four-day closure
    (2001-09-11 to 09-17) and weekends of a market open every day are not jumps."""
    days = pd.bdate_range("2016-01-01", "2016-12-30")
    kept = days[(days < "2016-03-01") | (days > "2016-08-31")]
    prices = 100 + np.arange(len(kept)) * 0.1
    frame = pd.DataFrame({"date": kept.strftime("%Y-%m-%d"), "A": prices})
    frame.to_csv(tmp_path / "hole.csv", index=False)
    with pytest.warns(DataWarning, match=r"jump 2016-02-29 to 2016-09-01 \(133 business days\)"):
        read_prices(tmp_path / "hole.csv")
    typo = frame.copy()
    typo.loc[len(typo) - 1, "date"] = "2081-12-30"
    typo.to_csv(tmp_path / "typo.csv", index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_prices(tmp_path / "typo.csv")
    assert any("its last date, 2081-12-30, is after today" in str(w.message) for w in caught)
    closed = pd.bdate_range("2001-08-01", "2001-10-31")
    closed = closed[(closed < "2001-09-11") | (closed > "2001-09-14")]  # 9/11: four days shut
    crypto = pd.date_range("2021-01-01", periods=90, freq="D")
    for name, dates in (("closed", closed), ("crypto", crypto)):
        values = 100 + np.arange(len(dates)) * 0.1
        pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "A": values}).to_csv(
            tmp_path / f"{name}.csv", index=False
        )
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            read_prices(tmp_path / f"{name}.csv")


def test_a_file_that_is_not_what_its_name_says_is_named_for_what_it_is(tmp_path):
    """By the first bytes: a workbook or Parquet file named .csv, a CSV named .xlsx or
    .parquet, a legacy .xls, JSON, and a failed download's error page saved as the file.
    Before, the workbook named .csv gave 'Error tokenizing data ... decimal commas?' and the
    CSV named .xlsx a traceback."""
    closes = 100 + np.arange(30) % 3
    frame = pd.DataFrame({"Date": pd.bdate_range("2020-01-01", periods=30), "Close": closes})
    csv_text = frame.to_csv(index=False)
    frame.to_excel(tmp_path / "book.xlsx", index=False)
    frame.to_parquet(tmp_path / "table.parquet")
    cases = {
        "book.csv": ((tmp_path / "book.xlsx").read_bytes(), "an Excel workbook under another"),
        "table.csv": ((tmp_path / "table.parquet").read_bytes(), "a Parquet file under another"),
        "text.xlsx": (csv_text.encode(), "is text, not an Excel workbook: a CSV under another"),
        "text.parquet": (csv_text.encode(), "is text, not a Parquet file"),
        "old.xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), r"Excel 97-2003 .*\.xls"),
        "old.xlsx": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "Excel 97-2003"),
        "prices.json": (b'[{"date": "2020-01-02", "close": 1}]', "is JSON, which is not read"),
        "AAPL.csv": (b"\xef\xbb\xbf<!DOCTYPE html><html>Too Many Requests", "a web page"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(DataError, match=message):
            read_prices(tmp_path / name)
    assert len(read_prices(tmp_path / "book.xlsx")) == 30  # what is what it says still reads
    assert len(read_prices(tmp_path / "table.parquet")) == 30
    (tmp_path / "served.xls").write_text(csv_text)  # a CSV served as .xls reads as the CSV
    assert len(read_prices(tmp_path / "served.xls")) == 30


def test_a_pipe_is_read_once_as_the_file_it_carries(tmp_path):
    """/dev/stdin or a shell's <(...) can be read only once: the reader copies it first, and
    an error names the pipe as given."""
    import os
    import threading

    def read_through_pipe(text):
        fifo = tmp_path / "pipe"
        if fifo.exists():
            fifo.unlink()
        os.mkfifo(fifo)
        writer = threading.Thread(target=lambda: fifo.write_text(text))
        writer.start()
        try:
            return read_prices(fifo)
        finally:
            writer.join()

    frame = read_through_pipe("date,A\n2020-01-02,1.5\n2020-01-03,1.6\n")
    assert frame["A"].tolist() == [1.5, 1.6]
    with pytest.raises(DataError, match=r"^.*/pipe: column 'A', line 2: 'abc': not a number"):
        read_through_pipe("date,A\n2020-01-02,abc\n")
