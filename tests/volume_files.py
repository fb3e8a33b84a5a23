"""Medical volume files written for tests: NIfTI with an odd orientation, DICOM series."""

from pathlib import Path

import numpy as np

#: A voxel-to-world affine whose axes are permuted and flipped (stored as P, S, L).
ODD_AFFINE = np.array(
    [[0, 0, -3.0, 10], [-0.5, 0, 0, 5], [0, 0.7, 0, 1], [0, 0, 0, 1]], dtype=float
)


def nifti(path: Path, data: np.ndarray, affine=ODD_AFFINE, zooms=None) -> Path:
    import nibabel as nib

    image = nib.Nifti1Image(data, affine)
    if zooms is not None:
        image.header.set_zooms(zooms)
    image.header["descrip"] = b"test volume"
    nib.save(image, path)
    return path


def dicom_slice(path: Path, pixels: np.ndarray, z: float, series: str, number: int, name="CT"):
    """One CT slice at height ``z`` of a series (stored values + 1024 = Hounsfield units)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = (
        meta.MediaStorageSOPClassUID,
        meta.MediaStorageSOPInstanceUID,
    )
    ds.Modality, ds.SeriesInstanceUID, ds.SeriesDescription = "CT", series, name
    ds.PatientName, ds.PatientID = "Doe^Jane", "secret-id"
    ds.InstanceNumber, ds.ImagePositionPatient = number, [0.0, 0.0, z]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing, ds.SliceThickness = [0.8, 0.6], 2.5
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.Rows, ds.Columns = pixels.shape
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.PixelData = pixels.astype(np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def dicom_series(folder: Path, heights=(5.0, 0.0, 2.5), name="CT", shape=(4, 5)) -> Path:
    """A series whose files are not in slice order; slice at height z holds z * 100."""
    from pydicom.uid import generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    series = generate_uid()
    for i, z in enumerate(heights):
        dicom_slice(folder / f"{name}{i}.dcm", np.full(shape, int(z * 100)), z, series, i, name)
    return folder
