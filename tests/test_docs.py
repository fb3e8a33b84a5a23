"""The user guide stays true: its commands parse, its pictures exist, its references are complete.

``scripts/run_tutorial.py`` runs the tutorial's blocks for real (minutes of training); these
checks take a second and catch drift between the docs and the code.
"""

import re
import shlex
import sys
from pathlib import Path

import pytest

import napari_segdl
from napari_segdl.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
sys.path.insert(0, str(ROOT / "scripts"))
from run_tutorial import blocks  # noqa: E402


def _commands():
    for language, code in blocks():
        if language == "bash":
            for line in code.replace("\\\n", " ").splitlines():
                if line.strip().startswith("napari-segdl "):
                    yield line.strip()


@pytest.mark.parametrize("command", list(_commands()))
def test_tutorial_commands_parse(command):
    build_parser().parse_args(shlex.split(command)[1:])


def test_tutorial_python_compiles_and_has_commands():
    code = [c for language, c in blocks() if language == "python"]
    assert code and all(compile(c, "tutorial", "exec") for c in code)
    assert len(list(_commands())) >= 8


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_pictures_and_local_links_exist(page):
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
        if not target.startswith("http"):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def test_cli_reference_names_every_option():
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    commands = build_parser()._subparsers._group_actions[0].choices
    for name, parser in commands.items():
        assert f"## {name}" in text
        for action in parser._actions:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help":
                    assert option in text, f"docs/cli.md does not mention {name} {option}"


def test_api_reference_names_every_public_name():
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    for name in napari_segdl.__all__:
        if name != "__version__":
            assert f"sd.{name}" in text, name
