"""Benchmarks: commands that print figures with the size of their input (see the README)."""
