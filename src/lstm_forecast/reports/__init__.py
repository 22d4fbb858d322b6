"""Plots and reports (matplotlib, Agg backend)."""
