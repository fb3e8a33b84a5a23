"""Widgets generated from a parameter schema (:mod:`napari_segdl.core.schema`): the training
settings, the prediction options and the preprocessing operations' parameters.

Each field of a dataclass whose metadata carries a ``Spec`` (and each operation's parameter,
which has one too) becomes one magicgui widget named like the field: choices a combo box, flags a check box, numbers a spin box with the range and
step of the spec. An optional number shows 0 as its ``none_text`` ("no limit", "automatic"), and
reading the widget gives None for it, so no "0 means ..." is left for the user to guess.
"""

from __future__ import annotations

from magicgui.widgets import CheckBox, ComboBox, FloatSpinBox, LineEdit, SpinBox, Widget

from ..core.errors import SegDLError
from ..core.schema import Spec, default, spec


def make_widget(item) -> Widget:
    """The widget of one schema field, showing the field's default."""
    return spec_widget(item.name, spec(item), default(item))


def spec_widget(name: str, about: Spec, value) -> Widget:
    """The one widget builder of every parameter (training, prediction, preprocessing
    operations): ``name``'s widget for its :class:`Spec`, showing ``value``."""
    common = {"name": name, "label": about.label, "tooltip": about.help}
    if about.choices:
        text = about.choice_text or tuple(str(c) for c in about.choices)
        choices = list(zip(text, about.choices, strict=True))
        return ComboBox(choices=choices, value=value, **common)
    if about.kind is bool:  # a check box shows its label as its text
        return CheckBox(value=value, name=name, text=about.label, tooltip=about.help)
    if about.kind is tuple:  # whole numbers, comma-separated
        return LineEdit(value=", ".join(map(str, value or ())), **common)
    low = 0 if about.optional else about.low
    # magicgui's integer box (superqt's QLargeIntSpinBox) shows no special-value text: an
    # optional whole number is a float box without decimals, read back as an int
    box = SpinBox if about.kind is int and not about.optional else FloatSpinBox
    step = about.step or (1 if about.kind is int else 0.1 if (about.high or 2) > 1 else 0.01)
    widget = box(value=value or 0, min=low, max=about.high, step=step, **common)
    if about.optional:
        if about.kind is int:
            widget.native.setDecimals(0)
        widget.native.setSpecialValueText(about.none_text)
    return widget


def widget_value(item, widget: Widget):
    """The parameter value a schema field's widget holds."""
    return spec_value(item.name, spec(item), widget)


def spec_value(name: str, about: Spec, widget: Widget):
    """The parameter value a widget of :func:`spec_widget` holds (None for an optional number
    at 0; a tuple of whole numbers from comma-separated text)."""
    value = widget.value
    if about.kind is tuple:
        try:
            return tuple(int(v) for v in str(value).replace(" ", "").split(",") if v)
        except ValueError as error:
            raise SegDLError(
                f"{name} takes whole numbers separated by commas; received '{value}'."
            ) from error
    if about.optional and not value:
        return None
    if about.kind is int and not about.choices:
        return int(value)
    return value


def show_value(item, widget: Widget, value) -> None:
    """Show a parameter value (a preset's) in its widget; None as the optional's 0."""
    widget.value = 0 if value is None else value
