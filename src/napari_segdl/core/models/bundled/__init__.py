"""Models that ship with napari-segdl, addressable by name: ``load_model("nuclei")``,
``napari-segdl predict nuclei ...``, ``--from-model nuclei``, the Predict dock's list.

Each entry names its file in this folder, the file's SHA-256 (checked before the file is
loaded, so a damaged file is refused with a clear message, never half-loaded) and a line from
its model card in ``docs/models/``.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from ...errors import SegDLError


@dataclass(frozen=True)
class Bundled:
    """One bundled model: its name, file, checksum, title in the docks and card summary."""

    name: str
    file: str
    sha256: str
    title: str
    summary: str


class BundledModels:
    """The bundled models of one folder, by name."""

    def __init__(self, folder: str | os.PathLike, entries: list[Bundled]):
        self.folder = Path(folder)
        self.entries = {entry.name: entry for entry in entries}
        self._checked: set[str] = set()

    def names(self) -> list[str]:
        return list(self.entries)

    def lines(self) -> list[str]:
        """One line per model: name, title and what its card says it is for."""
        return [f"{e.name:<10} {e.title}: {e.summary}" for e in self.entries.values()]

    def path(self, name: str) -> Path:
        """The file of the bundled model ``name``, after checking its SHA-256."""
        entry = self.entries[name]
        path = self.folder / entry.file
        if name in self._checked:
            return path
        if not path.is_file():
            raise SegDLError(
                f"The bundled model '{name}' is missing from this installation ({path}); "
                "reinstall napari-segdl."
            )
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != entry.sha256:
            raise SegDLError(
                f"The bundled model '{name}' ({path}) failed its integrity check (SHA-256 "
                f"{digest[:12]}... instead of {entry.sha256[:12]}...): the file is damaged or "
                "was replaced. Reinstall napari-segdl; nothing was loaded."
            )
        self._checked.add(name)
        return path

    def replay_path(self, name: str) -> Path | None:
        """The replay patches shipped beside the bundled model ``name`` (crops of its training
        images, ``<file stem>_replay.npz``), or None."""
        path = self.folder / f"{Path(self.entries[name].file).stem}_replay.npz"
        return path if path.is_file() else None

    def resolve(self, model: str | os.PathLike) -> Path:
        """The file to load for ``model``: a path, or the name of a bundled model.

        A file or folder of that name in the working folder wins over a bundled model (with a
        warning that says so); a name that is neither a file nor a bundled model is refused
        with the list of bundled models.
        """
        given = Path(model)
        if given.exists():
            if str(model) in self.entries:
                warnings.warn(
                    f"'{model}' is a file in the working folder: it is loaded instead of the "
                    f"bundled model '{model}' (give another path to use that file, or move it "
                    "away to use the bundled model).",
                    UserWarning,
                    stacklevel=3,
                )
            return given
        name = str(model)
        if name in self.entries:
            return self.path(name)
        if not given.suffix and len(given.parts) == 1:  # a name, not a path
            close = difflib.get_close_matches(name, self.names(), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            listed = "; ".join(self.lines()) or "none in this installation"
            raise SegDLError(
                f"'{name}' is neither a model file nor a bundled model.{hint} Bundled models: "
                f"{listed}."
            )
        return given


#: The models bundled with this installation (files written by ``scripts/``, cards in
#: ``docs/models/``).
BUNDLED = BundledModels(
    Path(__file__).parent,
    [
        Bundled(
            name="nuclei",
            file="nuclei.keras",
            sha256="30eda0d77f57ac5d7e195731d48e8caa4951558e242073f307f4ff87c30104fd",
            title="Nuclei (bundled)",
            summary="nuclei of fluorescence, brightfield and H&E images, grey or RGB, 8 or 16 "
            "bit; one ID per nucleus (DSB 2018 and S-BSST265, CC0; docs/models/nuclei.md)",
        )
    ],
)
