"""Run every ``bash`` and ``python`` block of docs/tutorial.md, in order, as written.

    python scripts/run_tutorial.py [--data ../shared/data] [--keep]

The blocks run in a temporary folder where ``isbi2012-em`` links to the ISBI copy in
``--data``; the script stops at the first block that fails and prints each block's time.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```(bash|python)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(path: Path = ROOT / "docs" / "tutorial.md") -> list[tuple[str, str]]:
    """(language, code) of every bash and python block, in order."""
    return BLOCK.findall(path.read_text(encoding="utf-8"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="segdl-tutorial-"))
    # the napari-segdl command of this Python's environment, not another one on PATH
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    (work / "isbi2012-em").symlink_to((args.data / "isbi2012-em").resolve())
    for number, (language, code) in enumerate(blocks(), start=1):
        command = (
            ["bash", "-euo", "pipefail", "-c", code]
            if language == "bash"
            else [sys.executable, "-c", code]
        )
        print(f"--- block {number} ({language}) ---\n{code}", flush=True)
        start = time.monotonic()
        done = subprocess.run(command, cwd=work, env=env)
        print(
            f"--- block {number}: exit {done.returncode} after {time.monotonic() - start:.0f} s",
            flush=True,
        )
        if done.returncode != 0:
            return done.returncode
    if not args.keep:
        shutil.rmtree(work)
    print("every tutorial block ran")
    return 0


if __name__ == "__main__":
    sys.exit(main())
