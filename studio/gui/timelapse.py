"""Timelapse GIF export: the run's saved sample grids, in step order, as one looping GIF (PIL, no Qt)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

Report = Callable[[int, int], None]


def write_timelapse_gif(frames: Sequence[Path], out: Path, report: Report | None = None,
                        frame_ms: int = 200, hold_last_ms: int = 1500, max_side: int = 768,
                        beside: Sequence[Path | None] | None = None) -> Path:
    """Write the PNG grids `frames` to `out` as a GIF; OSError/ValueError name the file that failed.

    `beside`, one per frame (or None), are grids of the same step drawn to the right of each frame:
    the reconstruction grids of a method with an encoder.
    """
    from PIL import Image

    if not frames:
        raise ValueError("this run has no saved sample grids yet (samples/step-N.png); train a little longer")
    images = []
    for i, path in enumerate(frames):
        frame = _read(path)
        companion = beside[i] if beside is not None else None
        if companion is not None:
            frame = _side_by_side(frame, _read(companion))
        scale = max_side / max(frame.size)
        if scale < 1:  # keep GIFs of big grids to a size a browser shows at once
            frame = frame.resize((max(1, int(frame.width * scale)), max(1, int(frame.height * scale))), Image.LANCZOS)
        images.append(frame)
        if report is not None:
            report(i + 1, len(frames) + 1)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    durations = [frame_ms] * (len(images) - 1) + [hold_last_ms]
    tmp = out.with_name(f".{out.name}.tmp")
    images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0,
                   optimize=False)
    tmp.replace(out)
    if report is not None:
        report(len(frames) + 1, len(frames) + 1)
    return out


def _read(path: Path):
    from PIL import Image

    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except OSError as exc:
        raise OSError(f"{path}: cannot read this sample grid ({exc})") from None


def _side_by_side(left, right, gap: int = 8):
    """`left` and `right` on one black canvas, tops aligned, `gap` pixels apart."""
    from PIL import Image

    canvas = Image.new("RGB", (left.width + gap + right.width, max(left.height, right.height)))
    canvas.paste(left, (0, 0))
    canvas.paste(right, (left.width + gap, 0))
    return canvas
