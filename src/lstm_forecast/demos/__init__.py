"""Demos a learner runs: the seed's worked unit, gradients over time, long memory."""
