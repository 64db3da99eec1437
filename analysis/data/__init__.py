"""Data layer: the cited raw files, their validation, ingestion and the GODT reader."""
