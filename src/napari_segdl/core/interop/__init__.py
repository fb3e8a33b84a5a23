"""Models that travel: BioImage Model Zoo packages out of napari-segdl models, and in.

Nothing heavy is imported with this package (the docks import it to know a package's type);
``export_bioimageio`` and ``Export`` load on first use.
"""

from __future__ import annotations

__all__ = ["Export", "export_bioimageio"]


def __getattr__(name: str):
    if name in __all__:
        from . import export

        return getattr(export, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
