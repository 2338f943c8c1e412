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

from territorio._version import __version__
from territorio.errors import BundleError, TerritorioError

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

    print(format_info(Bundle(args.bundle or _default_bundle())))
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
