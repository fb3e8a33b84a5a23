"""Bundled samples: from DSB 2018 (CC0), fluorescence nuclei with dense masks, scribbles and
instance labels, and stained tissue (H&E-like colour images the bundled model never trained on)
with instance labels; from S-BSST265 (CC0), a fluorescence tissue section whose left half has
been corrected (the demo's correction round)."""

from __future__ import annotations

from importlib.resources import files

import numpy as np

SAMPLE_COUNT = 4
TISSUE_COUNT = 4
CREDIT = "DSB 2018 nuclei (BBBC038, CC0); Caicedo et al., Nature Methods 2019"
SECTION_CREDIT = "S-BSST265 Ganglioneuroblastoma_8 (CC0); Kromp et al., Scientific Data 2020"
#: The columns of the section that were corrected (its left half); the rest is for scoring.
SECTION_CORRECTED = 612


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


def section_arrays() -> dict[str, np.ndarray]:
    """The fluorescence tissue section (grey uint8, 914 x 1225) where the bundled model is weak,
    its nuclei (one ID each), the corrections of its left half (its nuclei there, 0 elsewhere)
    and the region checked (True on the left half). No image of its test split trained the
    bundled model."""
    image, instances = _read("section.png"), _read("section_instances.png")
    checked = np.zeros(instances.shape, bool)
    checked[:, :SECTION_CORRECTED] = True
    return {
        "image": image,
        "instances": instances,
        "corrections": np.where(checked, instances, 0).astype(instances.dtype),
        "checked": checked,
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


def section():
    """napari sample: a fluorescence tissue section, the corrections of its left half, that
    half as a checked region (a Shapes rectangle: train there only), and all its nuclei
    (hidden; for the Evaluate dock). Fine-tune the bundled model on it and predict again."""
    sample = section_arrays()
    image, height = sample["image"], sample["image"].shape[0]
    right, bottom = SECTION_CORRECTED - 0.5, height - 0.5  # pixel edges: the half exactly
    corner = [[-0.5, -0.5], [-0.5, right], [bottom, right], [bottom, -0.5]]
    limits = tuple(float(v) for v in np.percentile(image, [0.5, 99.8]))
    shown = {"name": "section", "metadata": {"source": SECTION_CREDIT}, "contrast_limits": limits}
    return [
        (image, shown, "image"),
        (sample["corrections"], {"name": "section corrections", "opacity": 0.5}, "labels"),
        (
            [np.asarray(corner, float)],
            {
                "name": "checked",
                "shape_type": "rectangle",
                "face_color": "transparent",
                "edge_color": "yellow",
                "edge_width": 4,
            },
            "shapes",
        ),
        (sample["instances"], {"name": "section nuclei", "visible": False}, "labels"),
    ]
