"""Comparable groups, the comparison table and code checks, on hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from territorio.errors import NotFoundError
from territorio.report.source import check_code, comparable_group, comparison_table


def _table() -> pd.DataFrame:
    # five C comuni in the plain, one C in the hills, two D in the mountains,
    # one outside coverage
    return pd.DataFrame(
        {
            "pro_com_t": ["001001", "001002", "001003", "001004", "001005",
                          "001006", "001007", "001008", "001009"],
            "snai_class": ["C", "C", "C", "C", "C", "C", "D", "D", "outside_coverage"],
            "altitude_zone": ["Pianura"] * 5 + ["Collina interna"]
            + ["Montagna interna"] * 3,
        }
    )  # fmt: skip


def test_group_is_same_class_and_zone_without_the_comune() -> None:
    g = comparable_group(_table(), "001001")
    assert g is not None and not g.widened
    assert (g.snai_class, g.altitude_zone) == ("C", "Pianura")
    assert g.codes == ("001002", "001003", "001004", "001005")


def test_small_group_widens_to_the_class_and_says_so() -> None:
    # 001006 is the only C comune in the hills: 0 < 3 peers share class and
    # zone, so the group is every other C comune (5 of them).
    g = comparable_group(_table(), "001006")
    assert g is not None and g.widened and g.altitude_zone is None
    assert g.codes == ("001001", "001002", "001003", "001004", "001005")
    # the D comune has one peer in its zone: widened to class D = the same one
    g = comparable_group(_table(), "001007")
    assert g is not None and g.widened and g.codes == ("001008",)


def test_no_group_outside_coverage_or_unknown() -> None:
    assert comparable_group(_table(), "001009") is None
    assert comparable_group(_table(), "009999") is None


def test_comparison_table_median_and_quartiles() -> None:
    codes = ["001001", "001002", "001003", "001004", "001005"]
    access = pd.DataFrame(
        {
            "pro_com_t": codes * 2,
            "category": ["pharmacy"] * 5 + ["hospital"] * 5,
            "status": ["ok", "ok", "ok", "partial", "outside_coverage", "ok"] + ["no_data"] * 4,
            "ref_time_min": [9.0, 2.0, 4.0, 6.0, 99.0, 30.0, np.nan, np.nan, np.nan, np.nan],
        }
    )
    g = comparable_group(_table(), "001001")
    assert g is not None
    t = comparison_table(access, "001001", g, ["pharmacy", "hospital", "library"])
    ph = t.loc["pharmacy"]
    # peers 001002-001005: 2, 4, 6 timed (ok / partial); 001005 is outside
    # coverage and does not count. numpy's linear percentiles of [2, 4, 6]:
    # q1 = 2 + 0.5 * 2 = 3, median 4, q3 = 4 + 0.5 * 2 = 5.
    assert (ph["value"], ph["n"], ph["q1"], ph["median"], ph["q3"]) == (9.0, 3, 3.0, 4.0, 5.0)
    # hospital: the comune has 30 min, no peer has data
    assert t.loc["hospital", "value"] == 30.0 and t.loc["hospital", "n"] == 0
    assert np.isnan(t.loc["hospital", "median"])
    # a category absent from the table is no_data with no value
    assert t.loc["library", "status"] == "no_data" and np.isnan(t.loc["library", "value"])


def test_check_code_messages() -> None:
    munis = pd.DataFrame({"pro_com_t": ["001168", "001272"]})
    assert check_code("001168", munis, bundle_name="b", province="001") == "001168"
    with pytest.raises(NotFoundError, match="not an ISTAT municipality code: codes are 6-digit"):
        check_code("1272", munis, bundle_name="b", province="001")
    with pytest.raises(NotFoundError, match="outside the bundle: it is not in province 001"):
        check_code("015146", munis, bundle_name="b", province="001")
    with pytest.raises(NotFoundError, match="bundle b has no comune with this code"):
        check_code("001999", munis, bundle_name="b", province="001")
