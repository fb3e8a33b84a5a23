"""Export a napari-segdl model as a BioImage Model Zoo package (bioimageio.spec, format 0.5).

The package holds the network as ONNX weights and, from the backend it runs on, TensorFlow
SavedModel (TensorFlow) or TorchScript (PyTorch) weights, which the Java tools (deepImageJ and
Icy through JDLL) and Python's run, and as a plain Keras v3 file (U-Net; SegNet's pooling layers
are napari-segdl's own, so a SegNet package carries the other two); its input and output
axes with sizes from the network's grid and the halo from its receptive margin; the stored
percentile normalisation as ``scale_range``; test tensors and a cover from a real image; a
model card as documentation; and napari-segdl's own description (label values, mode, instance
post-processing, recipe) under ``config.napari_segdl``.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..bundle import SegModel, load_model
from ..errors import SegDLError
from ..labels.heads import HEAD_CHANNELS, head_of
from ..models.onnx import quiet
from .card import cover_picture, model_card, unsupported_steps
from .weights import describe_weights, keep_keras_backend, write_weights

#: What each architecture's paper is, for the package's citations.
PAPERS = {
    "unet": ("Ronneberger et al. 2015, U-Net", "10.1007/978-3-319-24574-4_28"),
    "segnet": ("Badrinarayanan et al. 2017, SegNet", "10.1109/TPAMI.2016.2644615"),
}


@dataclass
class Export:
    """What an export wrote: the package, its weight formats, and what the user should know."""

    path: Path
    formats: list[str]
    warnings: list[str] = field(default_factory=list)


def export_bioimageio(
    model,
    path: str | os.PathLike,
    *,
    image=None,
    name: str | None = None,
    description: str | None = None,
    authors: list[str] | None = None,
    license: str = "CC-BY-4.0",
    cite: list[tuple[str, str]] | None = None,
    overwrite: bool = False,
) -> Export:
    """Write ``model`` as a BioImage Model Zoo package (``.zip``) at ``path``.

    ``image`` (a real image the model was made for) gives the test tensors and the cover; by
    default the bundled nuclei sample for one-channel and RGB 2D models. ``authors`` are names,
    ``cite`` (text, DOI or URL) pairs beside the network's paper. An existing ``path`` is
    refused unless ``overwrite``.
    """
    keep_keras_backend()
    from bioimageio.spec import save_bioimageio_package

    if not isinstance(model, SegModel):
        model = load_model(model)  # a path or a bundled model's name
    path = Path(path)
    if path.suffix.lower() != ".zip":
        raise SegDLError(f"A BioImage Model Zoo package is a .zip file; received '{path}'.")
    if path.exists() and not overwrite:
        raise SegDLError(f"'{path}' exists; choose another name or overwrite it on purpose.")
    if not path.parent.is_dir():
        raise SegDLError(f"Cannot export to '{path}': folder '{path.parent}' does not exist.")
    warnings = [
        f"the recipe step '{step}' is not part of the package: apply it to images before "
        "running the package in another tool (its documentation says so)"
        for step in unsupported_steps(model)
    ]
    if not authors:
        warnings.append("no authors given: the package names 'unknown' (set --author)")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        written = write_weights(model.keras_model, work, warnings)
        test_input, test_output = _test_tensors(model, image)
        np.save(work / "test_input.npy", test_input)
        np.save(work / "test_output.npy", test_output)
        cover_picture(model, test_input, test_output, work / "cover.png")
        (work / "README.md").write_text(model_card(model, written, warnings), encoding="utf-8")
        descr = _description(
            model, work, written, name, description, authors, license, cite, test_input
        )
        with quiet():
            save_bioimageio_package(descr, output_path=path)
    return Export(path, list(written), warnings)


def _sizes(model: SegModel) -> list[tuple[str, int, int]]:
    """(axis, smallest size, step) of every spatial axis: sizes on the network's grid, the
    smallest above twice the halo."""
    geometry = model.geometry
    names = ("z", "y", "x")[3 - geometry.dims :]
    sizes = []
    for axis, grid, margin in zip(names, geometry.multiples, geometry.margins, strict=True):
        smallest = math.ceil((2 * margin + grid) / grid) * grid
        sizes.append((axis, smallest, grid))
    return sizes


def _test_tensors(model: SegModel, image) -> tuple[np.ndarray, np.ndarray]:
    """A real image fitted to the package's sizes (batch first, channels last), and the
    network's output on it, normalised as ``scale_range`` does."""
    from ..infer.engine import predict_batch

    if image is None:
        image = _sample_for(model)
    image = np.asarray(image)
    if image.ndim == model.geometry.dims:
        image = image[..., np.newaxis]
    if image.ndim != model.geometry.dims + 1 or image.shape[-1] != model.info.channels:
        raise SegDLError(
            f"The test image has shape {image.shape}, but this model takes "
            f"{model.geometry.dims}D images with {model.info.channels} channel(s): give an image "
            "like the ones it was trained on."
        )
    for axis, (_, smallest, step) in enumerate(_sizes(model)):
        length = max(smallest, min(image.shape[axis] // step * step, 4 * smallest))
        if image.shape[axis] < length:
            pad = [(0, 0)] * image.ndim
            pad[axis] = (0, length - image.shape[axis])
            image = np.pad(image, pad, mode="symmetric")
        image = np.take(image, range(length), axis=axis)
    norm = model.normalization
    data = image.astype(np.float32)
    lo, hi = norm.limits(data)
    scaled = (data - lo) / (hi - lo + EPS)
    output = predict_batch(model.keras_model, scaled[np.newaxis])
    return data[np.newaxis], output.astype(np.float32)


#: ``scale_range``'s epsilon, in the package and in its test output alike.
EPS = 1e-6


def _sample_for(model: SegModel) -> np.ndarray:
    """The bundled sample, grey for one-channel models and as RGB for RGB models."""
    if model.geometry.dims != 2 or model.info.channels not in (1, 3):
        raise SegDLError(
            "Give an image for the package's test tensors and cover (--image): the bundled "
            f"sample is a grey 2D image and this model takes {model.geometry.dims}D images with "
            f"{model.info.channels} channel(s)."
        )
    from importlib.resources import files

    import imageio.v3 as iio

    image = np.asarray(iio.imread(files("napari_segdl") / "samples" / "nuclei_0.png"))
    grey = image if image.ndim == 2 else image[..., 0]
    return grey if model.info.channels == 1 else np.repeat(grey[..., None], 3, axis=-1)


def _description(model, work, written, name, description, authors, license, cite, test_input):
    from bioimageio.spec.model import v0_5 as bmz

    from ... import __version__
    from .card import package_config

    dims = model.geometry.dims
    sizes = _sizes(model)
    channels = [f"channel{i}" for i in range(model.info.channels)]
    raw, out = bmz.TensorId("raw"), bmz.TensorId("probabilities")
    input_axes = [bmz.BatchAxis()]
    output_axes = [bmz.BatchAxis()]
    for (axis, smallest, step), margin in zip(sizes, model.geometry.margins, strict=True):
        axis_id = bmz.AxisId(axis)
        input_axes.append(
            bmz.SpaceInputAxis(id=axis_id, size=bmz.ParameterizedSize(min=smallest, step=step))
        )
        output_axes.append(
            bmz.SpaceOutputAxisWithHalo(
                id=axis_id, size=bmz.SizeReference(tensor_id=raw, axis_id=axis_id), halo=margin
            )
        )
    input_axes.append(bmz.ChannelAxis(channel_names=[bmz.Identifier(c) for c in channels]))
    head = head_of(model.info.arch_params)
    outputs = list(model.class_map.names) + HEAD_CHANNELS[head]
    output_axes.append(bmz.ChannelAxis(channel_names=[bmz.Identifier(_ident(n)) for n in outputs]))
    norm = model.normalization
    spatial = [bmz.AxisId(axis) for axis, _, _ in sizes]
    inputs = bmz.InputTensorDescr(
        id=raw,
        axes=input_axes,
        test_tensor=bmz.FileDescr(source=work / "test_input.npy"),
        data=bmz.IntervalOrRatioDataDescr(type="float32"),  # what the network takes
        preprocessing=[
            bmz.EnsureDtypeDescr(kwargs=bmz.EnsureDtypeKwargs(dtype="float32")),
            bmz.ScaleRangeDescr(
                kwargs=bmz.ScaleRangeKwargs(
                    axes=spatial, min_percentile=norm.low, max_percentile=norm.high, eps=EPS
                )
            ),
        ],
    )
    output = bmz.OutputTensorDescr(
        id=out,
        axes=output_axes,
        test_tensor=bmz.FileDescr(source=work / "test_output.npy"),
        data=bmz.IntervalOrRatioDataDescr(type="float32", range=(0.0, 1.0)),
        description="class probabilities (and the distance head, if any), channels last",
    )
    paper, doi = PAPERS.get(model.info.arch, PAPERS["unet"])
    entries = [bmz.CiteEntry(text=paper, doi=bmz.Doi(doi))] + [
        bmz.CiteEntry(text=text, **_where(ref)) for text, ref in (cite or [])
    ]
    arch = {"unet": "U-Net", "segnet": "SegNet"}.get(model.info.arch, model.info.arch)
    return bmz.ModelDescr(
        name=name or f"napari-segdl {arch} {dims}D {model.class_map.mode}",
        description=description
        or f"A {dims}D {arch} trained with napari-segdl {__version__} in {model.class_map.mode} "
        f"mode; outputs the probabilities of {len(model.class_map.names)} classes.",
        authors=[bmz.Author(name=a) for a in (authors or ["unknown"])],
        cite=entries,
        license=license,
        documentation=bmz.FileDescr(source=work / "README.md"),
        covers=[bmz.FileDescr(source=work / "cover.png")],
        tags=["napari-segdl", arch.lower(), f"{dims}d", model.class_map.mode, "segmentation"],
        inputs=[inputs],
        outputs=[output],
        weights=bmz.WeightsDescr(**describe_weights(written)),
        config=bmz.Config(napari_segdl=package_config(model)),
    )


def _ident(text: str) -> str:
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in str(text)).strip("_")
    return cleaned or "class"


def _where(reference: str) -> dict:
    from bioimageio.spec.model import v0_5 as bmz

    if reference.startswith(("http://", "https://")):
        return {"url": bmz.HttpUrl(reference)}
    return {"doi": bmz.Doi(reference)}
