"""A folder of images (sub-folders become class labels) or an explicit list of image files."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from ..dataset import Dataset, Skipped
from ..decode.collection import Item, Labels, LoadJob, folder_labels, is_metadata, load_items
from ..decode.images import IMAGE_EXTENSIONS, is_image_name, path_opener
from ..errors import DatasetError
from ..options import LoadOptions

SPLIT_FOLDERS = ("train", "val", "test")  # sub-folders a dataset may be split into (the `split` option picks)


def walk_files(root: Path, skipped: list[Skipped]) -> list[str]:
    """Every file under `root` as a relative POSIX path, sorted by folder then name; follows folder
    links once, reports loops and unlistable folders.

    os.walk(followlinks=True) would loop forever on a link to a parent; followlinks=False would
    silently drop linked data folders. So links are followed, with each real folder visited once.
    Paths stay strings throughout: for a folder of 200,000 images, Path objects cost seconds.
    """
    files: list[str] = []
    try:
        st = os.stat(root)
    except OSError as exc:
        raise DatasetError(f"{root}: cannot open the folder ({exc.strerror or exc})") from None
    visited = {(st.st_dev, st.st_ino)}
    stack = [(os.fspath(root), "")]
    subfolders_seen = False
    while stack:
        folder, prefix = stack.pop()
        folders_and_links, found = [], []
        try:
            with os.scandir(folder) as it:
                for entry in it:  # files first, cheaply: the final sort orders them
                    if entry.is_dir(follow_symlinks=False) or entry.is_symlink():
                        folders_and_links.append(entry)
                    else:
                        found.append(prefix + entry.name)
        except OSError as exc:
            skipped.append(Skipped(prefix.rstrip("/") or ".", f"cannot list folder ({exc.strerror or exc})"))
            continue
        files += found
        subfolders = []
        for entry in sorted(folders_and_links, key=lambda e: e.name):  # by name: which path of a linked folder is read
            rel = prefix + entry.name
            if entry.name.startswith(".") and entry.is_dir(follow_symlinks=False):
                # .git, .cache, .ipynb_checkpoints: thousands of non-images, reported once.
                skipped.append(Skipped(rel, "hidden folder, not read"))
                continue
            try:
                # A link is followed: it raises ELOOP for a link cycle, ENOENT for a dangling link.
                st = os.stat(entry.path) if entry.is_symlink() else entry.stat(follow_symlinks=False)
            except OSError as exc:
                reason = (
                    "symbolic link loop"
                    if exc.errno == errno.ELOOP
                    else f"broken symbolic link ({exc.strerror or exc})"
                )
                skipped.append(Skipped(rel, reason))
                continue
            if stat.S_ISDIR(st.st_mode):
                key = (st.st_dev, st.st_ino)
                if key in visited:
                    skipped.append(Skipped(rel, "link to a folder already read (loop), not followed"))
                    continue
                visited.add(key)
                subfolders.append((entry.path, rel + "/"))
                subfolders_seen = True
            else:
                files.append(rel)
        stack.extend(reversed(subfolders))
    # The order of Path objects, folder by folder: "/" sorts before every other character.
    return sorted(files, key=lambda rel: rel.replace("/", "\x00")) if subfolders_seen else sorted(files)


def split_candidates(names: Iterable[str], skipped: list[Skipped]) -> list[str]:
    """Keep names that look like images; report metadata droppings and other files."""
    keep = []
    for name in names:
        # The common case first, at a fifth of the cost (it runs per file, and on every cached load):
        # an image extension after a name (what os.path.splitext finds, unless the name starts with
        # dots: those take the long way), and none of the marks of metadata (no metadata name has an
        # image extension).
        dot = name.rfind(".")
        if (dot > 0 and name[dot - 1] not in "./" and name[dot:].lower() in IMAGE_EXTENSIONS
                and "._" not in name and "__MACOSX" not in name):
            keep.append(name)
        elif is_metadata(name):
            skipped.append(Skipped(name, "system metadata file, ignored"))
        elif not is_image_name(name):
            ext = os.path.splitext(name)[1]
            skipped.append(Skipped(name, f"not an image file ({ext or 'no extension'})"))
        else:
            keep.append(name)
    return keep


def folder_items(root: Path, opts: LoadOptions, skipped: list[Skipped], prefix: str = "") -> list[Item]:
    """Every image file under `root` as an unlabelled Item named `prefix` + its path in `root`."""
    base = os.path.join(root, "")
    local: list[Skipped] = []
    rels = split_candidates(walk_files(root, local), local)
    skipped.extend(Skipped(prefix + s.path, s.reason) for s in local)
    return [Item(prefix + rel, path_opener(base + rel, opts.max_file_bytes), base + rel) for rel in rels]


def split_folder(root: Path, opts: LoadOptions, source: str) -> list[str]:
    """The sub-folders of `root` the split picks ("" for `root` itself when it has no split folders)."""
    present = [s for s in SPLIT_FOLDERS if (root / s).is_dir()]
    if not present:
        return [""]
    if opts.split == "all":
        return present
    if opts.split not in present:
        have = ", ".join(f"{s}/" for s in present)
        raise DatasetError(
            f"{source}: there is no {opts.split}/ sub-folder in {root} (it has {have}); "
            f"give split {' or '.join(repr(s) for s in present)} or 'all'"
        )
    return [opts.split]


def open_folder(root: Path, opts: LoadOptions, *, source: str | None = None) -> Dataset:
    """Load every image under `root`; the first level of sub-folders names the classes."""
    source = source or str(root)
    skipped: list[Skipped] = []
    rels = split_candidates(walk_files(root, skipped), skipped)
    rels, split_note = _within_split(rels, root, opts, source)
    # Below split folders (train/cats/…) the classes are the next level: train/ and val/ are no classes.
    names, label_ids = folder_labels([r.split("/", 1)[1] for r in rels] if split_note else rels)
    base = os.path.join(root, "")
    items = [
        Item(rel, path_opener(base + rel, opts.max_file_bytes), base + rel, None if label_ids is None else label_ids[i])
        for i, rel in enumerate(rels)
    ]
    notes = (
        [f"labels from {len(names)} sub-folders: {', '.join(names[:8])}{' …' if len(names) > 8 else ''}"]
        if names
        else []
    )
    if split_note:
        notes.append(split_note)
    if not names and any("/" in r for r in rels) and any("/" not in r for r in rels):
        notes.append(
            "images both at the top level and in sub-folders: no class labels "
            "(put every image in a class sub-folder to get labels)"
        )
    return load_items(LoadJob(source, items, opts, skipped, labels=Labels(names), notes=notes))


def _within_split(rels: list[str], root: Path, opts: LoadOptions, source: str) -> tuple[list[str], str]:
    """The images of the split asked for, where every image sits in train/, val/ or test/ (as pix2pix
    folders do), and a note saying so; otherwise all of them and no note."""
    tops = {r.split("/", 1)[0] for r in rels}
    if not rels or any("/" not in r for r in rels) or not tops <= set(SPLIT_FOLDERS):
        return rels, ""
    chosen = split_folder(root, opts, source)
    kept = [r for r in rels if r.split("/", 1)[0] in chosen]
    note = (f"split folders {', '.join(f'{s}/' for s in SPLIT_FOLDERS if s in tops)}: read "
            f"{', '.join(f'{s}/' for s in chosen)} ({len(kept):,} of {len(rels):,} images; the split option picks)")
    return kept, note


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
    return load_items(LoadJob(source, items, opts, skipped))
