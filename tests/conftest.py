"""Test-session settings."""

import os

import torch
from hypothesis import settings

# Property tests draw the same examples on every run, so a clean checkout passes or fails
# reproducibly; HYPOTHESIS_PROFILE=explore draws fresh random examples to hunt for new bugs.
settings.register_profile("repro", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repro"))

if os.environ.get("PYTEST_XDIST_WORKER"):
    # Each xdist worker gets one thread: two workers with two threads each on a 2-core
    # machine oversubscribe it and made torch-heavy tests several times slower.
    torch.set_num_threads(1)
