"""Derived outputs never go stale: each records the build id of the bundle it came from.

``territorio build`` gives every bundle a new ``build_id``
(:func:`territorio.bundle.build_id`). The outputs derived from it record that
id: the access layers in ``manifest["access"]["build_id"]``, the plan folder
in ``summary.json`` (``bundle_build_id``), the maps folder in ``maps.json``
and in a ``<meta name="territorio-build-id">`` of each page. The functions
here compare them with the bundle and name the command that refreshes a
stale output; the server and the CLI refuse a stale plan instead of serving
it beside a bundle it does not describe.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from territorio.bundle import Bundle
from territorio.errors import StaleOutputError

__all__ = [
    "MAPS_RECORD",
    "PLAN_SUMMARY",
    "check_plan",
    "maps_record",
    "stale_access",
    "stale_maps",
    "stale_plan",
]

#: File of the plan folder that records its bundle's build id.
PLAN_SUMMARY = "summary.json"
#: File of the maps folder that records its bundle's build id and pages.
MAPS_RECORD = "maps.json"


def _recorded(path: Path, key: str) -> tuple[bool, str | None]:
    """Return (readable, recorded build id) of a JSON record file."""
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False, None
    value = rec.get(key) if isinstance(rec, dict) else None
    return True, str(value) if value else None


def _why(what: str, recorded: str | None, current: str | None, command: str) -> str | None:
    if current is None or recorded == current:
        return None
    if recorded is None:
        return (
            f"{what} do not record which build of the bundle they were computed from "
            f"(made by an older territorio); refresh them with: {command}"
        )
    return (
        f"{what} was computed from an earlier build of the bundle ({recorded[:12]}, the "
        f"bundle is now {current[:12]}); refresh them with: {command}"
    )


def stale_plan(bundle: Bundle, plan_dir: str | Path) -> str | None:
    """Return why the plan folder does not match ``bundle``, or None when it does.

    Parameters
    ----------
    bundle
        The bundle served or drawn.
    plan_dir
        The ``territorio plan`` output folder.
    """
    p = Path(plan_dir)
    _, recorded = _recorded(p / PLAN_SUMMARY, "bundle_build_id")
    return _why(
        f"the planning outputs in {p}",
        recorded,
        bundle.build_id,
        f"territorio plan {bundle.path} --out {p}",
    )


def check_plan(bundle: Bundle, plan_dir: str | Path) -> None:
    """Raise :class:`StaleOutputError` if the plan folder is not from this build of ``bundle``."""
    why = stale_plan(bundle, plan_dir)
    if why is not None:
        raise StaleOutputError(why)


def stale_access(bundle: Bundle) -> str | None:
    """Return why the access layers do not match ``bundle``, or None (also without them)."""
    if not bundle.has_layer("access_municipalities"):
        return None
    if not bundle.has_layer("access_isochrones"):
        return (
            f"the access layers of {bundle.path} were computed by an older territorio, "
            "without the isochrones from the reference points (access_isochrones) that "
            f"the maps and reports read; run: territorio access {bundle.path}"
        )
    access = bundle.manifest.get("access")
    recorded = access.get("build_id") if isinstance(access, dict) else None
    return _why(
        f"the access layers of {bundle.path}",
        str(recorded) if recorded else None,
        bundle.build_id,
        f"territorio access {bundle.path}",
    )


def maps_record(bundle: Bundle, files: list[str]) -> dict[str, Any]:
    """Return the ``maps.json`` record of a maps folder written from ``bundle``."""
    return {"bundle": str(bundle.path), "bundle_build_id": bundle.build_id, "files": files}


def stale_maps(bundle: Bundle, maps_dir: str | Path) -> str | None:
    """Return why the maps folder does not match ``bundle``, or None (also without maps)."""
    d = Path(maps_dir)
    if not any(d.glob("*.html")):
        return None
    _, recorded = _recorded(d / MAPS_RECORD, "bundle_build_id")
    return _why(
        f"the maps in {d}", recorded, bundle.build_id, f"territorio maps {bundle.path} --out {d}"
    )
