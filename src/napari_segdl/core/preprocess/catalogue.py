"""The catalogue of preprocessing operations: each function of :mod:`.ops` declared with its
parameters (limits for validation and the dock's widgets), needs and effects."""

from __future__ import annotations

from .ops import (
    Operation,
    bilateral,
    clahe,
    gaussian,
    grey_to_rgb,
    median,
    nl_means,
    nuclear_stain,
    param,
    percentile,
    pick_channels,
    picked_channels,
    resize,
    rgb_to_bgr,
    rgb_to_grey,
    to_grey,
    total_variation,
    zscore,
)

_SIGMA = param("sigma", 1.0, float, 0.1, 50.0, "Gaussian standard deviation (pixels)")
OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation(
            "resize",
            "Resize",
            "geometry",
            resize,
            (
                param("height", None, int, 1, 1_000_000, "target rows (with width)"),
                param("width", None, int, 1, 1_000_000, "target columns (with height)"),
                param("factor", 1.0, float, 0.01, 100.0, "scale factor, when no height/width"),
            ),
            geometric=True,
            keeps_dtype=True,
        ),
        Operation("gaussian", "Denoise: Gaussian", "denoise", gaussian, (_SIGMA,)),
        Operation(
            "median",
            "Denoise: median",
            "denoise",
            median,
            (param("radius", 1, int, 1, 25, "half-size of the square window (pixels)"),),
            keeps_dtype=True,
        ),
        Operation(
            "bilateral",
            "Denoise: bilateral",
            "denoise",
            bilateral,
            (
                param(
                    "sigma_color",
                    0.1,
                    float,
                    0.001,
                    1.0,
                    "intensity spread, as a share of the range",
                ),
                param("sigma_spatial", 2.0, float, 0.1, 50.0, "spatial spread (pixels)"),
            ),
        ),
        Operation(
            "nl_means",
            "Denoise: non-local means",
            "denoise",
            nl_means,
            (
                param(
                    "strength",
                    0.8,
                    float,
                    0.05,
                    10.0,
                    "filter strength, times the estimated noise",
                ),
                param("patch_size", 5, int, 3, 21, "patch side (pixels)"),
                param("patch_distance", 6, int, 1, 50, "search radius (pixels)"),
            ),
        ),
        Operation(
            "total_variation",
            "Denoise: total variation",
            "denoise",
            total_variation,
            (param("weight", 0.1, float, 0.001, 10.0, "smoothing weight (on the [0, 1] range)"),),
        ),
        Operation("zscore", "Intensity: centre and normalise (z-score)", "intensity", zscore),
        Operation(
            "percentile",
            "Intensity: percentile min-max",
            "intensity",
            percentile,
            (
                param("low", 1.0, float, 0.0, 100.0, "percentile mapped to 0"),
                param("high", 99.8, float, 0.0, 100.0, "percentile mapped to 1"),
                param("clip", True, bool, doc="clip to [0, 1]"),
            ),
        ),
        Operation(
            "clahe",
            "Intensity: CLAHE",
            "intensity",
            clahe,
            (
                param("clip_limit", 0.01, float, 0.0001, 1.0, "contrast limit"),
                param("kernel_size", 0, int, 0, 4096, "tile size in pixels (0: 1/8 of the image)"),
            ),
        ),
        Operation(
            "rgb_to_bgr",
            "Colour: RGB to BGR",
            "colour",
            rgb_to_bgr,
            needs_colour=True,
            keeps_dtype=True,
        ),
        Operation(
            "rgb_to_grey",
            "Colour: RGB to grey",
            "colour",
            rgb_to_grey,
            needs_colour=True,
            channels_out=lambda channels, params: None,
        ),
        Operation(
            "to_grey",
            "Colour: grey or RGB to grey",
            "colour",
            to_grey,
            grey_or_rgb=True,
            channels_out=lambda channels, params: None,
        ),
        Operation(
            "nuclear_stain",
            "Colour: nuclear stain (haematoxylin) or grey",
            "colour",
            nuclear_stain,
            grey_or_rgb=True,
            channels_out=lambda channels, params: None,
        ),
        Operation(
            "grey_to_rgb",
            "Colour: grey to RGB",
            "colour",
            grey_to_rgb,
            needs_grey=True,
            keeps_dtype=True,
            channels_out=lambda channels, params: 3,
        ),
        Operation(
            "pick_channels",
            "Colour: pick or reorder channels",
            "colour",
            pick_channels,
            (param("order", (0,), tuple, 0, 63, "channel indices, in the new order"),),
            keeps_dtype=True,
            channels_out=picked_channels,
        ),
    )
}
