"""Loading a model for the Sample tab (run, checkpoint or live snapshot) and describing it; no widgets."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ...engine.checkpoint import LoadedRun
from ...methods.base import Method

Loaded = tuple[LoadedRun | None, torch.Tensor | None, str]


def load_with_reference(load: Callable[[], LoadedRun | None]) -> Loaded:
    """Load a model (off the GUI thread), and for reference-taking models one image of its run's data
    set (best effort): (run or None, reference (1, C, H, W) or None, a note for the status line)."""
    loaded = load()
    if loaded is None or not loaded.method.needs_reference:
        return loaded, None, ""
    from ...latent.references import reference_images, run_direction

    source = loaded.config.get("dataset") or loaded.config.get("run", {}).get("dataset", "")
    try:
        return loaded, reference_images(source, loaded.method, 1, 0, run_direction(loaded.config)).cpu(), ""
    except Exception as exc:  # noqa: BLE001 - the user can still drop an image
        return loaded, None, (f"Loaded; could not open the run's data set for an image to start from ({exc}): "
                              f"drop or open one.")


def same_shape(a: Method | None, b: Method) -> bool:
    """True when keyframes and selections of `a` mean the same in `b` (same method, data and latent)."""
    return (a is not None and a.name == b.name and a.spec == b.spec
            and getattr(a.params, "latent_dim", None) == getattr(b.params, "latent_dim", None))


def describe(loaded: LoadedRun, device: torch.device) -> str:
    """'cgan · step 1500 · 16×16 RGB · 4 classes · cpu · /runs/x/checkpoints/last.pt'."""
    m, s = loaded.method, loaded.method.spec
    where = "live training snapshot" if str(loaded.path) == "<snapshot>" else str(loaded.path)
    labels = f" · {s.label_dim} {'attributes' if s.multi_label else 'classes'}" if m.conditional else ""
    which = "" if m.average is None else " · averaged generator" if loaded.averaged else " · raw generator"
    return (f"{m.name} · step {loaded.step} · {s.image_size}×{s.image_size} "
            f"{'grey' if s.channels == 1 else 'RGB'}{labels}{which} · {device.type} · {where}")
