"""Camera metadata (EXIF) as a small JSON-ready dict for a layer's ``metadata``.

Pillow (JPEG, PNG, WebP, HEIC) and tifffile (TIFF, TIFF-based RAW) parse the tags; this module
only picks the fields a microscopist or photographer looks for and turns them into plain numbers
and strings, so nothing from a file is ever evaluated or kept as an object.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

#: IFD pointers inside IFD0 (TIFF tags 34665 and 34853).
EXIF_IFD, GPS_IFD = 0x8769, 0x8825


def pillow_tags(exif) -> tuple[dict, dict, dict]:
    """IFD0, Exif and GPS tags of a Pillow ``Image.Exif``, keyed by tag name."""
    from PIL import ExifTags

    def named(ifd, names):
        return {names.get(code, code): value for code, value in ifd.items()}

    return (
        named(exif, ExifTags.TAGS),
        named(exif.get_ifd(EXIF_IFD), ExifTags.TAGS),
        named(exif.get_ifd(GPS_IFD), ExifTags.GPSTAGS),
    )


def tiff_tags(page) -> tuple[dict, dict, dict]:
    """IFD0, Exif and GPS tags of a tifffile page, keyed by tag name."""
    ifd0 = {tag.name: tag.value for tag in page.tags.values()}
    return ifd0, dict(ifd0.pop("ExifTag", None) or {}), dict(ifd0.pop("GPSTag", None) or {})


def summarize(ifd0: Mapping, exif: Mapping, gps: Mapping) -> dict[str, Any]:
    """The camera fields present in the tags, as plain JSON values.

    Keys (each only when the file has it): ``camera_make``, ``camera_model``,
    ``exposure_time_s``, ``f_number``, ``iso``, ``focal_length_mm``, ``capture_time``
    (ISO 8601), ``gps`` (``latitude``, ``longitude`` in degrees, ``altitude_m``) and
    ``exif_orientation``.
    """
    fields = {
        "camera_make": _text(ifd0.get("Make")),
        "camera_model": _text(ifd0.get("Model")),
        "exposure_time_s": _number(exif.get("ExposureTime")),
        "f_number": _number(exif.get("FNumber")),
        "iso": _number(exif.get("ISOSpeedRatings", exif.get("PhotographicSensitivity"))),
        "focal_length_mm": _number(exif.get("FocalLength")),
        "capture_time": _time(exif.get("DateTimeOriginal") or ifd0.get("DateTime")),
        "gps": _gps(gps),
        "exif_orientation": _number(ifd0.get("Orientation")),
    }
    return {key: value for key, value in fields.items() if value not in (None, "", {})}


def _text(value) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value.strip("\x00 ") if isinstance(value, str) else None


def _number(value) -> float | int | None:
    """A scalar tag (int, float, Pillow rational or tifffile (num, den) pair) as a number."""
    if isinstance(value, (tuple, list)):
        if len(value) == 2 and all(isinstance(v, int) for v in value):
            return value[0] / value[1] if value[1] else None
        value = value[0] if value else None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else number


def _time(value) -> str | None:
    text = _text(value)
    try:
        return dt.datetime.strptime(text, "%Y:%m:%d %H:%M:%S").isoformat() if text else None
    except ValueError:
        return text


def _degrees(value) -> float | None:
    """Degrees, minutes, seconds as three numbers (Pillow) or three (num, den) pairs (tifffile)."""
    if not isinstance(value, (tuple, list)) or len(value) not in (3, 6):
        return None
    if len(value) == 6:
        value = [value[i] / value[i + 1] if value[i + 1] else 0.0 for i in (0, 2, 4)]
    degrees, minutes, seconds = (float(v) for v in value)
    return degrees + minutes / 60 + seconds / 3600


def _gps(gps: Mapping) -> dict[str, float]:
    found = {}
    latitude, longitude = _degrees(gps.get("GPSLatitude")), _degrees(gps.get("GPSLongitude"))
    if latitude is not None and longitude is not None:
        south = _text(gps.get("GPSLatitudeRef")) == "S"
        west = _text(gps.get("GPSLongitudeRef")) == "W"
        found["latitude"] = round(-latitude if south else latitude, 7)
        found["longitude"] = round(-longitude if west else longitude, 7)
    altitude = _number(gps.get("GPSAltitude"))
    if altitude is not None:
        below = gps.get("GPSAltitudeRef") in (1, b"\x01")
        found["altitude_m"] = -altitude if below else altitude
    return found
