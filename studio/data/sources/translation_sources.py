"""`pix2pix:<name>` and `cyclegan:<name>`: the datasets the pix2pix and CycleGAN authors publish, downloaded once.

The archive is downloaded into the cache (progress, resume, retries: download.py), extracted
safely (archives.py) into `<cache>/<scheme>/<name>/`, then deleted; later loads read the folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..dataset import Dataset
from ..errors import DatasetError
from ..options import LoadOptions, cache_root
from .archives import extract_safely
from .download import fetch_into_cache
from .paired import ALIGNED, open_paired
from .unpaired import open_unpaired

DEFAULT_URL = "http://efrosgans.eecs.berkeley.edu"
SCHEMES = ("pix2pix", "cyclegan")
ARCHIVE_SUFFIX = {"pix2pix": ".tar.gz", "cyclegan": ".zip"}
PIX2PIX = {
    "facades": "606 building facades, label maps | photos, 256×256 (downloads ~30 MB)",
    "cityscapes": "3,475 street scenes, photos | label maps, 256×256 (~100 MB)",
    "maps": "2,194 aerial photos | Google maps, 600×600 (~250 MB)",
    "night2day": "about 20,000 night | day views of the same places, 256×256 (~1.9 GB)",
    "edges2shoes": "about 50,000 shoe edge maps | photos, 256×256 (~2 GB)",
    "edges2handbags": "about 138,000 handbag edge maps | photos, 256×256 (~8.6 GB)",
}
CYCLEGAN = {
    "horse2zebra": "about 1,200 horse and 1,500 zebra photos, 256×256 (downloads ~110 MB)",
    "apple2orange": "about 1,300 apple and 1,300 orange photos, 256×256 (~75 MB)",
    "summer2winter_yosemite": "about 1,500 summer and 1,200 winter Yosemite photos, 256×256 (~125 MB)",
    "monet2photo": "about 1,200 Monet paintings and 7,000 photos, 256×256 (~290 MB)",
    "cezanne2photo": "Cézanne paintings and landscape photos, 256×256 (~270 MB)",
    "ukiyoe2photo": "ukiyo-e prints and landscape photos, 256×256 (~280 MB)",
    "vangogh2photo": "Van Gogh paintings and landscape photos, 256×256 (~290 MB)",
    "iphone2dslr_flower": "flower photos from iPhones and from DSLRs (~325 MB)",
    "maps": "aerial photos and Google maps, unpaired, 600×600 (~1.4 GB)",
    "cityscapes": "street photos and label maps, unpaired, 256×256 (~270 MB)",
    "facades": "facade photos and label maps, unpaired, 256×256 (~35 MB)",
}
KNOWN = {"pix2pix": PIX2PIX, "cyclegan": CYCLEGAN}


def translation_url(base: str | None = None) -> str:
    """The archives' server: the argument, else $STUDIO_TRANSLATION_URL, else the authors'."""
    return (base or os.environ.get("STUDIO_TRANSLATION_URL") or DEFAULT_URL).rstrip("/")


def dataset_folder(scheme: str, name: str, cache_dir: Path | str | None = None) -> Path:
    """Where `<scheme>:<name>` is kept once extracted."""
    return cache_root(cache_dir) / scheme / name


def open_translation_source(scheme: str, name: str, opts: LoadOptions) -> Dataset:
    """Download and extract (once) the pix2pix (PAIRED) or CycleGAN (UNPAIRED) set `name`, and load it."""
    source = f"{scheme}:{name}"
    known = KNOWN[scheme]
    if name not in known:
        raise DatasetError(f"{source}: no such {scheme} dataset; known: {', '.join(f'{scheme}:{k}' for k in known)}")
    folder = dataset_folder(scheme, name, opts.cache_dir)
    if not folder.is_dir():
        _download_and_extract(scheme, name, folder, opts, source)
    root = _single_top_folder(folder)
    dataset = open_paired(root, ALIGNED, opts, source=source) if scheme == "pix2pix" else open_unpaired(
        root, opts, source=source
    )
    dataset.notes.append(f"cached at {folder}")
    return dataset


def _download_and_extract(scheme: str, name: str, folder: Path, opts: LoadOptions, source: str) -> None:
    archive = folder.with_name(name + ARCHIVE_SUFFIX[scheme])
    url = f"{translation_url(opts.translation_url)}/{scheme}/datasets/{archive.name}"
    fetch_into_cache(url, archive, opts, source, f"the server has no {archive.name}")
    try:
        extract_safely(archive, folder, progress=opts.report)
    except DatasetError as exc:
        archive.unlink(missing_ok=True)  # a refused archive would be refused again: download it afresh next time
        raise DatasetError(
            f"{source}: {exc}; the downloaded archive was deleted. Check the server ({url}), or download "
            "and extract the archive yourself and open the folder"
        ) from None
    archive.unlink(missing_ok=True)  # the extracted folder is what later loads read


def _single_top_folder(folder: Path) -> Path:
    """The archive's one top-level folder (facades/ in facades.tar.gz), else `folder` itself."""
    children = [c for c in folder.iterdir() if not c.name.startswith(".")]
    return children[0] if len(children) == 1 and children[0].is_dir() else folder
