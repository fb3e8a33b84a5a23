"""Models that travel: BioImage Model Zoo packages out of napari-segdl models."""

from .export import Export, export_bioimageio

__all__ = ["Export", "export_bioimageio"]
