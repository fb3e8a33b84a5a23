"""magicgui widgets for a preprocessing step's parameters, built from the operation's spec."""

from __future__ import annotations

from magicgui.widgets import CheckBox, FloatSpinBox, LineEdit, SpinBox, Widget

from ..core.errors import SegDLError
from ..core.preprocess.ops import Param


def param_widget(param: Param, value) -> Widget:
    """One widget for ``param`` showing ``value``; optional numbers show 0 as *not set*."""
    common = {"name": param.name, "label": param.name.replace("_", " "), "tooltip": param.doc}
    if param.kind is bool:
        return CheckBox(value=bool(value), **common)
    if param.kind is tuple:
        return LineEdit(value=", ".join(map(str, value)), **common)
    optional = param.default is None
    low = 0 if optional else param.minimum
    if param.kind is int:
        return SpinBox(value=value or 0, min=low, max=param.maximum, **common)
    step = 0.1 if param.maximum and param.maximum > 1 else 0.01
    return FloatSpinBox(value=value, min=low, max=param.maximum, step=step, **common)


def param_value(param: Param, widget: Widget):
    """The parameter value a widget holds (0 -> None for optional numbers)."""
    value = widget.value
    if param.kind is tuple:
        try:
            return tuple(int(v) for v in str(value).replace(" ", "").split(",") if v)
        except ValueError as error:
            raise SegDLError(
                f"{param.name} takes whole numbers separated by commas; received '{value}'."
            ) from error
    if param.default is None and not value:
        return None
    return value
