"""Report layer: charts and tables for notebooks and reports (imports data and model)."""
