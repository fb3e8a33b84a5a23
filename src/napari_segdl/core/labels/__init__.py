"""Label modes and what training learns from them: class maps, instance targets and objects."""

from .modes import IGNORE, LABEL_MODES, ClassMap, as_label_array, check_mode

__all__ = ["IGNORE", "LABEL_MODES", "ClassMap", "as_label_array", "check_mode"]
