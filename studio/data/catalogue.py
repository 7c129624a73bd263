"""What `open_dataset` accepts, as plain dicts for `studio datasets --json` and the GUI's picker."""

from __future__ import annotations

from .sources.builtin import BUILTINS
from .sources.online import ONLINE
from .sources.sklearn_digits import SKLEARN_SETS
from .sources.translation_sources import CYCLEGAN, PIX2PIX

FILE_SOURCES = [
    ("<folder>", "a folder of images (PNG, JPEG, BMP, GIF, WebP, TIFF); sub-folders become class labels"),
    ("<file.zip>", "a zip of such a folder, read in memory"),
    ("<file.npy|.npz>", "an image array: N×784 (Quick, Draw!), N×H×W, N×H×W×C or N×C×H×W"),
    ("<mnist folder>", "MNIST / Fashion-MNIST IDX files (train-images-idx3-ubyte[.gz] + labels)"),
    ("<cifar folder>", "CIFAR-10 python batches (data_batch_1..5, test_batch, batches.meta)"),
    ("<celeba folder>", "CelebA images with list_attr_celeba.txt (40 multi-hot attributes)"),
    ("<pix2pix folder>", "paired: A|B images (input left, target right) in train/, val/, test/ — or A/ and B/ "
                         "(input/ and target/) with files paired by name; --direction BtoA swaps them"),
    ("<cyclegan folder>", "unpaired: trainA/ and trainB/ (testA/, testB/), any counts and image sizes"),
]
FILE_KINDS = {"<pix2pix folder>": "paired", "<cyclegan folder>": "unpaired"}


def list_builtins() -> list[dict]:
    """The procedural built-in sets: name, kind (images, paired, unpaired, points), description."""
    return [
        {"name": f"builtin:{b.name}", "kind": b.kind.value, "description": b.description, "online": False}
        for b in BUILTINS.values()
    ]


def list_sources() -> list[dict]:
    """Every source: built-ins, downloadable sets (`online: True`) and the file formats."""
    online = [
        {
            "name": "quickdraw:<category>",
            "kind": "images",
            "online": True,
            "description": "Quick, Draw! 28×28 drawings of one category, e.g. quickdraw:cat (~100 MB each); "
                           "several, one class each: quickdraw:cat,dog",
        }
    ]
    online += [
        {"name": f"torchvision:{k}", "kind": "images", "description": v, "online": True} for k, v in ONLINE.items()
    ]
    online += [
        {"name": f"pix2pix:{k}", "kind": "paired", "description": f"pix2pix: {v}", "online": True}
        for k, v in PIX2PIX.items()
    ]
    online += [
        {"name": f"cyclegan:{k}", "kind": "unpaired", "description": f"CycleGAN: {v}", "online": True}
        for k, v in CYCLEGAN.items()
    ]
    online += [
        {"name": f"sklearn:{k}", "kind": kind.value, "description": v, "online": False}
        for k, (kind, v) in SKLEARN_SETS.items()
    ]
    files = [{"name": n, "kind": FILE_KINDS.get(n, "images"), "description": d, "online": False, "file": True}
             for n, d in FILE_SOURCES]
    return list_builtins() + online + files
