"""Real images (or points) beside the samples on the Monitor tab: a few items of the run's dataset."""

from __future__ import annotations

from .tasks import BackgroundTask

REAL_PREVIEW = 64  # images in the real grid
REAL_POINTS = 2000  # points in the real scatter
CHOSEN_SCAN = 16  # with classes or attributes chosen, this many times more items are read to find enough of them


def narrows(settings: dict) -> bool:
    """True when a run trains on part of its data (chosen classes or attributes) or turns pairs round (B→A)."""
    return bool(settings.get("classes") or settings.get("attributes")) or settings.get("direction", "AtoB") != "AtoB"


def monitor_preview(dataset) -> dict:
    """The real images beside the samples, as the trainer lays them out (pairs as input beside target, the two
    domains as rows: cell for cell beside the translations), or the Train tab's preview of images and points."""
    if dataset.targets is None:
        from .dataset_panel import make_preview

        return make_preview(dataset)
    import torch

    from ..engine.trainer import real_images_grid

    return {"grid": real_images_grid(dataset, torch.arange(min(REAL_PREVIEW, len(dataset.data))))}


def preview_for_run(panel_preview: dict, dataset, config) -> dict:
    """The real images the Monitor shows beside a new run's samples: the Train tab's preview, or where the
    run narrows its data or translates, a preview of what it trains on (the chosen classes, the pairs as turned)."""
    if dataset is None or (not narrows(config.to_dict()) and dataset.targets is None):
        return panel_preview
    from ..engine.trainer import chosen_data

    return monitor_preview(chosen_data(dataset, config))


def load_real_preview(monitor, settings: dict, kind: str | None, parent) -> BackgroundTask | None:
    """Open the run's dataset in the background and show a preview on `monitor` (None when not worth it)."""
    source = settings.get("dataset")
    if not isinstance(source, str) or source.split(":", 1)[0] in ("torchvision", "quickdraw", "pix2pix", "cyclegan"):
        return None  # never start a download just to decorate the Monitor tab
    size, channels = settings.get("image_size"), settings.get("channels")
    count = REAL_POINTS if kind == "points" else REAL_PREVIEW
    # The run's own part of its data: its split (train/, val/, test/), classes or attributes and direction.
    choice = {k: settings[k] for k in ("split", "classes", "attributes", "direction") if settings.get(k) is not None}
    if narrows(settings):
        count *= CHOSEN_SCAN
    run_dir = monitor.run_dir

    def work(report):
        from ..data import open_dataset

        return monitor_preview(open_dataset(source, size=size, channels=channels, count=count, **choice))

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
