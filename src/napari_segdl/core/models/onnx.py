"""A network as ONNX, for the engines that run it (ONNX Runtime, OpenVINO) and for export."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from ..backend import load_keras
from ..errors import SegDLError

#: The ONNX operator set written; ONNX Runtime and OpenVINO of 2023 on run it.
ONNX_OPSET = 17


def write_onnx(network, path: Path) -> Path:
    """``network`` as ONNX (through tf2onnx), with free batch and spatial sizes."""
    try:
        import tf2onnx  # noqa: F401
    except ImportError as error:
        raise SegDLError(
            "Writing ONNX weights needs the 'tf2onnx' package: pip install tf2onnx (or pip "
            "install 'napari-segdl[interop]')."
        ) from error
    keras = load_keras()
    with quiet():
        spec = [
            keras.InputSpec(shape=(None, *network.input_shape[1:]), dtype="float32")
        ]  # the sizes the network takes: any batch, any multiple of its grid
        network.export(
            path, format="onnx", verbose=False, input_signature=spec, opset_version=ONNX_OPSET
        )
    return path


@contextlib.contextmanager
def quiet():
    """Keep the converters' progress lines off the terminal."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield
