"""territorio: territorial welfare and service accessibility planner."""

from territorio._version import __version__

__all__ = ["__version__"]
