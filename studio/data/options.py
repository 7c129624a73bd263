"""Options shared by every loader, and the safety limits that guard decoding."""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

from .errors import DatasetError

# A decoded image larger than this is refused before decoding (a decompression bomb would
# otherwise allocate gigabytes from a few kilobytes of file). 64 Mpx allows 8192×8192 photos.
MAX_PIXELS = 64 * 1024 * 1024
# A single file larger than this is not read at all (also bounds zip members' declared size).
MAX_FILE_BYTES = 256 * 1024 * 1024
# Decoded images beyond this many bytes are streamed from disk instead of held in memory.
MEMORY_LIMIT = 2 * 1024**3
# Transparent pixels are composited onto white: sprite and icon sets look as drawn.
BACKGROUND = (255, 255, 255)

Progress = Callable[[int, int], None]
SPLITS = ("train", "val", "test", "all")
# Which side of a pair is the input: pix2pix's own option names (AtoB: the left half / A/ is the input).
DIRECTIONS = ("AtoB", "BtoA")


@dataclass
class LoadOptions:
    """What the caller asked for, as `open_dataset`'s keyword arguments (one value from there to the
    decoders); every loader reads only the fields it needs."""

    size: int | None = None  # resize images to size×size (centre square, one filter for every format)
    channels: int | None = None  # 1 (grey) or 3 (colour); None: the source's own
    seed: int | None = None  # the seeded subset `count` takes, and the built-ins' drawing
    count: int | None = None  # read at most this many items
    progress: Progress | None = None  # progress(done, total): bytes while downloading, files while decoding
    attributes: Sequence[str] | None = None  # CelebA's attributes to keep (labels.py chooses them)
    split: str = "train"  # "train", "val", "test" or "all" where a source has splits
    cache_dir: Path | None = None  # downloads and decoded sets (default: cache_root())
    quickdraw_url: str | None = None  # where Quick, Draw! categories are downloaded from
    max_pixels: int = MAX_PIXELS  # a larger image is refused before decoding (a decompression bomb)
    max_file_bytes: int = MAX_FILE_BYTES  # a larger file (or zip member) is not read
    memory_limit: int = MEMORY_LIMIT  # decoded images beyond this are streamed from disk
    stream: bool | None = None  # True: decode folders on demand; False: never; None: when over memory_limit
    background: tuple[int, int, int] = BACKGROUND  # what transparent pixels are composited onto
    retries: int = 3  # download attempts
    timeout: float = 30.0  # seconds a download may wait for data
    decoded_cache: bool = True  # keep decoded folders and zips in the cache (decoded_cache.py)
    direction: str = "AtoB"  # paired data: BtoA swaps input and target
    translation_url: str | None = None  # base URL of the pix2pix/CycleGAN archives (translation_sources.py)

    def __post_init__(self) -> None:
        self.cache_dir = Path(self.cache_dir) if self.cache_dir else None

    @classmethod
    def from_keywords(cls, options: dict) -> LoadOptions:
        """`open_dataset`'s keyword arguments as LoadOptions; TypeError naming an option there is no such field for."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(f"open_dataset() has no option {unknown[0]!r}; the options are classes, "
                            f"{', '.join(sorted(known))}")
        return cls(**options)

    def report(self, done: int, total: int) -> None:
        """Forward progress to the caller; a failing callback must not stop the load."""
        if self.progress is None:
            return
        try:
            self.progress(done, total)
        except Exception:  # noqa: BLE001 - a UI callback's bug is not a data error
            pass

    def check(self, source: str) -> None:
        """Refuse option values that cannot work, naming the source."""

        if self.size is not None and not (_is_int(self.size) and 1 <= self.size <= 4096):
            raise DatasetError(f"{source}: size={self.size!r} is not valid; give a whole number from 1 to 4096")
        if self.channels not in (None, 1, 3):
            raise DatasetError(f"{source}: channels={self.channels!r} is not valid; give 1 (grey) or 3 (colour)")
        if self.count is not None and not (_is_int(self.count) and self.count >= 1):
            raise DatasetError(f"{source}: count={self.count!r} is not valid; give a positive whole number")
        # numpy integers pass the checks above; plain ints from here on.
        self.size = None if self.size is None else int(self.size)
        self.count = None if self.count is None else int(self.count)
        if self.split not in SPLITS:
            raise DatasetError(f"{source}: split={self.split!r} is not valid; give 'train', 'val', 'test' or 'all'")
        if self.direction not in DIRECTIONS:
            raise DatasetError(
                f"{source}: direction={self.direction!r} is not valid; give 'AtoB' (left/A is the input) "
                "or 'BtoA' (right/B is the input)"
            )

    def pick_split(self, source: str, splits: dict):
        """`splits[self.split]`, or a DatasetError naming the splits this source has."""
        if self.split not in splits:
            have = ", ".join(repr(k) for k in splits)
            raise DatasetError(f"{source}: has no {self.split!r} split; give split {have}")
        return splits[self.split]


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def cache_root(cache_dir: Path | str | None = None) -> Path:
    """Where downloads are kept: the argument, else $STUDIO_CACHE_DIR, else ~/.cache/gan-studio."""
    if cache_dir is not None:
        return Path(cache_dir)
    env = os.environ.get("STUDIO_CACHE_DIR")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "gan-studio"
