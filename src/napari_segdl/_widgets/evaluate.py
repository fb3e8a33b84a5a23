"""The Evaluate dock: a prediction against ground truth, as a table, a CSV and error layers."""

from __future__ import annotations

import napari
from magicgui.widgets import (
    CheckBox,
    ComboBox,
    FileEdit,
    PushButton,
    SpinBox,
    Table,
    create_widget,
)
from napari.qt.threading import thread_worker

from ..core.errors import SegDLError
from ..core.evaluate.semantic import error_maps, evaluate
from ..io.files import write_csv
from ._common import outcome, table_value
from ._dock import Dock

COLUMNS = ("image", "metric", "value")


@thread_worker
def _evaluate_worker(prediction, truth, instance, ignore, errors, names):
    """The scores (and error maps when ``errors``): an :class:`~._common.Ended`."""
    return outcome(_scores, prediction, truth, instance, ignore, errors, names)


def _scores(prediction, truth, instance, ignore, errors, names):
    result = evaluate(list(prediction), list(truth), instance=instance, ignore=ignore, names=names)
    maps = error_maps(prediction, truth, instance=instance, ignore=ignore) if errors else None
    return result, maps


def score_rows(result: dict) -> list[tuple[str, str, float | int | None]]:
    """Table rows (image, metric, value): overall figures first, then each image's."""
    rows = []
    for image, scores in [("all", result), *((r["name"], r) for r in result["per_image"])]:
        for key in ("iou", "dice", "precision", "recall"):
            for value, figure in scores[key]["per_class"].items():
                rows.append((image, f"{key} {value}", figure))
            rows.append((image, f"{key} mean", scores[key]["mean"]))
        rows.append((image, "pixel accuracy", scores["pixel_accuracy"]["overall"]))
        for key in ("ap50", "f1_50", "ap50_95", "precision_50", "recall_50", "mean_matched_iou"):
            if key in scores:
                rows.append((image, key, scores[key]))
        if "per_threshold" in scores:
            at50 = scores["per_threshold"]["0.50"]
            rows += [(image, f"{k.upper()} @0.5", at50[k]) for k in ("tp", "fp", "fn")]
    return [
        (image, metric, None if v is None else round(float(v), 4)) for image, metric, v in rows
    ]


class EvaluateWidget(Dock):
    """Score a predicted Labels layer against a ground-truth Labels layer."""

    def __init__(self, napari_viewer: napari.viewer.Viewer):
        super().__init__(napari_viewer)
        self.rows: list[tuple] = []
        self.prediction = create_widget(
            annotation=napari.layers.Labels, name="prediction", label="prediction"
        )
        self.truth = create_widget(annotation=napari.layers.Labels, name="truth", label="truth")
        self.kind = ComboBox(name="kind", label="labels are", choices=["semantic", "instance"])
        self.ignore = SpinBox(
            name="ignore",
            label="ignore value",
            value=-1,
            min=-1,
            max=2**31 - 1,
            tooltip="A truth value to leave out (e.g. 0 for unlabelled pixels).",
        )
        self.ignore.native.setSpecialValueText("none")
        self.show_errors = CheckBox(
            name="show_errors", text="Add false positive / false negative layers"
        )
        self.evaluate_button = PushButton(name="evaluate_button", text="Evaluate")
        self.table = Table(name="table", value=table_value([], COLUMNS))
        self.csv_file = FileEdit(name="csv_file", label="CSV", mode="w", filter="*.csv")
        self.export_button = PushButton(name="export_button", text="Export CSV")
        self.busy_buttons = [self.evaluate_button]
        self.extend(
            [
                self.prediction,
                self.truth,
                self.kind,
                self.ignore,
                self.show_errors,
                self.evaluate_button,
                self.table,
                self.csv_file,
                self.export_button,
                self.status,
            ]
        )
        self._connect_callbacks()

    def _connect_callbacks(self) -> None:
        self.evaluate_button.changed.connect(self._evaluate)
        self.export_button.changed.connect(self._export)

    def _evaluate(self) -> None:
        prediction, truth = self.prediction.value, self.truth.value
        if prediction is None or truth is None:
            self.refuse(SegDLError("Choose a prediction and a ground-truth Labels layer."))
            return
        pred_data, truth_data = prediction.data, truth.data
        if pred_data.shape != truth_data.shape:
            self.refuse(
                SegDLError(
                    f"Labels layer '{prediction.name}' is {pred_data.shape} but '{truth.name}' is "
                    f"{truth_data.shape}: compare a prediction with the truth of the same image."
                )
            )
            return
        stack = pred_data.ndim > 2
        slices_p = list(pred_data.reshape(-1, *pred_data.shape[-2:])) if stack else [pred_data]
        slices_t = list(truth_data.reshape(-1, *truth_data.shape[-2:])) if stack else [truth_data]
        names = [f"slice {i}" for i in range(len(slices_p))] if stack else [truth.name]
        ignore = None if self.ignore.value < 0 else self.ignore.value
        worker = _evaluate_worker(
            slices_p,
            slices_t,
            self.kind.value == "instance",
            ignore,
            self.show_errors.value,
            names,
        )
        self.run(
            worker, message="Evaluating...", on_result=lambda out: self._show(prediction, out)
        )

    def _show(self, prediction, outcome) -> None:
        result, maps = outcome
        self.rows = score_rows(result)
        self.table.value = table_value([list(r) for r in self.rows], COLUMNS)
        headline = f"mean IoU {result['iou']['mean']:.3f}"
        if "ap50" in result:
            headline += f", AP50 {result['ap50']:.3f}, F1@0.5 {result['f1_50']:.3f}"
        self.status.value = "; ".join([headline, *result["warnings"]])
        if maps is not None:
            for label, data in zip(("false positives", "false negatives"), maps, strict=True):
                name = f"{prediction.name} {label}"
                if name in self._viewer.layers:
                    self._viewer.layers.remove(name)
                self._viewer.add_labels(
                    data.reshape(prediction.data.shape),
                    name=name,
                    scale=prediction.scale,
                    translate=prediction.translate,
                )

    def _export(self) -> None:
        path = self.csv_file.value
        if not self.rows:
            self.refuse(SegDLError("Evaluate first: there are no figures to export."))
            return
        try:
            write_csv(path, COLUMNS, self.rows)
        except SegDLError as error:
            self.refuse(error)
            return
        self.status.value = f"Wrote {path}."
