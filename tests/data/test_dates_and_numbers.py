"""One date format per column, holidays dropped, ASCII numbers, decimal commas, Excel files."""

import warnings

import numpy as np
import pandas as pd
import pytest

from lstm_forecast.data import DataError, DataWarning, read_prices
from lstm_forecast.data.ohlcv import bars_of, ohlcv_of

DAYS = ["2020-12-29", "2020-12-30", "2020-12-31", "2021-01-04", "2021-01-05"]


def write(tmp_path, text, name="prices.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def table(cells, sep=",", header="date,A"):
    return (
        header.replace(",", sep) + "\n" + "".join(f"{c}{sep}{k + 1}\n" for k, c in enumerate(cells))
    )


def as_text(stamps):
    return [pd.Timestamp(d).strftime(f) for d in DAYS for f in [stamps]]


LAYOUTS = {
    "iso": "%Y-%m-%d",
    "year first, slashes": "%Y/%m/%d",
    "year first, dots": "%Y.%m.%d",
    "compact": "%Y%m%d",
    "day first, slashes": "%d/%m/%Y",
    "day first, dots": "%d.%m.%Y",
    "day first, dashes": "%d-%m-%Y",
    "month first, slashes": "%m/%d/%Y",
    "month names": "%d-%b-%Y",
    "iso with time": "%Y-%m-%dT%H:%M:%S",
    "month first with time": "%m/%d/%Y %H:%M",
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_common_layout_reads_the_same_series(tmp_path, layout):
    """The five days straddle a year end, so day 29-31 decide the day/month order."""
    frame = read_prices(write(tmp_path, table(as_text(LAYOUTS[layout]))))
    assert list(frame.index.normalize()) == [pd.Timestamp(d) for d in DAYS]
    assert list(frame["A"]) == [1.0, 2.0, 3.0, 4.0, 5.0]


def test_day_first_is_never_read_month_first_where_it_fits(tmp_path):
    """The bug: 05/01/2021 read as May 1st beside 31/12/2020 read day-first."""
    cells = ["30/12/2020", "31/12/2020", "04/01/2021", "05/01/2021"]
    frame = read_prices(write(tmp_path, table(cells)))
    assert list(frame.index) == list(pd.to_datetime(cells, format="%d/%m/%Y"))
    assert list(frame["A"]) == [1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize(
    ("cells", "match"),
    [
        (["04/01/2021", "05/01/2021"], "no cell decides; pass --date-format %d/%m/%Y"),
        (["04.01.2021", "05.01.2021"], r"pass --date-format %d\.%m\.%Y \(or %m\.%d\.%Y\)"),
        (["30-12-20", "31-12-20"], "two-digit years .* %d-%m-%y"),
        (["31/12/2020", "12/30/2020"], "mixes day-first.*month-first"),
        (["2020-12-30", "31/12/2020"], "mixes date formats"),
        (["30/12/20", "31/12/20"], "two-digit years"),
        (["01/23/18", "01/24/18"], r"two-digit years .* --date-format %m/%d/%y \(years"),
        (["04/01/18", "05/01/18"], r"--date-format %d/%m/%y or %m/%d/%y"),
        (["0001-01-01", "2020-01-02"], "outside 1800-01-01"),
        (["2020-01-02", "9999-12-31"], "outside"),
        (["-2020-09-01", "2020-09-02"], r"'-2020-09-01': not a date"),
        (["2020-01-02", "not a date"], r"line 3: 'not a date': not a date"),
        (["2020-02-30", "2020-03-02"], r"line 2: '2020-02-30': not a date"),
        (["\u0662\u0660\u0662\u0660-01-02", "2020-01-03"], "not a date"),  # Arabic-Indic digits
        (["31/12/2020", "2021-01-04 10:00"], "mixes date formats"),
        (["12/30/2020 16:00", "12/31/2020"], "with and without a time"),
    ],
)
def test_dates_that_are_refused(tmp_path, cells, match):
    with pytest.raises(DataError, match=match):
        read_prices(write(tmp_path, table(cells)))


@pytest.mark.filterwarnings("ignore:.*the dates jump")  # read month first, a month apart
def test_date_format_settles_an_ambiguous_column(tmp_path):
    path = write(tmp_path, table(["04/01/2021", "05/01/2021"]))
    day_first = read_prices(path, date_format="%d/%m/%Y")
    month_first = read_prices(path, date_format="%m/%d/%Y")
    assert day_first.index[0] == pd.Timestamp("2021-01-04")
    assert month_first.index[0] == pd.Timestamp("2021-04-01")
    with pytest.raises(DataError, match=r"line 2: '04/01/2021'.*not a date in format '%Y-%m-%d'"):
        read_prices(path, date_format="%Y-%m-%d")


def test_a_huge_cell_is_refused_at_once_and_quoted_short(tmp_path):
    path = write(tmp_path, table(["2020-01-02", "9" * 1_000_000]))
    with pytest.raises(DataError, match="longer than 40 characters") as info:
        read_prices(path)
    assert len(str(info.value)) < 250


def test_holidays_are_dropped_not_filled(tmp_path):
    """A download with '.' or a blank on market holidays: no fake zero-return day."""
    text = "date,A\n2020-12-24,10\n2020-12-25,.\n2020-12-28,11\n2021-01-01,\n2021-01-04,12\n"
    with pytest.warns(DataWarning, match=r"dropped 2 date\(s\).*2020-12-25, 2021-01-01"):
        frame = read_prices(write(tmp_path, text))
    assert list(frame["A"]) == [10.0, 11.0, 12.0]
    returns = np.log(frame["A"]).diff().dropna()
    assert (returns != 0).all()


def test_holidays_of_every_ticker_dropped_but_one_tickers_gap_filled(tmp_path):
    text = "date,A,B\n2020-12-24,10,5\n2020-12-25,,\n2020-12-28,,6\n2020-12-29,12,7\n"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = read_prices(write(tmp_path, text))
    said = " ".join(str(w.message) for w in caught)
    assert "dropped 1 date(s)" in said and "forward-filled 1" in said
    assert list(frame.index.strftime("%m-%d")) == ["12-24", "12-28", "12-29"]
    assert list(frame["A"]) == [10.0, 10.0, 12.0]


def coin_and_stock(tmp_path, bars=False):
    """A coin priced every day beside a stock priced Monday to Friday, two weeks."""
    days = pd.date_range("2024-01-01", "2024-01-14")  # Monday 1 to Sunday 14
    rows = ["date,ticker,close" + (",open,high,low,volume" if bars else "")]
    for k, day in enumerate(days):
        for ticker, close in (("BTC", 100.5 + k), ("SPY", 50 + k)):
            extra = f",{close},{close + 1},{close - 1},5" if bars else ""
            if ticker == "BTC" or day.day_of_week < 5:
                rows.append(f"{day:%Y-%m-%d},{ticker},{close}{extra}")
    return write(tmp_path, "\n".join(rows) + "\n")


def test_a_stock_beside_a_coin_is_not_filled_on_weekends(tmp_path):
    """Forward-filling the stock's weekends would invent flat days it never traded (a fifth
    of its returns zero): refused, naming --weekdays and the two --tickers reads."""
    path = coin_and_stock(tmp_path)
    with pytest.raises(DataError) as info:
        read_prices(path)
    said = str(info.value)
    assert "column 'SPY' has no prices on weekends, where 'BTC' has them" in said
    assert "invent 2 flat days" in said  # the weekend inside its span; the last is after it
    assert "--weekdays" in said and "--tickers SPY and --tickers BTC" in said
    assert read_prices(path, tickers="SPY").index.day_of_week.max() == 4  # each alone reads
    assert read_prices(path, tickers="BTC").index.day_of_week.max() == 6


def test_weekdays_folds_a_coins_weekend_into_mondays_return(tmp_path):
    path = coin_and_stock(tmp_path, bars=True)
    frame = read_prices(path, weekdays=True)
    assert frame.index.day_of_week.max() == 4 and len(frame) == 10
    monday = pd.Timestamp("2024-01-08")
    returns = np.log(frame).diff()
    assert returns.loc[monday, "BTC"] == pytest.approx(np.log(107.5 / 104.5))  # Fri -> Mon
    assert returns.loc[monday, "SPY"] == pytest.approx(np.log(57 / 54))
    assert (returns.dropna() != 0).all().all()  # no flat day invented
    bars = bars_of(frame, "BTC")  # the bars lose the same rows
    assert list(bars.index) == list(frame.index) and bars.notna().all().all()
    assert bars.loc[monday, "open"] == 107.5
    assert frame.attrs["read_as"].endswith("4 weekend rows dropped (--weekdays)")
    with pytest.raises(DataError, match="every date is a Saturday or Sunday"):
        read_prices(write(tmp_path, "date,A\n2024-01-06,1\n2024-01-07,2\n"), weekdays=True)


def test_ohlcv_of_a_holiday_row_is_dropped_too(tmp_path):
    text = (
        "Date,Open,High,Low,Close,Volume\n2020-12-24,1,2,1,1.5,10\n2020-12-25,,,,,\n"
        "2020-12-28,1,2,1,1.6,10\n"
    )
    with pytest.warns(DataWarning, match="dropped 1"):
        frame = read_prices(write(tmp_path, text, "X.csv"))
    assert len(ohlcv_of(frame)) == 2 and list(frame.index) == list(ohlcv_of(frame).index)


@pytest.mark.parametrize("marker", ["#N/A N/A", "#N/A", "#NA", "<NA>", "null", "."])
def test_missing_markers_of_spreadsheets_and_terminals_read_as_missing(tmp_path, marker):
    # Bloomberg's Excel add-in writes #N/A N/A on a day without a value (a holiday)
    text = f"date,A,B\n2020-12-24,10,5\n2020-12-25,{marker},{marker}\n2020-12-28,11,6\n"
    with pytest.warns(DataWarning, match="dropped 1 date"):
        frame = read_prices(write(tmp_path, text))
    assert list(frame["A"]) == [10.0, 11.0] and list(frame["B"]) == [5.0, 6.0]


@pytest.mark.parametrize("cell", ["#N/A Invalid Security", "#VALUE!", "#DIV/0!", "#REF!"])
def test_error_values_are_named_as_errors_not_read_as_missing(tmp_path, cell):
    text = f"date,A\n2020-01-02,1\n2020-01-03,{cell}\n2020-01-06,2\n"
    with pytest.raises(DataError, match=r"line 3.*an error value of a spreadsheet or terminal"):
        read_prices(write(tmp_path, text))


@pytest.mark.parametrize(
    "cell", ["1_000", "\u0661\u0662", "12a", "0x10", "1e", "--1", "inf", "nan5"]
)
def test_numbers_are_plain_ascii(tmp_path, cell):
    with pytest.raises(DataError, match="not a number"):
        read_prices(write(tmp_path, f"date,A\n2020-01-02,1\n2020-01-03,{cell}\n"))


@pytest.mark.parametrize(
    ("cells", "numbers"),
    [(("1.234,5", "12,25"), [1234.5, 12.25]), (("1.234,5", "1.240,75"), [1234.5, 1240.75])],
)
def test_decimal_comma_gets_a_hint_then_reads_with_the_flag(tmp_path, cells, numbers):
    path = write(tmp_path, "date;A\n2020-01-02;{}\n2020-01-03;{}\n".format(*cells))
    with pytest.raises(DataError, match="look like decimal commas: pass --decimal ,"):
        read_prices(path)
    assert list(read_prices(path, decimal=",")["A"]) == numbers


@pytest.mark.parametrize(
    ("cells", "decimal"),
    [
        (("1'234.5", "1\u2019240.75"), "."),  # Swiss: an apostrophe between the thousands
        (("1 234.5", "1\u00a0240.75"), "."),  # a space, a no-break space
        (("1 234,5", "1\u202f240,75"), ","),  # French: a narrow no-break space, decimal comma
    ],
)
def test_thousands_split_by_apostrophes_or_spaces(tmp_path, cells, decimal):
    sep = ";" if decimal == "," else ","
    path = write(tmp_path, "date{0}A\n2020-01-02{0}{1}\n2020-01-03{0}{2}\n".format(sep, *cells))
    assert list(read_prices(path, decimal=decimal)["A"]) == [1234.5, 1240.75]
    if decimal == ",":
        with pytest.raises(DataError, match="look like decimal commas: pass --decimal ,"):
            read_prices(path)
    with pytest.raises(DataError, match="not a number"):  # groups of three or nothing
        read_prices(write(tmp_path, "date,A\n2020-01-02,12 34.5\n", "bad.csv"))


def test_nasdaq_download_reads_its_close_last_and_dollar_prices(tmp_path):
    """nasdaq.com's historical data: newest first, 'Close/Last', '$' before every price."""
    text = (
        "Date,Close/Last,Volume,Open,High,Low\n"
        "12/15/2025,$1,234.50,1000,$1200.00,$1240.00,$1190.00\n"
        "12/12/2025,$1220.00,1100,$1210.00,$1230.00,$1205.50\n"
    ).replace("$1,234.50", '"$1,234.50"')
    frame = read_prices(write(tmp_path, text, "nasdaq.csv"))
    assert list(frame.index) == list(pd.to_datetime(["2025-12-12", "2025-12-15"]))
    assert list(frame["nasdaq"]) == [1220.0, 1234.5]
    bars = ohlcv_of(frame)
    assert list(bars["volume"]) == [1100.0, 1000.0] and list(bars["low"]) == [1205.5, 1190.0]
    euros = "date,A\n2020-01-02,€12.5\n2020-01-03,-€1\n"  # a sign before the currency too
    with pytest.raises(DataError, match="zero or negative"):
        read_prices(write(tmp_path, euros))
    assert list(read_prices(write(tmp_path, euros.replace("-€1", "€ 13")))["A"]) == [12.5, 13.0]
    with pytest.raises(DataError, match="not a number"):
        read_prices(write(tmp_path, "date,A\n2020-01-02,12$\n2020-01-03,$$1\n"))


@pytest.mark.parametrize("scale", [1, 1000], ids=["seconds", "milliseconds"])
def test_unix_time_is_the_utc_date(tmp_path, scale):
    """Crypto exchanges write Unix time: 1704153600 is 2024-01-02 00:00 UTC."""
    stamps = [1704153600 + 86400 * k for k in range(3)]
    text = "timestamp,close\n" + "".join(f"{s * scale},{k + 1}\n" for k, s in enumerate(stamps))
    frame = read_prices(write(tmp_path, text))
    assert list(frame.index) == list(pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"]))
    mixed = text.replace(str(stamps[1] * scale), str(stamps[1] * (1000 if scale == 1 else 1)))
    with pytest.raises(DataError, match="mixes Unix seconds .* and milliseconds"):
        read_prices(write(tmp_path, mixed))


def test_investing_com_download_reads_its_price_as_the_close(tmp_path):
    text = (
        '"Date","Price","Open","High","Low","Vol.","Change %"\n'
        '"12/05/2025","4,783.45","4,770.00","4,790.10","4,760.00","1.23M","0.52%"\n'
        '"11/28/2025","4,763.50","4,760.00","4,770.00","4,750.00","0.98M","0.20%"\n'
    )
    frame = read_prices(write(tmp_path, text, "spx.csv"))
    assert list(frame["spx"]) == [4763.5, 4783.45]
    assert list(ohlcv_of(frame)["high"]) == [4770.0, 4790.1]
    assert list(ohlcv_of(frame)["volume"]) == [980_000.0, 1_230_000.0]  # 'Vol.' 0.98M, 1.23M


LOCAL_DOWNLOADS = {  # header, separator, decimal: as each language's download writes them
    "german bank": ("Datum;Eröffnung;Hoch;Tief;Schlusskurs;Volumen", ";", ","),
    "german investing.com": ('"Datum","Zuletzt","Eröffn.","Hoch","Tief","Vol.","+/- %"', ",", ","),
    "spanish investing.com": ("Fecha,Último,Apertura,Máximo,Mínimo,Vol.,% var.", ",", ","),
    "french investing.com": ("Date;Dernier;Ouv.;Plus Haut;Plus Bas;Vol.;Variation %", ";", ","),
    "italian investing.com": ("Data,Ultimo,Apertura,Massimo,Minimo,Vol.,Var. %", ",", ","),
    "portuguese investing.com": ("Data,Último,Abertura,Máxima,Mínima,Vol.,Var%", ",", ","),
    "spanish bank": ("Fecha;Apertura;Máximo;Mínimo;Cierre;Volumen", ";", ","),
    "dutch": ("Datum;Openingskoers;Hoog;Laag;Slotkoers;Volume", ";", ","),
    "swedish": ("Datum;Öppning;Högst;Lägst;Stängningskurs;Volym", ";", ","),
    # stooq.pl and Turkish brokers write the names without their accents
    "polish stooq": ("Data,Otwarcie,Najwyzszy,Najnizszy,Zamkniecie,Wolumen", ",", ","),
    "turkish, plain letters": ("Tarih;Acilis;Yuksek;Dusuk;Kapanis;Hacim", ";", ","),
}


@pytest.mark.parametrize("download", LOCAL_DOWNLOADS)
def test_downloads_in_other_languages_read_as_one_tickers_bars(tmp_path, download):
    """A German bank's CSV (Datum;Eröffnung;Hoch;Tief;Schlusskurs;Volumen) is one stock's
    bars, not five tickers called Eröffnung, Hoch, Tief, Schlusskurs and Volumen."""
    header, sep, _ = LOCAL_DOWNLOADS[download]
    fields = [f.strip('"') for f in header.split(sep)]
    close = 1 if fields[1] in ("Zuletzt", "Último", "Dernier", "Ultimo") else 4
    rows = [("02.01.2024", "10,5", "10,0", "11,0", "9,5", "1200"),
            ("03.01.2024", "10,8", "10,5", "11,2", "10,1", "1500")]  # fmt: skip
    lines = []
    for date, c, o, h, lo, v in rows:
        cells = [date, c, o, h, lo, v, "0,1%"] if close == 1 else [date, o, h, lo, c, v]
        lines.append(sep.join(f'"{x}"' if sep == "," else x for x in cells))
    path = write(tmp_path, header + "\n" + "\n".join(lines) + "\n", "stock.csv")
    frame = read_prices(path, decimal=",", date_format="%d.%m.%Y")
    assert list(frame.columns) == ["stock"] and list(frame["stock"]) == [10.5, 10.8]
    said = frame.attrs["read_as"]  # what data show prints: the reading, to be checked
    assert said.startswith(f"one ticker's series: the close from column {fields[close]!r}")
    assert f"dates from column {fields[0]!r}, read as %d.%m.%Y" in said
    assert said.endswith({";": "semicolon", ",": "comma"}[sep] + "-separated, UTF-8")
    bars = ohlcv_of(frame)
    assert list(bars["open"]) == [10.0, 10.5] and list(bars["high"]) == [11.0, 11.2]
    assert list(bars["low"]) == [9.5, 10.1] and list(bars["volume"]) == [1200.0, 1500.0]


def test_nse_india_download_reads_its_close_price_and_bars(tmp_path):
    """NSE India's 'Close Price' beside 'Open Price', 'High Price' ... was refused: no price
    column found."""
    text = (
        "Symbol,Series,Date,Prev Close,Open Price,High Price,Low Price,Last Price,Close Price,"
        "Average Price,Total Traded Quantity,Turnover,No. of Trades\n"
        "INFY,EQ,02-Jan-2023,1500,1502,1520,1495,1511,1510.5,1508,120000,1.8E8,9000\n"
        "INFY,EQ,03-Jan-2023,1510.5,1511,1530,1505,1524,1525.25,1518,150000,2.3E8,9900\n"
    )
    frame = read_prices(write(tmp_path, text))
    assert list(frame.columns) == ["INFY"] and list(frame["INFY"]) == [1510.5, 1525.25]
    bars = bars_of(frame, "INFY")
    assert list(bars["open"]) == [1502.0, 1511.0] and list(bars["low"]) == [1495.0, 1505.0]
    assert list(bars["volume"]) == [120000.0, 150000.0]


def _bars_in_unknown_names(days: int = 200, seed: int = 0) -> pd.DataFrame:
    """One stock's open, high, low, close and volume under names no list here holds."""
    rng = np.random.default_rng(seed)
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, days)))
    opening = close * np.exp(rng.normal(0, 0.01, days))
    return pd.DataFrame(
        {
            "Date": pd.bdate_range("2020-01-01", periods=days).strftime("%Y-%m-%d"),
            "Aapning": opening,
            "Hoyeste": np.maximum(opening, close) * (1 + rng.uniform(0, 0.02, days)),
            "Laveste": np.minimum(opening, close) * (1 - rng.uniform(0, 0.02, days)),
            "Siste": close,
            "Omsatt": rng.integers(10_000, 90_000, days),
        }
    )


def test_bars_under_names_not_known_are_refused_not_read_as_tickers(tmp_path):
    """A download whose bar fields are named in words the reader does not know was read as
    a wide file: four 'tickers' (open, high, low, close) and a fifth, the volume."""
    path = tmp_path / "stock.csv"
    _bars_in_unknown_names().to_csv(path, index=False)
    with pytest.raises(DataError) as error:
        read_prices(path)
    message = str(error.value)
    assert "column 'Hoyeste' is at or above and 'Laveste' at or below 'Aapning', 'Siste'" in message
    assert "--price-col (one of 'Aapning', 'Siste')" in message and "--tickers" in message
    single = read_prices(path, price_col="Siste")  # the ways out the message names
    assert list(single.columns) == ["Siste"]
    assert list(read_prices(path, tickers="Hoyeste,Laveste").columns) == ["Hoyeste", "Laveste"]


def test_tickers_of_one_price_level_are_not_taken_for_bars(tmp_path):
    """Three stocks near one price cross over the years, and volume-sized or far-apart
    columns bound nothing: a wide file of them is read as tickers."""
    rng = np.random.default_rng(1)
    days = 500
    walks = 100 * np.exp(np.cumsum(rng.normal(0, 0.015, (days, 3)), axis=0))
    frame = pd.DataFrame(walks, columns=["AAA", "BBB", "CCC"])
    frame.insert(0, "Date", pd.bdate_range("2018-01-01", periods=days).strftime("%Y-%m-%d"))
    frame["BIG"] = walks[:, 0] * 40  # another stock, priced forty times higher
    frame["TINY"] = walks[:, 1] / 30
    path = tmp_path / "wide.csv"
    frame.to_csv(path, index=False)
    assert list(read_prices(path).columns) == ["AAA", "BBB", "CCC", "BIG", "TINY"]


def test_a_long_file_in_another_language(tmp_path):
    text = (
        "Datum;Symbol;Eröffnung;Hoch;Tief;Schlusskurs;Volumen\n"
        "02.01.2024;SAP;10,0;11,0;9,5;10,5;1200\n02.01.2024;BAS;20,0;21,0;19,5;20,5;800\n"
        "03.01.2024;SAP;10,5;11,2;10,1;10,8;1500\n03.01.2024;BAS;20,5;21,5;20,1;21,0;900\n"
    )
    frame = read_prices(write(tmp_path, text), decimal=",", date_format="%d.%m.%Y")
    assert list(frame.columns) == ["BAS", "SAP"] and list(frame["SAP"]) == [10.5, 10.8]
    from lstm_forecast.data.ohlcv import bars_of

    assert list(bars_of(frame, "BAS")["high"]) == [21.0, 21.5]


def test_a_ticker_named_like_one_bar_field_stays_a_ticker(tmp_path):
    # one or two names of another language's fields (a ticker SLOT, LUK) are not bars
    text = "date,SLOT,LUK,AAPL\n2024-01-02,1,2,3\n2024-01-03,1.5,2.5,3.5\n"
    assert list(read_prices(write(tmp_path, text)).columns) == ["SLOT", "LUK", "AAPL"]


@pytest.mark.parametrize(
    ("encoding", "sep"), [("cp1252", ";"), ("latin-1", ";"), ("utf-16", "\t"), ("utf-8-sig", ",")]
)
def test_csv_files_in_the_encodings_excel_writes(tmp_path, encoding, sep):
    """A European Excel saves CSV in Windows-1252, its 'Unicode text' in UTF-16 with tabs;
    the names come out as written, not refused as undecodable."""
    text = sep.join(["Datum", "Société Générale", "Nestlé"]) + "\n"
    text += sep.join(["2024-01-02", "10.5", "20.5"]) + "\n"
    text += sep.join(["2024-01-03", "11.5", "21.5"]) + "\n"
    path = tmp_path / "prices.csv"
    path.write_bytes(text.encode(encoding))
    frame = read_prices(path)
    assert list(frame.columns) == ["Société Générale", "Nestlé"]
    assert list(frame["Nestlé"]) == [20.5, 21.5]


@pytest.mark.parametrize("encoding", ["cp1251", "utf-8"])
def test_a_russian_download_in_windows_1251_reads_its_names(tmp_path, encoding):
    """A Russian Excel saves CSV in Windows-1251; read as Windows-1252, 'Дата;Цена' came out
    as 'Ðàòà;Öåíà' and no date column was found. investing.com's Russian download names its
    last price 'Цена' and its bars 'Откр.', 'Макс.', 'Мин.', 'Объём'."""
    text = "Дата;Цена;Откр.;Макс.;Мин.;Объём;Изм. %\n"
    text += "16.01.2024;101,5;100,0;102,0;99,5;1,2M;1,50%\n"
    text += "15.01.2024;100,0;99,0;100,5;98,5;850,3K;-0,20%\n"
    path = tmp_path / "Сбербанк.csv"
    path.write_bytes(text.encode(encoding))
    frame = read_prices(path, decimal=",")
    assert list(frame.columns) == ["Сбербанк"] and list(frame.iloc[:, 0]) == [100.0, 101.5]
    bars = ohlcv_of(frame)
    assert list(bars["high"]) == [100.5, 102.0] and list(bars["volume"]) == [850300.0, 1.2e6]
    said = frame.attrs["read_as"]
    assert "close from column 'Цена'" in said
    assert ("Windows-1251" if encoding == "cp1251" else "UTF-8") in said
    # Western accents stay Windows-1252: no word there is accented letters only
    west = "Datum;Eröffnung;Hoch;Tief;Schlusskurs\n15.01.2024;1;2;1;2\n16.01.2024;1;2;1;2\n"
    path.write_bytes(west.encode("cp1252"))
    assert "Windows-1252" in read_prices(path, decimal=",").attrs["read_as"]


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8"])
def test_compressed_csv_files_in_either_encoding(tmp_path, encoding):
    import gzip
    import zipfile

    text = "date,Nestlé\n2024-01-02,1\n2024-01-03,2\n".encode(encoding)
    path = tmp_path / "prices.csv.gz"
    path.write_bytes(gzip.compress(text))
    assert list(read_prices(path).columns) == ["Nestlé"]
    path = tmp_path / "prices.zip"  # a zip archive of one CSV: its member is decoded
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("prices.csv", text)
    assert list(read_prices(path).columns) == ["Nestlé"]


def test_volume_suffixes_are_read_for_volumes_only(tmp_path):
    text = "date,open,high,low,close,volume\n2024-01-02,1,2,1,2,1.5K\n2024-01-03,1,2,1,2,2B\n"
    assert list(ohlcv_of(read_prices(write(tmp_path, text)))["volume"]) == [1500.0, 2e9]
    with pytest.raises(DataError, match="column 'close', line 2: '2M': not a number"):
        read_prices(write(tmp_path, text.replace(",2,1.5K", ",2M,1.5K")))


def test_fred_download_reads_as_a_covariate(tmp_path):
    from lstm_forecast.data.reader import read_covariates

    text = "observation_date,DGS10\n2024-01-02,3.95\n2024-01-03,.\n2024-01-04,3.99\n"
    table = read_covariates(write(tmp_path, text, "fred.csv"))
    assert list(table["DGS10"].dropna()) == [3.95, 3.99]


def test_bars_without_a_close_are_refused_not_read_as_tickers(tmp_path):
    text = "Date,Open,High,Low,Volume\n2020-01-02,1,2,0.5,100\n2020-01-03,1,2,0.5,100\n"
    with pytest.raises(DataError, match=r"daily bars \(high, low, open, volume\) but no close"):
        read_prices(write(tmp_path, text))
    assert list(read_prices(write(tmp_path, text), price_col="Open").columns) == ["Open"]
    adjusted = text.replace("Volume", "Adjusted Close,Volume").replace(",100", ",0.9,100")
    frame = read_prices(write(tmp_path, adjusted, "x.csv"))  # an adjusted close alone
    assert list(frame.columns) == ["x"] and list(frame["x"]) == [0.9, 0.9]
    tickers = "Date,AAPL,LOW,OPEN\n2020-01-02,1,2,3\n2020-01-03,1,2,3\n"  # Lowe's, Opendoor
    assert list(read_prices(write(tmp_path, tickers)).columns) == ["AAPL", "LOW", "OPEN"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("Prices for AAPL\ndate,A\n2020-01-02,1\n2020-01-03,2\n", r"is line 1 \('Prices for"),
        ("# vendor x\ndate,A\n2020-01-02,1\n2020-01-03,2\n", r"is line 1 \('# vendor x'\)"),
        ("AAPL\nsince 2020\ndate,A\n2020-01-02,1\n2020-01-03,2\n", r"are lines 1-2 \('AAPL'"),
    ],
)
def test_a_title_above_the_header_is_named(tmp_path, text, match):
    with pytest.raises(DataError, match=match + ".*above the header"):
        read_prices(write(tmp_path, text))


def test_unquoted_decimal_comma_in_a_comma_file_is_refused(tmp_path):
    path = write(tmp_path, "date,A\n2020-01-02,12,5\n2020-01-03,13,5\n")
    with pytest.raises(DataError, match="more fields than the header.*decimal commas"):
        read_prices(path)


def test_a_summary_under_the_table_is_named_not_taken_for_decimal_commas(tmp_path):
    """investing.com's older downloads end with a summary line wider than the header; the
    message blamed decimal commas."""
    rows = "".join(f"2020-01-{d:02d},{100 + d}\n" for d in range(2, 30))
    text = "Date,Price\n" + rows + "\nHighest: 129,Lowest: 102,Difference: 27,Change %: 26\n"
    with pytest.raises(DataError) as error:
        read_prices(write(tmp_path, text))
    assert "line 31 ('Highest: 129,Lowest: 102," in str(error.value)
    assert "below the data rows" in str(error.value) and "decimal" not in str(error.value)
    # a dated last row with an extra field is still most likely a decimal comma
    with pytest.raises(DataError, match="decimal commas"):
        read_prices(write(tmp_path, "Date,Price\n" + rows + "2020-01-30,130,5\n"))


def test_ticker_names_a_single_series(tmp_path):
    text = "Date,Close\n2020-01-02,1\n2020-01-03,2\n"
    assert list(read_prices(write(tmp_path, text, "msft_2024.csv")).columns) == ["msft_2024"]
    named = read_prices(write(tmp_path, text, "msft_2024.csv"), ticker="MSFT")
    assert list(named.columns) == ["MSFT"]


def test_excel_file(tmp_path):
    path = tmp_path / "prices.xlsx"
    frame = pd.DataFrame(
        {"Date": pd.to_datetime(["2020-01-02", "2020-01-03"]), "A": [1.5, 2.5], "B": [3.0, 4.0]}
    )
    frame.to_excel(path, index=False, engine="openpyxl")
    read = read_prices(path)
    assert list(read.columns) == ["A", "B"] and list(read["A"]) == [1.5, 2.5]
    assert read.index[1] == pd.Timestamp("2020-01-03")


def test_excel_workbook_sheets(tmp_path):
    """The only sheet with data is read; with several, --sheet names one and is required."""
    path = tmp_path / "book.xlsx"
    days = pd.to_datetime(["2020-01-02", "2020-01-03"])
    with pd.ExcelWriter(path, engine="openpyxl") as book:
        pd.DataFrame().to_excel(book, sheet_name="empty", index=False)
        pd.DataFrame({"Date": days, "A": [1.5, 2.5]}).to_excel(book, sheet_name="p", index=False)
    assert list(read_prices(path)["A"]) == [1.5, 2.5]  # an empty sheet first is passed over
    with pd.ExcelWriter(path, engine="openpyxl", mode="a") as book:
        pd.DataFrame({"note": ["from the vendor"]}).to_excel(book, sheet_name="notes", index=False)
    with pytest.raises(DataError, match=r"2 sheets hold data \('p', 'notes'\); pass --sheet"):
        read_prices(path)
    assert list(read_prices(path, sheet="p")["A"]) == [1.5, 2.5]
    with pytest.raises(DataError, match="no sheet 'P' .*its sheets: empty, p, notes"):
        read_prices(path, sheet="P")
    twice = tmp_path / "twice.xlsx"
    pd.DataFrame([[days[0], 1.0, 2.0]], columns=["Date", "A", "A"]).to_excel(twice, index=False)
    with pytest.raises(DataError, match=r"sheet 'Sheet1'.*columns 2 and 3 are both named 'A'"):
        read_prices(twice)
    with pytest.raises(DataError, match="--sheet: .* is not an Excel workbook"):
        read_prices(write(tmp_path, "date,A\n2020-01-02,1\n"), sheet="p")
    # covariates the same way, with their own flag
    from lstm_forecast.data.reader import read_covariates

    with pytest.raises(DataError, match=r"2 sheets hold data .*; pass --covariate-sheet NAME"):
        read_covariates(path)
    assert list(read_covariates(path, sheet="p")["A"]) == [1.5, 2.5]


def test_a_title_above_an_excel_header_is_named(tmp_path):
    """A workbook with a title and a blank row above the header: the title is quoted, not
    taken for the date column's name."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Apple Inc. daily prices"])
    sheet.append([])
    sheet.append(["Date", "Close"])
    for k, day in enumerate(pd.bdate_range("2020-01-01", periods=30)):
        sheet.append([day.to_pydatetime(), 100 + k])
    path = tmp_path / "titled.xlsx"
    book.save(path)
    with pytest.raises(DataError, match="'Apple Inc. daily prices' stands above the header"):
        read_prices(path)
    sheet.delete_rows(1, 2)
    book.save(path)
    frame = read_prices(path)
    assert len(frame) == 30 and frame.attrs["read_as"].endswith("; sheet 'Sheet'")


def test_a_crsp_daily_file_reads_split_adjusted_closes_by_permno(tmp_path):
    """CRSP's daily stock file: PERMNO (the identifier; tickers get reused), PRC (minus the
    bid/ask average on a day without a trade, 0 without either) and CFACPR (4 before a 4:1
    split, 1 after): read as |PRC| / CFACPR, a holiday-free panel named by PERMNO."""
    import warnings

    days = pd.bdate_range("2020-01-02", periods=60)
    split = pd.Timestamp("2020-03-02")
    rows = []
    for permno, ticker, base in ((14593, "AAPL", 300.0), (10107, "MSFT", 160.0)):
        for k, day in enumerate(days):
            adjusted = base * (1 + 0.001 * k)
            factor = 4.0 if permno == 14593 and day < split else 1.0
            prc = adjusted * factor
            if k == 10:
                prc = -prc  # no trade: minus the bid/ask average
            rows.append({"PERMNO": permno, "date": day.strftime("%Y%m%d"), "TICKER": ticker,
                         "PRC": prc, "VOL": 1000, "CFACPR": factor})  # fmt: skip
    rows[20]["PRC"] = 0.0  # neither price nor bid/ask: missing, filled from the day before
    path = tmp_path / "crsp.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = read_prices(path)
    said = " ".join(str(w.message) for w in caught)
    assert "split's size" not in said and "forward-filled 1" in said
    assert list(frame.columns) == ["10107", "14593"]
    assert frame.attrs["read_as"].startswith(
        "a long file: tickers from column 'PERMNO', prices from 'close (|prc| / cfacpr)'; "
        "dates from column 'date', read as %Y%m%d"
    )
    expected = 300.0 * (1 + 0.001 * np.arange(60))
    expected[20] = expected[19]  # the 0 filled
    np.testing.assert_allclose(frame["14593"], expected, rtol=1e-12)
    np.testing.assert_allclose(frame["10107"], 160.0 * (1 + 0.001 * np.arange(60)), rtol=1e-12)


def test_crsp_bars_are_read_in_the_units_of_the_close(tmp_path):
    """OPENPRC, ASKHI and BIDLO are the open, high and low of a day with a trade, scaled by
    that day's close over |PRC| (split- and dividend-adjusted as the close is); on a day
    without a trade they are quotes, so its bar is its close; VOL times CFACSHR is the volume
    in today's shares. --features ohlc can then read a CRSP file."""
    days = pd.bdate_range("2020-01-02", periods=6)
    rows = []
    for k, day in enumerate(days):
        factor = 2.0 if k < 3 else 1.0  # a 2:1 split before day 3
        prc = (100.0 + k) * factor
        rows.append({"PERMNO": 14593, "date": day.strftime("%Y%m%d"),
                     "PRC": -prc if k == 4 else prc, "OPENPRC": prc - factor,
                     "ASKHI": prc + 2 * factor, "BIDLO": prc - 3 * factor,
                     "VOL": 500 * (2 if k >= 3 else 1), "CFACPR": factor,
                     "CFACSHR": factor})  # fmt: skip
    path = tmp_path / "crsp.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    frame = read_prices(path)
    bars = ohlcv_of(frame)
    close = 100.0 + np.arange(6)
    np.testing.assert_allclose(frame["14593"], close)
    traded = np.arange(6) != 4
    np.testing.assert_allclose(bars["open"][traded], (close - 1)[traded])
    np.testing.assert_allclose(bars["high"][traded], (close + 2)[traded])
    np.testing.assert_allclose(bars["low"][traded], (close - 3)[traded])
    assert bars["open"].iloc[4] == bars["high"].iloc[4] == bars["low"].iloc[4] == close[4]
    assert list(bars["volume"]) == [1000.0] * 6  # 500 shares before a 2:1 split are 1000
    np.testing.assert_allclose(bars["close"], close)


def test_crsp_ret_adjusts_the_closes_for_dividends(tmp_path):
    """With RET (the total return), a PERMNO's closes are adjusted for dividends as Yahoo's
    Adj Close is: each day's growth 1 + RET, the last close |PRC| / CFACPR. A $2 dividend
    on day 5 drops PRC by 2 but not the adjusted series; RET's letter codes are missing."""
    days = pd.bdate_range("2020-01-02", periods=8)
    prc = [100.0, 101.0, 102.0, 101.0, 103.0, 101.5, 102.0, 103.0]  # day 5: ex-dividend ($2)
    ret = ["C", 0.01, 102 / 101 - 1, 101 / 102 - 1, 103 / 101 - 1, (101.5 + 2) / 103 - 1, "B",
           103 / 102 - 1]  # fmt: skip
    rows = pd.DataFrame({"PERMNO": 10107, "date": days.strftime("%Y%m%d"), "PRC": prc,
                         "RET": ret, "CFACPR": 1.0})  # fmt: skip
    path = tmp_path / "crsp.csv"
    rows.to_csv(path, index=False)
    frame = read_prices(path)
    assert "with the dividends of ret" in frame.attrs["read_as"]
    closes = frame["10107"].to_numpy()
    assert closes[-1] == 103.0  # anchored at the last price
    growth = closes[1:] / closes[:-1]
    np.testing.assert_allclose(growth[4], 103.5 / 103, rtol=1e-12)  # the dividend kept
    np.testing.assert_allclose(growth[5], 102 / 101.5, rtol=1e-12)  # 'B': the price ratio
    np.testing.assert_allclose(growth[:4], np.array(prc[1:5]) / prc[:4], rtol=1e-12)
    rows.drop(columns="RET").to_csv(path, index=False)  # without RET: prices only
    assert read_prices(path)["10107"].tolist() == prc


def crsp_delisting(tmp_path, dlret, priced=False):
    """Two PERMNOs over 40 days; 20002 trades 30 of them, then a row on its delisting day
    with DLRET (and no price, as CRSP dates it, unless ``priced``)."""
    days = pd.bdate_range("2020-01-02", periods=40)
    rows = []
    for k, day in enumerate(days):
        date = day.strftime("%Y%m%d")
        rows.append({"PERMNO": 10001, "date": date, "PRC": 100.0 + k, "RET": "", "DLRET": ""})
        if k < 30:
            rows.append({"PERMNO": 20002, "date": date, "PRC": 50.0 + k % 2, "RET": "",
                         "DLRET": dlret if priced and k == 29 else ""})  # fmt: skip
        elif k == 30 and not priced:
            rows.append({"PERMNO": 20002, "date": date, "PRC": "", "RET": "", "DLRET": dlret})
    path = tmp_path / "crsp.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_crsp_dlret_is_the_last_move_of_a_delisted_permno(tmp_path):
    """CRSP's delisting return on a row of its own after the last trade: that day's price is
    the last one times 1 + DLRET, and the PERMNO ends there (a delisted ticker, kept)."""
    with pytest.warns(DataWarning, match=r"no prices for 20002 after 2020-02-13.*\(DLRET\) is"):
        frame = read_prices(crsp_delisting(tmp_path, -0.3))
    assert "with ret and the delisting return dlret" in frame.attrs["read_as"]
    gone = frame["20002"]
    assert gone.last_valid_index() == pd.Timestamp("2020-02-13")
    assert gone.loc["2020-02-12"] == 51.0 and gone.loc["2020-02-13"] == pytest.approx(51 * 0.7)
    assert frame["10001"].notna().all()
    with pytest.warns(DataWarning, match="no prices for 20002 after 2020-02-12"):
        coded = read_prices(crsp_delisting(tmp_path, "S"))  # a code: no return known
    assert coded["20002"].last_valid_index() == pd.Timestamp("2020-02-12")
    # CRSP's own dating: DLSTDT is the day of the last price, so DLRET sits on a priced row;
    # that close becomes the value left, (1 + RET)(1 + DLRET), and earlier ones are unchanged
    with pytest.warns(DataWarning, match=r"no prices for 20002 after 2020-02-12.*\(DLRET\) is"):
        priced = read_prices(crsp_delisting(tmp_path, -0.3, priced=True))
    assert priced["20002"].loc["2020-02-12"] == pytest.approx(51 * 0.7)
    assert priced["20002"].loc["2020-02-11"] == 50.0 and priced["20002"].loc["2020-02-10"] == 51
    assert np.log(priced["20002"]).diff().loc["2020-02-12"] == pytest.approx(np.log(51 / 50 * 0.7))
    with pytest.raises(DataError, match=r"DLRET -1, a loss of everything"):
        read_prices(crsp_delisting(tmp_path, -1.0))


def test_a_metatrader_export_reads_its_daily_bars_and_names_intraday_ones(tmp_path):
    """MetaTrader 5's 'Export bars': tab-separated, names in angle brackets, the time of day
    in a column of its own; daily bars read as one series, hourly ones refused as intraday."""
    header = "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n"
    daily = "".join(
        f"{day:%Y.%m.%d}\t00:00:00\t1.1\t1.2\t1.0\t{1.1 + k / 1000:.5f}\t8000\t{k}\t0\n"
        for k, day in enumerate(pd.bdate_range("2019-01-01", periods=30))
    )
    frame = read_prices(write(tmp_path, header + daily, "EURUSD_D1.csv"))
    assert list(frame.columns) == ["EURUSD_D1"] and frame.iloc[3, 0] == pytest.approx(1.103)
    assert list(ohlcv_of(frame)["volume"].iloc[:3]) == [0.0, 1.0, 2.0]  # <VOL>, not <TICKVOL>
    hourly = (
        "2019.01.02\t00:00:00\t1\t1\t1\t1\t5\t0\t0\n2019.01.02\t01:00:00\t1\t1\t1\t1\t5\t0\t0\n"
    )
    with pytest.raises(DataError, match=r"at the times in column 'TIME'.*00:00:00 and 01:00:00"):
        read_prices(write(tmp_path, header + hourly, "EURUSD_H1.csv"))


def test_a_metatrader_forex_export_reads_ticks_for_its_volume_of_zeros(tmp_path, capsys):
    """A forex pair has no exchange volume: MetaTrader writes <VOL> 0 on every day. The tick
    count then stands in for it, and the line that says how the file was read says so."""
    header = "<DATE>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n"
    days = pd.bdate_range("2019-01-01", periods=30)
    rows = "".join(
        f"{day:%Y.%m.%d}\t1.1\t1.2\t1.0\t{1.1 + k / 1000:.5f}\t{8000 + k}\t0\t3\n"
        for k, day in enumerate(days)
    )
    path = write(tmp_path, header + rows, "EURUSD_D1.csv")
    frame = read_prices(path)
    assert list(ohlcv_of(frame)["volume"].iloc[:3]) == [8000.0, 8001.0, 8002.0]
    said = frame.attrs["read_as"]
    assert "volume from 'TICKVOL' (its VOL is zero on every day" in said
    # one day of real volume: <VOL> is a volume, and stays what is read
    some = rows.replace("\t8005\t0\t", "\t8005\t7\t")
    frame = read_prices(write(tmp_path, header + some, "XAUUSD_D1.csv"))
    assert ohlcv_of(frame)["volume"].iloc[5] == 7.0 and ohlcv_of(frame)["volume"].iloc[4] == 0.0
    assert "TICKVOL" not in frame.attrs["read_as"]


@pytest.mark.parametrize(
    ("header", "row"),
    [  # Quandl's WIKI prices: raw bars, the adjusted ones beside them
        (
            "Date,Open,High,Low,Close,Volume,Ex-Dividend,Split Ratio,Adj. Open,Adj. High,"
            "Adj. Low,Adj. Close,Adj. Volume",
            "{d},20,30,19,{c2},100,0,1,10,15,9.5,{c},200",
        ),
        ("Date,PX_OPEN,PX_HIGH,PX_LOW,PX_LAST,PX_VOLUME", "{d},10,15,9.5,{c},200"),  # Bloomberg
    ],
)
def test_quandl_and_bloomberg_field_names(tmp_path, header, row):
    days = pd.bdate_range("2018-01-02", periods=25)
    text = (
        header
        + "\n"
        + "".join(
            row.format(d=f"{day:%Y-%m-%d}", c=10 + k / 10, c2=2 * (10 + k / 10)) + "\n"
            for k, day in enumerate(days)
        )
    )
    frame = read_prices(write(tmp_path, text, "x.csv"))
    assert list(frame["x"].iloc[:2]) == [10.0, 10.1]  # the adjusted close, or PX_LAST
    bars = ohlcv_of(frame)
    assert {"open", "high", "low", "volume"} <= set(bars)


def test_binance_klines_without_a_header_read_by_their_documented_fields(tmp_path):
    """data.binance.vision's kline files have no header: 12 fields, the open and close times
    in Unix milliseconds (microseconds in spot files since 2025). Daily klines read as one
    series named by the file's symbol, every calendar day; hourly ones are intraday."""
    days = pd.date_range("2024-01-01", periods=20, freq="D")

    def klines(opens, step_ms, scale=1):
        return "".join(
            f"{t * scale},{100 + k},{102 + k},{99 + k},{100.5 + k},{10 + k},"
            f"{(t + step_ms - 1) * scale + scale - 1},1000.0,50,5.0,500.0,0\n"
            for k, t in enumerate(opens)
        )

    opens = [int(day.timestamp() * 1000) for day in days]
    for name, scale in (("BTCUSDT-1d-2024-01.csv", 1), ("ETHUSDT-1d-2025-01.csv", 1000)):
        frame = read_prices(write(tmp_path, klines(opens, 86_400_000, scale), name))
        assert list(frame.columns) == [name.split("-")[0]]
        assert list(frame.index) == list(days)  # weekends included: a market open every day
        assert frame.iloc[:3, 0].tolist() == [100.5, 101.5, 102.5]
        bars = ohlcv_of(frame)
        assert bars["high"].iloc[0] == 102 and bars["volume"].iloc[2] == 12
    hours = [opens[0] + 3_600_000 * k for k in range(30)]
    with pytest.raises(DataError, match="intraday bars"):
        read_prices(write(tmp_path, klines(hours, 3_600_000), "BTCUSDT-1h-2024-01.csv"))


@pytest.mark.parametrize(
    "text",
    [
        "2020-01-02,100\n2020-01-03,101\n",  # a date and a price
        "1577923200000,100\n1578009600000,101\n",  # Unix time and a price
        "02/01/2020,100.5,7\n03/01/2020,101,8\n",
    ],
)
def test_a_file_without_a_header_row_is_refused_in_one_line(tmp_path, text):
    with pytest.raises(DataError, match=r"holds values, not column names: the file has no header"):
        read_prices(write(tmp_path, text, "prices.csv"))


def test_numbers_as_ticker_names_are_a_header(tmp_path):
    """Tokyo's tickers are numbers: a header of them, with the date column named or not
    (a frame saved by pandas), is a header."""
    for header in ("Date,7203,6758\n", ",7203,6758\n"):
        text = header + "2020-01-06,100,200\n2020-01-07,101,199\n"
        assert list(read_prices(write(tmp_path, text, "tokyo.csv")).columns) == ["7203", "6758"]


def test_currency_signs_and_codes_after_the_number_and_one_currency_only(tmp_path):
    """European bank exports write '102,06 €' or '102.06 USD'; a column mixing currencies
    is two units, not one series."""
    days = [f"2020-01-{d:02d}" for d in (2, 3, 6)]
    cases = [("102,06 €", "103,10 €", "101,00 €", ","), ("102.06 USD", "103.1 USD", "101 USD", ".")]
    for *cells, decimal in cases:
        text = "Date;Close\n" + "".join(f"{d};{c}\n" for d, c in zip(days, cells, strict=True))
        frame = read_prices(write(tmp_path, text), decimal=decimal)
        assert frame.iloc[:, 0].tolist() == [102.06, 103.1, 101.0]
    mixed = "Date,Close\n2020-01-02,$100\n2020-01-03,€101\n2020-01-06,$102\n"
    with pytest.raises(DataError, match=r"mixes currencies \(line 2: '\$100', line 3: '€101'\)"):
        read_prices(write(tmp_path, mixed))
    codes = "Date,Close\n2020-01-02,100 USD\n2020-01-03,101 EUR\n"
    with pytest.raises(DataError, match="mixes currencies"):
        read_prices(write(tmp_path, codes))


def test_decimal_comma_flag_on_decimal_points_is_refused(tmp_path):
    """With --decimal , '1.105' is 1105 (a thousands point) beside '1.1052' as 1.1052: a
    column of decimal points and no comma is refused rather than read so."""
    text = "Date,Close\n2020-01-02,1.1052\n2020-01-03,1.105\n2020-01-06,1.1049\n"
    with pytest.raises(DataError, match=r"line 2: '1.1052'.*decimal points.*drop --decimal ,"):
        read_prices(write(tmp_path, text), decimal=",")
    assert read_prices(write(tmp_path, text)).iloc[1, 0] == 1.105
    german = "Datum;Schluss\n30.12.2019;1.105\n31.12.2019;1.234,5\n"  # thousands points: read
    assert read_prices(write(tmp_path, german), decimal=",").iloc[:, 0].tolist() == [1105, 1234.5]


def test_a_localised_close_alone_beside_the_date_is_one_series(tmp_path):
    """'Datum;Schlusskurs' was read as a wide file with a ticker named Schlusskurs."""
    text = "Datum;Schlusskurs\n30.12.2019;102,06\n31.12.2019;103,10\n02.01.2020;101,00\n"
    frame = read_prices(write(tmp_path, text, "siemens.csv"), decimal=",")
    assert list(frame.columns) == ["siemens"] and frame.iloc[0, 0] == 102.06
    wide = "Date,SLOT\n2020-01-02,10\n2020-01-03,11\n2020-01-06,12\n"  # a ticker stays one
    assert list(read_prices(write(tmp_path, wide, "x.csv")).columns) == ["SLOT"]
