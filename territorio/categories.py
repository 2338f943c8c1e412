"""The fixed service taxonomy.

Every service in a bundle carries exactly one of these category codes. The
codes are stable identifiers (used in files, the API and the CLI); labels are
given in Italian and English. Which OSM tags and which registry rows map to
each category is documented next to each adapter (``territorio.ingest``).
"""

from __future__ import annotations

from dataclasses import dataclass

from territorio.errors import UnknownCategoryError

__all__ = ["CATEGORIES", "ESSENTIAL_BASKET", "Category", "category", "check_category"]


@dataclass(frozen=True)
class Category:
    """A service category: stable code, Italian and English labels, group."""

    code: str
    label_it: str
    label_en: str
    group: str


CATEGORIES: dict[str, Category] = {
    c.code: c
    for c in (
        Category("hospital", "Ospedale", "Hospital", "health"),
        Category("primary_care", "Medico / ambulatorio", "Doctor / clinic", "health"),
        Category("pharmacy", "Farmacia", "Pharmacy", "health"),
        Category("primary_school", "Scuola primaria", "Primary school", "education"),
        Category("secondary_school", "Scuola secondaria", "Secondary school", "education"),
        Category(
            "childcare", "Nido / scuola dell'infanzia", "Childcare / kindergarten", "education"
        ),
        Category("post_office", "Ufficio postale", "Post office", "public"),
        Category("library", "Biblioteca", "Library", "culture"),
        Category("social_facility", "Servizi sociali / RSA", "Social / elderly care", "social"),
        Category("town_hall", "Municipio", "Town hall", "public"),
        Category("railway_station", "Stazione ferroviaria", "Railway station", "transport"),
        Category("pt_stop", "Fermata trasporto pubblico", "Public-transport stop", "transport"),
        Category(
            "digital_help",
            "Punto digitale / internet pubblico",
            "Digital help / public internet",
            "digital",
        ),
        Category("bank_atm", "Banca / bancomat", "Bank / ATM", "finance"),
    )
}

#: Categories of the essential welfare basket used by the marginality index.
ESSENTIAL_BASKET: tuple[str, ...] = (
    "primary_care",
    "pharmacy",
    "primary_school",
    "post_office",
    "social_facility",
    "digital_help",
)


def check_category(code: str, *, where: str = "") -> str:
    """Return ``code`` if it is a known category, else raise a clear error.

    Parameters
    ----------
    code
        The category code to check.
    where
        Where the code was read (file and row), for the error message.
    """
    if code not in CATEGORIES:
        at = f" in {where}" if where else ""
        raise UnknownCategoryError(
            f"unknown service category {code!r}{at}; use one of: {', '.join(CATEGORIES)}"
        )
    return code


def category(code: str) -> Category:
    """Return the :class:`Category` for ``code`` (raises for unknown codes)."""
    return CATEGORIES[check_category(code)]
