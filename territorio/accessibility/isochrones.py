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
4. The contour for T is the mask ``{arrival <= T}`` traced with marching
   squares at level 0.5 (:mod:`contourpy`, compiled; see
   :func:`_grid_polygons`): the boundary runs along pixel edges through the
   midpoints between reached and unreached pixel centres, with 45 degree cuts
   at the corners. The vertices lie on a half-pixel lattice, so collinear ones
   are dropped exactly and the rings go straight to shapely's vectorised
   constructors; enclosed unreached patches (holes) of at most ``hole_m2``
   are filled. Masks of one surface are nested and filling small holes keeps
   them nested, so larger contours contain smaller ones exactly, with no
   vector union. Marching-squares rings never touch or cross, so the polygons
   are valid by construction (no ``is_valid`` check on the hot path).
   Shells are anticlockwise and holes clockwise (GeoJSON right-hand rule).

Resolution: ``cell_m=None`` (default) takes the finest of 50, 100, 200... m
keeping the grid of the reached area within :data:`AUTO_MAX_PIXELS`: 50 m
up to about a 15-minute car isochrone in Turin, 100 m for a city-wide
30-minute one. Against the exact ``method="vector"`` (10-minute contour from
Piazza Castello, 52.1 km2, 100 m buffer), the grid area is +2.2% with 50 m
cells (symmetric difference 4.0% of the area) and +5.3% with 100 m cells
(7.0%); the grid is slightly larger because a pixel counts as reached when
a sample falls anywhere in it.

The 10-minute Piazza Castello contour is a favourable case: for 15-minute
contours from the reference points of 5 fully covered municipalities
(21-140 km2 exact), the grid area is +7-12% with 50 m cells and +12-30%
with 100 m cells (symmetric difference 8-16% and 13-34%, the worst for the
smallest contour, Marentino), of which about 4-6 points come from the hole
filling (``hole_m2=0``). The API serves 100 m cells
(:data:`territorio.api._engine.ISOCHRONE_CELL_M`): a fresh 15-minute
isochrone then costs about 5.7 ms of CPU in all (search 1.9 ms, arrival
field 1.1 ms, tracing 1.2 ms, reprojection and GeoJSON 0.7 ms).

``territorio access`` keeps the 10/20/30-minute contours from every comune's
reference point in the bundle (:func:`reference_isochrones`, layer
``access_isochrones``, 100 m cells, about 5 s for the province's 312 comuni
on top of the indicators' searches): the maps and the PDF reports read them
instead of building the road network (about 2.5 s per process).

``method="vector"`` does steps 2-3 literally instead: reached edges whole,
partly reached edges cut with :func:`shapely.ops.substring` at the reached
fraction, ``shapely.union_all`` of their buffers. It is exact and is the
reference the grid method is tested against, but needs about a second for
a city-wide contour.

Measured on the real Turin graph (73,192 nodes in Hilbert order, 2 cores
shared with other jobs): 30-minute contour from Piazza Castello 25-26 ms,
15-minute 12-13 ms, nested 10/20/30 30-32 ms, once the network is prepared (the
first call samples the edges and loads the compiled kernels, about 1 s; call
:func:`prepare_isochrones` at start-up). Before this method: 92-110 ms for
30 minutes; with GDAL's polygoniser instead of marching squares and nodes in
input order: 36-38 ms. ``bench/accessibility.py`` reprints the figures.
"""

from __future__ import annotations

import functools
import json
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from territorio.accessibility._dijkstra import run_groups
from territorio.accessibility.network import RoadNetwork
from territorio.errors import OutsideCoverageError, UnsupportedModeError

if TYPE_CHECKING:
    from territorio.accessibility.context import AccessContext

__all__ = [
    "AUTO_CELL_M",
    "AUTO_MAX_PIXELS",
    "REFERENCE_CELL_M",
    "REFERENCE_MINUTES",
    "contours_from_times",
    "isochrones",
    "isochrones_geojson",
    "prepare_isochrones",
    "reference_isochrones",
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
    _kernels()
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


@functools.cache
def _kernels() -> Any:
    """Return the grid kernels' module (numba; compiled or loaded from disk on first use)."""
    from territorio.accessibility import _iso_kernel

    return _iso_kernel


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
    contours = contours_from_times(
        net, out[0], mins, buffer_m=buffer_m, cell_m=cell_m, hole_m2=hole_m2, method=method,
        min_cell_m=min_cell_m,
    )  # fmt: skip
    return mins, contours


def contours_from_times(
    net: RoadNetwork,
    d: FloatArray,
    minutes: Sequence[float],
    *,
    buffer_m: float = 100.0,
    cell_m: float | None = None,
    hole_m2: float = 250_000.0,
    method: str = "grid",
    min_cell_m: float = 50.0,
) -> list[Any]:
    """Contours (shapely, ``net.metric_crs``) of an arrival-time field already searched.

    Steps 2-4 of the module notes, for callers that ran the search
    themselves (:func:`reference_isochrones` reuses the searches of the
    accessibility indicators).

    Parameters
    ----------
    net
        The network the times were searched on.
    d
        Seconds from the origin(s) to every node (``inf`` beyond the search
        bound, which must be at least ``max(minutes)``).
    minutes
        Contour values, ascending and positive.
    buffer_m, cell_m, hole_m2, method, min_cell_m
        As in :func:`isochrones` and :func:`_contours`.
    """
    mins = [float(m) for m in minutes]
    limit = mins[-1] * 60.0
    if method == "vector":
        return _vector_contours(net, d, mins, buffer_m)
    if method == "grid":
        fixed = cell_m is not None and float(cell_m)
        cell = fixed or _auto_cell(net, d, limit, buffer_m, min_cell_m)
        return _grid_contours(net, d, mins, buffer_m, cell, hole_m2)
    raise ValueError(f"method must be 'grid' or 'vector', got {method!r}")


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
    xmin, xmax, ymin, ymax, count = _kernels().reached_box(d, net.x, net.y, limit)
    if count == 0:
        return start
    w = float(xmax - xmin) + 2 * buffer_m
    h = float(ymax - ymin) + 2 * buffer_m
    cell = start
    while (w / cell) * (h / cell) > AUTO_MAX_PIXELS:
        cell *= 2.0
    return cell


def _mask_polygons(mask: Any, hole_m2_px: float) -> Any:
    """Trace a boolean grid's reached region into polygons in pixel-centre coordinates.

    Marching squares (:mod:`contourpy`, compiled) on the 0/1 grid at level 0.5:
    the boundary runs through the midpoints between the centres of a reached
    and an unreached pixel, i.e. along pixel edges, with a 45 degree cut at
    each corner (not a staircase). Coordinates are ``(column, row)`` of pixel
    centres, so every vertex is a multiple of 0.5 and every test below is
    exact. The mask must be ``False`` on its border (the field kernel pads it).

    Returns the vertices ``xy`` (collinear ones and the closing repeat
    dropped), each vertex's ring ``rid`` (``0..k-1``) and each ring's polygon
    ``ring_poly`` (shell first), after dropping the holes of at most
    ``hole_m2_px`` (square pixels) and the polygons lying inside a dropped
    hole; None when nothing is reached. Shells run anticlockwise and holes
    clockwise with the row axis pointing *down* (contourpy's orientation), so
    they follow the GeoJSON right-hand rule once the rows are flipped to
    northings.
    """
    import contourpy

    gen = contourpy.contour_generator(
        z=mask.astype(np.float64),
        name="serial",
        fill_type=contourpy.FillType.ChunkCombinedOffsetOffset,
        chunk_size=0,
    )
    filled: Any = gen.filled(0.5, 2.0)  # one chunk: ([points], [offsets], [outer offsets])
    (pts,), (offs,), (outer,) = filled
    if pts is None or len(offs) < 2:
        return None
    offs = offs.astype(np.int64)
    n_rings = len(offs) - 1
    lens = np.diff(offs)
    rid = np.repeat(np.arange(n_rings), lens)
    ring_poly = np.repeat(np.arange(len(outer) - 1), np.diff(outer))
    is_hole = np.ones(n_rings, dtype=bool)
    is_hole[outer[:-1]] = False
    x, y = pts[:, 0], pts[:, 1]
    # rings are closed (last vertex == first): drop the repeated last vertex and
    # every vertex on a straight line between its neighbours (exact: half-integers)
    idx = np.arange(len(pts))
    first, last = offs[:-1], offs[1:] - 1
    prv = idx - 1
    prv[first] = last - 1
    nxt = idx + 1
    nxt[last] = first + 1
    cross = (x - x[prv]) * (y[nxt] - y) - (y - y[prv]) * (x[nxt] - x)
    keep = cross != 0
    keep[last] = False
    if hole_m2_px > 0 and is_hole.any():
        # shoelace area per ring, on the closed rings
        same = rid[:-1] == rid[1:]
        c = x[:-1] * y[1:] - x[1:] * y[:-1]
        area = np.abs(np.bincount(rid[:-1][same], weights=c[same], minlength=n_rings)) / 2
        fill = is_hole & (area <= hole_m2_px)
        if fill.any():
            import shapely

            # polygons inside a filled hole are now covered by their surrounding
            # polygon: drop them (overlapping parts would be invalid)
            ring_geoms = shapely.linearrings(pts[keep], indices=rid[keep])
            holes = shapely.polygons(ring_geoms[fill])
            shells = shapely.polygons(ring_geoms[~is_hole])
            _, inner = shapely.STRtree(shells).query(holes, predicate="contains")
            drop = np.zeros(len(outer) - 1, dtype=np.bool_)
            drop[inner] = True
            gone = fill | drop[ring_poly]
            keep &= ~gone[rid]
            ring_poly = ring_poly[~gone]
            rid = (np.cumsum(~gone) - 1)[rid]
    return pts[keep], rid[keep], ring_poly


def _grid_polygons(mask: Any, x0: float, y1: float, cell_m: float, hole_m2: float) -> Any:
    """Return the MultiPolygon (metric CRS) of a boolean grid's reached region.

    Pixel ``(row, col)`` has its centre at ``(x0 + (col + 0.5) cell_m,
    y1 - (row + 0.5) cell_m)``. Enclosed unreached patches of at most
    ``hole_m2`` are filled (see :func:`_mask_polygons`).

    Valid by construction, so no ``is_valid`` / ``make_valid`` pass: marching
    squares boundaries at level 0.5 run through midpoints between pixel centres
    and never touch or cross each other (a saddle pixel quad is resolved the
    same way for every ring); filling a hole only removes a ring, and the
    polygons inside a filled hole are removed with it. Masks of one arrival
    field are nested and the traced vertices lie on one lattice, so the
    contours are exactly nested too. Checked on Turin contours of random
    origins by ``tests/accessibility/test_isochrones.py``.
    """
    import shapely

    traced = _mask_polygons(mask, hole_m2 / (cell_m * cell_m))
    if traced is None:
        return shapely.MultiPolygon()
    xy, rid, ring_poly = traced
    # flipping rows to northings reverses the turning sense: reverse every ring so
    # shells stay anticlockwise (GeoJSON right-hand rule, RFC 7946 3.1.6)
    order = np.lexsort((-np.arange(len(rid)), rid))
    xy = xy[order]
    # exact: half-integers times a round cell size plus a cell-aligned origin
    xy = np.column_stack([x0 + (xy[:, 0] + 0.5) * cell_m, y1 - (xy[:, 1] + 0.5) * cell_m])
    rings = shapely.linearrings(xy, indices=rid[order])
    polys = shapely.polygons(rings, indices=np.unique(ring_poly, return_inverse=True)[1])
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

    limit = mins[-1] * 60.0
    r_px = buffer_m / cell_m
    rad = int(np.ceil(r_px))
    pad = rad + 1
    s = _samples(net, cell_m)
    yy, xx = np.mgrid[-rad : rad + 1, -rad : rad + 1]
    inside = (xx * xx + yy * yy) <= r_px * r_px + 1e-9
    disc_r = yy[inside].astype(np.int64)
    disc_c = xx[inside].astype(np.int64)
    sub, r0, r1, c0, _c1 = _kernels().arrival_field(
        np.ascontiguousarray(d, dtype=np.float64), s["nptr"], s["nedge"], s["e_u"], s["e_tf"],
        s["e_v"], s["e_tr"], s["sptr"], s["p"], s["ix"], s["iy"], limit, disc_r, disc_c, pad,
    )  # fmt: skip
    if r1 < r0:
        return [shapely.MultiPolygon() for _ in mins]
    # pixel (row, col) of the padded grid has its top-left corner at
    # (x0 + (col - pad) * cell, y1 - (row - pad) * cell)
    x0 = s["x0"] + (c0 - pad) * cell_m
    y1 = s["y1"] - (r0 - pad) * cell_m
    # one tracing per contour; the masks of one field are nested, and filling
    # holes up to hole_m2 keeps them nested (see module doc)
    return [_grid_polygons(sub <= m * 60.0, x0, y1, cell_m, hole_m2) for m in mins]


#: Minutes of the isochrones from every comune's reference point that
#: ``territorio access`` keeps in the bundle (layer ``access_isochrones``).
REFERENCE_MINUTES = (10.0, 20.0, 30.0)
#: Their grid cell (metres): printed maps show 100-200 m per millimetre, and
#: the API serves the same resolution.
REFERENCE_CELL_M = 100.0


def reference_isochrones(
    ctx: AccessContext,
    *,
    minutes: Sequence[float] = REFERENCE_MINUTES,
    cell_m: float = REFERENCE_CELL_M,
    buffer_m: float = 100.0,
    hole_m2: float = 250_000.0,
    progress: bool = False,
) -> Any:
    """Car isochrones from the reference point of every covered comune of ``ctx``.

    The searches are those the ``opportunities_*`` indicators already ran
    (:meth:`AccessContext.ref_times_by_node`, cached in the context), so only
    the contours are traced here: about 4 s for the 312 comuni of the
    province (12 ms each, two thirds of it marching squares, which holds the
    GIL: two threads saved 9%, not worth them). Comuni whose reference point
    is outside coverage have no rows.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per comune and minute value (ascending): ``pro_com_t``,
        ``minutes``, ``area_km2`` and geometry (EPSG:4326), sorted by code
        then minutes; each contour contains the smaller ones of its comune.
    """
    import geopandas as gpd
    import shapely
    from tqdm import tqdm

    mins = sorted({float(m) for m in minutes})
    if not mins or mins[0] <= 0:
        raise ValueError(f"minutes must be positive numbers, got {list(minutes)}")
    net = ctx.network
    rows, times = ctx.ref_times_by_node(mins[-1] * 60.0)
    codes = ctx.municipalities["pro_com_t"].astype(str).to_numpy()[rows]
    contours: list[Any] = []
    for j in tqdm(range(len(rows)), desc="isochrones", unit="comune", disable=not progress):
        d = np.ascontiguousarray(times[:, j], dtype=np.float64)
        contours += contours_from_times(
            net, d, mins, buffer_m=buffer_m, cell_m=cell_m, hole_m2=hole_m2
        )
    geoms = np.asarray(contours, dtype=object)
    gdf = gpd.GeoDataFrame(
        {
            "pro_com_t": np.repeat(codes, len(mins)),
            "minutes": np.tile(np.asarray(mins), len(rows)),
            "area_km2": shapely.area(geoms) / 1e6 if len(geoms) else np.zeros(0),
        },
        geometry=gpd.GeoSeries(geoms, crs=net.metric_crs),
    )
    gdf = gdf.sort_values(["pro_com_t", "minutes"], kind="stable").reset_index(drop=True)
    return gdf.to_crs(4326)


def isochrones_geojson(isos: Any) -> dict[str, Any]:
    """Return isochrones as a GeoJSON FeatureCollection (dict, EPSG:4326)."""
    out: dict[str, Any] = json.loads(isos.to_crs(4326).to_json(drop_id=True))
    return out
