"""Name search: one normalisation for every place a user types a comune's name.

``/municipalities?q=`` and the WPT search page (``/wpt/cerca``) both use
:func:`search_key` and :func:`match_names`, so a name found by one is found by
the other. What a user types differs from ISTAT's official spelling in
predictable ways, all folded away here:

* accents and case (``AGLIÈ``, ``Agliè``, ``aglie``), including the typewriter
  habit of an apostrophe for an accent (``AGLIE'``);
* the apostrophe itself, straight or typographic (``Sant'Antonino``,
  ``Sant’Antonino``, ``Sant Antonino``);
* hyphens and dashes typed as spaces (``Pont-Canavese``, ``Pont Canavese``);
* repeated, missing or surrounding spaces (``Ceresole  Reale``,
  ``Santantonino``).

A query with no letter or digit left (``' '``, ``"'"``) is blank: it filters
nothing, it does not match every name that holds a space.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import numpy as np

__all__ = ["match_names", "search_key"]

# Apostrophes, quotes, hyphens, dashes, dots, slashes and other punctuation
# become word breaks; letters (any script) and digits are kept.
_BREAK = re.compile(r"[^\w]+|_+")


def search_key(text: str) -> str:
    """Return the search key of a name or a query.

    Casefolded, accents stripped (NFKD without combining marks), every run
    of punctuation or white space turned into one space, trimmed.

    Parameters
    ----------
    text
        A name, or what a user typed.

    Returns
    -------
    str
        The key; empty when ``text`` has no letter or digit.

    Examples
    --------
    >>> search_key("Sant’Antonino di Susa") == search_key("Sant'Antonino di Susa")
    True
    >>> search_key("AGLIE'"), search_key("Agliè")
    ('aglie', 'aglie')
    >>> search_key("Pont-Canavese"), search_key("  Pont   Canavese ")
    ('pont canavese', 'pont canavese')
    """
    nfkd = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in nfkd if not unicodedata.combining(ch)).casefold()
    return " ".join(_BREAK.sub(" ", plain).split())


def match_names(keys: Iterable[str], query: str) -> np.ndarray | None:
    """Which names contain the query, compared by their :func:`search_key`.

    Parameters
    ----------
    keys
        The names' search keys (computed once with :func:`search_key`).
    query
        What the user typed.

    Returns
    -------
    numpy.ndarray or None
        A boolean mask over ``keys``; None when the query is blank (no
        filter), so the caller decides what a blank search shows.
    """
    needle = search_key(query).replace(" ", "")
    if not needle:
        return None
    # compared without the spaces: "Santantonino" and "Sant Antonino" find the same
    return np.fromiter((needle in k.replace(" ", "") for k in keys), dtype=bool)
