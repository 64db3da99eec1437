"""Report layer: house style, charts and tables for notebooks and reports (imports data and model)."""
