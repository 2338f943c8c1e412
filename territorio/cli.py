"""The ``territorio`` command line.

Every user error (bad config, missing file, bad coordinates, unknown
category or area) is printed as one line ``territorio: error: ...`` and exits
with code 2, without a traceback; an interrupted run exits with 130. Both
leave the previous bundle untouched.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from territorio._version import __version__
from territorio.errors import BundleError, ConfigError, TerritorioError, UnknownAreaError

if TYPE_CHECKING:
    from territorio.planning.config import PlanConfig

__all__ = ["main"]

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _default_bundle() -> Path:
    """Return the only bundle under ``./data``, so ``territorio info`` needs no argument."""
    found = sorted(p.parent for p in Path("data").glob("*/manifest.json"))
    if len(found) == 1:
        return found[0]
    if not found:
        raise BundleError(
            "no bundle found under ./data; build one with: "
            "territorio build --config configs/torino-local.toml"
        )
    names = ", ".join(str(p) for p in found)
    raise BundleError(
        f"several bundles under ./data ({names}); name one, e.g. territorio info {found[0]}"
    )


def _bundle_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "bundle",
        nargs="?",
        type=Path,
        help="bundle folder (default: the only bundle under ./data)",
    )


def _cmd_build(args: argparse.Namespace) -> int:
    from territorio.build import build_bundle
    from territorio.config import load_config

    cfg = load_config(args.config)
    bundle = build_bundle(cfg, stream=None if args.quiet else sys.stderr)
    if not args.quiet:
        from territorio.info import format_info

        print(format_info(bundle))
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from territorio.bundle import Bundle
    from territorio.info import format_info

    print(format_info(Bundle(args.bundle or _default_bundle()), maps_dir=Path("maps")))
    return 0


def _cmd_access(args: argparse.Namespace) -> int:
    from territorio.accessibility import compute_access
    from territorio.bundle import Bundle
    from territorio.planning.run import access_config_of

    bundle = Bundle(args.bundle or _default_bundle())
    out = compute_access(bundle, access_config_of(bundle), progress=not args.quiet, mode=args.mode)
    if not args.quiet:
        layers = out.manifest["layers"]
        print(
            f"access computed: {layers['access_municipalities']:,} municipality rows, "
            f"{layers['access_cells']:,} cell rows in {out.path}"
        )
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:
    from territorio.bundle import Bundle, default_plan_dir
    from territorio.planning import PlanConfig, run_plan
    from territorio.planning.run import load_plan_config

    bundle = Bundle(args.bundle or _default_bundle())
    cfg = load_plan_config(args.config) if args.config else PlanConfig()
    out_dir = args.out or default_plan_dir(bundle.path)
    summary = run_plan(bundle, cfg, out_dir=out_dir, progress=not args.quiet)
    if not args.quiet:
        print(f"planning outputs in {out_dir}:")
        for f in summary.get("files", []):
            print(f"  {f}")
    return 0


def _plan_cfg(args: argparse.Namespace) -> PlanConfig:
    from territorio.planning import PlanConfig
    from territorio.planning.run import load_plan_config

    return load_plan_config(args.config) if args.config else PlanConfig()


def _cmd_winter(args: argparse.Namespace) -> int:
    from territorio.bundle import Bundle, default_plan_dir
    from territorio.planning.mountain_report import winter_report

    bundle = Bundle(args.bundle or _default_bundle())
    out = args.out or default_plan_dir(bundle.path)
    winter_report(bundle, _plan_cfg(args), name=args.scenario, out_dir=out, stream=sys.stdout)
    return 0


def _cmd_effect(args: argparse.Namespace) -> int:
    import json

    from territorio.bundle import Bundle, default_plan_dir
    from territorio.planning.mountain_report import effect_report

    bundle = Bundle(args.bundle or _default_bundle())
    climbs = None
    if args.climb:
        climbs = []
        for c in args.climb:
            a, _, b = c.partition(":")
            if not (len(a) == len(b) == 6 and a.isdigit() and b.isdigit()):
                raise ConfigError(
                    f"--climb {c!r}: give two ISTAT codes as FROM:TO, e.g. 001191:001263"
                )
            climbs.append((a, b, f"{a} - {b}"))
    figures = effect_report(
        bundle,
        _plan_cfg(args),
        winter_name=args.scenario,
        climbs=climbs,
        top=args.top,
        out_dir=args.out or default_plan_dir(bundle.path),
        stream=sys.stdout,
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


def _cmd_maps(args: argparse.Namespace) -> int:
    from territorio.bundle import Bundle
    from territorio.maps import write_maps

    bundle = Bundle(args.bundle or _default_bundle())
    tiles = None if args.tiles.lower() == "none" else args.tiles
    paths = write_maps(
        bundle,
        out_dir=args.out,
        tiles=tiles,
        progress=not args.quiet,
        lang=args.lang,
        municipalities=args.municipality or None,
    )
    for p in paths:
        print(p)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from territorio.report import ReportSource, write_reports

    if not args.municipality and not args.all:
        raise UnknownAreaError(
            "name the comuni: -m 001272 (repeatable), or --all for every comune of the bundle"
        )
    src = ReportSource(args.bundle or _default_bundle(), plan_dir=args.plan)
    codes = list(args.municipality or [])
    if args.all:
        codes += src.municipalities["pro_com_t"].astype(str).tolist()

    def done(code: str, path: Path) -> None:
        if not args.quiet:
            print(path)

    write_reports(src, codes, out_dir=args.out, lang=args.lang, progress=done, workers=args.workers)
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from territorio.api import Settings, serve
    from territorio.bundle import default_plan_dir

    settings = Settings()  # from the environment (TERRITORIO_*); the flags override it
    if args.bundle is not None:
        settings = settings.model_copy(update={"bundle_path": args.bundle})
    if args.database_url is not None:
        settings = settings.model_copy(update={"database_url": args.database_url})
    plan_dir = default_plan_dir(settings.bundle_path)
    if settings.plan_path is None and plan_dir.is_dir():
        settings = settings.model_copy(update={"plan_path": plan_dir})
    serve(settings, host=args.host, port=args.port, workers=args.workers)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="territorio",
        description=(
            "Territorial welfare and service accessibility planner / "
            "Pianificatore del welfare territoriale e dell'accessibilità ai servizi."
        ),
    )
    parser.add_argument("--version", action="version", version=f"territorio {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("build", help="build a territory bundle from a TOML config")
    p.add_argument("--config", "-c", required=True, type=Path, help="TOML build configuration")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("info", help="summarise a bundle: layers, services, network coverage")
    _bundle_arg(p)
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("access", help="travel times and indicators for every service category")
    _bundle_arg(p)
    p.add_argument("--mode", choices=["car", "walk"], default="car", help="travel mode")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    p.set_defaults(func=_cmd_access)

    p = sub.add_parser(
        "plan", help="SNAI classes, marginality index, underserved clusters, sites, scenario"
    )
    _bundle_arg(p)
    p.add_argument("--config", "-c", type=Path, help="plan TOML (default: built-in defaults)")
    p.add_argument("--out", "-o", type=Path, help="output folder (default: <bundle>-plan)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    p.set_defaults(func=_cmd_plan)

    p = sub.add_parser(
        "winter", help="winter scenario: passes closed, slower roads up high (preset or variant)"
    )
    _bundle_arg(p)
    p.add_argument("--config", "-c", type=Path, help="plan TOML (default: built-in defaults)")
    p.add_argument("--scenario", "-s", default="winter", help="preset or [[winter]] name")
    p.add_argument("--out", "-o", type=Path, help="output folder (default: <bundle>-plan)")
    p.set_defaults(func=_cmd_winter)

    p = sub.add_parser(
        "effect", help="what curves, slopes and winter change: DEM coverage, climbs, top comuni"
    )
    _bundle_arg(p)
    p.add_argument("--config", "-c", type=Path, help="plan TOML (default: built-in defaults)")
    p.add_argument("--scenario", "-s", default="winter", help="winter preset or variant name")
    p.add_argument(
        "--climb", action="append", metavar="FROM:TO", help="ISTAT codes of a climb (repeatable)"
    )
    p.add_argument("--top", type=int, default=20, help="comuni listed (default: 20)")
    p.add_argument("--out", "-o", type=Path, help="output folder (default: <bundle>-plan)")
    p.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    p.set_defaults(func=_cmd_effect)

    p = sub.add_parser("maps", help="write the interactive HTML maps")
    _bundle_arg(p)
    p.add_argument("--out", "-o", type=Path, default=Path("maps"), help="folder (default: maps)")
    p.add_argument(
        "--tiles",
        default="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        help="base tile URL template, or 'none' for no tiles (offline)",
    )
    p.add_argument("--lang", choices=["it", "en"], default="it", help="language (default: it)")
    p.add_argument(
        "--municipality",
        "-m",
        action="append",
        metavar="ISTAT",
        help="6-digit ISTAT code of a municipality map to write (repeatable)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    p.set_defaults(func=_cmd_maps)

    p = sub.add_parser("report", help="write the one-page PDF report of comuni")
    _bundle_arg(p)
    p.add_argument(
        "--municipality",
        "-m",
        action="append",
        metavar="ISTAT",
        help="6-digit ISTAT code of a comune (repeatable)",
    )
    p.add_argument("--all", action="store_true", help="every comune of the bundle")
    p.add_argument("--lang", choices=["it", "en"], default="it", help="language (default: it)")
    p.add_argument(
        "--out", "-o", type=Path, default=Path("reports"), help="folder (default: reports)"
    )
    p.add_argument("--plan", type=Path, help="planning outputs folder (default: <bundle>-plan)")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes drawing the reports, e.g. one per core for --all (default: 1)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no output")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("serve", help="run the Welfare Point Territoriale HTTP API")
    p.add_argument("--bundle", type=Path, help="bundle folder (default: TERRITORIO_BUNDLE_PATH)")
    p.add_argument("--database-url", help="SQLAlchemy URL (default: SQLite under data/)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument(
        "--workers", type=int, default=1, help="worker processes, e.g. one per core (default: 1)"
    )
    p.set_defaults(func=_cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except TerritorioError as exc:
        print(f"territorio: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("territorio: interrupted; the previous bundle is untouched", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
