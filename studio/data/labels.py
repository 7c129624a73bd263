"""Choosing the condition: keep some of a dataset's classes (relabelled in the order asked) or attributes.

Applied once after any loader (`open_dataset(classes=, attributes=)`) and by the trainer to a dataset the
window already loaded, so every source with labels can be narrowed the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch

from .dataset import Dataset, DatasetKind
from .decode.collection import PREVIEW_COUNT
from .errors import DatasetError

LABELLED_SOURCES = ("a folder with one sub-folder per class, a labelled source (CIFAR-10, MNIST IDX with its "
                    "labels file, sklearn:digits, quickdraw:cat,dog) or a CelebA folder")


def choose_condition(dataset: Dataset, *, classes: Sequence[str] | None = None,
                     attributes: Sequence[str] | None = None) -> Dataset:
    """`dataset` narrowed to the chosen classes or attributes (None: all); the same object when nothing changes."""
    if classes is not None and attributes is not None:
        raise DatasetError(f"{dataset.source}: choose classes or attributes, not both")
    if classes is not None:
        return select_classes(dataset, classes)
    if attributes is not None:
        return select_attributes(dataset, attributes)
    return dataset


def select_classes(dataset: Dataset, names: Sequence[str]) -> Dataset:
    """Keep only the items of the classes `names`, relabelled 0..k-1 in that order; DatasetError for an
    unknown name (listing the known ones) or a dataset without class labels."""
    source = dataset.source
    if dataset.labels is None:
        raise DatasetError(f"{source} has no class labels, so classes {', '.join(names)} cannot be chosen; "
                           f"give {LABELLED_SOURCES}")
    if dataset.multi_label:
        raise DatasetError(f"{source} has attributes, not classes: choose some with attributes "
                           f"(--attributes NAME,…) from: {', '.join(dataset.label_names)}")
    wanted = _indices(names, dataset.label_names, source, "class")
    if wanted == list(range(len(dataset.label_names))):
        return dataset  # every class, in its own order: nothing to change
    new_index = torch.full((len(dataset.label_names),), -1, dtype=torch.int64)
    new_index[wanted] = torch.arange(len(wanted))
    relabelled = new_index[dataset.labels]
    keep = relabelled >= 0
    chosen = [dataset.label_names[i] for i in wanted]
    if not bool(keep.any()):
        raise DatasetError(f"{source}: no items of the classes {', '.join(chosen)}; choose others")
    narrowed = dataclasses.replace(
        dataset, labels=relabelled[keep], label_names=chosen,
        notes=[*dataset.notes, f"classes chosen: {', '.join(chosen)} ({int(keep.sum()):,} of {len(dataset):,} items)"])
    if dataset.targets is not None and dataset.kind == DatasetKind.PAIRED:
        narrowed.targets = dataset.targets[keep]  # a pair's target follows its input
    if dataset.stream_paths is None:
        narrowed.data = dataset.data[keep]
    else:
        narrowed.stream_paths = [p for p, k in zip(dataset.stream_paths, keep.tolist(), strict=True) if k]
        narrowed.data = _streamed_preview(narrowed)
    return narrowed


def select_attributes(dataset: Dataset, names: Sequence[str]) -> Dataset:
    """Keep the attributes `names` of a multi-label set (CelebA), in that order; every item stays."""
    source = dataset.source
    if dataset.labels is None or not dataset.multi_label:
        what = f"classes ({', '.join(dataset.label_names)}): choose some with classes (--classes NAME,…)" \
            if dataset.labels is not None else "no labels"
        raise DatasetError(f"{source} has {what}; attributes can be chosen on a multi-label source such as "
                           "a CelebA folder (images with list_attr_celeba.txt)")
    wanted = _indices(names, dataset.label_names, source, "attribute")
    if wanted == list(range(len(dataset.label_names))):
        return dataset
    return dataclasses.replace(dataset, labels=dataset.labels[:, wanted],
                               label_names=[dataset.label_names[i] for i in wanted])


def chosen_count(dataset: Dataset, classes: Sequence[str] | None) -> int:
    """How many items `select_classes(dataset, classes)` keeps (all of them for None), without copying any."""
    if not classes or dataset.labels is None or dataset.multi_label:
        return len(dataset)
    lookup = {n: i for i, n in enumerate(dataset.label_names)}
    wanted = torch.tensor([lookup[n] for n in classes if n in lookup], dtype=torch.int64)
    return int(torch.isin(dataset.labels, wanted).sum())


def _indices(names: Sequence[str], known: Sequence[str], source: str, what: str) -> list[int]:
    """Positions of `names` in `known`: exact names first, else a unique case-insensitive match."""
    if isinstance(names, str) or not names:
        raise DatasetError(f"{source}: give a list of one or more {what} names, from: {', '.join(known)}")
    exact = {n: i for i, n in enumerate(known)}
    folded: dict[str, list[int]] = {}
    for i, n in enumerate(known):
        folded.setdefault(n.lower(), []).append(i)
    out, unknown = [], []
    for name in names:
        name = str(name).strip()
        index = exact.get(name)
        if index is None and len(folded.get(name.lower(), [])) == 1:
            index = folded[name.lower()][0]
        if index is None:
            unknown.append(name)
        elif index in out:
            raise DatasetError(f"{source}: the {what} {name} is named twice")
        else:
            out.append(index)
    if unknown:
        plural = "classes" if what == "class" else f"{what}s"
        raise DatasetError(f"{source}: unknown {what} {', '.join(unknown)}; its {plural} are: {', '.join(known)}")
    return out


def _streamed_preview(dataset: Dataset) -> torch.Tensor:
    """The first images of a streamed set, decoded again: the old preview may hold none of the chosen classes."""
    items = dataset.torch_dataset()
    return torch.stack([items[i][0] for i in range(min(PREVIEW_COUNT, len(items)))])
