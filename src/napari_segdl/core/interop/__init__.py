"""Models that travel: BioImage Model Zoo packages out of napari-segdl models, and in.

bioimageio.core sets ``KERAS_BACKEND`` for the whole process when it runs Keras weights (to
"torch" unless the variable is set), and every process started later inherits it; the backend
this Keras runs on is set first, so nothing changes for them.
"""

import os

from ..backend import load_keras

os.environ.setdefault("KERAS_BACKEND", load_keras().backend.backend())

from .export import Export, export_bioimageio

__all__ = ["Export", "export_bioimageio"]
