"""The model bundle: one ``.keras`` file carrying the network and its metadata.

The metadata travels as an extra ``napari_segdl.json`` entry in the Keras zip archive,
so the file still loads with ``keras.saving.load_model`` in safe mode.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .backend import load_keras
from .errors import SegDLError
from .images import Normalization
from .labels.modes import ClassMap
from .metadata import PostProcessing, RunRecord
from .models import Geometry, geometry
from .paths import atomic_write

if TYPE_CHECKING:  # pragma: no cover
    import keras

METADATA_ENTRY = "napari_segdl.json"
#: Version of the metadata layout; bump when it changes incompatibly.
FORMAT_VERSION = 1


@dataclass
class ModelInfo:
    """Everything needed to re-use a trained network the way it was trained."""

    arch: str
    arch_params: dict
    classes: dict
    channels: int
    normalization: dict
    patch: int
    recipe: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)
    history: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    format: int = FORMAT_VERSION

    @classmethod
    def from_dict(cls, spec: dict) -> ModelInfo:
        known = {k: spec[k] for k in cls.__dataclass_fields__ if k in spec}
        return cls(**known)

    @property
    def postprocessing(self) -> PostProcessing:
        """An instance model's levels, smallest object, learned size and scale (typed)."""
        return PostProcessing.of(self.training)

    @postprocessing.setter
    def postprocessing(self, value: PostProcessing) -> None:
        value.write(self.training)

    @property
    def run(self) -> RunRecord:
        """What the run that made this model found (typed)."""
        return RunRecord.of(self.training)


class SegModel:
    """A trained segmentation network with its metadata.

    Use :func:`napari_segdl.predict` (or :meth:`predict`) to segment images and
    :meth:`save` to write the bundle.
    """

    #: What runs the network when it predicts (:mod:`napari_segdl.core.infer.runners`): Keras,
    #: or ONNX Runtime or OpenVINO on a copy made by ``runners.with_engine``.
    engine: str = "keras"

    def __init__(self, keras_model: keras.Model | None, info: ModelInfo, path: Path | None = None):
        self._network = keras_model
        self.info = info
        #: The bundle this model was read from: its network loads on first use.
        self.path = Path(path) if path is not None else None

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> SegModel:
        """The model in a bundle, its network read on first use (the metadata now: no
        TensorFlow import, so a viewer can list and hand on models that run elsewhere)."""
        return cls(None, ModelInfo.from_dict(read_metadata(path)), Path(path))

    @property
    def keras_model(self) -> keras.Model:
        if self._network is None:
            self._network = _network_in(self.path)
        return self._network

    @keras_model.setter
    def keras_model(self, network: keras.Model) -> None:
        self._network, self.path = network, None  # no longer the network of the file

    def __copy__(self) -> SegModel:
        clone = SegModel.__new__(SegModel)
        clone.__dict__.update(self.__dict__)
        return clone

    def __getstate__(self) -> dict:
        """A file-backed model travels as its path (to a process on this machine); one in
        memory as its bundle's bytes."""
        state = {"info": asdict(self.info), "path": self.path}
        if self.path is None or (self._network is not None and not self.path.is_file()):
            state["bytes"] = self.bundle_bytes()
        return state

    def bundle_bytes(self) -> bytes:
        """The bytes of this model's bundle (its file, or the model written to a temporary
        one): what travels where its path means nothing (a Dask worker elsewhere)."""
        if self.path is not None and self.path.is_file():  # (a changed network has no path)
            return self.path.read_bytes()
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            return self.save(Path(folder) / "model.keras").read_bytes()

    def __setstate__(self, state: dict) -> None:
        self.info, self.path, self._network = (
            ModelInfo.from_dict(state["info"]),
            state["path"],
            None,
        )
        if "bytes" in state:  # kept as a file (one per model), its network read on first use
            self.path = unpacked(state["bytes"])

    @property
    def class_map(self) -> ClassMap:
        return ClassMap.from_dict(self.info.classes)

    @property
    def normalization(self) -> Normalization:
        return Normalization.from_dict(self.info.normalization)

    @property
    def geometry(self) -> Geometry:
        """Input grid, receptive margin and prediction memory of the network."""
        return geometry(self.info.arch, self.info.arch_params)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the bundle to ``path`` (a ``.keras`` file) atomically; returns the path."""
        path = Path(path)
        if path.suffix != ".keras":
            raise SegDLError(f"Model files end in .keras; received '{path}'.")
        if not path.parent.is_dir():
            raise SegDLError(f"Cannot save the model: folder '{path.parent}' does not exist.")
        if self._network is None:  # not loaded: the bundle is copied as it is
            import shutil

            with atomic_write(path, "the model") as temp:
                shutil.copyfile(self.path, temp)
            return path
        from .. import __version__

        keras = load_keras()

        self.info.versions = {
            "napari_segdl": __version__,
            "keras": keras.__version__,
            "backend": keras.backend.backend(),
        }
        network = self.keras_model
        if getattr(network, "optimizer", None) is not None:
            # the optimizer's state (twice the weights) serves neither prediction nor further
            # training, which compiles a new one: a bundle holds the network alone
            from .models import custom_objects

            with keras.saving.custom_object_scope(custom_objects()):
                network = keras.Model.from_config(network.get_config())
            network.set_weights(self.keras_model.get_weights())
        with atomic_write(path, "the model") as temp:
            network.save(temp)
            with zipfile.ZipFile(temp, "a") as archive:
                archive.writestr(METADATA_ENTRY, json.dumps(asdict(self.info), indent=1))
        return path

    def __repr__(self) -> str:
        classes = ", ".join(
            f"{v}={n}" for v, n in zip(self.class_map.values, self.class_map.names, strict=True)
        )
        return (
            f"SegModel({self.info.arch}, mode={self.class_map.mode}, "
            f"channels={self.info.channels}, classes=[{classes}])"
        )


def read_metadata(path: str | os.PathLike) -> dict:
    """The metadata of a bundle, without loading the network (no TensorFlow import)."""
    path = Path(path)
    if path.is_dir():
        raise SegDLError(
            f"'{path}' is a folder; choose a model file (.keras) saved by napari-segdl."
        )
    if not path.is_file():
        raise SegDLError(f"Model file '{path}' does not exist.")
    not_bundle = (
        f"'{path}' is not a napari-segdl model bundle; choose a .keras file saved by "
        "napari-segdl (Save model, `napari-segdl train --out`, or model.save)."
    )
    if not zipfile.is_zipfile(path):
        raise SegDLError(not_bundle)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if METADATA_ENTRY not in names and {"rdf.yaml", "bioimageio.yaml"} & set(names):
            raise SegDLError(
                f"'{path}' is a BioImage Model Zoo package: it predicts (the Predict dock, "
                "`napari-segdl predict`), but only napari-segdl model bundles (.keras) can be "
                "loaded as models, continued or adapted; use the .keras model it was exported "
                "from."
            )
        if METADATA_ENTRY not in names:
            raise SegDLError(not_bundle)
        try:
            spec = json.loads(archive.read(METADATA_ENTRY))
        except (ValueError, zipfile.BadZipFile) as error:
            raise SegDLError(f"{not_bundle} ({error})") from error
    if int(spec.get("format", 0)) > FORMAT_VERSION:
        raise SegDLError(
            f"'{path}' was saved by a newer napari-segdl (bundle format {spec['format']}); "
            "upgrade napari-segdl to load it."
        )
    return spec


def load_model(path: str | os.PathLike) -> SegModel:
    """Load a model bundle saved by napari-segdl (Keras safe mode), or a bundled model by name
    (``load_model("nuclei")``; ``napari-segdl models`` lists them).

    Raises
    ------
    SegDLError
        When the file is missing, is not a napari-segdl bundle, or is damaged; when a name is
        neither a file nor a bundled model (the message lists them).
    """
    from .models.bundled import BUNDLED

    path = BUNDLED.resolve(path)
    info = ModelInfo.from_dict(read_metadata(path))
    return SegModel(_network_in(path), info, path)


#: This process's folder of models that came as bundle bytes (removed when the process exits).
_UNPACKED: list[Path] = []


def unpacked(data: bytes) -> Path:
    """A file holding these bundle bytes, one per distinct model, in this process's own
    temporary folder, which goes at exit (a worker process's temporary folder goes with it)."""
    import atexit
    import hashlib
    import shutil
    import tempfile

    if not _UNPACKED:
        _UNPACKED.append(Path(tempfile.mkdtemp(prefix="segdl-models-")))
        atexit.register(shutil.rmtree, _UNPACKED[0], True)
    path = _UNPACKED[0] / f"model-{hashlib.sha256(data).hexdigest()[:24]}.keras"
    if not path.is_file():
        with atomic_write(path, "the model") as temp:
            temp.write_bytes(data)
    return path


#: Networks read in this process, by bundle path, size and modification time: a model that
#: travels to a worker process as its path is read there once. The last few are kept.
_NETWORKS: dict[tuple, keras.Model] = {}
_NETWORKS_KEPT = 4


def _network_in(path: Path) -> keras.Model:
    from .models import custom_objects

    try:
        stat = path.stat()
    except OSError as error:
        raise SegDLError(f"Model file '{path}' cannot be read: {error.strerror}.") from error
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _NETWORKS:
        keras = load_keras()
        try:
            _NETWORKS[key] = keras.saving.load_model(
                path, custom_objects=custom_objects(), compile=False, safe_mode=True
            )
        except Exception as error:  # Keras raises many types for damaged archives
            raise SegDLError(f"Cannot load the network in '{path}': {error}") from error
        while len(_NETWORKS) > _NETWORKS_KEPT:  # the oldest first (a model holds its own)
            del _NETWORKS[next(iter(_NETWORKS))]
    return _NETWORKS[key]
