"""The Bayesian discrepancy model: evidence selection, PyMC graph, fitting, summaries, simulation."""
