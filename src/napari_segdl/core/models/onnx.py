"""A network as ONNX, for the engines that run it (ONNX Runtime, OpenVINO) and for export.

Under TensorFlow, Keras' own export (tf2onnx) writes it; under PyTorch, ``torch.onnx``'s
TorchScript exporter traces it once on a small sample and keeps the batch and the two (three)
spatial sizes free, so one file runs every tile size. (Keras' export replaces free sizes by 1
under PyTorch, too small for a pooling network.)
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

from ..backend import load_keras
from ..errors import SegDLError

#: The ONNX operator set written; ONNX Runtime and OpenVINO of 2023 on run it.
ONNX_OPSET = 17


def write_onnx(network, path: Path) -> Path:
    """``network`` as ONNX, with free batch and spatial sizes."""
    keras = load_keras()
    if keras.backend.backend() == "torch":
        return _write_onnx_torch(network, path)
    try:
        import tf2onnx  # noqa: F401
    except ImportError as error:
        raise SegDLError(
            "Writing ONNX weights needs the 'tf2onnx' package: pip install tf2onnx (or pip "
            "install 'napari-segdl[interop]')."
        ) from error
    with quiet():
        spec = [
            keras.InputSpec(shape=(None, *network.input_shape[1:]), dtype="float32")
        ]  # the sizes the network takes: any batch, any multiple of its grid
        network.export(
            path, format="onnx", verbose=False, input_signature=spec, opset_version=ONNX_OPSET
        )
    return path


def sample_input(network, grid: int = 64):
    """A zero batch of one that ``network`` takes: each free spatial size one ``grid``."""
    import torch

    shape = [1] + [size or grid for size in network.input_shape[1:]]
    return torch.zeros(shape, dtype=torch.float32)


def _write_onnx_torch(network, path: Path) -> Path:
    import torch

    free = {0: "batch"} | {
        axis: f"size{axis}"
        for axis, size in enumerate(network.input_shape[1:-1], start=1)
        if size is None
    }
    with quiet(), tracing(network), _plain_memory_layout():
        torch.onnx.export(
            network,
            (sample_input(network),),
            str(path),
            dynamo=False,
            input_names=["raw"],
            output_names=["probabilities"],
            dynamic_axes={"raw": free, "probabilities": free},
            opset_version=ONNX_OPSET,
            do_constant_folding=True,
        )
    return path


@contextlib.contextmanager
def tracing(network):
    """Trace ``network`` (PyTorch backend) inside: in inference mode, without gradients, the
    tracer's notes on Keras' Python-side shape checks silenced; its mode is back after."""
    import torch

    training = network.training
    network.eval()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        network.train(training)


@contextlib.contextmanager
def _plain_memory_layout():
    """Keras (3.x, PyTorch backend) lays 3D convolutions' tensors out channels-last in memory
    (``tensor.contiguous(memory_format=...)``), which the TorchScript ONNX exporter cannot
    write: for the trace the tensors keep their layout. The values are the same either way."""
    from keras.src.backend.torch import nn

    convert = getattr(nn, "_maybe_convert_to_channels_last", None)
    if convert is None:
        yield
        return
    nn._maybe_convert_to_channels_last = lambda tensor: tensor
    try:
        yield
    finally:
        nn._maybe_convert_to_channels_last = convert


@contextlib.contextmanager
def quiet():
    """Keep the converters' progress lines off the terminal."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield
