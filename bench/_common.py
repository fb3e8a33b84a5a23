"""Shared helpers for the benchmarks: data paths, machine description, ISBI loading."""

from __future__ import annotations

import os
import platform
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def load() -> str:
    """The machine's load averages (1, 5, 15 min): what else was running beside a benchmark."""
    try:
        return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "load average unknown"


def today() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d")


def load_isbi(folder: Path, stems: range) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """ISBI 2012 slices ``stems`` as (images, labels); labels 255 = cell, 0 = membrane."""
    from napari_segdl.io.files import read_image

    images = [read_image(folder / "images" / f"{i:02d}.png") for i in stems]
    labels = [read_image(folder / "labels" / f"{i:02d}.png") for i in stems]
    return images, labels
