"""The one exception type for input the user can fix."""


class SegDLError(ValueError):
    """Bad input that the user can fix: the message names the layer or file and what to do.

    The CLI turns it into one line on stderr and exit code 2; the widgets into a
    napari notification.
    """
