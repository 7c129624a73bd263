"""What data a method can train on: the one check behind the trainer's refusal and the window's greyed methods."""

from __future__ import annotations

from typing import Any

from ..data.labels import LABELLED_SOURCES

# What to give a method that trains on each kind of data (docs/DATA.md shows every layout): a folder that
# was meant as pairs or domains but is read as images (halves not 2:1, trainB/ missing) says what it lacks.
KIND_SOURCES = {
    "paired": ("input → target pairs: a folder of aligned images twice as wide as high, input left and target "
               "right (in train/, val/, test/ or not), A/ and B/ (or input/ and target/) folders whose files pair "
               "by name, pix2pix:<name> or builtin:outlines2shapes"),
    "unpaired": ("two domains: a folder holding trainA/ and trainB/ (testA/ and testB/ for the test split), "
                 "cyclegan:<name> or builtin:outlines|shapes"),
    "images": "images: a folder, a zip, .npy, MNIST IDX, CIFAR-10, CelebA or builtin:shapes",
    "points": "2-D points: builtin:rings or builtin:grid",
}


def needs_labels(method_cls: type, params: Any = None) -> bool:
    """True when the method, with `params` (default: its own defaults), conditions on labels."""
    if params is None:
        params = method_cls.Params()
    return bool(getattr(params, "conditional", False))


def data_problem(method_cls: type, kind: Any, label_dim: int | None, params: Any = None,
                 source: str = "the loaded data") -> str | None:
    """Why `method_cls` (with `params`, default its defaults) cannot train on `source`, data of `kind` with
    `label_dim` classes or attributes (None: not known), or None when it can."""
    kind = getattr(kind, "value", kind)
    kinds = [k.value for k in method_cls.kinds]
    if kind not in kinds:
        held = kind if kind in ("images", "points") else f"{kind} data"
        wanted = "; or ".join(KIND_SOURCES.get(k, k) for k in kinds)
        return (f"{method_cls.name} trains on {', '.join(kinds)} data, but {source} holds {held}; "
                f"pick a dataset of the right kind: {wanted} (see `studio datasets`)")
    if label_dim == 0 and needs_labels(method_cls, params):
        return unlabelled_problem(method_cls.name, source)
    return None


def unlabelled_problem(method: str, source: str = "the loaded data") -> str:
    """The refusal of a conditional method on data without labels, and what to give instead."""
    return (f"{method} is conditional: it needs labelled data, but {source} has no labels (no classes or "
            f"attributes); give {LABELLED_SOURCES} (choose some with --classes NAME,… or, for CelebA, "
            "--attributes NAME,…), or train without labels (--set conditional=false, or dcgan)")
