"""The Predict dock's export of the chosen model as a BioImage Model Zoo package."""

from __future__ import annotations

from magicgui.widgets import Container, FileEdit, LineEdit, PushButton
from napari.qt.threading import thread_worker


class ExportFields(Container):
    """Where the package goes, who made it and under which licence, and the button."""

    def __init__(self):
        super().__init__(name="export", label="Model Zoo", labels=True)
        self.path = FileEdit(name="export_path", label="package", mode="w", filter="*.zip")
        self.authors = LineEdit(name="authors", label="authors", tooltip="Names, comma-separated.")
        self.licence = LineEdit(name="licence", label="licence", value="CC-BY-4.0")
        self.licence.tooltip = "An SPDX licence id for the package (CC-BY-4.0, MIT, ...)."
        self.button = PushButton(name="export_button", text="Export for the Model Zoo")
        self.button.tooltip = (
            "Write the chosen model as a BioImage Model Zoo package (ilastik, deepImageJ, QuPath, "
            "bioimageio.core), its test tensors and cover from the first chosen image."
        )
        self.extend([self.path, self.authors, self.licence, self.button])

    def options(self) -> dict:
        authors = [a.strip() for a in self.authors.value.split(",") if a.strip()]
        return {"authors": authors or None, "license": self.licence.value.strip() or "CC-BY-4.0"}


@thread_worker
def export_worker(process, model, path, image, options: dict):
    """Export in the dock's worker process (the converters trace the network); an existing
    file is replaced only when the user chose it in the save dialog. An
    :class:`~._common.Ended` with what was written."""
    from ..core.worker import jobs
    from ._common import outcome_of

    return (yield from outcome_of(process.call(jobs.export, model, path, image, options)))


def start_export(dock) -> None:
    """Write the dock's chosen model as a Model Zoo package; the first chosen image gives its
    test tensors and cover (the bundled sample when none is chosen)."""
    from ..core.errors import SegDLError
    from ._common import SESSION_MODELS, image_data

    path = dock.export.path.value
    if not path or path.suffix.lower() != ".zip":
        dock.refuse(SegDLError(f"Choose where to write the package (.zip); received '{path}'."))
        return
    model = SESSION_MODELS.get(dock.model.value) if dock.model.value else None
    if model is None:
        dock.refuse(SegDLError("Choose a model to export (train or load one first)."))
        return
    from ..core.interop.zoo import ZooModel

    if isinstance(model, ZooModel):
        dock.refuse(
            SegDLError(
                f"'{dock.model.value}' is a Model Zoo package already; choose a napari-segdl "
                "model to export."
            )
        )
        return
    image = image_data(dock.images.value[0]) if dock.images.value else None

    def exported(done) -> None:
        from napari.utils.notifications import show_info

        dock.status.value = f"Wrote {done.path.name} ({', '.join(done.formats)})"
        for warning in done.warnings:
            show_info(f"Model Zoo package: {warning}")

    dock.run(
        export_worker(dock.process, model, path, image, dock.export.options()),
        message=f"Exporting to {path.name}...",
        on_result=exported,
    )
