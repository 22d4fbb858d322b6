"""Test-session settings."""

import os

import torch

if os.environ.get("PYTEST_XDIST_WORKER"):
    # Each xdist worker gets one thread: two workers with two threads each on a 2-core
    # machine oversubscribe it and made torch-heavy tests several times slower.
    torch.set_num_threads(1)
