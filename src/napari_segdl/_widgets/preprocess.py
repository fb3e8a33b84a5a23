"""The Preprocess dock: build a recipe, preview it on the slice on screen, apply it to layers."""

from __future__ import annotations

import napari
import numpy as np
from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FileEdit,
    PushButton,
    Select,
    create_widget,
)
from napari.utils.notifications import show_info

from ..core.errors import SegDLError
from ..core.preprocess import OPERATIONS, Recipe, Step, provenance
from ._common import report
from ._dock import Dock
from ._preprocess_parts import Preprocessed, apply_worker, describe, placement, preview_worker
from ._schema import spec_value, spec_widget

PREVIEW_SUFFIX = " preview"


class PreprocessWidget(Dock):
    """Build a preprocessing recipe and apply it to image (and labels) layers as new layers."""

    def __init__(self, napari_viewer: napari.viewer.Viewer):
        super().__init__(napari_viewer)
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
        self.busy_buttons = [self.apply_button, self.apply_selected_button]
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

    def closing(self) -> None:
        self._viewer.dims.events.current_step.disconnect(self._update_preview)

    # ---- editing the recipe ---------------------------------------------------------------

    def _step_choices(self, _widget=None) -> list[tuple[str, int]]:
        return [(f"{i + 1}. {describe(step)}", i) for i, step in enumerate(self.recipe.steps)]

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
            widget = spec_widget(param.name, param.spec, step.params[param.name])
            widget.changed.connect(self._edit_params)
            self.params.append(widget)

    def _edit_params(self) -> None:
        index = self.selected
        step = self.recipe.steps[index]
        try:
            values = {
                p.name: spec_value(p.name, p.spec, self.params[p.name])
                for p in step.operation.params
            }
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
        worker = preview_worker(data, self.recipe, layer.rgb, f"image layer '{layer.name}'")
        worker.returned.connect(lambda result: self._show_preview(layer, result))
        worker.start()

    def _show_preview(self, layer, result) -> None:
        if not self._alive:
            return
        if result.how == "refused":
            report(result.error)
            self.status.value = "Failed: see the message."
            return
        result = result.value
        name = f"{layer.name}{PREVIEW_SUFFIX}"
        if name in self._viewer.layers:  # a new layer: the result's shape or type may differ
            self._viewer.layers.remove(name)
        self._viewer.add_image(result, name=name, **placement(layer, result, spatial=2))

    def _apply(self, layers) -> None:
        layers = [lay for lay in layers if not lay.name.endswith(PREVIEW_SUFFIX)]
        if not layers or layers == [None]:
            self.refuse(SegDLError("Choose an image layer (or select layers in the layer list)."))
            return
        if not self.recipe:
            self.refuse(SegDLError("The recipe is empty: add a step first."))
            return
        jobs = []
        for layer in layers:
            labels = isinstance(layer, napari.layers.Labels)
            recipe = self.recipe.geometric() if labels else self.recipe
            dropped = [s.op for s in self.recipe.steps if not s.operation.geometric]
            if labels and dropped:
                show_info(
                    f"Labels layer '{layer.name}' takes the resize steps only, so that its IDs "
                    f"stay IDs; not applied to it: {', '.join(dropped)}."
                )
            if recipe:
                jobs.append((layer, recipe))
        if jobs:
            names = ", ".join(layer.name for layer, _ in jobs)
            self.run(apply_worker(jobs), message=f"Preprocessing {names}...", on_event=self._add)

    def _add(self, done: Preprocessed) -> None:
        layer, result, recipe = done.layer, done.result, done.recipe
        if done.error is not None:
            report(done.error)
            self.status.value = f"'{layer.name}' failed: see the message."
            return
        labels = isinstance(layer, napari.layers.Labels)
        metadata = {**layer.metadata, **provenance(recipe, source=layer.name)}
        name = f"{layer.name} preprocessed"
        place = placement(layer, result, spatial=layer.ndim)
        if labels:
            place.pop("rgb")
            self._viewer.add_labels(result, name=name, metadata=metadata, **place)
        else:
            self._viewer.add_image(result, name=name, metadata=metadata, **place)
        self.status.value = f"Added '{name}'."

    # ---- recipe files ---------------------------------------------------------------------

    def _load(self) -> None:
        try:
            self.set_recipe(Recipe.load(self.recipe_file.value))
        except SegDLError as error:
            self.refuse(error)
            return
        self.status.value = f"Loaded {len(self.recipe.steps)} step(s)."

    def _save(self) -> None:
        try:
            path = self.recipe.save(self.save_file.value)
        except SegDLError as error:
            self.refuse(error)
            return
        self.status.value = f"Saved {path.name}."
