"""Seconds from pressing Predict in the Predict dock to the mask on screen, in a real viewer.

    cd bench && xvfb-run -a python predict_latency.py [--model nuclei] [--size 1024]
    cd bench && xvfb-run -a python predict_latency.py --file ../scripts/checkpoints/nuclei-flow.keras

A size x size grey image (DSB 2018 nuclei images tiled) in a napari viewer; the Predict dock
with the model (the bundled one by default); the time from the button's click until the
``<image> prediction`` layer is in the viewer and the canvas has drawn. The first press pays for
importing TensorFlow and loading the model; the next ones (median of ``--repeats``) do not.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from _common import DATA, load, machine, today

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from train_nuclei import read, split


def tiled_image(size: int) -> np.ndarray:
    folder = DATA / "dsb2018-nuclei"
    _, test_ids = split(folder)
    images, _ = read(folder, test_ids[:8])
    grey = [im if im.ndim == 2 else im.mean(-1).astype(np.uint8) for im in images]
    grey = [g for g in grey if g.shape == (256, 256)] or [np.resize(grey[0], (256, 256))]
    tiles = [grey[i % len(grey)] for i in range((size // 256) ** 2)]
    rows = [
        np.hstack(tiles[r * (size // 256) : (r + 1) * (size // 256)]) for r in range(size // 256)
    ]
    return np.vstack(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="Nuclei (bundled)")
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--file", type=Path, help="a model file instead of --model")
    args = parser.parse_args()
    import napari
    from qtpy.QtWidgets import QApplication

    from napari_segdl.core.bundle import SegModel

    viewer = napari.Viewer(show=True)
    layer = viewer.add_image(tiled_image(args.size), name="nuclei")
    _, dock = viewer.window.add_plugin_dock_widget("napari-segdl", "Predict")
    if args.file:
        from napari_segdl._widgets._common import SESSION_MODELS

        args.model = SESSION_MODELS.add(args.file.stem, SegModel.from_file(args.file))
        dock.model.reset_choices()
    dock.model.value = args.model
    dock.images.value = [layer]
    app = QApplication.instance()
    before, seconds = load(), []
    for _ in range(args.repeats + 1):
        if "nuclei prediction" in viewer.layers:
            viewer.layers.remove("nuclei prediction")
        app.processEvents()
        start = time.perf_counter()
        dock.predict_button.native.click()
        while "nuclei prediction" not in viewer.layers:
            app.processEvents()
            time.sleep(0.002)
        app.processEvents()  # the canvas draws the new layer
        seconds.append(time.perf_counter() - start)
        while dock.running:
            app.processEvents()
    print(
        json.dumps(
            {
                "date": today(),
                "machine": machine(),
                "load_before": before,
                "load_after": load(),
                "image": [args.size, args.size],
                "model": args.model,
                "first_press_s": round(seconds[0], 2),
                "next_presses_median_s": round(statistics.median(seconds[1:]), 2),
                "next_presses_s": [round(s, 2) for s in seconds[1:]],
            },
            indent=1,
        )
    )
    viewer.close()


if __name__ == "__main__":
    main()
