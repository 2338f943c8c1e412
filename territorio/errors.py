"""One exception family for the whole package.

Every error a user can cause derives from :class:`TerritorioError` and, where it
fits, from a builtin (``ValueError``, ``FileNotFoundError``, ``KeyError``) so
callers can catch either. Messages say what is wrong, where (file, row,
column) and how to fix it; the CLI prints them on one line and exits with 2,
the API maps them to RFC 9457 problems in one place.
"""

from __future__ import annotations

__all__ = [
    "BundleError",
    "ConfigError",
    "DataValidationError",
    "MissingColumnError",
    "MissingOutputsError",
    "NotFoundError",
    "OutsideCoverageError",
    "SourceNotFoundError",
    "StaleOutputError",
    "TerritorioError",
    "UnknownAreaError",
    "UnknownCategoryError",
    "UnsupportedModeError",
]


class TerritorioError(Exception):
    """Base class of every error territorio raises on purpose."""


class ConfigError(ValueError, TerritorioError):
    """A configuration file or option is invalid."""


class SourceNotFoundError(FileNotFoundError, TerritorioError):
    """A source file or URL does not exist or cannot be reached."""


class DataValidationError(ValueError, TerritorioError):
    """A source's content is invalid (bad coordinates, bad codes, ...)."""


class MissingColumnError(DataValidationError):
    """A required column is missing from a source table."""


class UnknownCategoryError(ValueError, TerritorioError):
    """A service category is not in the taxonomy."""


class UnknownAreaError(ValueError, TerritorioError):
    """An area code (province, municipality) does not exist."""


class NotFoundError(KeyError, TerritorioError):
    """A requested item (municipality, service, offer, cluster) does not exist."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain.
        return str(self.args[0]) if self.args else ""


class BundleError(TerritorioError):
    """A territory bundle is missing, incomplete or of an unknown version."""


class StaleOutputError(BundleError):
    """A derived output (plan folder, maps) was computed from another build of the bundle."""


class OutsideCoverageError(ValueError, TerritorioError):
    """A point lies outside the road network's coverage."""


class UnsupportedModeError(ValueError, TerritorioError):
    """A travel mode is not available on this network."""


class MissingOutputsError(BundleError):
    """A stage's outputs a request needs were not computed (``territorio access``, ``plan``).

    The bundle itself is fine; the fix is to run the named command.
    """
