"""Leftovers of killed builds are cleaned up safely; bundles get the umask's permissions."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
from shapely.geometry import Point

from territorio.bundle import (
    STALE_TMP_S,
    TMP_MARKER,
    Bundle,
    clean_stale_temporaries,
    update_bundle,
    write_bundle,
)


def _points(n: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"node_id": range(n)}, geometry=[Point(7.6 + i / 100, 45.0) for i in range(n)], crs=4326
    )


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(proc.stdout)


def _tmp(parent: Path, name: str, *, pid: int | None, host: str | None = None) -> Path:
    d = parent / name
    d.mkdir()
    (d / "road_nodes.parquet").write_bytes(b"half-written")
    if pid is not None:
        marker = {"pid": pid, "host": host or socket.gethostname(), "created": time.time()}
        (d / TMP_MARKER).write_text(json.dumps(marker))
    return d


def test_a_new_build_removes_only_stale_temporaries_of_its_own_bundle(tmp_path: Path) -> None:
    killed = _tmp(tmp_path, ".torino.tmp-killed", pid=_dead_pid())
    running = _tmp(tmp_path, ".torino.tmp-running", pid=os.getpid() + 0)  # a live writer
    other_host = _tmp(tmp_path, ".torino.tmp-remote", pid=1, host="another-host")
    legacy_old = _tmp(tmp_path, ".torino.tmp-legacy", pid=None)  # older territorio, no marker
    legacy_new = _tmp(tmp_path, ".torino.tmp-legacy2", pid=None)
    old = time.time() - STALE_TMP_S - 60
    os.utime(legacy_old, (old, old))
    someone_else = _tmp(tmp_path, ".cuneo.tmp-killed", pid=_dead_pid())  # another bundle's
    not_ours = tmp_path / ".torino.tmp-file"
    not_ours.write_text("a file, not a folder of ours")

    write_bundle(tmp_path / "torino", {"road_nodes": _points(2)}, {"area": {"name": "x"}})

    left = sorted(p.name for p in tmp_path.iterdir())
    assert killed.name not in left  # its writer is dead: removed
    assert legacy_old.name not in left  # no marker, untouched for more than STALE_TMP_S
    for kept in (running, other_host, legacy_new, someone_else, not_ours):
        assert kept.name in left, kept.name
    assert "torino" in left


def test_cleanup_never_removes_a_live_writers_folder(tmp_path: Path) -> None:
    target = tmp_path / "t"
    live = _tmp(tmp_path, ".t.tmp-live", pid=os.getppid())
    assert clean_stale_temporaries(target, now=time.time() + 10 * STALE_TMP_S) == []
    assert live.is_dir()


def test_published_bundle_has_the_umasks_permissions_not_0700(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        b = write_bundle(tmp_path / "t", {"road_nodes": _points(2)}, {"area": {"name": "x"}})
        # mkdtemp makes 0700; a plain mkdir under umask 022 gives 0755
        assert (b.path.stat().st_mode & 0o777) == 0o755
        b2 = update_bundle(b, {"services": _points(1)}, {})
        assert (b2.path.stat().st_mode & 0o777) == 0o755
        assert not (b2.path / TMP_MARKER).exists()
        os.umask(0o027)
        b3 = write_bundle(tmp_path / "t", {"road_nodes": _points(1)}, {})
        assert (b3.path.stat().st_mode & 0o777) == 0o750
    finally:
        os.umask(old)
    assert Bundle(tmp_path / "t").layers == ["road_nodes"]
