"""Lay out the Usiigaci phase-contrast cells (``oist/Usiigaci``, MIT) for
``bench/representations.py --set usiigaci``.

    git clone --depth 1 <the oist/Usiigaci repository> Usiigaci
    python bench/usiigaci.py Usiigaci DIR

Each set of ``Mask R-CNN/train`` and ``Mask R-CNN/val`` (50 sets of 1022 x 1024 phase-contrast
images of migrating cells, one ID per cell) becomes ``DIR/images/<train|val>_setN.tif`` (its
16-bit ``raw.tif``) and ``DIR/labels/<train|val>_setN.png`` (its ``instances_ids.png``),
copied unchanged.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    source, out = Path(sys.argv[1]) / "Mask R-CNN", Path(sys.argv[2])
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "labels").mkdir(parents=True, exist_ok=True)
    sets = sorted(source.glob("*/set*/instances_ids.png"))
    for ids in sets:
        name = f"{ids.parent.parent.name}_{ids.parent.name}"
        shutil.copyfile(ids.parent / "raw.tif", out / "images" / f"{name}.tif")
        shutil.copyfile(ids, out / "labels" / f"{name}.png")
    print(f"{len(sets)} sets written to {out}")


if __name__ == "__main__":
    main()
