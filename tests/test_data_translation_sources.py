"""`pix2pix:<name>` and `cyclegan:<name>` against a local HTTP server: download, resume, safe extraction (issue 13)."""

from __future__ import annotations

import io
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest
import test_data
from PIL import Image

from studio.data import DatasetError, open_dataset
from studio.data.dataset import DatasetKind
from studio.data.sources import archives
from studio.errors import Cancelled

# The local HTTP server of the quickdraw download tests, and no back-off between retries.
server, no_backoff = test_data.server, test_data.no_backoff


def png(width: int, height: int, colour=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buf, "PNG")
    return buf.getvalue()


def tar_gz(members: list[tarfile.TarInfo | tuple[str, bytes]]) -> bytes:
    """A .tar.gz of (name, bytes) files and ready-made TarInfo entries (links, devices)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tf.addfile(member)
            else:
                name, data = member
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def facades_members() -> list[tuple[str, bytes]]:
    pair = png(32, 16)
    return [(f"facades/train/{i}.png", pair) for i in range(4)] + [(f"facades/val/{i}.png", pair) for i in range(2)]


def zip_bytes(files: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return buf.getvalue()


def cyclegan_zip() -> bytes:
    files = {f"horse2zebra/trainA/{i}.jpg": png(16, 16, (200, 120, 40)) for i in range(3)}
    files |= {f"horse2zebra/trainB/{i}.jpg": png(24, 24, (240, 240, 240)) for i in range(5)}
    files |= {f"horse2zebra/test{d}/0.jpg": png(16, 16) for d in "AB"}
    return zip_bytes(files)


def base_url(server: test_data.Server) -> str:
    return server.url.rsplit("/", 1)[0]


def leftovers(cache: Path) -> list[str]:
    """Everything the source left in the cache (besides the empty scheme folder)."""
    return sorted(str(p.relative_to(cache)) for p in cache.rglob("*") if not p.is_dir() or any(p.iterdir()))


# --- downloads ---------------------------------------------------------------------------------------


def test_pix2pix_downloads_extracts_and_reuses_the_folder(tmp_path, server):
    server.files["facades.tar.gz"] = tar_gz(facades_members())
    calls = []
    ds = open_dataset("pix2pix:facades", cache_dir=tmp_path, translation_url=base_url(server),
                      progress=lambda d, t: calls.append((d, t)))
    assert ds.kind == DatasetKind.PAIRED and len(ds) == 4 and ds.image_size == 16
    assert server.requests[0][0] == "/pix2pix/datasets/facades.tar.gz"
    assert calls and calls[-1][0] == calls[-1][1]
    folder = tmp_path / "pix2pix" / "facades"
    assert (folder / "facades" / "train" / "0.png").is_file()
    assert not (tmp_path / "pix2pix" / "facades.tar.gz").exists()  # the archive goes once extracted
    assert len(open_dataset("pix2pix:facades", cache_dir=tmp_path, translation_url=base_url(server),
                            split="val")) == 2
    assert len(server.requests) == 1  # the second load read the extracted folder


def test_cyclegan_zip_through_the_environment_variable(tmp_path, server, monkeypatch):
    server.files["horse2zebra.zip"] = cyclegan_zip()
    monkeypatch.setenv("STUDIO_TRANSLATION_URL", base_url(server))
    ds = open_dataset("cyclegan:horse2zebra", cache_dir=tmp_path)
    assert ds.kind == DatasetKind.UNPAIRED and len(ds) == 3 and ds.targets.shape[0] == 5
    assert ds.image_size == 16 and server.requests[0][0] == "/cyclegan/datasets/horse2zebra.zip"


@pytest.mark.parametrize("source", ["pix2pix:facades", "cyclegan:horse2zebra"])
def test_an_interrupted_download_resumes_with_range(tmp_path, server, source):
    scheme, name = source.split(":")
    archive = f"{name}.tar.gz" if scheme == "pix2pix" else f"{name}.zip"
    body = tar_gz(facades_members()) if scheme == "pix2pix" else cyclegan_zip()
    server.files[archive] = body
    server.cut_first_at = len(body) // 2  # the server drops the connection half-way
    with pytest.raises(DatasetError, match="download failed"):
        open_dataset(source, cache_dir=tmp_path, translation_url=base_url(server), retries=0)
    part = tmp_path / scheme / f"{archive}.part"
    assert part.stat().st_size == len(body) // 2 and not (tmp_path / scheme / name).exists()
    ds = open_dataset(source, cache_dir=tmp_path, translation_url=base_url(server), retries=0)
    assert server.requests[-1][1] == f"bytes={len(body) // 2}-" and not part.exists()
    assert len(ds) == (4 if scheme == "pix2pix" else 3)


def test_unknown_names_list_the_known_ones(tmp_path, server):
    with pytest.raises(DatasetError, match=r"no such pix2pix dataset; known: pix2pix:facades, .*pix2pix:edges2shoes"):
        open_dataset("pix2pix:../../etc", cache_dir=tmp_path, translation_url=base_url(server))
    with pytest.raises(DatasetError, match=r"cyclegan:horse2zebra"):
        open_dataset("cyclegan:zebra2unicorn", cache_dir=tmp_path, translation_url=base_url(server))
    assert not server.requests


def test_a_missing_archive_is_a_404_message(tmp_path, server):
    with pytest.raises(DatasetError, match=r"pix2pix:maps: the server has no maps.tar.gz \(HTTP 404"):
        open_dataset("pix2pix:maps", cache_dir=tmp_path, translation_url=base_url(server))


# --- hostile archives ----------------------------------------------------------------------------------


def link(name: str, target: str, hard: bool = False) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
    info.linkname = target
    return info


def device(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.CHRTYPE
    info.devmajor, info.devminor = 1, 3
    return info


@pytest.mark.parametrize(
    "member, expected",
    [
        (("facades/../../escaped.png", png(32, 16)), "'..'"),
        (("/tmp/studio-absolute-escape.png", png(32, 16)), "absolute path"),
        (link("facades/train/evil.png", "../../../../escaped.png"), "link to '../../../../escaped.png'"),
        (link("facades/train/hard.png", "/etc/passwd", hard=True), "link to '/etc/passwd'"),
        (device("facades/train/null.png"), "device or pipe"),
    ],
    ids=["dotdot", "absolute", "symlink-out", "hardlink", "device"],
)
def test_a_hostile_tar_is_refused_and_leaves_nothing_behind(tmp_path, server, member, expected):
    cache = tmp_path / "cache"
    # The hostile member comes after good ones: what was extracted before it must go too.
    server.files["facades.tar.gz"] = tar_gz([*facades_members(), member])
    with pytest.raises(DatasetError) as err:
        open_dataset("pix2pix:facades", cache_dir=cache, translation_url=base_url(server))
    message = str(err.value)
    assert "facades.tar.gz: refused to extract member" in message and expected in message
    assert "archive was deleted" in message
    assert leftovers(cache) == []
    assert not (tmp_path / "escaped.png").exists() and not Path("/tmp/studio-absolute-escape.png").exists()


def test_a_hostile_zip_is_refused(tmp_path, server):
    cache = tmp_path / "cache"
    server.files["horse2zebra.zip"] = zip_bytes({"horse2zebra/trainA/0.png": png(8, 8)},
                                                links={"horse2zebra/trainB/0.png": "/etc/passwd"})
    with pytest.raises(DatasetError, match=r"member 'horse2zebra/trainB/0.png': link inside the archive"):
        open_dataset("cyclegan:horse2zebra", cache_dir=cache, translation_url=base_url(server))
    server.files["horse2zebra.zip"] = zip_bytes({"horse2zebra/../../x.png": png(8, 8)})
    with pytest.raises(DatasetError, match=r"'\.\.'"):
        open_dataset("cyclegan:horse2zebra", cache_dir=cache, translation_url=base_url(server))
    server.files["horse2zebra.zip"] = zip_bytes({"/tmp/studio-zip-escape.png": png(8, 8)})
    with pytest.raises(DatasetError, match=r"absolute path"):
        open_dataset("cyclegan:horse2zebra", cache_dir=cache, translation_url=base_url(server))
    assert leftovers(cache) == [] and not Path("/tmp/studio-zip-escape.png").exists()


def test_size_limits_refuse_archive_bombs(tmp_path, monkeypatch):
    archive = tmp_path / "big.tar.gz"
    archive.write_bytes(tar_gz([("big/zeros.bin", bytes(200_000))]))  # compresses to a few hundred bytes
    with pytest.raises(DatasetError, match=r"big.tar.gz: refused .* unpacks to more than 100,000 bytes"):
        archives.extract_safely(archive, tmp_path / "out", max_bytes=100_000)
    archive.write_bytes(tar_gz([(f"many/{i}.txt", b"x") for i in range(20)]))
    monkeypatch.setattr(archives, "MAX_MEMBERS", 10)
    with pytest.raises(DatasetError, match=r"more than 10 members"):
        archives.extract_safely(archive, tmp_path / "out")
    assert sorted(os.listdir(tmp_path)) == ["big.tar.gz"]


def test_a_cancelled_extraction_leaves_no_half_folder(tmp_path):
    archive = tmp_path / "facades.tar.gz"
    archive.write_bytes(tar_gz(facades_members()))

    def cancel(done, total):
        raise Cancelled()

    with pytest.raises(Cancelled):
        archives.extract_safely(archive, tmp_path / "facades", progress=cancel)
    assert sorted(os.listdir(tmp_path)) == ["facades.tar.gz"]
    archives.extract_safely(archive, tmp_path / "facades")
    assert len(os.listdir(tmp_path / "facades" / "facades" / "train")) == 4


def test_studio_datasets_lists_the_sources_and_layouts(capsys):
    from studio.cli import main
    from studio.data import list_sources

    kinds = {s["name"]: (s["kind"], s["online"]) for s in list_sources()}
    assert kinds["pix2pix:facades"] == ("paired", True) and kinds["cyclegan:horse2zebra"] == ("unpaired", True)
    assert kinds["<pix2pix folder>"] == ("paired", False) and kinds["<cyclegan folder>"] == ("unpaired", False)
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "pix2pix:edges2shoes" in out and "cyclegan:monet2photo" in out and "trainA/ and trainB/" in out


def test_a_folder_left_by_a_killed_extraction_is_removed_once_stale(tmp_path):
    archive = tmp_path / "facades.tar.gz"
    archive.write_bytes(tar_gz(facades_members()))
    stale = tmp_path / ".facades.extracting-deadbeef"
    (stale / "facades").mkdir(parents=True)
    recent = tmp_path / ".facades.extracting-0000beef"  # perhaps another process, still extracting
    recent.mkdir()
    old = 3 * archives.STALE_S
    os.utime(stale, (os.path.getmtime(stale) - old,) * 2)
    archives.extract_safely(archive, tmp_path / "facades")
    assert not stale.exists() and recent.exists() and (tmp_path / "facades" / "facades" / "val").is_dir()
