"""HTML pages of the Welfare Point Territoriale: a FastAPI router the API app includes."""

from territorio.web.router import OffersSource, build_router

__all__ = ["OffersSource", "build_router"]
