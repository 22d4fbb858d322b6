#!/usr/bin/env bash
# The checks that need a GPU, in one run: the CUDA equivalence tests, the CUDA rows of the
# engine and ensemble benchmarks, and the forecaster fitted on CPU and CUDA side by side.
# Uses the machine's own python3 (torch with CUDA, numpy, pandas, pytest, hypothesis) and this
# checkout's source; each output also goes to $OUT when that is set.
#
#     bash benchmarks/gpu_check.sh
set -u
out=${OUT:-$(mktemp -d)}
export PYTHONPATH=src LSTM_FORECAST_CACHE="$out/.cache"
py=${PYTHON:-python3}
nvidia-smi -L
"$py" -c "import sys, torch; print(sys.version.split()[0], 'torch', torch.__version__, torch.cuda.get_device_name())"
run() { # name, seconds, command...
    local name=$1 limit=$2
    shift 2
    echo "== $name"
    local start=$SECONDS
    timeout "$limit" "$@" 2>&1 | tee "$out/$name.txt"
    echo "== $name: exit ${PIPESTATUS[0]} after $((SECONDS - start)) s"
}
run cuda_tests 240 "$py" -m pytest tests/nn/test_engine_cuda.py tests/models/test_lstm_cuda.py -q -p no:cacheprovider
run bench_ensemble 60 "$py" benchmarks/bench_ensemble.py --device cuda
run gpu_fit 120 "$py" benchmarks/gpu_fit.py
run bench_engine 120 "$py" benchmarks/bench_engine.py --devices cuda --paths eager --repeats 10 --no-compile-times
