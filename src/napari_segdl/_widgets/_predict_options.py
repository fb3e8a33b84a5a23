"""The Predict dock's options, generated from the prediction schema
(:mod:`napari_segdl.core.infer.options`): each shows its default and what its 0 means, the
rarely used ones fold under *advanced options*."""

from __future__ import annotations

from magicgui.widgets import CheckBox, Container, Widget

from ..core.infer.options import PredictOptions, parameters
from ..core.schema import spec
from ._common import channel_axis, channel_axis_combo
from ._schema import make_widget, widget_value


class PredictOptionsPanel:
    """The option widgets of the dock: ``basic`` shown, ``advanced`` (with the channel axis)
    behind the ``show_advanced`` check box; :meth:`options` reads them."""

    def __init__(self) -> None:
        self._items = [item for item in parameters() if spec(item).dock]
        self.widgets: dict[str, Widget] = {item.name: make_widget(item) for item in self._items}
        self.widgets["channel_axis"] = channel_axis_combo("predicted")
        self.basic = [self.widgets[i.name] for i in self._items if not spec(i).advanced]
        folded = [self.widgets[i.name] for i in self._items if spec(i).advanced]
        self.advanced = Container(
            name="advanced", visible=False, widgets=[*folded, self.widgets["channel_axis"]]
        )
        self.show_advanced = CheckBox(name="show_advanced", text="advanced options")
        self.show_advanced.changed.connect(lambda shown: setattr(self.advanced, "visible", shown))

    @property
    def all(self) -> list[Widget]:
        """The widgets in the dock's order."""
        return [*self.basic, self.show_advanced, self.advanced]

    def options(self) -> PredictOptions:
        """The options the widgets hold (a value out of range is refused by name)."""
        given = {i.name: widget_value(i, self.widgets[i.name]) for i in self._items}
        return PredictOptions(
            **given, channel_axis=channel_axis(self.widgets["channel_axis"].value)
        )
