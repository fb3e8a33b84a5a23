"""The ``export`` command's arguments: a model as a BioImage Model Zoo package."""

from __future__ import annotations

import argparse
from pathlib import Path


def _cite(text: str) -> tuple[str, str]:
    title, sep, where = text.rpartition("=")
    if not sep or not title.strip() or not where.strip():
        raise argparse.ArgumentTypeError(
            f"expected TEXT=DOI or TEXT=URL, e.g. 'Me et al. 2026=10.1234/abc'; received {text!r}"
        )
    return title.strip(), where.strip()


def add_export(commands) -> None:
    cmd = commands.add_parser(
        "export", help="write a model as a BioImage Model Zoo package (ilastik, deepImageJ, ...)"
    )
    cmd.add_argument("model", help="a .keras bundle or a bundled model's name")
    cmd.add_argument(
        "--bioimageio", type=Path, required=True, metavar="OUT.zip", help="the package to write"
    )
    cmd.add_argument(
        "--image", type=Path, default=None, help="a real image for the test tensors and cover"
    )
    cmd.add_argument(
        "--author", action="append", default=None, metavar="NAME", help="an author (repeat)"
    )
    cmd.add_argument("--license", default="CC-BY-4.0", help="an SPDX licence id (CC-BY-4.0)")
    cmd.add_argument(
        "--cite", type=_cite, action="append", default=None, metavar="TEXT=DOI", help="a citation"
    )
    cmd.add_argument("--name", default=None, help="the package's name")
    cmd.add_argument("--description", default=None, help="one sentence on what it segments")
    cmd.add_argument("--overwrite", action="store_true", help="replace an existing package")
