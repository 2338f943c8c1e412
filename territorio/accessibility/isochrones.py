"""Isochrones: the area within T minutes of one or more points, from the network.

Method (never convex hulls):

1. One bounded Dijkstra (``limit = max(minutes)``, the compiled kernel of
   :mod:`territorio.accessibility._dijkstra`) from the points on the forward
   graph, their off-network legs as initial offsets. All contours come from
   this one search.
2. Every edge is sampled along its geometry every ``cell_m`` metres
   (precomputed once per resolution and cached in the network object, see
   :func:`prepare_isochrones`). The arrival time at a sample at fraction
   ``p`` of edge ``u-v`` is ``min(d[u] + p * t(u->v), d[v] + (1 - p) * t(v->u))``:
   fully reached edges have every sample within T, partly reached edges are
   cut at the reached fraction (linear interpolation of time along the
   geometry), closed directions do not count.
3. A compiled kernel (numba) takes the minimum arrival time per grid pixel
   and spreads it to every pixel within ``buffer_m`` (a disc of pixel
   offsets): the arrival-time surface of the buffered reached streets, i.e.
   the union of the buffered reached lines computed on a grid (exact up to
   ``cell_m``), cropped to the reached box. It visits only the edges of
   reached nodes (node -> edge incidence cached with the samples, edges
   stored in node order so the reads stay sequential) and allocates its grids
   on the reached box only.
4. The contour for T is the mask ``{arrival <= T}`` polygonised once with
   :func:`rasterio.features.shapes` (with the grid's affine transform, so no
   ungeoreferenced dataset is involved); the rings are turned into shapely
   polygons with the vectorised constructors (no GeoJSON round trip), and
   enclosed unreached patches (interior rings) of at most ``hole_m2`` are
   filled. Masks of one surface are nested and filling small holes keeps them
   nested, so larger contours contain smaller ones exactly, with no vector
   union; the boundaries follow pixel edges (no simplification, which would
   break the nesting), so they are valid by construction (no ``is_valid``
   check on the hot path, see :func:`_polygons`).

Resolution: ``cell_m=None`` (default) takes the finest of 50, 100, 200... m
keeping the grid of the reached area within :data:`AUTO_MAX_PIXELS`: 50 m
up to about a 15-minute car isochrone in Turin, 100 m for a city-wide
30-minute one. Against the exact ``method="vector"`` (10-minute contour from
Piazza Castello, 52.1 km2, 100 m buffer), the grid area is +2.3% with 50 m
cells (symmetric difference 4.4% of the area) and +5.5% with 100 m cells
(7.5%); the grid is slightly larger because a pixel counts as reached when
a sample falls anywhere in it.

The 10-minute Piazza Castello contour is a favourable case: for 15-minute
contours from 8 municipality reference points (43-137 km2 exact), the grid
area is +7-11% with 50 m cells and +14-23% with 100 m cells (symmetric
difference 10-15% and 16-25%), of which about 4 and 5 points come from the
hole filling (``hole_m2=0``: +5% and +15%). The API serves 100 m cells
(:data:`territorio.api._engine.ISOCHRONE_CELL_M`): a fresh 15-minute
isochrone then costs about 6 ms of CPU instead of 12 ms.

``method="vector"`` does steps 2-3 literally instead: reached edges whole,
partly reached edges cut with :func:`shapely.ops.substring` at the reached
fraction, ``shapely.union_all`` of their buffers. It is exact and is the
reference the grid method is tested against, but needs about a second for
a city-wide contour.

Measured on the real Turin graph (73,192 nodes, 2 cores shared with other
jobs, load about 2): 30-minute contour from Piazza Castello 36-38 ms, 15-minute
19-20 ms, nested 10/20/30 47 ms, once the network is prepared (the first call
samples the edges and loads the compiled kernels, about 1 s; call
:func:`prepare_isochrones` at start-up). Before this method: 92-110 ms for
30 minutes. ``bench/accessibility.py`` reprints the figures.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Sequence
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt

from territorio.accessibility._dijkstra import run_groups
from territorio.accessibility.network import RoadNetwork
from territorio.errors import OutsideCoverageError, UnsupportedModeError

__all__ = [
    "AUTO_CELL_M",
    "AUTO_MAX_PIXELS",
    "isochrones",
    "isochrones_geojson",
    "prepare_isochrones",
]

FloatArray = npt.NDArray[np.float64]


def _samples(net: RoadNetwork, cell_m: float) -> dict[str, Any]:
    """Sample every routable edge every ``cell_m`` metres; cached per ``cell_m``.

    Returns the samples in edge order (end nodes ``eu``/``ev``, fraction
    ``p`` along ``u -> v``, direction times ``tf``/``tr``, ``inf`` if closed)
    and their pixel (``ix``, ``iy``) on a grid of ``cell_m`` cells anchored
    at (``x0``, ``y1``), ``width`` x ``height`` pixels. Also loads the
    compiled kernels, so calling it once (``Engine.warm_up`` does) leaves
    nothing to prepare on the first request.
    """
    key = f"iso_samples_{cell_m}"
    if key in net._cache:
        return dict(net._cache[key])
    import shapely

    from territorio.accessibility._dijkstra import warm_up

    warm_up()
    _field_kernel()
    n_edges = len(net.edge_u)
    tf = np.full(n_edges, np.inf)
    tr = np.full(n_edges, np.inf)
    fwd = net.arc_forward
    # keep the minimum of duplicated arcs of one edge row (never happens for
    # well-formed tables, harmless otherwise)
    np.minimum.at(tf, net.arc_edge[fwd], net.arc_time[fwd])
    np.minimum.at(tr, net.arc_edge[~fwd], net.arc_time[~fwd])
    used = np.isfinite(tf) | np.isfinite(tr)
    rows = np.flatnonzero(used)
    # edges (and so their samples) in the order of their first node: the field
    # kernel visits the edges of reached nodes in node order, so this keeps its
    # reads of the sample arrays (megabytes) sequential instead of scattered
    rows = rows[np.argsort(net.edge_u[rows], kind="stable")]
    geoms = net.edge_geoms[rows]
    length = shapely.length(geoms)
    count = np.maximum(2, np.ceil(length / cell_m).astype(np.int64) + 1)
    edge = np.repeat(rows, count)
    starts = np.concatenate([[0], np.cumsum(count)[:-1]])
    k = np.arange(count.sum()) - np.repeat(starts, count)
    p = k / np.repeat(count - 1, count)
    pts = shapely.line_interpolate_point(net.edge_geoms[edge], p, normalized=True)
    x = shapely.get_x(pts)
    y = shapely.get_y(pts)
    x0 = float(np.floor(x.min() / cell_m) * cell_m)
    y1 = float(np.ceil(y.max() / cell_m) * cell_m)
    ix = np.floor((x - x0) / cell_m).astype(np.int32)
    iy = np.floor((y1 - y) / cell_m).astype(np.int32)
    # node -> sampled edge incidence (CSR), each edge under both ends (once for a loop)
    e_u = np.asarray(net.edge_u[rows], dtype=np.int64)
    e_v = np.asarray(net.edge_v[rows], dtype=np.int64)
    other = e_v != e_u
    ends = np.concatenate([e_u, e_v[other]])
    order = np.argsort(ends, kind="stable")
    nedge = np.concatenate([np.arange(len(rows)), np.flatnonzero(other)])[order]
    nptr = np.concatenate([[0], np.cumsum(np.bincount(ends, minlength=len(net.x)))])
    out = {
        "nptr": nptr.astype(np.int64),
        "nedge": nedge.astype(np.int64),
        # per sampled edge (the samples of edge k are sptr[k]:sptr[k + 1])
        "e_u": e_u,
        "e_v": e_v,
        "e_tf": tf[rows],
        "e_tr": tr[rows],
        "sptr": np.concatenate([[0], np.cumsum(count)]).astype(np.int64),
        # per sample
        "eu": net.edge_u[edge],
        "ev": net.edge_v[edge],
        "p": p.astype(np.float32),
        "tf": tf[edge],
        "tr": tr[edge],
        "ix": ix,
        "iy": iy,
        "x0": x0,
        "y1": y1,
        "width": int(ix.max()) + 1,
        "height": int(iy.max()) + 1,
    }
    net._cache[key] = out
    return dict(out)


def prepare_isochrones(net: RoadNetwork, *, cell_m: Sequence[float] = (50.0, 100.0)) -> None:
    """Precompute the edge samples of the grid method and load its compiled kernels.

    Call it once after building a network that will serve isochrones (an API
    server at start-up), so no request pays for it (about 1 s on Turin).

    Parameters
    ----------
    net
        The road network.
    cell_m
        Grid resolutions to prepare (the automatic resolution uses 50 m and,
        for city-wide contours, 100 m or more).
    """
    for c in cell_m:
        _samples(net, float(c))


_FIELD: Any = None
_BOX: Any = None


def _field_kernel() -> Any:
    global _FIELD, _BOX
    if _FIELD is None:
        from territorio.accessibility._iso_kernel import arrival_field, reached_box

        _FIELD = arrival_field
        _BOX = reached_box
    return _FIELD


def _box_kernel() -> Any:
    _field_kernel()
    return _BOX


_BUNDLE_NETWORKS: weakref.WeakKeyDictionary[Any, dict[str, RoadNetwork]] = (
    weakref.WeakKeyDictionary()
)


def _resolve(network: Any, mode: str) -> RoadNetwork:
    """Return the RoadNetwork of a network, an AccessContext or a Bundle (cached)."""
    if isinstance(network, RoadNetwork):
        return network
    if isinstance(getattr(network, "network", None), RoadNetwork):
        inner: RoadNetwork = network.network
        return inner
    if hasattr(network, "manifest") and hasattr(network, "layer"):
        from territorio.accessibility.network import network_from_bundle

        nets = _BUNDLE_NETWORKS.setdefault(network, {})
        if mode not in nets:
            if mode not in ("car", "walk"):
                raise UnsupportedModeError(f"unknown travel mode {mode!r}; use 'car' or 'walk'")
            nets[mode] = network_from_bundle(network, mode="walk" if mode == "walk" else "car")
        return nets[mode]
    raise TypeError(
        f"isochrones() needs a RoadNetwork, an AccessContext or a Bundle, got {type(network)!r}"
    )


def isochrones(
    network: Any,
    points: Sequence[tuple[float, float]],
    minutes: Sequence[float],
    *,
    mode: str = "car",
    buffer_m: float = 100.0,
    cell_m: float | None = None,
    hole_m2: float = 250_000.0,
    method: str = "grid",
) -> Any:
    """Nested isochrone polygons around one or more points.

    Parameters
    ----------
    network
        A :class:`~territorio.accessibility.network.RoadNetwork` of ``mode``,
        an :class:`~territorio.accessibility.context.AccessContext`, or a
        :class:`~territorio.bundle.Bundle` (its network is built once per mode
        and cached while the bundle object lives).
    points
        ``(lon, lat)`` pairs (EPSG:4326); the isochrone is the area within T
        of the nearest of them. Points outside coverage are ignored.
    minutes
        Contour values in minutes, e.g. ``[10, 20, 30]``.
    mode
        Travel mode; must be the network's mode.
    buffer_m
        Distance (metres) around the reached streets counted as reached.
    cell_m
        Grid resolution (metres) of the buffering step; ``None`` (default)
        chooses it from the reached extent (50 m, coarser for city-wide
        contours; see the module notes).
    hole_m2
        Unreached patches enclosed by the contour and smaller than this
        (square metres; default 0.25 km2, a few city blocks) are filled;
        0 keeps every hole (grid method only).
    method
        ``"grid"`` (default, fast: the buffered union computed on a
        ``cell_m`` grid, see the module notes) or ``"vector"`` (exact
        ``shapely.union_all`` of the buffered reached and cut edge
        geometries; seconds for city-wide contours, fine for small ones).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per minute value (ascending), columns ``minutes``,
        ``area_km2`` and geometry (EPSG:4326); each contour contains the
        smaller ones.

    Raises
    ------
    UnsupportedModeError
        If ``mode`` differs from the network's mode.
    OutsideCoverageError
        If no point is inside the network's coverage.
    """
    import geopandas as gpd

    net = _resolve(network, mode)
    mins, contours = _contours(
        net, points, minutes, mode=mode, buffer_m=buffer_m, cell_m=cell_m, hole_m2=hole_m2,
        method=method,
    )  # fmt: skip
    gdf = gpd.GeoDataFrame(
        {"minutes": mins, "area_km2": [g.area / 1e6 for g in contours]},
        geometry=contours,
        crs=net.metric_crs,
    )
    return gdf.to_crs(4326)


def _contours(
    net: RoadNetwork,
    points: Sequence[tuple[float, float]],
    minutes: Sequence[float],
    *,
    mode: str = "car",
    buffer_m: float = 100.0,
    cell_m: float | None = None,
    hole_m2: float = 250_000.0,
    method: str = "grid",
    min_cell_m: float = 50.0,
) -> tuple[list[float], list[Any]]:
    """Sorted minutes and their contours (shapely, ``net.metric_crs``): :func:`isochrones` core.

    No GeoDataFrame and no reprojection, for callers that serialise the
    polygons themselves (the API engine); same parameters and errors as
    :func:`isochrones`, plus ``min_cell_m``: the finest resolution the
    automatic choice (``cell_m=None``) may take (the API serves 100 m).
    """
    if mode != net.mode:
        raise UnsupportedModeError(
            f"this network routes by {net.mode!r}, not {mode!r}; build it with mode={mode!r}"
        )
    mins = sorted({float(m) for m in minutes})
    if not mins or mins[0] <= 0:
        raise ValueError(f"minutes must be positive numbers, got {list(minutes)}")
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    snap = net.snap(pts[:, 0], pts[:, 1])
    if not snap.covered.any():
        raise OutsideCoverageError(
            f"none of the {len(pts)} point(s) is within {net.max_snap_m:g} m of the road "
            "network or inside its coverage; pick a point on the covered area"
        )
    limit = mins[-1] * 60.0
    cov = snap.covered
    # one search, no source labels (multi_source would fill and return them)
    nodes = snap.node[cov]
    out, _ = run_groups(
        net.compiled("forward"), [0, len(nodes)], nodes, snap.offset_s[cov], limit=limit, workers=1
    )
    d = out[0]
    if method == "vector":
        contours = _vector_contours(net, d, mins, buffer_m)
    elif method == "grid":
        fixed = cell_m is not None and float(cell_m)
        cell = fixed or _auto_cell(net, d, limit, buffer_m, min_cell_m)
        contours = _grid_contours(net, d, mins, buffer_m, cell, hole_m2)
    else:
        raise ValueError(f"method must be 'grid' or 'vector', got {method!r}")
    return mins, contours


def _vector_contours(
    net: RoadNetwork, d: FloatArray, mins: list[float], buffer_m: float
) -> list[Any]:
    """Union of buffered reached (and cut) edge geometries, per contour."""
    import shapely
    from shapely.ops import substring

    ds = d[net.arc_src]
    out: list[Any] = []
    prev = None
    for m in mins:
        t = m * 60.0
        full = ds + net.arc_time <= t
        part = (ds < t) & ~full & (net.arc_time > 0)
        full_edges = np.unique(net.arc_edge[full])
        pieces = []
        done = np.zeros(len(net.edge_u), dtype=bool)
        done[full_edges] = True
        for a in np.flatnonzero(part & ~done[net.arc_edge]):
            f = float((t - ds[a]) / net.arc_time[a])
            geom = net.edge_geoms[net.arc_edge[a]]
            lo, hi = (0.0, f) if net.arc_forward[a] else (1.0 - f, 1.0)
            pieces.append(substring(geom, lo, hi, normalized=True))
        lines = np.concatenate([net.edge_geoms[full_edges], np.asarray(pieces, dtype=object)])
        geom = shapely.union_all(shapely.buffer(lines, buffer_m, quad_segs=4))
        if prev is not None:
            geom = shapely.union(geom, prev)
        prev = geom
        out.append(geom)
    return out


#: Largest grid (pixels) the automatic resolution allows for one isochrone.
AUTO_MAX_PIXELS = 160_000
#: Finest automatic resolution (metres).
AUTO_CELL_M = 50.0


def _auto_cell(
    net: RoadNetwork, d: FloatArray, limit: float, buffer_m: float, start: float = AUTO_CELL_M
) -> float:
    """Return the finest of ``start``, 2 ``start``, 4 ``start``... within ``AUTO_MAX_PIXELS``."""
    xmin, xmax, ymin, ymax, count = _box_kernel()(d, net.x, net.y, limit)
    if count == 0:
        return start
    w = float(xmax - xmin) + 2 * buffer_m
    h = float(ymax - ymin) + 2 * buffer_m
    cell = start
    while (w / cell) * (h / cell) > AUTO_MAX_PIXELS:
        cell *= 2.0
    return cell


def _polygons(res: list[Any], hole_m2: float) -> Any:
    """Build one MultiPolygon from rasterio ``shapes`` output, dropping small holes.

    The rings are read into one coordinate array and built with shapely's
    vectorised constructors (no GeoJSON round trip); interior rings whose area
    (shoelace formula) is at most ``hole_m2`` are left out, i.e. filled.
    """
    import shapely

    rings: list[Any] = []
    ring_poly: list[int] = []
    is_hole: list[bool] = []
    for k, g in enumerate(res):
        for j, ring in enumerate(g["coordinates"]):
            rings.append(ring)
            ring_poly.append(k)
            is_hole.append(j > 0)
    if not rings:
        return shapely.MultiPolygon()
    lens = np.fromiter((len(r) for r in rings), np.int64, len(rings))
    flat = chain.from_iterable(chain.from_iterable(rings))  # C iterators: no generator frame
    xy = np.fromiter(flat, np.float64, 2 * int(lens.sum())).reshape(-1, 2)
    rid = np.repeat(np.arange(len(rings)), lens)
    keep = ~np.asarray(is_hole)
    if hole_m2 > 0 and not keep.all():
        x, y = xy[:, 0], xy[:, 1]
        cross = x[:-1] * y[1:] - x[1:] * y[:-1]
        same = rid[:-1] == rid[1:]
        area = np.abs(np.bincount(rid[:-1][same], weights=cross[same], minlength=len(rings))) / 2
        keep |= area > hole_m2
    else:
        keep[:] = True
    kept = keep[rid]
    new_id = np.cumsum(keep) - 1
    lr = shapely.linearrings(xy[kept], indices=new_id[rid[kept]])
    polys = shapely.polygons(lr, indices=np.asarray(ring_poly)[keep])
    filled = np.flatnonzero(~keep)
    if len(filled):
        # reached islands inside a filled hole are now covered by their
        # surrounding polygon: drop them (overlapping parts would be invalid)
        lost = shapely.linearrings(xy[~kept], indices=np.searchsorted(filled, rid[~kept]))
        tree = shapely.STRtree(shapely.polygons(lost))
        inner, _ = tree.query(polys, predicate="within")
        polys = np.delete(polys, np.unique(inner))
    # No is_valid / make_valid pass (it cost 0.75 ms of a 9 ms API isochrone):
    # the result is valid by construction. GDAL (>= 3.7) polygonises a 4-connected
    # mask into valid polygons along pixel edges, pairwise touching at corners
    # at most; dropping an interior ring only fills a hole, and the reached
    # islands inside a filled hole are dropped above, so no two polygons overlap.
    # Checked on 1,200 Turin contours (150 random origins, 5-30 min, 50 and 100 m
    # cells); tests/accessibility/test_isochrones.py asserts it on real contours.
    return shapely.multipolygons(polys)


def _grid_contours(
    net: RoadNetwork,
    d: FloatArray,
    mins: list[float],
    buffer_m: float,
    cell_m: float,
    hole_m2: float,
) -> list[Any]:
    """Contours of the arrival-time surface on a ``cell_m`` grid (see module doc)."""
    import shapely
    from rasterio.features import shapes
    from rasterio.transform import Affine

    limit = mins[-1] * 60.0
    r_px = buffer_m / cell_m
    rad = int(np.ceil(r_px))
    pad = rad + 1
    s = _samples(net, cell_m)
    yy, xx = np.mgrid[-rad : rad + 1, -rad : rad + 1]
    inside = (xx * xx + yy * yy) <= r_px * r_px + 1e-9
    disc_r = yy[inside].astype(np.int64)
    disc_c = xx[inside].astype(np.int64)
    sub, r0, r1, c0, _c1 = _field_kernel()(
        np.ascontiguousarray(d, dtype=np.float64), s["nptr"], s["nedge"], s["e_u"], s["e_tf"],
        s["e_v"], s["e_tr"], s["sptr"], s["p"], s["ix"], s["iy"], limit, disc_r, disc_c, pad,
    )  # fmt: skip
    if r1 < r0:
        return [shapely.MultiPolygon() for _ in mins]
    # pixel (row, col) of the padded grid has its top-left corner at
    # (x0 + (col - pad) * cell, y1 - (row - pad) * cell)
    transform = Affine(
        cell_m, 0.0, s["x0"] + (c0 - pad) * cell_m, 0.0, -cell_m, s["y1"] - (r0 - pad) * cell_m
    )
    contours = []
    for m in mins:
        mask = sub <= m * 60.0
        # one polygonisation per contour; the masks of one field are nested, and
        # filling holes up to hole_m2 keeps them nested (see module doc)
        res = [geo for geo, _ in shapes(mask.view(np.uint8), mask=mask, transform=transform)]
        contours.append(_polygons(res, hole_m2))
    return contours


def isochrones_geojson(isos: Any) -> dict[str, Any]:
    """Return isochrones as a GeoJSON FeatureCollection (dict, EPSG:4326)."""
    out: dict[str, Any] = json.loads(isos.to_crs(4326).to_json(drop_id=True))
    return out
