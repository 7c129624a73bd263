"""A restricted unpickler for data files (CIFAR batches): containers and numpy arrays, nothing else.

Plain `pickle.load` runs whatever callable a file names (`os.system` included), so a downloaded
"dataset" could run code. Here every global a pickle asks for must be on a short allow-list.
"""

from __future__ import annotations

import codecs
import io
import pickle
from typing import IO, Any

import numpy as np

try:  # numpy 2 moved the implementation; `numpy.core` is a deprecated alias
    from numpy._core.multiarray import _reconstruct
    from numpy._core.numeric import _frombuffer
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core.multiarray import _reconstruct
    from numpy.core.numeric import _frombuffer

MAX_PICKLE_BYTES = 1024**3  # one CIFAR batch is ~31 MB; anything near this is not a data batch


def _safe_dtype(*args: Any) -> np.dtype:
    # An object dtype would make numpy unpickle arbitrary Python objects inside the array.
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise pickle.UnpicklingError("refused an array of Python objects (object dtype)")
    return dtype


def _latin1_encode(text: str, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    # Python 3 pickles bytes at protocol 2 as _codecs.encode(text, "latin1"); allow only that use.
    if codecs.lookup(encoding).name != "iso8859-1":
        raise pickle.UnpicklingError(f"refused _codecs.encode with encoding {encoding!r}")
    return codecs.encode(text, "latin1", errors)


_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _safe_dtype,
    ("_codecs", "encode"): _latin1_encode,
}
for _module in ("builtins", "__builtin__"):
    _ALLOWED.update({(_module, "set"): set, (_module, "frozenset"): frozenset, (_module, "bytearray"): bytearray})


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles only plain containers, numbers, strings and numpy arrays of plain dtypes."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refused to load '{module}.{name}': only plain containers and numpy arrays are allowed"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("refused a persistent reference")


def safe_load(f: IO[bytes], encoding: str = "latin1") -> Any:
    """Unpickle a data file with the allow-list; raise pickle.UnpicklingError naming what was refused.

    `encoding="latin1"` reads Python 2 pickles (the CIFAR-10 batches) with numpy arrays intact.
    """
    return RestrictedUnpickler(f, encoding=encoding).load()


def safe_loads(data: bytes, encoding: str = "latin1") -> Any:
    """`safe_load` over bytes."""
    return safe_load(io.BytesIO(data), encoding=encoding)
