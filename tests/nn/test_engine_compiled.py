"""The compiled path (a few small shapes: compiling is slow on 2 cores) and its fallback."""

import warnings

import pytest
import torch

from lstm_forecast.nn import compile as compile_module
from lstm_forecast.nn.engine import RecurrentEngine

from .test_engine import SHAPES, VARIANTS, compare


@pytest.mark.parametrize("variant", VARIANTS)
def test_compiled_equals_reference(variant):
    engine, _ = compare(variant, "compiled", SHAPES[1])
    assert "path='compiled'" in repr(engine)


def test_fallback_to_eager_with_one_warning(monkeypatch):
    def broken(fn, **kwargs):
        def fail(*args, **kw):
            raise RuntimeError("no C++ compiler found")

        return fail

    monkeypatch.setattr(torch, "compile", broken)
    monkeypatch.setattr(compile_module, "_COMPILED", {})
    monkeypatch.setattr(compile_module, "_COEFFICIENTS", [])
    x = torch.randn(2, 3, 1, dtype=torch.float64)
    for variant in ("coupled", "gru"):
        with pytest.warns(RuntimeWarning, match="torch.compile unavailable.*no C\\+\\+ compiler"):
            _out, _ = RecurrentEngine(
                1, 2, 1, variant, path="compiled", dtype=torch.float64, device="cpu"
            )(x)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the warning is said once per variant, not per call
            RecurrentEngine(1, 2, 1, variant, path="compiled", dtype=torch.float64, device="cpu")(x)


def test_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LSTM_FORECAST_CACHE", str(tmp_path))
    assert compile_module.cache_dir() == tmp_path / "inductor"


def test_warming_up_leaves_the_global_random_stream_alone(monkeypatch):
    # the first compiled fit in a process must draw the same dropout masks as later ones
    monkeypatch.setattr(torch, "compile", lambda fn, **kwargs: fn)  # warm up, not compile
    monkeypatch.setattr(compile_module, "_COMPILED", {})
    monkeypatch.setattr(compile_module, "_COEFFICIENTS", [])
    warm_ups = [compile_module.compiled_lstm_functions] + [
        lambda v=v: compile_module.compiled_cell(v) for v in ("gru", "rnn")
    ]
    for warm_up in warm_ups:
        torch.manual_seed(7)
        warm_up()
        after = torch.rand(3)
        torch.manual_seed(7)
        torch.testing.assert_close(after, torch.rand(3), rtol=0, atol=0)
