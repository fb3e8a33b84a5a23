"""Bundled samples from DSB 2018 (CC0): fluorescence nuclei with dense masks, scribbles and
instance labels; stained tissue (H&E-like colour images the bundled model never trained on)
with instance labels."""

from __future__ import annotations

from importlib.resources import files

import numpy as np

SAMPLE_COUNT = 4
TISSUE_COUNT = 4
CREDIT = "DSB 2018 nuclei (BBBC038, CC0); Caicedo et al., Nature Methods 2019"


def _read(name: str) -> np.ndarray:
    import imageio.v3 as iio

    return np.asarray(iio.imread(files("napari_segdl") / "samples" / name))


def nuclei_arrays(index: int = 0) -> dict[str, np.ndarray]:
    """One sample image with its dense masks (0 = background, 1 = nucleus) and instances."""
    instances = _read(f"nuclei_{index}_instances.png")
    return {
        "image": _read(f"nuclei_{index}.png"),
        "masks": (instances > 0).astype(np.uint8),
        "instances": instances,
    }


def tissue_arrays(index: int = 0) -> dict[str, np.ndarray]:
    """One stained-tissue sample: an RGB image (uint8) and its nuclei, one ID each."""
    return {
        "image": _read(f"tissue_{index}.png"),
        "instances": _read(f"tissue_{index}_instances.png"),
    }


def nuclei_scribbles() -> np.ndarray:
    """Sparse scribbles for sample 0: 0 = unlabelled, 1 = background, 2 = nucleus."""
    return _read("nuclei_0_scribbles.png")


def nuclei():
    """napari sample: the first nuclei image, its masks, scribbles and instances as layers."""
    sample = nuclei_arrays(0)
    credit = CREDIT
    image = sample["image"]
    # dim fluorescence (values up to about 100 of 255): show it stretched, not as 0-255
    low, high = (float(v) for v in np.percentile(image, [0.5, 99.8]))
    shown = {"name": "nuclei", "metadata": {"source": credit}, "contrast_limits": (low, high)}
    return [
        (image, shown, "image"),
        (sample["masks"], {"name": "nuclei masks", "opacity": 0.5}, "labels"),
        (nuclei_scribbles(), {"name": "nuclei scribbles"}, "labels"),
        (sample["instances"], {"name": "nuclei instances", "visible": False}, "labels"),
    ]


def tissue():
    """napari sample: a stained-tissue image (RGB) and its nuclei, where the bundled model is
    weak: the image to adapt or fine-tune it on."""
    sample = tissue_arrays(0)
    return [
        (
            sample["image"],
            {"name": "tissue", "rgb": True, "metadata": {"source": CREDIT}},
            "image",
        ),
        (sample["instances"], {"name": "tissue nuclei", "opacity": 0.5}, "labels"),
    ]
