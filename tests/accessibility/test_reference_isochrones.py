"""The isochrones ``territorio access`` keeps for every comune's reference point."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
import shapely

from territorio.accessibility.compute import compute_access
from territorio.accessibility.context import AccessContext
from territorio.accessibility.isochrones import isochrones, reference_isochrones
from territorio.config import AccessConfig
from territorio.maps._data import municipality_isochrones
from tests.accessibility.toy import E0, N0
from tests.accessibility.toy_bundle import REFS, make_toy_bundle

CFG = AccessConfig(thresholds_min=[1.0, 4.0])


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return make_toy_bundle(tmp_path_factory.mktemp("toy") / "toy")


def test_same_contours_as_an_isochrone_from_the_reference_point(bundle) -> None:
    ctx = AccessContext.from_bundle(bundle, CFG)
    got = reference_isochrones(ctx, minutes=(2, 1), cell_m=100.0)
    # 001004's reference point (3500, 0) is 1,500 m from node 3, beyond the 1 km
    # snap limit: outside coverage, so no rows; the others in code order
    assert got["pro_com_t"].tolist() == ["001001", "001001", "001002", "001002", "001003", "001003"]
    assert got["minutes"].tolist() == [1.0, 2.0] * 3
    for code, _x, _y in REFS[:3]:
        row = ctx.municipalities[ctx.municipalities["pro_com_t"] == code].iloc[0]
        want = isochrones(
            ctx.network, [(row["ref_lon"], row["ref_lat"])], [1, 2], cell_m=100.0
        ).geometry.to_numpy()
        mine = got.loc[got["pro_com_t"] == code].geometry.to_numpy()
        assert all(shapely.equals_exact(mine, want, tolerance=1e-12))
    one, two = got.to_crs(32632).geometry.to_numpy()[:2]
    # 1 min from node 1 (0, 0): 1 -> 2 takes 50 s; the 10 s left reach 222 m of
    # 2 -> 4 (45 s for 1,000 m): (500, 0) is in, (1000, 500) is 500 - 222 = 278 m
    # beyond the reached end, more than the 100 m buffer plus a 100 m cell
    assert one.contains(shapely.Point(E0 + 500, N0))
    assert not one.contains(shapely.Point(E0 + 1000, N0 + 500))
    # 2 min: node 4 at 95 s, (1000, 500) is 500 m up 2 -> 4 (22.5 s): in
    assert two.contains(shapely.Point(E0 + 1000, N0 + 500))
    assert one.difference(two).area < 1.0  # nested (up to the EPSG:4326 round trip)


def test_access_writes_them_and_maps_read_one_comune(tmp_path) -> None:
    out = compute_access(make_toy_bundle(tmp_path / "toy"), CFG, progress=False)
    layer = out.layer("access_isochrones")
    # 3 covered reference points x 10/20/30 minutes; the toy graph is crossed in
    # 125 s (1 -> 2 -> 4 -> 3), so the three contours of a comune are equal
    assert len(layer) == 9 and layer["minutes"].tolist() == [10.0, 20.0, 30.0] * 3
    assert out.manifest["access"]["isochrones"]["cell_m"] == 100.0
    assert pq.ParquetFile(out.path / "access_isochrones.parquet").metadata.num_row_groups == 1
    munis = out.layer("municipalities")
    iso, outside = municipality_isochrones(out, munis[munis["pro_com_t"] == "001002"].iloc[0])
    assert not outside and iso["minutes"].tolist() == [10.0, 20.0, 30.0]
    assert set(iso["pro_com_t"]) == {"001002"}
    iso, outside = municipality_isochrones(out, munis[munis["pro_com_t"] == "001004"].iloc[0])
    assert iso is None and outside
    # a bundle whose access ran before the layer existed: no isochrones, not "outside"
    (out.path / "access_isochrones.parquet").unlink()
    fresh = type(out)(out.path)
    iso, outside = municipality_isochrones(fresh, munis.iloc[0])
    assert iso is None and not outside
