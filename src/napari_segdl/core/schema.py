"""A parameter schema: dataclass fields that carry their label, help, range and choices.

``train.config`` declares the training parameters with it and ``infer.options`` the prediction
options; the CLI's flags and the docks' widgets are generated from the same fields, and
:func:`check_value` validates any of them.
"""

from __future__ import annotations

from dataclasses import MISSING, Field, dataclass, field

from .errors import SegDLError


@dataclass(frozen=True)
class Spec:
    """What a parameter means and which values it takes (the default is the field's).

    ``kind`` is its Python type (``int``, ``float``, ``bool``, ``str``); ``optional`` parameters
    take None, which ``none_text`` names in the dock and the CLI help (a 0 in the dock's box).
    ``choices`` are the allowed values, ``choice_text`` how the dock shows them. ``group`` is
    "network", "training" or "device" (prediction: "where", "objects", "outputs");
    ``advanced`` folds it behind the dock's checkbox; ``cli``, ``dock`` and ``api`` say where it
    is offered; ``metavar`` names the CLI flag's value.
    """

    kind: type
    label: str
    help: str
    group: str
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple = ()
    choice_text: tuple = ()
    none_text: str | None = None
    advanced: bool = False
    cli: bool = True
    dock: bool = True
    api: bool = True
    metavar: str | None = None

    @property
    def optional(self) -> bool:
        return self.none_text is not None


def param(default, kind: type, label: str, help: str, group: str, **spec) -> Field:
    """A dataclass field with ``default`` whose metadata is its :class:`Spec`."""
    return field(default=default, metadata={"spec": Spec(kind, label, help, group, **spec)})


def group(name: str):
    """A :func:`param` factory for the parameters of one group ("network", "training", ...)."""

    def make(default, kind: type, label: str, help: str, **spec) -> Field:
        return param(default, kind, label, help, name, **spec)

    return make


def spec(item: Field) -> Spec:
    return item.metadata["spec"]


def default(item: Field):
    return None if item.default is MISSING else item.default


def check_value(item: Field, value) -> None:
    """Refuse a value of the wrong type, outside the range or not among the choices."""
    about = spec(item)
    if value is None and about.optional:
        return
    if about.choices:
        if not any(value is c or (type(value) is type(c) and value == c) for c in about.choices):
            allowed = ", ".join(str(c) for c in about.choices)
            raise SegDLError(f"{item.name} must be one of {allowed}; received {value!r}.")
        return
    numeric = about.kind in (int, float)
    ok = isinstance(value, about.kind) and not (numeric and isinstance(value, bool))
    if about.kind is float and isinstance(value, int) and not isinstance(value, bool):
        ok = True
    if about.kind is str and item.name == "checkpoint_dir":
        ok = ok or hasattr(value, "__fspath__")
    if not ok:
        what = {int: "an integer", float: "a number", bool: "True or False", str: "a text"}
        raise SegDLError(
            f"{item.name} must be {what.get(about.kind, about.kind.__name__)}; received {value!r}."
        )
    if (numeric and not (about.low is None or value >= about.low)) or (
        numeric and about.high is not None and value > about.high
    ):
        raise SegDLError(
            f"{item.name} must be between {about.low:g} and {about.high:g}; received {value!r}."
        )
