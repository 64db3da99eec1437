"""Checks of the model against itself: recovery of a known gap from simulated data."""
