"""Source adapters: each returns a validated GeoDataFrame and a provenance record."""

from territorio.ingest._result import SourceResult

__all__ = ["SourceResult"]
