"""A folder of images (sub-folders become class labels) or an explicit list of image files."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from .collection import Item, Labels, folder_labels, is_metadata, load_items
from .dataset import Dataset, Skipped
from .errors import DatasetError
from .images import is_image_name, path_opener
from .options import LoadOptions


def walk_files(root: Path, skipped: list[Skipped]) -> list[Path]:
    """Every file under `root`, sorted; follows folder links once, reports loops and unlistable folders.

    os.walk(followlinks=True) would loop forever on a link to a parent; followlinks=False would
    silently drop linked data folders. So links are followed, with each real folder visited once.
    """
    files: list[Path] = []
    try:
        st = os.stat(root)
    except OSError as exc:
        raise DatasetError(f"{root}: cannot open the folder ({exc.strerror or exc})") from None
    visited = {(st.st_dev, st.st_ino)}
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            skipped.append(Skipped(_rel(folder, root), f"cannot list folder ({exc.strerror or exc})"))
            continue
        subfolders = []
        for entry in entries:
            path = Path(entry.path)
            if entry.name.startswith(".") and entry.is_dir(follow_symlinks=False):
                # .git, .cache, .ipynb_checkpoints: thousands of non-images, reported once.
                skipped.append(Skipped(_rel(path, root), "hidden folder, not read"))
                continue
            try:
                if entry.is_symlink():
                    st = os.stat(path)  # raises ELOOP for a link cycle, ENOENT for a dangling link
                elif entry.is_dir(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                else:
                    files.append(path)
                    continue
            except OSError as exc:
                reason = (
                    "symbolic link loop"
                    if exc.errno == errno.ELOOP
                    else f"broken symbolic link ({exc.strerror or exc})"
                )
                skipped.append(Skipped(_rel(path, root), reason))
                continue
            if stat.S_ISDIR(st.st_mode):
                key = (st.st_dev, st.st_ino)
                if key in visited:
                    skipped.append(Skipped(_rel(path, root), "link to a folder already read (loop), not followed"))
                    continue
                visited.add(key)
                subfolders.append(path)
            else:
                files.append(path)
        stack.extend(reversed(subfolders))
    return sorted(files)


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def split_candidates(names: Iterable[str], skipped: list[Skipped]) -> list[str]:
    """Keep names that look like images; report metadata droppings and other files."""
    keep = []
    for name in names:
        if is_metadata(name):
            skipped.append(Skipped(name, "system metadata file, ignored"))
        elif not is_image_name(name):
            ext = os.path.splitext(name)[1]
            skipped.append(Skipped(name, f"not an image file ({ext or 'no extension'})"))
        else:
            keep.append(name)
    return keep


def open_folder(root: Path, opts: LoadOptions, *, source: str | None = None) -> Dataset:
    """Load every image under `root`; the first level of sub-folders names the classes."""
    source = source or str(root)
    skipped: list[Skipped] = []
    rels = split_candidates([_rel(p, root) for p in walk_files(root, skipped)], skipped)
    names, label_ids = folder_labels(rels)
    items = [
        Item(rel, path_opener(root / rel, opts.max_file_bytes), root / rel, None if label_ids is None else label_ids[i])
        for i, rel in enumerate(rels)
    ]
    notes = (
        [f"labels from {len(names)} sub-folders: {', '.join(names[:8])}{' …' if len(names) > 8 else ''}"]
        if names
        else []
    )
    if not names and any("/" in r for r in rels) and any("/" not in r for r in rels):
        notes.append(
            "images both at the top level and in sub-folders: no class labels "
            "(put every image in a class sub-folder to get labels)"
        )
    return load_items(source, items, opts, skipped=skipped, labels=Labels(names), notes=notes)


def open_files(paths: Iterable[str | os.PathLike], opts: LoadOptions) -> Dataset:
    """Load an explicit list of image files (unlabelled)."""
    paths = [Path(p) for p in paths]
    source = f"{len(paths)} files" if len(paths) != 1 else str(paths[0])
    skipped: list[Skipped] = []
    items = []
    for p in paths:
        if is_metadata(p.name):
            skipped.append(Skipped(str(p), "system metadata file, ignored"))
        else:
            # Extensions are not checked: the user named these files, so decode and report.
            items.append(Item(str(p), path_opener(p, opts.max_file_bytes), p))
    return load_items(source, items, opts, skipped=skipped)
