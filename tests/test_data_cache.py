"""The decoded-dataset cache and the parallel decoder: same results cached or not, invalidated by
any change, never trusting a damaged entry; `studio cache` shows and clears it."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from studio.cli import main as studio_main
from studio.data import open_dataset
from studio.data.cache import decoded_cache
from studio.data.decode import images as images_mod
from studio.data.decode import parallel
from studio.data.decode.fastjpeg import jpeg_header

COUNT = 40  # above decoded_cache.MIN_ITEMS and parallel.INLINE_BELOW: cached, and decoded by workers


def photo(seed: int, size=(20, 16), mode="RGB") -> Image.Image:
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    return Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)


def make_folder(root: Path, count: int = COUNT, mode: str = "RGB") -> Path:
    """Two classes of JPEGs and PNGs, one broken file and one non-image."""
    for i in range(count):
        fmt = "JPEG" if i % 2 else "PNG"
        path = root / ("cats" if i < count // 2 else "dogs") / f"{i:03d}.{fmt.lower().replace('jpeg', 'jpg')}"
        path.parent.mkdir(parents=True, exist_ok=True)
        photo(i, mode=mode).save(path, fmt)
    (root / "cats" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    (root / "dogs" / "notes.txt").write_text("not an image")
    return root


def same(a, b) -> None:
    assert torch.equal(a.data, b.data)
    assert [(s.path, s.reason) for s in a.skipped] == [(s.path, s.reason) for s in b.skipped]
    assert a.label_names == b.label_names and torch.equal(a.labels, b.labels)


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


def test_cached_load_equals_uncached_and_reads_no_image(tmp_path, cache, monkeypatch):
    folder = make_folder(tmp_path / "data")
    fresh = open_dataset(folder, size=16, decoded_cache=False)
    first = open_dataset(folder, size=16, cache_dir=cache)
    assert len(decoded_cache.entries(cache)) == 1

    def no_reads(path):
        raise AssertionError(f"the cached load opened {path}")

    monkeypatch.setattr(images_mod, "_open_fd", no_reads)
    second = open_dataset(folder, size=16, cache_dir=cache)
    same(fresh, first)
    same(fresh, second)
    assert len(second) == COUNT and {s.path for s in second.skipped} == {"cats/broken.png", "dogs/notes.txt"}
    second.data[0] += 1  # the cache maps its file copy-on-write: writing to a dataset never changes it
    monkeypatch.undo()
    same(fresh, open_dataset(folder, size=16, cache_dir=cache))


def test_parallel_and_inline_decoding_agree(tmp_path, monkeypatch):
    folder = make_folder(tmp_path / "data")
    parallel_load = open_dataset(folder, size=12, decoded_cache=False)
    monkeypatch.setattr(parallel, "INLINE_BELOW", 10**6)
    same(parallel_load, open_dataset(folder, size=12, decoded_cache=False))
    # Without a size every header is read first (two passes): the same images at their own size.
    assert open_dataset(folder, decoded_cache=False).image_size == 16


def test_editing_or_deleting_one_file_invalidates_the_entry(tmp_path, cache):
    folder = make_folder(tmp_path / "data")
    open_dataset(folder, size=16, cache_dir=cache)
    edited = folder / "cats" / "003.jpg"
    photo(999).save(edited, "JPEG")
    after_edit = open_dataset(folder, size=16, cache_dir=cache)
    same(after_edit, open_dataset(folder, size=16, decoded_cache=False))
    assert len(decoded_cache.entries(cache)) == 2
    (folder / "dogs" / "030.png").unlink()
    after_delete = open_dataset(folder, size=16, cache_dir=cache)
    assert len(after_delete) == COUNT - 1
    same(after_delete, open_dataset(folder, size=16, decoded_cache=False))


def test_other_options_are_other_entries(tmp_path, cache):
    folder = make_folder(tmp_path / "data")
    a = open_dataset(folder, size=16, cache_dir=cache)
    b = open_dataset(folder, size=8, channels=1, cache_dir=cache)
    assert a.data.shape[1:] == (3, 16, 16) and b.data.shape[1:] == (1, 8, 8)
    assert len(decoded_cache.entries(cache)) == 2
    same(b, open_dataset(folder, size=8, channels=1, cache_dir=cache))


@pytest.mark.parametrize("damage", ["truncate", "garbage", "record", "no-array"])
def test_a_damaged_entry_is_rebuilt_not_trusted(tmp_path, cache, damage):
    folder = make_folder(tmp_path / "data")
    fresh = open_dataset(folder, size=16, cache_dir=cache)
    (entry,) = decoded_cache.entries(cache)
    array = decoded_cache.cache_folder(cache) / f"{entry['key']}.npy"
    record = array.with_suffix(".json")
    if damage == "truncate":
        array.write_bytes(array.read_bytes()[: entry["bytes"] // 2])
    elif damage == "garbage":
        array.write_bytes(b"\x00" * entry["bytes"])
    elif damage == "record":
        record.write_text("{not json")
    else:
        array.unlink()
    again = open_dataset(folder, size=16, cache_dir=cache)
    same(fresh, again)
    (rebuilt,) = decoded_cache.entries(cache)
    assert rebuilt["bytes"] == entry["bytes"]
    same(fresh, open_dataset(folder, size=16, cache_dir=cache))


def test_zip_cached_and_decoded_by_workers(tmp_path, cache):
    folder = make_folder(tmp_path / "data")
    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder).as_posix())
    from_folder = open_dataset(folder, size=16, decoded_cache=False)
    first = open_dataset(archive, size=16, cache_dir=cache)
    assert torch.equal(first.data, from_folder.data) and first.label_names == ["cats", "dogs"]
    same(first, open_dataset(archive, size=16, cache_dir=cache))
    assert len(decoded_cache.entries(cache)) == 1
    with zipfile.ZipFile(archive, "a") as zf:  # the archive changed: a new entry
        zf.writestr("cats/extra.png", _png(photo(77)))
    assert len(open_dataset(archive, size=16, cache_dir=cache)) == COUNT + 1


def test_all_grey_folder_keeps_one_channel_in_one_pass(tmp_path, cache):
    folder = make_folder(tmp_path / "data", mode="L")
    inferred = open_dataset(folder, size=16, cache_dir=cache)
    asked = open_dataset(folder, size=16, channels=1, decoded_cache=False)
    assert inferred.channels == 1
    assert torch.equal(inferred.data, asked.data)


def test_cancel_stops_the_workers_and_writes_no_entry(tmp_path, cache):
    folder = make_folder(tmp_path / "data", count=300)

    class Cancelled(BaseException):
        pass

    def progress(done, total):
        if done >= 64:
            raise Cancelled

    with pytest.raises(Cancelled):
        open_dataset(folder, size=16, cache_dir=cache, progress=progress)
    assert decoded_cache.entries(cache) == []
    seen = []
    open_dataset(folder, size=16, cache_dir=cache, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1][0] == seen[-1][1] and len(seen) == len(set(seen)) >= 300 // parallel.CHUNK  # one per chunk


def test_images_changed_while_written_leave_no_entry(tmp_path, cache, monkeypatch):
    # An earlier test's entry may still be written on its thread: patched now, its `store` would change
    # this test's images before this test's write began (the flaky failure of a full run).
    decoded_cache.wait_for_writes()
    data = np.zeros((COUNT, 3, 4, 4), dtype=np.uint8)
    real_store = decoded_cache.store

    def store_then_change(*args, **kwargs):
        path = real_store(*args, **kwargs)
        data[0] = 1  # the caller wrote to its images while the entry was being written
        return path

    monkeypatch.setattr(decoded_cache, "store", store_then_change)
    decoded_cache.store_later("k" * 32, data, np.ones(COUNT, dtype=bool), [], "test", cache).join()
    assert decoded_cache.entries(cache) == [] and decoded_cache.load("k" * 32, cache) is None


def test_least_recently_used_entry_is_evicted(tmp_path, cache, monkeypatch):
    monkeypatch.setenv("STUDIO_CONFIG_DIR", str(tmp_path / "config"))
    a, b = make_folder(tmp_path / "a"), make_folder(tmp_path / "b")
    one_entry = COUNT * 3 * 16 * 16
    studio_main(["cache", "--limit", str(1.5 * one_entry / 2**30)])
    open_dataset(a, size=16, cache_dir=cache)
    open_dataset(b, size=16, cache_dir=cache)
    assert [e["source"] for e in decoded_cache.entries(cache)] == [str(b)]
    studio_main(["cache", "--limit", "0"])  # off: nothing more is written
    open_dataset(a, size=16, cache_dir=cache)
    assert [e["source"] for e in decoded_cache.entries(cache)] == [str(b)]


def test_studio_cache_lists_and_clears(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    folder = make_folder(tmp_path / "data")
    open_dataset(folder, size=16)
    assert studio_main(["cache", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [e["source"] for e in listed["entries"]] == [str(folder)]
    assert listed["bytes"] > COUNT * 3 * 16 * 16 and listed["folder"] == str(tmp_path / "cache" / "decoded")
    assert studio_main(["cache"]) == 0
    assert str(folder) in capsys.readouterr().out
    assert studio_main(["cache", "--clear"]) == 0
    assert "removed 1 entry" in capsys.readouterr().out
    assert decoded_cache.entries() == [] and not list((tmp_path / "cache" / "decoded").iterdir())
    assert studio_main(["cache", "--limit", "-1"]) == 2


def test_jpeg_header_reads_size_and_refuses_odd_bytes():
    data = _jpeg(photo(1, size=(30, 20)))
    assert jpeg_header(data)[:3] == (30, 20, 3)
    for bad in (b"", b"\xff\xd8\xff", data[:20], b"\xff\xd8\xff\xe0\x00\x01" + data[6:], b"GIF89a" + data):
        header = jpeg_header(bad)
        assert header is None or header.width == 30  # never a made-up size


def test_fast_jpeg_decoding_matches_pillow_closely(tmp_path):
    data = _jpeg(photo(2, size=(24, 24)))
    info, fast = images_mod.decode_bytes(data, channels=3, size=24)
    reference = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).transpose(2, 0, 1)
    assert info == (24, 24, "RGB", "JPEG") and fast.shape == (3, 24, 24)
    assert np.abs(fast.astype(int) - reference).mean() < 2.0


def _jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_output_array_is_committed_writable_memory():
    out = parallel.output_array((5, 3, 1024, 1024))  # above the size where memory is committed up front
    out[:] = 7
    assert out.shape == (5, 3, 1024, 1024) and torch.from_numpy(out).float().mean().item() == 7.0
