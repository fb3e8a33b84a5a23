"""BioImage Model Zoo packages in: a local ``.zip`` or ``rdf.yaml`` run with its own pre- and
postprocessing through ``bioimageio.core``, its outputs back as arrays (and labels).

Weights run only in formats that execute no code from the package: ONNX, Keras, TensorFlow
SavedModel, TorchScript; a ``pytorch_state_dict`` (whose architecture is Python source in the
package) is refused unless the user allows its code. Before the first prediction the package's
own test tensors are reproduced: a package that does not reproduce them is reported.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import SegDLError

#: Weight formats in the order tried, with the Python package each needs.
RUNNABLE = (
    ("onnx", "onnxruntime"),
    ("keras_v3", "keras"),
    ("keras_hdf5", "keras"),
    ("tensorflow_saved_model_bundle", "tensorflow"),
    ("torchscript", "torch"),
    ("pytorch_state_dict", "torch"),
)
ZOO_SUFFIXES = (".zip", "rdf.yaml", "bioimageio.yaml")


def is_zoo_package(source) -> bool:
    """Whether ``source`` names a Model Zoo package (a zip or its rdf.yaml), not a bundle."""
    return isinstance(source, (str, os.PathLike)) and os.fspath(source).lower().endswith(
        ZOO_SUFFIXES
    )


@dataclass
class ZooModel:
    """A loaded package: its description, the weight format it runs with, and its outputs."""

    path: Path
    descr: object
    weight_format: str
    name: str
    checked: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.name} (BioImage Model Zoo, {self.weight_format})"


def load_zoo_model(
    source: str | os.PathLike, *, allow_code: bool = False, check: bool = True
) -> ZooModel:
    """Read a package, choose weights that run here, and (``check``) reproduce its tests."""
    from .weights import keep_keras_backend

    keep_keras_backend()
    from bioimageio.spec import InvalidDescr, load_model_description

    path = Path(source)
    if not path.is_file():
        raise SegDLError(f"'{path}' does not exist.")
    try:
        descr = load_model_description(path, perform_io_checks=False)
    except Exception as error:  # a zip of something else, a broken YAML, a newer format ...
        version = _stated_version(path)
        if version is not None:
            import bioimageio.spec

            raise SegDLError(
                f"'{path}' is not a model description this bioimageio.spec "
                f"({bioimageio.spec.__version__}) can read: format_version {version}. Update "
                "bioimageio.core, or re-export the package in format 0.5."
            ) from error
        raise SegDLError(
            f"'{path}' is not a BioImage Model Zoo package ({str(error).splitlines()[0]}); give "
            "the .zip or rdf.yaml of a model from bioimage.io."
        ) from error
    if isinstance(descr, InvalidDescr):
        raise SegDLError(_why_invalid(path, descr))
    model = ZooModel(path, descr, _weight_format(path, descr, allow_code), str(descr.name))
    if check:
        model.checked = reproduce_tests(model)
    return model


def _stated_version(path: Path) -> str | None:
    """The format_version a package's rdf.yaml states, or None when it has none to read."""
    import zipfile

    import yaml

    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                names = [
                    n for n in archive.namelist() if n.endswith(("rdf.yaml", "bioimageio.yaml"))
                ]
                text = archive.read(names[0]) if names else b""
        else:
            text = path.read_bytes()
        version = (yaml.safe_load(text) or {}).get("format_version")
    except (OSError, yaml.YAMLError, AttributeError, zipfile.BadZipFile):
        return None
    return str(version) if version is not None else None


def _why_invalid(path: Path, descr) -> str:
    summary = descr.validation_summary
    errors = [f"{'.'.join(map(str, e.loc))}: {e.msg}" for d in summary.details for e in d.errors]
    version = getattr(descr, "format_version", None) or "unknown"
    return (
        f"'{path}' is not a model description this bioimageio.spec can read (format_version "
        f"{version}; {errors[0] if errors else summary.status}). Update bioimageio.core, or "
        "re-export the package in format 0.5."
    )


def _weight_format(path: Path, descr, allow_code: bool) -> str:
    present = [fmt for fmt, _ in RUNNABLE if getattr(descr.weights, fmt, None) is not None]
    if not present:
        raise SegDLError(f"'{path}' has no weights in a format napari-segdl runs.")
    for fmt, package in RUNNABLE:
        if fmt not in present or importlib.util.find_spec(package) is None:
            continue
        if fmt == "pytorch_state_dict" and not allow_code:
            continue
        return fmt
    if present == ["pytorch_state_dict"] and not allow_code:
        raise SegDLError(
            f"'{path}' has only pytorch_state_dict weights, whose network is Python code in the "
            "package: run it only if you trust its source, by allowing its code "
            "(allow_code=True, --allow-code)."
        )
    needed = sorted({package for fmt, package in RUNNABLE if fmt in present})
    raise SegDLError(
        f"'{path}' has weights in {', '.join(present)}, but none of their frameworks is "
        f"installed: pip install {' or '.join(needed)}."
    )


def reproduce_tests(model: ZooModel) -> dict:
    """Run ``bioimageio.core``'s model test for the chosen weights; refuse a package whose test
    tensors do not come out."""
    from bioimageio.core import test_model

    summary = test_model(model.descr, weight_format=model.weight_format, stop_early=True)
    failed = [d for d in summary.details if d.status == "failed"]
    if failed:
        first = failed[0]
        why = first.errors[0].msg.splitlines()[0] if first.errors else first.name
        raise SegDLError(
            f"'{model.path}' does not reproduce its own test outputs with its "
            f"{model.weight_format} weights ({first.name}: {why[:300]}). The package may be "
            "damaged or need another framework version; it was not used."
        )
    return {"status": summary.status, "weight_format": model.weight_format}


def predict_zoo(model: ZooModel, image, name: str = "image") -> dict[str, np.ndarray]:
    """The package's outputs for ``image`` ((Z,) Y, X[, C]), each as (Z,) Y, X[, C]."""
    from bioimageio.core import Tensor, create_prediction_pipeline
    from bioimageio.core import predict as run

    spec = model.descr.inputs[0]
    array = np.asarray(image)
    dims, data = _fit_axes(spec, array, name)
    pipeline = create_prediction_pipeline(model.descr, weight_format=model.weight_format)
    sample = run(model=pipeline, inputs={spec.id: Tensor.from_numpy(data, dims=dims)})
    outputs = {}
    for tensor_id, tensor in sample.members.items():
        order = [a for a in ("z", "y", "x", "channel", "c") if a in tensor.dims]
        squeezed = tensor.data.squeeze([d for d in tensor.dims if d not in order])
        outputs[str(tensor_id)] = np.asarray(squeezed.transpose(*order))
    return outputs


def _fit_axes(spec, array: np.ndarray, name: str):
    """The image laid out as the package's input axes, or a SegDLError naming what is off."""
    axes = [(str(a.id), a.type) for a in spec.axes]
    spatial = [axis for axis, kind in axes if kind == "space"]
    channels = next((a for a in spec.axes if a.type == "channel"), None)
    count = len(channels.channel_names) if channels is not None else 1
    has_channels = array.ndim == len(spatial) + 1 and array.shape[-1] == count and count > 1
    space = array.ndim - (1 if has_channels or (array.ndim > len(spatial)) else 0)
    if space != len(spatial):
        raise SegDLError(
            f"{name} has shape {array.shape} but the package's input has spatial axes "
            f"{', '.join(spatial)} ({len(spatial)}D): give a {len(spatial)}D image."
        )
    if not has_channels:
        array = array[..., np.newaxis] if array.ndim == len(spatial) else array
    if array.shape[-1] != count:
        raise SegDLError(f"{name} has {array.shape[-1]} channel(s) but the package takes {count}.")
    source = {axis: i for i, axis in enumerate(("z", "y", "x")[3 - len(spatial) :])}
    order, dims, expand = [], [], []
    for axis, kind in axes:
        dims.append(axis)
        if kind == "batch":
            expand.append(len(dims) - 1)
        elif kind == "channel":
            order.append(array.ndim - 1)
        else:
            order.append(source[axis] if axis in source else spatial.index(axis))
    data = np.transpose(array, order)
    for position in expand:
        data = np.expand_dims(data, position)
    return dims, data


def labels_from_outputs(model: ZooModel, outputs: dict[str, np.ndarray]) -> np.ndarray | None:
    """A labels image when the first output is class probabilities (argmax over its channels,
    mapped to napari-segdl's label values when the package says them) or one mask channel."""
    first = model.descr.outputs[0]
    scores = outputs[str(first.id)]
    has_channels = any(a.type == "channel" for a in first.axes)
    config = (getattr(model.descr.config, "model_extra", None) or {}).get("napari_segdl", {})
    values = np.asarray(config.get("label_values") or [], dtype=np.int64)
    if has_channels and scores.shape[-1] > 1:
        classes = len(values) if len(values) else scores.shape[-1]
        index = scores[..., :classes].argmax(-1)
        return (values[index] if len(values) else index).astype(np.uint32)
    mask = scores[..., 0] if has_channels else scores
    return (mask > 0.5).astype(np.uint8)
