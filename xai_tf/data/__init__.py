"""Data: synthetic radio galaxies with ground truth, loaders for the papers' formats, manifests.

Every loader returns a ``LabelledImages`` (NHWC float32 in [0, 1], int64 labels, optional masks and
boxes). ``load("synthetic" | path)`` picks the loader; ``as_tf_dataset`` feeds ``model.fit``.
``open(path | array | tf.data.Dataset)`` returns a lazy ``ImageSource`` instead (image folders, FITS
cutouts, HDF5, zarr, ``.npy`` memmaps, ``tf.data``) that reads only the rows asked for. Every format
a path may hold is one ``SourceRecord`` (``list_sources``; ``register_source`` adds one).
"""
from xai_tf._lazy import lazy_exports

_EXPORTS = {
    "LabelledImages": "labelled",
    "as_tf_dataset": "labelled",
    "synthetic_radio_galaxies": "synthetic",
    "load": "loading",
    "load_image_folder": "folders",
    "load_mirabest": "mirabest",
    "load_figshare_mat": "figshare",
    "load_object_cxr": "object_cxr",
    "BadFileError": "imagefiles",
    "ForbiddenPickleError": "mirabest",
    "load_manifest": "manifests",
    "list_manifests": "manifests",
    "verify_manifest": "manifests",
    "VerifyReport": "manifests",
    "ImageSource": "sources",
    "ArraySource": "source_arrays",
    "NumpySource": "source_arrays",
    "HDF5Source": "source_arrays",
    "ZarrSource": "source_zarr",
    "FolderSource": "source_folders",
    "FitsSource": "source_fits",
    "TFDatasetSource": "source_tf",
    "open": "opening",
    "SourceRecord": "records",
    "register_source": "records",
    "unregister_source": "records",
    "list_sources": "records",
    "source_record": "records",
}
__all__ = [
    "ArraySource", "BadFileError", "FitsSource", "FolderSource", "ForbiddenPickleError", "HDF5Source", "ImageSource",
    "LabelledImages", "NumpySource", "SourceRecord", "TFDatasetSource", "VerifyReport", "ZarrSource", "as_tf_dataset",
    "list_manifests", "list_sources", "load", "load_figshare_mat", "load_image_folder", "load_manifest",
    "load_mirabest", "load_object_cxr", "open", "register_source", "source_record", "synthetic_radio_galaxies",
    "unregister_source", "verify_manifest",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
