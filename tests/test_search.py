"""One name search for /municipalities?q= and the WPT search page."""

from __future__ import annotations

import pytest

from territorio.search import match_names, search_key

# Official ISTAT spellings of real comuni of the Città Metropolitana di Torino.
NAMES = [
    "Agliè",
    "Ceresole Reale",
    "None",
    "Pont-Canavese",
    "Sant'Antonino di Susa",
    "Santena",
    "Val della Torre",
]
KEYS = [search_key(n) for n in NAMES]


def found(query: str) -> list[str] | None:
    hit = match_names(KEYS, query)
    return None if hit is None else [n for n, ok in zip(NAMES, hit, strict=True) if ok]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Sant’Antonino di Susa", ["Sant'Antonino di Susa"]),  # typographic apostrophe
        ("sant antonino", ["Sant'Antonino di Susa"]),
        ("Santantonino", ["Sant'Antonino di Susa"]),
        ("Ceresole  Reale", ["Ceresole Reale"]),  # two spaces
        ("  ceresole reale ", ["Ceresole Reale"]),
        ("AGLIE'", ["Agliè"]),  # the typewriter accent
        ("AGLIÈ", ["Agliè"]),
        ("Pont Canavese", ["Pont-Canavese"]),  # the hyphen typed as a space
        ("pont–canavese", ["Pont-Canavese"]),  # an en dash
        ("None", ["None"]),  # a name, not a null
        ("sant", ["Sant'Antonino di Susa", "Santena"]),
        ("torre", ["Val della Torre"]),
        ("Atlantide", []),
    ],
)
def test_queries_find_the_official_names(query: str, expected: list[str]) -> None:
    assert found(query) == expected


@pytest.mark.parametrize("query", ["", " ", "   ", "'", "’ - '"])
def test_a_blank_query_is_no_filter_not_every_name_with_a_space(query: str) -> None:
    # before: q=' ' matched the 98 comuni whose name holds a space
    assert found(query) is None


def test_search_key() -> None:
    assert search_key("Sant’Antonino  di Susa") == "sant antonino di susa"
    assert search_key("Pont-Canavese") == "pont canavese"
    assert search_key("AGLIE'") == search_key("Agliè") == "aglie"
    assert search_key("Città Nuova") == "citta nuova"
