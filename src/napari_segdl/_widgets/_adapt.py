"""The Train dock's *Adapt to my corrections*: the model in *start from* fitted to the painted
pairs (its post-processing levels and the scale it predicts at) in the dock's worker process,
in seconds and without training; the adapted model joins the session's models."""

from __future__ import annotations

from napari.qt.threading import thread_worker

from ..core.errors import SegDLError
from ..core.worker import jobs
from ._common import SESSION_MODELS, image_data, labels_data, layer_recipe, outcome_of


@thread_worker
def adapt_worker(process, model, images, labels, sources):
    """Adapt ``model`` in ``process``: an :class:`~._common.Ended` with the adapted model."""
    return (yield from outcome_of(process.call(jobs.adapt, model, images, labels, sources)))


def start_adapting(dock) -> None:
    """Adapt the dock's *start from* model to its pairs; the status line says what changed."""
    name = dock.start_from.value
    try:
        if not name:
            raise SegDLError(
                "Choose the model to adapt in 'start from' (e.g. the bundled nuclei model)."
            )
        pairs = dock.pairs.layers()
        for image, _ in pairs:
            if layer_recipe(image):
                raise SegDLError(
                    f"Image layer '{image.name}' was made by the Preprocess dock: adapting "
                    "predicts as the Predict dock does on raw images; choose the raw image."
                )
    except SegDLError as error:
        dock.refuse(error)
        return
    images = [image_data(image) for image, _ in pairs]
    labels = [labels_data(layer) for _, layer in pairs]
    if dock.label_components.value:  # 'number the objects of a mask', as training does
        from ..core.labels.instances import number_objects

        labels = [number_objects(lab) for lab in labels]
    sources = [(f"image layer '{i.name}'", f"labels layer '{lab.name}'") for i, lab in pairs]
    dock.run(
        adapt_worker(dock.process, SESSION_MODELS.get(name), images, labels, sources),
        message=f"Adapting '{name}' to {len(pairs)} corrected pair(s)...",
        on_result=lambda model: adapted(dock, name, model),
        failed="Nothing adapted: see the message.",
    )


def adapted(dock, start: str, model) -> str:
    """Keep the adapted model (in *start from* and the Predict dock) and say what changed."""
    record = model.info.run.adapted
    name = SESSION_MODELS.add(f"{start} adapted", model)
    dock.start_from.value = name
    fit = f"seed {record['seed']:g}, extent {record['extent']:g}, scale {record['scale']:g}"
    scores = f"F1@0.5 on the corrections {record['f1_50_before']} -> {record['f1_50_after']}"
    if record["f1_50_after"] == record["f1_50_before"]:
        fit = f"no fit beat '{start}' on the corrections: its {fit} are kept"
    dock.status.value = f"'{name}': {fit}; {scores}; ready in the Predict dock and to fine-tune."
    return name
