"""``python -m napari_segdl.cli``."""

import sys

from . import main

sys.exit(main())
