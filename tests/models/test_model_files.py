"""A saved model is trusted only as far as it is checked: every field, every tensor, the hash."""

import json
import sys

import pytest
import torch
from safetensors.torch import load_file, save_file

from lstm_forecast.data import read_prices
from lstm_forecast.models import LSTMForecaster
from lstm_forecast.models.lstm_files import config_digest
from lstm_forecast.training import ModelFileError

FAST = dict(lookback=8, hidden_size=4, epochs=1, batch_size=64)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    prices = read_prices("sp500-stocks", tickers=["AAPL", "KO"]).iloc[-300:]
    directory = tmp_path_factory.mktemp("model") / "m"
    LSTMForecaster(**FAST).fit(prices).save(directory)
    return directory


def copy(saved, tmp_path):
    target = tmp_path / "m"
    target.mkdir()
    for name in ("config.json", "model.safetensors"):
        (target / name).write_bytes((saved / name).read_bytes())
    return target


def edit_config(directory, change, rehash=True):
    path = directory / "config.json"
    doc = json.loads(path.read_text())
    change(doc)
    if rehash:
        doc["model_sha256"] = config_digest(doc)
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: d["settings"].update(lookback=30), "model_sha256 does not match"),
        (lambda d: d["scaler"]["std"].update(AAPL=-1.0), "model_sha256 does not match"),
        (lambda d: d.update(tickers=["KO", "AAPL"]), "model_sha256 does not match"),
    ],
)
def test_any_edit_of_the_config_is_caught_by_the_hash(saved, tmp_path, change, match):
    directory = copy(saved, tmp_path)
    edit_config(directory, change, rehash=False)
    with pytest.raises(ModelFileError, match=match):
        LSTMForecaster.load(directory)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: d["settings"].update(num_layers=100000), r"num_layers \(--layers\)"),
        (lambda d: d["settings"].update(hidden_size=1e6), r"hidden_size \(--hidden-size\)"),
        (lambda d: d["settings"].update(lookback="sixty"), "lookback.*must be a number"),
        (lambda d: d["settings"].update(variant="lstm2"), r"variant \(--variant\) must be one"),
        (lambda d: d["settings"].update(device="tpu"), r"device \(--device\)"),
        (lambda d: d["settings"].pop("lookback"), "'settings.lookback' is missing"),
        (lambda d: d.update(settings=[1, 2]), "'settings' must be an object"),
        (lambda d: d["scaler"]["std"].update(AAPL=-1.0), "field 'scaler'"),
        (lambda d: d["scaler"]["mean"].update(AAPL=None), "field 'scaler'"),
        (lambda d: d.update(tickers=["../../tmp/x", "KO"]), "field 'scaler'"),
        (lambda d: d.update(tickers=["KO", "KO"]), "field 'tickers'"),
        (lambda d: d.update(tickers="AAPL"), "field 'tickers'"),
        (lambda d: d.pop("weights_sha256"), "'weights_sha256' is missing"),
        (lambda d: d.update(train_start="soon"), "train_start"),
        (lambda d: d.update(members=5), "field 'members' must list the 1 members"),
        (lambda d: d.update(closed_days="2020-01-01"), "'closed_days' must be a list of dates"),
        (lambda d: d.update(closed_days=["soon"]), "'closed_days' holds a bad date"),
        (lambda d: d.update(closed_days=["1980-01-01"]), "'closed_days' holds dates outside"),
        (lambda d: d.update(members=[{"best_epoch": "x"}]), "members' holds a bad 'best_epoch'"),
        (lambda d: d.update(members=[{"gain_se": "big"}]), "members' holds a bad 'gain_se'"),
    ],
)
def test_every_field_is_checked_even_with_a_matching_hash(saved, tmp_path, change, match):
    directory = copy(saved, tmp_path)
    edit_config(directory, change)
    with pytest.raises(ModelFileError, match=match):
        LSTMForecaster.load(directory)


@pytest.mark.parametrize(
    ("convert", "match"),
    [
        (lambda t: t.double(), "is torch.float64, expected float32"),
        (lambda t: t.to(torch.int8), "is torch.int8"),
        (lambda t: t > 0, "is torch.bool"),
        (lambda t: torch.full_like(t, float("nan")), "NaN or infinity"),
    ],
)
def test_weights_must_be_finite_float32(saved, tmp_path, convert, match):
    directory = copy(saved, tmp_path)
    weights = directory / "model.safetensors"
    tensors = {k: convert(v) for k, v in load_file(weights).items()}
    save_file(tensors, weights)
    edit_config(directory, lambda d: d.update(weights_sha256=_sha(weights)))
    with pytest.raises(ModelFileError, match=match):
        LSTMForecaster.load(directory)


def _sha(path):
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_deep_or_huge_json_is_refused(saved, tmp_path):
    directory = copy(saved, tmp_path)
    config = directory / "config.json"
    depth = sys.getrecursionlimit() * 100
    config.write_text("[" * depth + "]" * depth)
    with pytest.raises(ModelFileError, match="nested too deeply"):
        LSTMForecaster.load(directory)
    config.write_text(" " * 20_000_001)
    with pytest.raises(ModelFileError, match="larger than"):
        LSTMForecaster.load(directory)


def test_a_killed_save_leaves_no_block(saved, tmp_path):
    """A temporary file of our atomic writer must not stop a later save (with --force)."""
    directory = copy(saved, tmp_path)
    (directory / ".model.safetensors.abc123").write_bytes(b"partial")
    model = LSTMForecaster.load(directory)
    model.save(directory, overwrite=True)
    assert sorted(p.name for p in directory.iterdir()) == ["config.json", "model.safetensors"]
    (directory / "notes.txt").write_text("mine")
    with pytest.raises(ModelFileError, match=r"other files \(notes.txt\), which --force"):
        model.save(directory, overwrite=True)
    assert (directory / "notes.txt").read_text() == "mine"


def test_a_full_disk_during_save_leaves_no_partial_model(saved, tmp_path, monkeypatch):
    import os as os_module

    from lstm_forecast.training import files

    model = LSTMForecaster.load(saved)
    real_fsync = os_module.fsync
    calls = []

    def full_disk(fd):
        calls.append(fd)
        if len(calls) == 2:  # the weights went through; the config hits a full disk
            raise OSError(28, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", full_disk)
    with pytest.raises(ModelFileError, match="No space left on device"):
        model.save(tmp_path / "m")
    assert not (tmp_path / "m").exists() or list((tmp_path / "m").iterdir()) == []


def test_a_full_disk_keeps_the_previous_saved_model(saved, tmp_path, monkeypatch):
    from lstm_forecast.training import files

    directory = copy(saved, tmp_path)
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    model = LSTMForecaster.load(directory)

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full_disk)
    with pytest.raises(ModelFileError, match="No space left"):
        model.save(directory, overwrite=True)
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before
