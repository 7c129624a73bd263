"""Hostile data sources beyond single image files: a generated corpus of odd arrays, IDX files,
CIFAR batches and zip archives (issue 7, "Hostile datasets").

tests/test_data_hostile.py holds the corpus of >100 odd *image files* (truncated PNG/JPEG,
zero-byte, text named .png, 16-bit, CMYK, palette+transparency, 1×1, bombs, symlink loops, an
unreadable file, FIFOs). This file adds a corpus of odd *sources*: every case is one source that
must either load (good parts kept, one reason per rejected part) or raise exactly one DatasetError
that names the source, within a few seconds, without running code or writing outside its folder.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import struct
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.data import DatasetError, open_dataset

# Every kind of odd input the issue lists must appear in a corpus; test_corpus_covers_every_kind checks it.
ISSUE_KINDS = {
    "npy-nan", "npy-dtype", "npy-shape", "idx-header", "idx-short", "cifar-not-arrays", "zip-slip", "zip-nested",
}
# Covered by tests/test_data_hostile.py::build_corpus (image files), listed here for the record.
IMAGE_FILE_KINDS = {"truncated-png", "truncated-jpeg", "zero-byte", "text-as-png", "16-bit", "cmyk",
                    "palette-transparency", "1x1", "bomb", "symlink-loop", "unreadable"}


@dataclass
class Case:
    """One hostile source: how to make it and what must happen."""

    name: str
    kind: str
    build: Callable[[Path], Path]  # writes the source under the folder given; returns what to open
    loads: int | None = None  # images that must load; None: the source must raise DatasetError
    words: tuple[str, ...] = ()  # must appear in the error (or in the skipped reasons)
    skipped: int = 0  # parts that must be reported as skipped when it loads
    opts: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------- builders


def npy(arr: np.ndarray, name: str = "x.npy", allow_pickle: bool = False) -> Callable[[Path], Path]:
    def build(root: Path) -> Path:
        path = root / name
        np.save(path, arr, allow_pickle=allow_pickle)
        return path

    return build


def raw(name: str, data: bytes | Callable[[], bytes]) -> Callable[[Path], Path]:
    def build(root: Path) -> Path:
        path = root / name
        path.write_bytes(data() if callable(data) else data)
        return path

    return build


def npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def npz(**arrays) -> Callable[[Path], Path]:
    def build(root: Path) -> Path:
        path = root / "x.npz"
        np.savez(path, **arrays)
        return path

    return build


def pixels(n=4, h=8, w=8, dtype=np.uint8, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, h, w)).astype(dtype)


def with_nan(arr: np.ndarray, where: tuple) -> np.ndarray:
    arr = arr.astype(np.float32) / 255.0
    arr[where] = np.nan
    return arr


def idx_bytes(type_code: int, dims: list[int], data: bytes | None = None) -> bytes:
    head = bytes([0, 0, type_code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)
    if data is None:
        data = bytes(int(np.prod(dims)) if dims else 0)
    return head + data


def idx_folder(images: bytes, labels: bytes | None = None, gz: bool = False) -> Callable[[Path], Path]:
    def build(root: Path) -> Path:
        folder = root / "mnist"
        folder.mkdir()
        suffix = ".gz" if gz else ""
        (folder / f"train-images-idx3-ubyte{suffix}").write_bytes(gzip.compress(images) if gz else images)
        if labels is not None:
            (folder / f"train-labels-idx1-ubyte{suffix}").write_bytes(gzip.compress(labels) if gz else labels)
        return folder

    return build


class Evil:
    """Unpickling this with plain pickle would run a shell command that creates MARKER."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


MARKER = "PWNED-by-corpus"


def cifar_folder(*batches: bytes | Callable[[Path], bytes], meta: bytes | None = None) -> Callable[[Path], Path]:
    def build(root: Path) -> Path:
        folder = root / "cifar-10-batches-py"
        folder.mkdir()
        for i, batch in enumerate(batches, 1):
            (folder / f"data_batch_{i}").write_bytes(batch(root) if callable(batch) else batch)
        if meta is not None:
            (folder / "batches.meta").write_bytes(meta)
        return folder

    return build


def good_batch(n=3) -> bytes:
    return pickle.dumps({"data": np.zeros((n, 3072), np.uint8), "labels": list(range(n))}, protocol=2)


def evil_batch(root: Path) -> bytes:
    return pickle.dumps({"data": Evil(str(root / MARKER)), "labels": [0]}, protocol=2)


def png(size=(8, 8), seed=0) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def zip_of(members: list[tuple[str, bytes]], *, compression=zipfile.ZIP_STORED,
           tweak: Callable[[zipfile.ZipInfo], None] | None = None) -> Callable[[Path], Path]:
    def build(root: Path) -> Path:
        path = root / "archive.zip"
        with zipfile.ZipFile(path, "w", compression) as zf:
            for name, data in members:
                info = zipfile.ZipInfo(name)  # ZipInfo keeps the name exactly as given (../ included)
                info.compress_type = compression
                if tweak is not None:
                    tweak(info)
                zf.writestr(info, data)
        return path

    return build


def inner_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("inside.png", png())
    return buf.getvalue()


def doubly_nested_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("level2.zip", inner_zip())
    return buf.getvalue()


def symlink_member(info: zipfile.ZipInfo) -> None:
    if info.filename.startswith("link"):
        info.external_attr = (0o120777 << 16)  # S_IFLNK


def corrupt_zip(root: Path) -> Path:
    good = zip_of([("a.png", png()), ("b.png", png(seed=1))])(root).read_bytes()
    path = root / "broken.zip"
    path.write_bytes(good[: len(good) // 2])
    return path


def patch_member(path: Path, member: str, *, size: int | None = None, flags: int | None = None) -> Path:
    """Rewrite `member`'s central-directory entry: claim `size` uncompressed bytes (a zip bomb's
    declared size) or set general-purpose `flags` (0x1: encrypted)."""
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at != -1:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46: at + 46 + name_len].decode() == member:
            if size is not None:
                struct.pack_into("<I", data, at + 24, size)
            if flags is not None:
                struct.pack_into("<H", data, at + 8, struct.unpack_from("<H", data, at + 8)[0] | flags)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))
    return path


def pickled_object_npz(root: Path) -> Path:
    path = root / "x.npz"
    np.savez(path, x=np.array([1, {"a": 1}], dtype=object))
    return path


# --------------------------------------------------------------------------------- the corpus

U8 = pixels()
CASES: list[Case] = [
    # .npy with NaN / infinity, in several layouts and positions
    *[Case(f"npy_nan_{i}", "npy-nan", npy(with_nan(pixels(n=n, h=h, w=w), where)), words=("NaN",))
      for i, (n, h, w, where) in enumerate([(4, 8, 8, (0, 0, 0)), (4, 8, 8, (3, 7, 7)),
                                            (2, 16, 16, (1, slice(None), 3)), (5, 4, 4, (slice(None),)),
                                            (3, 8, 8, (2, 4, 4))])],
    Case("npy_inf", "npy-nan", npy(np.full((3, 8, 8), np.inf, np.float32)), words=("infinite",)),
    Case("npy_neg_inf", "npy-nan", npy(np.where(pixels() > 128, -np.inf, 0.5).astype(np.float64)), words=("infinite",)),
    Case("npy_nan_flat784", "npy-nan", npy(np.full((2, 784), np.nan, np.float32)), words=("NaN",)),
    # .npy of the wrong dtype
    Case("npy_int64_range", "npy-dtype", npy(pixels(dtype=np.int64) * 1000), words=("0..255",)),
    Case("npy_int8_negative", "npy-dtype", npy(-pixels(dtype=np.int16)), words=("0..255",)),
    Case("npy_complex", "npy-dtype", npy(pixels().astype(np.complex64)), words=("complex64",)),
    Case("npy_unicode", "npy-dtype", npy(np.full((3, 8, 8), "abc")), words=("cannot be images",)),
    Case("npy_datetime", "npy-dtype", npy(np.zeros((3, 8, 8), "datetime64[s]")), words=("cannot be images",)),
    Case("npy_object", "npy-dtype", npy(np.array([[1, None]] * 4, dtype=object), allow_pickle=True),
         words=("Python objects",)),
    Case("npy_records", "npy-dtype", npy(np.zeros((4, 8, 8), dtype=[("r", "u1"), ("g", "u1")])),
         words=("records",)),
    Case("npy_float_out_of_range", "npy-dtype", npy(pixels().astype(np.float32) * 10), words=("float pixels",)),
    # .npy of the wrong shape
    Case("npy_1d", "npy-shape", npy(np.zeros(100, np.uint8)), words=("shape",)),
    Case("npy_not_square", "npy-shape", npy(np.zeros((4, 783), np.uint8)), words=("square",)),
    Case("npy_5d", "npy-shape", npy(np.zeros((2, 3, 4, 4, 4), np.uint8)), words=("shape",)),
    Case("npy_5_channels", "npy-shape", npy(np.zeros((2, 8, 8, 5), np.uint8)), words=("channels",)),
    Case("npy_empty", "npy-shape", npy(np.zeros((0, 8, 8), np.uint8)), words=("empty",)),
    Case("npy_scalar", "npy-shape", npy(np.uint8(7)), words=("empty",)),
    Case("npy_zero_width", "npy-shape", npy(np.zeros((3, 0), np.uint8)), words=("square",)),
    # .npy/.npz damaged or mislabelled
    *[Case(f"npy_truncated_{pct}", "npy-shape", raw("cut.npy", npy_bytes(pixels(n=50))[: 80 + pct * 30]),
           words=("cut.npy",)) for pct in (0, 10, 50, 90)],
    Case("npy_header_garbage", "npy-shape", raw("bad.npy", b"\x93NUMPY\x01\x00" + b"\xff" * 40), words=("bad.npy",)),
    Case("npy_zero_bytes", "npy-shape", raw("zero.npy", b""), words=("zero.npy",)),
    Case("npy_is_png", "npy-shape", raw("picture.npy", png()), words=("picture.npy",)),
    Case("npz_object", "npy-dtype", pickled_object_npz, words=("object",)),
    Case("npz_no_images", "npy-shape", npz(a=np.zeros(3), b=np.ones(4)), words=("which array",)),
    Case("npz_corrupt", "npy-shape", raw("x.npz", b"PK\x03\x04" + b"\x00" * 60), words=("x.npz",)),
    # ... and good arrays still load
    Case("npy_ok_uint8", "control", npy(U8), loads=4),
    Case("npy_ok_float01", "control", npy(U8.astype(np.float32) / 255), loads=4),
    Case("npy_ok_flat784", "control", npy(np.zeros((3, 784), np.uint8)), loads=3),
    Case("npz_ok_labels", "control", npz(x=U8, y=np.arange(4)), loads=4),
    # IDX files with a wrong header
    Case("idx_wrong_magic", "idx-header", idx_folder(b"\x01\x02\x08\x03" + struct.pack(">III", 2, 4, 4) + bytes(32)),
         words=("wrong magic",)),
    Case("idx_bad_type", "idx-header", idx_folder(idx_bytes(0x07, [2, 4, 4])), words=("wrong magic",)),
    Case("idx_zero_dims", "idx-header", idx_folder(b"\x00\x00\x08\x00"), words=("wrong magic",)),
    Case("idx_two_dims", "idx-header", idx_folder(idx_bytes(0x08, [2, 16])), words=("dimensions",)),
    Case("idx_header_cut", "idx-header", idx_folder(b"\x00\x00\x08\x03" + struct.pack(">I", 2)), words=("cut short",)),
    Case("idx_empty", "idx-header", idx_folder(b""), words=("empty file",)),
    Case("idx_huge_claim", "idx-header", idx_folder(b"\x00\x00\x08\x03" + struct.pack(">III", 2**32 - 1, 2**16, 2**16)),
         words=("more than any IDX set",)),
    Case("idx_gz_corrupt", "idx-header", idx_folder(b"\x1f\x8b\x08\x00" + b"\x00" * 40),
         words=("cannot read",)),
    Case("idx_float_nan", "idx-header", idx_folder(idx_bytes(0x0D, [2, 2, 2], struct.pack(">8f", *[float("nan")] * 8))),
         words=("NaN",)),
    # IDX files with short data
    Case("idx_short_data", "idx-short", idx_folder(idx_bytes(0x08, [10, 4, 4], bytes(5 * 16))), words=("cut short",)),
    Case("idx_short_by_one", "idx-short", idx_folder(idx_bytes(0x08, [3, 4, 4], bytes(47))), words=("cut short",)),
    Case("idx_gz_short", "idx-short", idx_folder(idx_bytes(0x08, [10, 4, 4], bytes(16)), gz=True),
         words=("cut short",)),
    Case("idx_no_data", "idx-short", idx_folder(idx_bytes(0x08, [1, 28, 28], b"")), words=("cut short",)),
    # ... bad labels beside good images: the images load, the labels are reported
    Case("idx_short_labels", "idx-short", idx_folder(idx_bytes(0x08, [3, 4, 4]), idx_bytes(0x08, [3], b"\x01")),
         loads=3, skipped=1, words=("labels not used",)),
    Case("idx_labels_bad_header", "idx-header", idx_folder(idx_bytes(0x08, [3, 4, 4]), b"\x00\x00\x08\x03junk"),
         loads=3, skipped=1, words=("labels not used",)),
    Case("idx_ok", "control", idx_folder(idx_bytes(0x08, [3, 4, 4]), idx_bytes(0x08, [3], b"\x01\x02\x03")), loads=3),
    # CIFAR batches that are not a pickle of arrays (never unpickled with plain pickle)
    Case("cifar_evil_reduce", "cifar-not-arrays", cifar_folder(evil_batch), words=("refused", "system")),
    Case("cifar_eval", "cifar-not-arrays", cifar_folder(b"cbuiltins\neval\n(S'1+1'\ntR."), words=("refused", "eval")),
    Case("cifar_popen", "cifar-not-arrays", cifar_folder(b"csubprocess\nPopen\n(S'true'\ntR."), words=("refused",)),
    Case("cifar_object_array", "cifar-not-arrays",
         cifar_folder(pickle.dumps({"data": np.array([1, None], dtype=object), "labels": [0]})), words=("refused",)),
    Case("cifar_random_bytes", "cifar-not-arrays", cifar_folder(bytes(np.random.default_rng(1).integers(0, 256, 300,
                                                                                                            np.uint8))),
         words=("no usable CIFAR",)),
    Case("cifar_text", "cifar-not-arrays", cifar_folder(b"this is not a pickle\n"), words=("no usable CIFAR",)),
    Case("cifar_empty", "cifar-not-arrays", cifar_folder(b""), words=("no usable CIFAR",)),
    Case("cifar_truncated", "cifar-not-arrays", cifar_folder(good_batch()[:40]), words=("pickle",)),
    Case("cifar_list", "cifar-not-arrays", cifar_folder(pickle.dumps([1, 2, 3])), words=("not a dict",)),
    Case("cifar_data_list", "cifar-not-arrays", cifar_folder(pickle.dumps({"data": [[0] * 3072], "labels": [0]})),
         words=("uint8 N×3072",)),
    Case("cifar_data_float", "cifar-not-arrays",
         cifar_folder(pickle.dumps({"data": np.zeros((2, 3072), np.float32), "labels": [0, 1]})), words=("uint8",)),
    Case("cifar_data_shape", "cifar-not-arrays",
         cifar_folder(pickle.dumps({"data": np.zeros((2, 100), np.uint8), "labels": [0, 1]})), words=("N×3072",)),
    Case("cifar_no_labels", "cifar-not-arrays", cifar_folder(pickle.dumps({"data": np.zeros((2, 3072), np.uint8)})),
         words=("labels",)),
    Case("cifar_label_count", "cifar-not-arrays",
         cifar_folder(pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "labels": [0]})), words=("labels",)),
    Case("cifar_negative_labels", "cifar-not-arrays",
         cifar_folder(pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "labels": [-1, 3]})), words=("labels",)),
    Case("cifar_persistent_id", "cifar-not-arrays", cifar_folder(b"\x80\x02P0\n."), words=("refused",)),
    # ... a good batch beside a hostile one still loads; a hostile meta file costs only the names
    Case("cifar_good_and_evil", "cifar-not-arrays", cifar_folder(good_batch(), evil_batch), loads=3, skipped=1,
         words=("refused",)),
    Case("cifar_evil_meta", "cifar-not-arrays", cifar_folder(good_batch(), meta=b"cos\nsystem\n(S'true'\ntR."),
         loads=3, skipped=1, words=("refused",)),
    # zips with ../ and other escaping names (nothing may be written outside the target)
    *[Case(f"zip_slip_{i}", "zip-slip", zip_of([("ok.png", png()), (name, png(seed=2))]), loads=1, skipped=1,
           words=("zip-slip",))
      for i, name in enumerate(["../evil.png", "../../../../tmp/evil.png", "a/../../evil.png", "/etc/evil.png",
                                "C:/evil.png", "..\\evil.png", "sub/..\\..\\evil.png"])],
    Case("zip_slip_only", "zip-slip", zip_of([("../evil.png", png()), ("/abs.png", png())]), words=("zip-slip",)),
    Case("zip_symlink_member", "zip-slip", zip_of([("ok.png", png()), ("link.png", b"../../etc/passwd")],
                                                  tweak=symlink_member), loads=1, skipped=1, words=("symbolic link",)),
    # nested zips (never opened)
    Case("zip_nested", "zip-nested", zip_of([("ok.png", png()), ("inner.zip", inner_zip())]), loads=1, skipped=1,
         words=("nested archive",)),
    Case("zip_nested_only", "zip-nested", zip_of([("inner.zip", inner_zip())]), words=("nested archive",)),
    Case("zip_doubly_nested", "zip-nested", zip_of([("outer.zip", doubly_nested_zip()), ("ok.png", png())]), loads=1,
         skipped=1, words=("nested archive",)),
    Case("zip_nested_tar", "zip-nested", zip_of([("ok.png", png()), ("more.tar.gz", b"\x1f\x8b" + bytes(30))]),
         loads=1, skipped=1, words=("nested archive",)),
    # other broken zips
    Case("zip_encrypted_member", "zip-other",
         lambda root: patch_member(zip_of([("ok.png", png()), ("secret.png", png())])(root), "secret.png", flags=0x1),
         loads=1, skipped=1, words=("encrypted",)),
    Case("zip_corrupt", "zip-other", corrupt_zip, words=("zip",)),
    Case("zip_zero_bytes", "zip-other", raw("empty.zip", b""), words=("empty.zip",)),
    Case("zip_no_images", "zip-other", zip_of([("readme.txt", b"hello"), ("data.csv", b"1,2")]),
         words=("archive.zip",)),
    Case("zip_truncated_png", "zip-other", zip_of([("ok.png", png()), ("cut.png", png((24, 24))[:900])]),
         loads=1, skipped=1, words=("truncated",)),
    Case("zip_bomb_member", "zip-other", lambda root: patch_member(
        zip_of([("ok.png", png()), ("zeros.png", bytes(1000))], compression=zipfile.ZIP_DEFLATED)(root),
        "zeros.png", size=2**32 - 1), loads=1, skipped=1, words=("byte limit",)),
    # whole sources with nothing usable: one DatasetError
    Case("folder_all_bad", "control", lambda root: _folder(root, {"a.png": b"", "b.jpg": b"text", "c.txt": b"x"}),
         words=("folder",)),
    Case("folder_empty", "control", lambda root: _folder(root, {}), words=("folder",)),
    Case("tar_refused", "control", raw("data.tar.gz", b"\x1f\x8b" + bytes(20)), words=("extract it",)),
]


def _folder(root: Path, files: dict[str, bytes]) -> Path:
    folder = root / "folder"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def test_corpus_is_large_and_covers_every_kind_the_issue_lists():
    assert len(CASES) >= 90, len(CASES)
    assert len({c.name for c in CASES}) == len(CASES), "duplicate case names"
    assert ISSUE_KINDS <= {c.kind for c in CASES}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_source(case: Case, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    source = case.build(work)
    before = _tree(tmp_path)
    start = time.monotonic()
    if case.loads is None:
        with pytest.raises(DatasetError) as err:
            open_dataset(source, **case.opts)
        message = str(err.value)
        assert source.name in message, f"the error does not name the source: {message}"
        for word in case.words:
            assert word in message, f"{word!r} not in: {message}"
    else:
        ds = open_dataset(source, **case.opts)
        assert len(ds) == case.loads
        assert len(ds.skipped) == case.skipped, [str(s) for s in ds.skipped]
        assert all(s.reason.strip() for s in ds.skipped)
        reasons = " | ".join(s.reason for s in ds.skipped)
        for word in case.words:
            assert word in reasons, f"{word!r} not in: {reasons}"
    assert time.monotonic() - start < 20, "too slow: a hostile input must not hang the loader"
    assert _tree(tmp_path) == before, "loading wrote or removed files"
    assert not (work / MARKER).exists(), "a pickle ran code"
    assert not Path("/tmp/evil.png").exists() and not Path("/etc/evil.png").exists()


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))
