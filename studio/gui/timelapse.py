"""Timelapse GIF export: the run's saved sample grids, in step order, as one looping GIF (PIL, no Qt)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

Report = Callable[[int, int], None]


def write_timelapse_gif(frames: Sequence[Path], out: Path, report: Report | None = None,
                        frame_ms: int = 200, hold_last_ms: int = 1500, max_side: int = 768) -> Path:
    """Write the PNG grids `frames` to `out` as a GIF; OSError/ValueError name the file that failed."""
    from PIL import Image

    if not frames:
        raise ValueError("this run has no saved sample grids yet (samples/step-N.png); train a little longer")
    images = []
    for i, path in enumerate(frames):
        try:
            with Image.open(path) as img:
                frame = img.convert("RGB")
        except OSError as exc:
            raise OSError(f"{path}: cannot read this sample grid ({exc})") from None
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
