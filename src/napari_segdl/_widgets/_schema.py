"""Widgets generated from a parameter schema (:mod:`napari_segdl.core.train.config`).

Each field of a dataclass whose metadata carries a ``Spec`` becomes one magicgui widget named
like the field: choices a combo box, flags a check box, numbers a spin box with the range and
step of the spec. An optional number shows 0 as its ``none_text`` ("no limit", "automatic"), and
reading the widget gives None for it, so no "0 means ..." is left for the user to guess.
"""

from __future__ import annotations

from magicgui.widgets import CheckBox, ComboBox, FloatSpinBox, SpinBox, Widget

from ..core.schema import Spec, default, spec


def make_widget(item) -> Widget:
    """The widget of one schema field, showing the field's default."""
    about: Spec = spec(item)
    common = {"name": item.name, "label": about.label, "tooltip": about.help}
    value = default(item)
    if about.choices:
        text = about.choice_text or tuple(str(c) for c in about.choices)
        choices = list(zip(text, about.choices, strict=True))
        return ComboBox(choices=choices, value=value, **common)
    if about.kind is bool:  # a check box shows its label as its text
        return CheckBox(value=value, name=item.name, text=about.label, tooltip=about.help)
    low = 0 if about.optional else about.low
    # magicgui's integer box (superqt's QLargeIntSpinBox) shows no special-value text: an
    # optional whole number is a float box without decimals, read back as an int
    box = SpinBox if about.kind is int and not about.optional else FloatSpinBox
    step = about.step or 1
    widget = box(value=value or 0, min=low, max=about.high, step=step, **common)
    if about.optional:
        if about.kind is int:
            widget.native.setDecimals(0)
        widget.native.setSpecialValueText(about.none_text)
    return widget


def widget_value(item, widget: Widget):
    """The parameter value a widget holds (None for an optional number at 0)."""
    value = widget.value
    if spec(item).optional and not value:
        return None
    if spec(item).kind is int and not spec(item).choices:
        return int(value)
    return value


def show_value(item, widget: Widget, value) -> None:
    """Show a parameter value (a preset's) in its widget; None as the optional's 0."""
    widget.value = 0 if value is None else value
