"""Map builders on the hand-made 4-municipality bundle (tests/maps/synthetic.py)."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from territorio.errors import NotFoundError, SourceNotFoundError
from territorio.maps import (
    choropleth_map,
    marginality_map,
    municipality_map,
    offers_map,
    render_html,
)
from territorio.maps._data import load_plan, marginality_table, resolve_plan_dir
from territorio.maps._palette import NO_DATA_FILL, UNREACHABLE_FILL
from territorio.maps._style import HATCH_FILL, class_index, quantile_bins
from tests.maps import synthetic as syn

REMOTE = re.compile(r'<(?:script|link)[^>]+(?:src|href)="(?:https?:)?//', re.IGNORECASE)


def _styles(
    html: str, codes: tuple[str, ...] = ("001191", "001192", "001193", "001194")
) -> dict[str, str]:
    """Feature id -> fillColor from the first style switch folium generates."""
    block = html[html.index("_styler(feature)") :]
    block = block[: block.index("default:") + 200]
    default = json.loads(re.search(r"default:\s*return (\{[^}]*\});", block).group(1))["fillColor"]
    out = {c: default for c in codes}
    for ids, style in re.findall(r"((?:case \"[^\"]+\": )+)\s*return (\{[^}]*\});", block):
        for code in re.findall(r'case "([^"]+)"', ids):
            out[code] = json.loads(style)["fillColor"]
    return out


def _has(text: str, html: str) -> bool:
    """``text`` in the page, as is or JSON-escaped (the legend is a JSON string)."""
    return text in html or json.dumps(text)[1:-1] in html


def test_quantile_bins_hand_checked() -> None:
    # Hospital times with a value: Pinerolo 6.0, Piscina 18.0 -> 2 distinct values,
    # so 2 quantile classes; the median of (6, 18) is 12 -> upper bounds 12, 18.
    assert quantile_bins([6.0, 18.0, np.nan], k=5) == [12.0, 18.0]
    # 6 -> class 0 (<= 12), 18 -> class 1, NaN -> -1 (no class).
    assert class_index([6.0, 18.0, np.nan], [12.0, 18.0]).tolist() == [0, 1, -1]
    assert quantile_bins([], k=5) == []


def test_choropleth_offline_hatch_and_no_data() -> None:
    fmap = choropleth_map(syn.municipalities_frame(), syn.access_frame(), tiles=None)
    html = render_html(fmap, assets="inline")
    assert not REMOTE.search(html)  # no CDN: Leaflet inlined
    assert "L.version" not in html or "Leaflet 1.9.3" in html
    assert "Leaflet 1.9.3" in html
    assert "tile.openstreetmap.org" not in html  # tiles disabled
    # One base layer per category, in the order of the access table.
    for label in ("Ospedale", "Farmacia", "Ufficio postale"):
        assert f'"{label}"' in html or label in html
    # Pragelato (network_coverage "none") is hatched; Frossasco's hospital is
    # "no data" (white), never on the time scale; Pinerolo 6 min -> first class.
    styles = _styles(html)
    assert styles["001194"] == HATCH_FILL
    assert styles["001192"] == "#ffffff"
    assert styles["001191"] == "#ffffb2"
    assert "nessun dato" in html
    assert "fuori copertura della rete stradale" in html


def test_choropleth_english_and_tiles() -> None:
    fmap = choropleth_map(
        syn.municipalities_frame(),
        syn.access_frame(),
        tiles="https://tiles.example/{z}/{x}/{y}.png",
        lang="en",
    )
    html = render_html(fmap, assets="/static/vendor")
    assert '<script src="/static/vendor/leaflet.js"></script>' in html
    assert "tiles.example" in html and "OpenStreetMap" in html  # attribution
    assert "no data" in html and "Hospital" in html


def test_marginality_map_layers() -> None:
    fmap = marginality_map(
        syn.municipalities_frame(),
        syn.marginality_frame(),
        snai=syn.snai_frame(),
        clusters=syn.clusters_frame(),
        sites=syn.sites_frame(),
        tiles=None,
    )
    html = render_html(fmap)
    # Score 62.5 (Piscina) -> class 60-80 -> fourth colour; Pragelato hatched.
    styles = _styles(html)
    assert styles["001193"] == "#dd1c77"
    assert styles["001194"] == HATCH_FILL
    assert "cluster-1" in html  # Frossasco + Piscina dissolved and outlined
    assert "Frossasco, Piscina" in html
    assert "Siti proposti per cooperative" in html


def test_marginality_map_from_plan_folder(tmp_path) -> None:
    plan = load_plan(syn.write_synthetic_plan(tmp_path / "bundle-plan"))
    table = marginality_table(plan)
    fmap = marginality_map(
        syn.municipalities_frame(),
        table,
        snai=table,
        clusters=plan.clusters,
        sites=plan.sites,
        tiles=None,
        lang="en",
    )
    html = render_html(fmap)
    # Score layer first: Pinerolo 10.0 -> class 0-20 (first colour); Pragelato
    # outside coverage -> hatched.
    styles = _styles(html)
    assert styles["001191"] == "#e4d3e8" and styles["001194"] == HATCH_FILL
    # Cluster C01 outlined from member_codes, named by the municipalities.
    assert "cluster-C01" in html and "C01: Frossasco, Piscina" in html
    assert "6.200" in html  # residents of the cluster: 2,800 + 3,400
    # Site tooltip: 1,200 residents newly served, 300 of them 65+.
    assert "Residents newly served: 1.200 (of whom 65+: 300)" in html
    # SNAI tooltip: Piscina's time to the nearest hub.
    assert "18.0 min (Pinerolo)" in html
    assert "Underserved cluster" in html and _has("higher = more marginal", html)
    # Every municipality has a score or is outside coverage: no "no data" row.
    assert not _has("no data", html)
    # The cluster id is written on the map.
    # (folium writes the DivIcon html as JSON with < and > as \u003c, \u003e)
    assert r"territorio-cluster-label\"\u003eC01\u003c/div" in html


def test_marginality_map_without_plan_says_so(tmp_path) -> None:
    # No <bundle>-plan folder next to the bundle: nothing is computed, the map
    # shows the boundaries and tells what to run.
    assert resolve_plan_dir(tmp_path / "bundle", None) is None
    with pytest.raises(SourceNotFoundError, match="territorio plan"):
        resolve_plan_dir(tmp_path / "bundle", tmp_path / "nowhere")
    html = render_html(
        marginality_map(
            syn.municipalities_frame(),
            notice="Risultati di pianificazione assenti: eseguire prima «territorio plan»",
            tiles=None,
        )
    )
    assert _has("eseguire prima «territorio plan»", html)
    assert "Siti proposti" not in html and '"cluster-' not in html
    # An empty sites table (siting found nothing) is said in the legend.
    plan = load_plan(syn.write_synthetic_plan(tmp_path / "p"))
    empty = plan.sites.iloc[:0] if plan.sites is not None else None
    html = render_html(marginality_map(syn.municipalities_frame(), sites=empty, tiles=None))
    assert _has("nessun sito proposto in questo piano", html)
    assert NO_DATA_FILL == "#ffffff"


def test_municipality_map_markers_and_missing_code() -> None:
    fmap = municipality_map(
        syn.municipalities_frame(), "001191", services=syn.services_frame(), tiles=None
    )
    html = render_html(fmap)
    # Pinerolo: 4 services + the reference point = 5 markers.
    assert html.count("L.marker(") == 5
    assert "Ospedale (1)" in html and "Farmacia (2)" in html
    with pytest.raises(NotFoundError, match="001999"):
        municipality_map(syn.municipalities_frame(), "001999", tiles=None)


def test_offers_map_clusters_locally() -> None:
    fmap = offers_map(syn.offers_frame(), municipalities=syn.municipalities_frame(), tiles=None)
    html = render_html(fmap)
    assert "L.markerClusterGroup" in html and not REMOTE.search(html)
    assert html.count("L.marker(") == 3  # three offers
    # Records with lon/lat work as well (the API's JSON rows).
    recs = [{"title": "Nido", "category": "childcare", "lon": 7.25, "lat": 44.85}]
    assert render_html(offers_map(recs, tiles=None)).count("L.marker(") == 1


def test_municipality_map_isochrones_and_outside_note(tmp_path) -> None:
    from territorio.maps._data import municipality_isochrones

    bundle = syn.write_synthetic_bundle(tmp_path / "bundle")
    munis = syn.municipalities_frame()
    iso, outside = municipality_isochrones(bundle, munis.iloc[0])  # Pinerolo
    assert not outside
    assert iso["minutes"].tolist() == [10.0, 20.0, 30.0]
    # 10 min on 15-min edges reaches 2/3 of each: 2 x 2,631 m of street. The
    # stored isochrones buffer 100 m on 100 m cells: a band 3 cells = 300 m
    # wide, 5,262 m x 300 m = 1.58 km2 (+ the ends).
    assert iso["area_km2"].iloc[0] == pytest.approx(1.58, rel=0.05)
    # 20 and 30 min reach the whole 7,892 m street: 7,892 x 300 = 2.37 km2.
    assert iso["area_km2"].iloc[1] == pytest.approx(2.37, rel=0.05)
    assert iso["area_km2"].iloc[2] == iso["area_km2"].iloc[1]
    html = render_html(municipality_map(munis, "001191", isochrones=iso, tiles=None))
    assert html.count('"id": "iso-') == 3 and _has("≤ 30 min", html)
    # Piscina's reference point is 11 km from the street: outside coverage,
    # no isochrones and a visible note. Pragelato has no coverage at all.
    for i in (2, 3):
        iso, outside = municipality_isochrones(bundle, munis.iloc[i])
        assert iso is None and outside
    html = render_html(
        municipality_map(munis, "001193", isochrones_outside=True, tiles=None, lang="en")
    )
    assert _has("No isochrones: outside road-network coverage", html)


def test_municipality_map_dense_categories_and_no_data() -> None:
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import Point

    from territorio.maps.municipality import CLUSTER_ABOVE

    base = syn.services_frame()
    # 26 extra pharmacies in Pinerolo (2 + 26 = 28 > CLUSTER_ABOVE = 25) and a bus stop.
    extra = gpd.GeoDataFrame(
        {
            "service_id": [f"x:{i}" for i in range(27)],
            "category": ["pharmacy"] * 26 + ["pt_stop"],
            "name": [f"F{i}" for i in range(26)] + ["Fermata"],
            "pro_com_t": ["001191"] * 27,
        },
        geometry=[Point(7.21 + 0.003 * i, 44.81 + 0.003 * i) for i in range(27)],
        crs=4326,
    )
    services = pd.concat([base, extra], ignore_index=True)
    html = render_html(
        municipality_map(
            syn.municipalities_frame(),
            "001191",
            services=gpd.GeoDataFrame(services, crs=4326),
            no_data=["primary_care"],
            tiles=None,
        )
    )
    assert CLUSTER_ABOVE == 25
    # One cluster layer (pharmacies), coloured like the pharmacy icon.
    assert html.count("L.markerClusterGroup(") == 1 and "background:#2e7d32;width:30px" in html
    assert "Farmacia (28)" in html
    # The bus stop layer exists but starts switched off; the legend says so.
    assert _has("Fermata trasporto pubblico (1) – livello spento", html)
    # Categories without data are listed, so a missing icon is not a missing service.
    assert _has("nessun dato: Medico / ambulatorio", html)


def test_marginality_map_summer_winter_switch() -> None:
    # Winter: Piscina's score rises 62.5 -> 85 (class 80-100, last colour) and
    # Frossasco is cut off from the poli: drawn as unreachable, said in the legend.
    winter = pd.DataFrame(
        {
            "pro_com_t": ["001191", "001192", "001193", "001194"],
            "score_winter": [10.0, 40.0, 85.0, float("nan")],
            "class_winter": ["A", "unreachable", "E", "outside_coverage"],
            "polo_min_winter": [0.0, float("nan"), 45.0, float("nan")],
        }
    )
    fmap = marginality_map(
        syn.municipalities_frame(),
        syn.marginality_frame(),
        snai=syn.snai_frame(),
        winter=winter,
        tiles=None,
    )
    html = render_html(fmap)
    # four base layers, switched in the layer control: summer and winter of each
    for name in ("Indice di marginalità (0-100) - inverno", "Classi SNAI - inverno"):
        assert _has(name, html)
    assert _has("irraggiungibile in inverno", html)
    assert UNREACHABLE_FILL in html
    assert "45.0 min" in html
