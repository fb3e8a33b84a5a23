"""A trained network in the weight formats other tools run: Keras v3, TensorFlow SavedModel,
TorchScript (ONNX: :mod:`napari_segdl.core.models.onnx`, which the engines use too).

Each writer takes the Keras network of a :class:`~napari_segdl.core.bundle.SegModel` and writes
one file (the SavedModel as a zip, as the BioImage Model Zoo packs it); a format whose
converter is not installed is refused with the package to install. Which formats a package gets
depends on the backend Keras runs on (:func:`write_weights`): the SavedModel needs TensorFlow's,
TorchScript PyTorch's.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from ..backend import load_keras
from ..errors import SegDLError
from ..models.onnx import quiet


def keep_keras_backend() -> None:
    """bioimageio.core sets ``KERAS_BACKEND`` for the whole process when it runs Keras weights
    (to "torch" unless the variable is set), and every process started later inherits it: set
    the backend this Keras runs on first, before bioimageio.core reads its settings."""
    import os

    os.environ.setdefault("KERAS_BACKEND", load_keras().backend.backend())


def needs(module: str, package: str, what: str):
    """Import ``module`` or say which package to install for ``what``."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise SegDLError(
            f"{what} needs the '{package}' package: pip install {package} (or pip install "
            "'napari-segdl[interop]')."
        ) from error


def custom_layers(network) -> list[str]:
    """The classes of ``network``'s layers that a plain Keras does not know (SegNet's pooling)."""
    return sorted(
        {
            type(layer).__name__
            for layer in network.layers
            if not type(layer).__module__.startswith("keras")
        }
    )


def write_keras(network, path: Path) -> Path:
    """The network alone as a Keras v3 file (no napari-segdl metadata, no optimizer)."""
    if custom_layers(network):
        raise SegDLError(
            f"This network has layers of napari-segdl ({', '.join(custom_layers(network))}), "
            "which a plain keras.models.load_model cannot build: SegNet packages carry ONNX "
            "and TensorFlow SavedModel weights only."
        )
    keras = load_keras()
    # a copy that was never compiled: a network trained in this process would carry its
    # compile settings (napari-segdl's loss by name), which a Keras without napari-segdl
    # cannot find when it loads the file (keras.models.load_model compiles by default)
    plain = keras.Model.from_config(network.get_config())
    plain.set_weights(network.get_weights())
    plain.save(path)
    return path


def write_saved_model(network, path: Path) -> Path:
    """A TensorFlow SavedModel of ``network`` (a ``serve`` signature giving a dict with its
    ``probabilities``), zipped into ``path``."""
    import tensorflow as tf

    keras = load_keras()
    with tempfile.TemporaryDirectory() as folder:
        saved = Path(folder) / "saved_model"
        archive = keras.export.ExportArchive()
        archive.track(network)
        spec = tf.TensorSpec((None, *network.input_shape[1:]), tf.float32, name="raw")

        def serve(x):  # a dict of named outputs, as the zoo's tools read a SavedModel
            return {"probabilities": network(x, training=False)}

        archive.add_endpoint(name="serve", fn=serve, input_signature=[spec])
        with quiet():
            archive.write_out(saved, verbose=False)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(saved.rglob("*")):
                if file.is_file():
                    archive.write(file, file.relative_to(saved).as_posix())
    return path


def write_torchscript(network, path: Path) -> Path:
    """``network`` traced to TorchScript (PyTorch backend): any batch and spatial size."""
    import torch

    from ..models.onnx import sample_input, tracing

    with tracing(network):
        traced = torch.jit.trace(network, (sample_input(network),), check_trace=False)
    traced.save(str(path))
    return path


def write_weights(network, work: Path, warnings: list[str]) -> dict[str, Path]:
    """The package's weight files in ``work``, by the Model Zoo's format names: ONNX; the
    SavedModel under TensorFlow or TorchScript under PyTorch; Keras v3 unless the network has
    napari-segdl's own layers (a warning says so)."""
    from ..models.onnx import write_onnx

    backend = load_keras().backend.backend()
    written = {"onnx": write_onnx(network, work / "weights.onnx")}
    if backend == "tensorflow":
        written["tensorflow_saved_model_bundle"] = write_saved_model(
            network, work / "tf_saved_model.zip"
        )
    elif backend == "torch":
        written["torchscript"] = write_torchscript(network, work / "weights.torchscript.pt")
    others = " and ".join(
        {
            "tensorflow_saved_model_bundle": "TensorFlow SavedModel",
            "torchscript": "TorchScript",
        }.get(name, name.upper())
        for name in written
    )
    if custom_layers(network):
        warnings.append(
            "SegNet: Keras weights are left out (its pooling layers are napari-segdl's); "
            f"the package carries {others} weights"
        )
    else:
        written["keras_v3"] = write_keras(network, work / "model.keras")
    return written


def describe_weights(written: dict[str, Path]) -> dict:
    """The Model Zoo's descriptions of the files of :func:`write_weights`, with the versions
    that wrote them."""
    from bioimageio.spec.model import v0_5 as bmz

    from ..models.onnx import ONNX_OPSET

    keras = load_keras()
    backend = keras.backend.backend()
    framework = _version(backend)
    weights = {"onnx": bmz.OnnxWeightsDescr(source=written["onnx"], opset_version=ONNX_OPSET)}
    if "tensorflow_saved_model_bundle" in written:
        weights["tensorflow_saved_model_bundle"] = bmz.TensorflowSavedModelBundleWeightsDescr(
            source=written["tensorflow_saved_model_bundle"], tensorflow_version=framework
        )
    if "torchscript" in written:
        weights["torchscript"] = bmz.TorchscriptWeightsDescr(
            source=written["torchscript"], pytorch_version=framework
        )
    if "keras_v3" in written:
        weights["keras_v3"] = bmz.KerasV3WeightsDescr(
            source=written["keras_v3"],
            keras_version=keras.__version__,
            backend=(backend, framework),
        )
    return weights


def _version(backend: str) -> str:
    """The version of the backend's framework, without a local part (``2.13.0+cpu``)."""
    module = __import__(backend)
    return module.__version__.split("+")[0]
