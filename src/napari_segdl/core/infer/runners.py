"""Which engine runs the network: Keras (on its backend, TensorFlow or PyTorch), ONNX Runtime
or OpenVINO.

The same network, converted once per model to ONNX (:mod:`..models.onnx`), runs in ONNX
Runtime or OpenVINO behind the interface prediction uses (``predict_on_batch``,
``output_shape``), so tiles, lazy chunks, clusters and test-time augmentation work with every
engine. OpenVINO is held to float32 (``openvino``), or left to the CPU's reduced precision
(``openvino-bf16``, bfloat16 on CPUs that have it): measured by ``bench/engines.py``, its
labels agreed with float32 on 99.98 % of the pixels of the benchmark image, above the 99.9 %
this mode is offered for.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import tempfile
import weakref
from pathlib import Path

import numpy as np

from ..errors import SegDLError

ENGINES = ("auto", "keras", "onnxruntime", "openvino", "openvino-bf16")
#: Earlier names of engines, still understood: "tensorflow" ran Keras before PyTorch could.
ALIASES = {"tensorflow": "keras"}
#: Images smaller than this (pixels) stay on Keras with ``auto``: converting the network
#: (about 3 s) would cost more than the faster engine saves.
AUTO_MIN_PIXELS = 2**20
_PACKAGES = {"onnxruntime": "onnxruntime", "openvino": "openvino", "openvino-bf16": "openvino"}


def check_engine(engine: str | None) -> str:
    """The engine asked for ("auto" when None, an earlier name as today's); an unknown or
    missing one is refused."""
    engine = ALIASES.get(engine, engine or "auto")
    if engine not in ENGINES:
        raise SegDLError(f"Unknown engine {engine!r}; choose one of {', '.join(ENGINES)}.")
    package = _PACKAGES.get(engine)
    if package and importlib.util.find_spec(package) is None:
        raise SegDLError(
            f"The {engine} engine needs the '{package}' package: pip install {package} "
            "(or leave the engine on auto)."
        )
    return engine


def resolve(engine: str, pixels: int) -> str:
    """The engine that runs: ``auto`` is OpenVINO in float32 when it is installed and the image
    is large enough to pay for the conversion, else Keras."""
    if engine != "auto":
        return engine
    if pixels >= AUTO_MIN_PIXELS and importlib.util.find_spec("openvino") is not None:
        return "openvino"
    return "keras"


def with_engine(model, engine: str):
    """A copy of ``model`` (sharing its network) that predicts with ``engine``."""
    if model.engine == engine:
        return model
    clone = copy.copy(model)
    clone.engine = engine
    return clone


#: Each network's converted runners, by engine, with the weights they were converted from:
#: made once, shared by the model's copies, gone with the network.
_RUNNERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def weights_digest(network) -> bytes:
    """A digest of ``network``'s weights (about 20 ms for the bundled U-Net on two cores)."""
    digest = hashlib.blake2b(digest_size=16)
    for weights in network.get_weights():
        digest.update(np.ascontiguousarray(weights).tobytes())
    return digest.digest()


def network_for(model):
    """What runs ``model``'s network with its engine (the Keras model for Keras). A runner is
    converted again when the network's weights changed since (``set_weights``, more
    training): a converted copy does not follow them."""
    engine = model.engine
    if engine == "keras":
        return model.keras_model
    cache = _RUNNERS.setdefault(model.keras_model, {})
    digest = weights_digest(model.keras_model)
    if engine not in cache or cache[engine][0] != digest:
        cache[engine] = (digest, CompiledNetwork(model.keras_model, engine))
    return cache[engine][1]


class CompiledNetwork:
    """The network as ONNX in ONNX Runtime or OpenVINO, called like a Keras model."""

    def __init__(self, network, engine: str):
        from ..models.onnx import write_onnx

        self.output_shape = network.output_shape
        self.engine = engine
        self._folder = tempfile.TemporaryDirectory(prefix="segdl-onnx-")
        path = write_onnx(network, Path(self._folder.name) / "network.onnx")
        if engine == "onnxruntime":
            import onnxruntime as ort

            session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            name = session.get_inputs()[0].name
            self._run = lambda x: session.run(None, {name: x})[0]
        else:
            import openvino as ov

            precision = {} if engine == "openvino-bf16" else {"INFERENCE_PRECISION_HINT": "f32"}
            compiled = ov.Core().compile_model(str(path), "CPU", precision)
            self._run = lambda x: compiled([x])[0]

    def predict_on_batch(self, batch: np.ndarray) -> np.ndarray:
        return np.asarray(self._run(np.ascontiguousarray(batch, dtype=np.float32)))
