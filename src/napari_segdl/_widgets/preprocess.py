"""The Preprocess dock: build a recipe, preview it on the slice on screen, apply it to layers."""

from __future__ import annotations

import napari
import numpy as np
from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FileEdit,
    Label,
    PushButton,
    Select,
    create_widget,
)
from napari.qt.threading import thread_worker
from napari.utils.notifications import show_info

from ..core.errors import SegDLError
from ..core.preprocess import OPERATIONS, Recipe, Step, preprocess
from ._common import UserError, report, reported
from ._params import param_widget, widget_value

PREVIEW_SUFFIX = " preview"


@thread_worker
def _apply_worker(data, recipe, channels, labels, name):
    try:
        return preprocess(data, recipe, channels=channels, labels=labels, name=name)
    except SegDLError as error:
        return UserError(error)  # reported by the dock


class PreprocessWidget(Container):
    """Build a preprocessing recipe and apply it to image (and labels) layers as new layers."""

    def __init__(self, napari_viewer: napari.viewer.Viewer):
        super().__init__()
        self._viewer = napari_viewer
        self._alive = True
        self.recipe = Recipe()
        self.image = create_widget(annotation=napari.layers.Image, name="image", label="image")
        self.operation = ComboBox(
            name="operation",
            label="operation",
            choices=[(op.title, name) for name, op in OPERATIONS.items()],
        )
        self.add_button = PushButton(name="add_button", text="Add step")
        # choices from the recipe: napari resets every dock's choices when layers change
        self.steps = Select(
            name="steps", label="steps", choices=self._step_choices, allow_multiple=False
        )
        self.params = Container(name="params", label="parameters")
        self.remove_button = PushButton(name="remove_button", text="Remove")
        self.up_button = PushButton(name="up_button", text="Up")
        self.down_button = PushButton(name="down_button", text="Down")
        edit = Container(
            widgets=[self.remove_button, self.up_button, self.down_button],
            layout="horizontal",
            labels=False,
        )
        self.preview = CheckBox(name="preview", text="Preview the slice on screen")
        self.apply_button = PushButton(name="apply_button", text="Apply to image")
        self.apply_selected_button = PushButton(
            name="apply_selected_button",
            text="Apply to selected layers",
            tooltip="Image layers get every step; Labels layers the resize steps only.",
        )
        self.recipe_file = FileEdit(name="recipe_file", label="load", mode="r", filter="*.json")
        self.load_button = PushButton(name="load_button", text="Load recipe")
        self.save_file = FileEdit(name="save_file", label="save as", mode="w", filter="*.json")
        self.save_button = PushButton(name="save_button", text="Save recipe")
        self.status = Label(name="status", value="")
        self.extend(
            [
                self.image,
                self.operation,
                self.add_button,
                self.steps,
                edit,
                self.params,
                self.preview,
                self.apply_button,
                self.apply_selected_button,
                self.recipe_file,
                self.load_button,
                self.save_file,
                self.save_button,
                self.status,
            ]
        )
        self._connect_callbacks()

    def _connect_callbacks(self) -> None:
        self.add_button.changed.connect(self._add_step)
        self.steps.changed.connect(self._show_params)
        self.remove_button.changed.connect(self._remove_step)
        self.up_button.changed.connect(lambda: self._move_step(-1))
        self.down_button.changed.connect(lambda: self._move_step(1))
        self.preview.changed.connect(self._update_preview)
        self.image.changed.connect(self._update_preview)
        self._viewer.dims.events.current_step.connect(self._update_preview)
        self.apply_button.changed.connect(lambda: self._apply([self.image.value]))
        self.apply_selected_button.changed.connect(
            lambda: self._apply(list(self._viewer.layers.selection))
        )
        self.load_button.changed.connect(self._load)
        self.save_button.changed.connect(self._save)
        self.native.destroyed.connect(self._on_destroyed)

    def _on_destroyed(self, *_) -> None:
        self._alive = False
        self._viewer.dims.events.current_step.disconnect(self._update_preview)

    # ---- editing the recipe ---------------------------------------------------------------

    def _step_choices(self, _widget=None) -> list[tuple[str, int]]:
        return [(f"{i + 1}. {_describe(step)}", i) for i, step in enumerate(self.recipe.steps)]

    @property
    def selected(self) -> int | None:
        chosen = self.steps.value  # a single-selection list: one index or None
        if isinstance(chosen, list):
            return chosen[0] if chosen else None
        return chosen

    def set_recipe(self, recipe: Recipe, select: int | None = None) -> None:
        """Show ``recipe`` in the dock (and the preview), selecting step ``select``."""
        self.recipe = recipe
        self.steps.reset_choices()
        if select is not None:
            self.steps.value = select
        self._show_params()
        self._update_preview()

    def _add_step(self) -> None:
        steps = [*self.recipe.steps, Step(self.operation.value)]
        self.set_recipe(Recipe(steps), select=len(steps) - 1)

    def _remove_step(self) -> None:
        if self.selected is not None:
            steps = [s for i, s in enumerate(self.recipe.steps) if i != self.selected]
            self.set_recipe(Recipe(steps))

    def _move_step(self, offset: int) -> None:
        index = self.selected
        if index is None or not 0 <= index + offset < len(self.recipe.steps):
            return
        steps = list(self.recipe.steps)
        steps[index], steps[index + offset] = steps[index + offset], steps[index]
        self.set_recipe(Recipe(steps), select=index + offset)

    def _show_params(self) -> None:
        self.params.clear()
        if self.selected is None:
            return
        step = self.recipe.steps[self.selected]
        for param in step.operation.params:
            widget = param_widget(param, step.params[param.name])
            widget.changed.connect(self._edit_params)
            self.params.append(widget)

    def _edit_params(self) -> None:
        index = self.selected
        step = self.recipe.steps[index]
        try:
            values = {p.name: widget_value(p, self.params[p.name]) for p in step.operation.params}
            edited = Step(step.op, values)
        except SegDLError as error:
            self.status.value = str(error)
            return
        steps = list(self.recipe.steps)
        steps[index] = edited
        self.recipe = Recipe(steps)
        self.steps.reset_choices()
        self.steps.value = index
        self.status.value = ""
        self._update_preview()

    # ---- preview and apply ----------------------------------------------------------------

    def _update_preview(self, *_) -> None:
        layer = self.image.value
        if not self.preview.value or layer is None or not self._alive:
            return
        leading = layer.ndim - 2
        index = tuple(int(i) for i in self._viewer.dims.current_step[:leading])
        data = np.asarray(layer.data[index] if leading else layer.data)
        worker = _apply_worker(data, self.recipe, layer.rgb, False, f"image layer '{layer.name}'")
        worker.returned.connect(lambda result: self._show_preview(layer, result))
        worker.start()

    def _show_preview(self, layer, result) -> None:
        if not self._alive or reported(result, self.status):
            return
        name = f"{layer.name}{PREVIEW_SUFFIX}"
        if name in self._viewer.layers:  # a new layer: the result's shape or type may differ
            self._viewer.layers.remove(name)
        self._viewer.add_image(result, name=name, **_placement(layer, result, spatial=2))

    def _apply(self, layers) -> None:
        layers = [lay for lay in layers if not lay.name.endswith(PREVIEW_SUFFIX)]
        if not layers or layers == [None]:
            report(SegDLError("Choose an image layer (or select layers in the layer list)."))
            return
        if not self.recipe:
            report(SegDLError("The recipe is empty: add a step first."))
            return
        for layer in layers:
            labels = isinstance(layer, napari.layers.Labels)
            recipe = self.recipe.geometric() if labels else self.recipe
            kind = "labels" if labels else "image"
            dropped = [s.op for s in self.recipe.steps if not s.operation.geometric]
            if labels and dropped:
                show_info(
                    f"Labels layer '{layer.name}' takes the resize steps only, so that its IDs "
                    f"stay IDs; not applied to it: {', '.join(dropped)}."
                )
            if not recipe:
                continue
            worker = _apply_worker(
                layer.data,
                recipe,
                getattr(layer, "rgb", False),
                labels,
                f"{kind} layer '{layer.name}'",
            )
            worker.returned.connect(lambda result, src=layer: self._add_result(src, result))
            self.status.value = f"Preprocessing {layer.name}..."
            worker.start()

    def _add_result(self, layer, result) -> None:
        if not self._alive or reported(result, self.status):
            return
        labels = isinstance(layer, napari.layers.Labels)
        metadata = {
            **layer.metadata,
            "napari_segdl": {
                **layer.metadata.get("napari_segdl", {}),
                "recipe": (self.recipe.geometric() if labels else self.recipe).to_dict(),
                "source": layer.name,
            },
        }
        name = f"{layer.name} preprocessed"
        placement = _placement(layer, result, spatial=layer.ndim)
        if labels:
            placement.pop("rgb")
            self._viewer.add_labels(result, name=name, metadata=metadata, **placement)
        else:
            self._viewer.add_image(result, name=name, metadata=metadata, **placement)
        self.status.value = f"Added '{name}'."

    # ---- recipe files ---------------------------------------------------------------------

    def _load(self) -> None:
        try:
            self.set_recipe(Recipe.load(self.recipe_file.value))
        except SegDLError as error:
            report(error)
            return
        self.status.value = f"Loaded {len(self.recipe.steps)} step(s)."

    def _save(self) -> None:
        try:
            path = self.recipe.save(self.save_file.value)
        except SegDLError as error:
            report(error)
            return
        self.status.value = f"Saved {path.name}."


def _describe(step: Step) -> str:
    shown = ", ".join(f"{k}={v}" for k, v in step.params.items() if v is not None)
    return f"{step.operation.title}" + (f" ({shown})" if shown else "")


def _placement(layer, result, spatial: int) -> dict:
    """rgb, scale and translate under which ``result`` overlays ``layer``.

    ``spatial`` is the number of non-channel axes of what was processed (2 for a slice);
    resized pixels get a bigger scale, so the result lies over the source.
    """
    channels = result.ndim > spatial
    rgb = channels and result.shape[-1] in (3, 4)
    old = np.asarray(layer.scale[-spatial:], dtype=float)
    scale = old.copy()
    raw_yx = np.asarray(
        layer.data.shape[:-1] if getattr(layer, "rgb", False) else layer.data.shape
    )
    new_yx = np.asarray(result.shape[:-1] if channels else result.shape)
    scale[-2:] *= raw_yx[-2:] / new_yx[-2:]
    # pixel edges, not centres, line up: napari puts pixel centres at index * scale + translate
    translate = np.asarray(layer.translate[-spatial:], dtype=float) + (scale - old) / 2
    if channels and not rgb:  # a channel axis napari shows with a slider
        scale, translate = np.append(scale, 1.0), np.append(translate, 0.0)
    return {"rgb": rgb, "scale": tuple(scale), "translate": tuple(translate)}
