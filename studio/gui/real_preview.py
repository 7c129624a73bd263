"""Real images (or points) beside the samples on the Monitor tab: a few items of the run's dataset."""

from __future__ import annotations

from .tasks import BackgroundTask

REAL_PREVIEW = 64  # images in the real grid
REAL_POINTS = 2000  # points in the real scatter


def load_real_preview(monitor, settings: dict, kind: str | None, parent) -> BackgroundTask | None:
    """Open the run's dataset in the background and show a preview on `monitor` (None when not worth it)."""
    source = settings.get("dataset")
    if not isinstance(source, str) or source.split(":", 1)[0] in ("torchvision", "quickdraw", "pix2pix", "cyclegan"):
        return None  # never start a download just to decorate the Monitor tab
    size, channels = settings.get("image_size"), settings.get("channels")
    count = REAL_POINTS if kind == "points" else REAL_PREVIEW
    run_dir = monitor.run_dir

    def work(report):
        from ..data import open_dataset
        from .dataset_panel import make_preview

        return make_preview(open_dataset(source, size=size, channels=channels, count=count))

    def show(preview: dict) -> None:
        if run_dir is None or monitor.run_dir != run_dir:
            return  # another run is shown by now
        if "grid" in preview:
            monitor.set_real_grid(preview["grid"])
        else:
            monitor.set_real_points(preview.get("points"), preview.get("modes"))

    task = BackgroundTask(work, parent, name="real-preview")
    task.done.connect(show)
    task.start()
    return task
