"""Reading user .npz files without running their pickles: only plain data may come out.

Label and prediction npz files (MERBench's `label.npz`, AffectGPT's `name2reason`) store Python
dicts as object arrays, which numpy can only load by unpickling them - and a pickle can run
any code. Here object arrays are unpickled by a restricted unpickler that builds only dicts, lists,
tuples, strings, numbers and numpy arrays/scalars; anything else is an InputError.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib import format as npy_format

from affect_llm.errors import InputError

# (module, name) pairs a numpy object-array pickle needs to rebuild plain data, and nothing else.
_ALLOWED = {
    *(
        (module, name)
        for module in ("numpy.core.multiarray", "numpy._core.multiarray")
        for name in ("_reconstruct", "scalar")
    ),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),  # numpy scalars pickled with protocol 2 carry their bytes this way
    *(
        ("builtins", name)
        for name in ("dict", "list", "tuple", "str", "int", "float", "bool", "complex", "bytes")
    ),
}


class _PlainDataUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name}")
        return super().find_class(module, name)


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> Any:
    with archive.open(info) as handle:
        version = npy_format.read_magic(handle)
        _shape, _fortran, dtype = npy_format._read_array_header(handle, version)
        if not dtype.hasobject:
            handle.close()
            with archive.open(info) as again:
                return npy_format.read_array(again, allow_pickle=False)
        try:
            array = _PlainDataUnpickler(handle).load()
        except pickle.UnpicklingError as error:
            raise InputError(
                f"{path}: key '{info.filename[:-4]}' holds a pickled {error}, which is not plain "
                "data (only dicts, lists, strings, numbers and arrays are loaded)"
            ) from None
    if not isinstance(array, np.ndarray):
        raise InputError(f"{path}: key '{info.filename[:-4]}' is not an array")
    return array.item() if array.ndim == 0 else array


def load_npz(path: str | os.PathLike) -> dict[str, Any]:
    """{key: value} of an .npz; a 0-d object array (a pickled dict) comes back as that object.

    Raises InputError (one line naming the file and key) for anything that is not plain data.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            return {
                info.filename[:-4]: _member(archive, info, path)
                for info in archive.infolist()
                if info.filename.endswith(".npy")
            }
    except (OSError, zipfile.BadZipFile, ValueError, EOFError) as error:
        raise InputError(f"{path}: not a readable .npz file ({error})") from None


def plain(value: Any) -> Any:
    """Numpy scalars and arrays inside a loaded value turned into Python numbers and lists."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    return value
