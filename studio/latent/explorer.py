"""The explorer's state, without Qt: a page of numbered seeds, the selection, the latent scale,
the label state and the direction amounts; and the latents they stand for.

The state announces its changes (like napari's evented models): after `subscribe(fn)` every change
of a field calls `fn(names)` with the names of the fields that changed, so a view decides in one
place what to redraw. Setting a field to what it already holds announces nothing; `changes()`
gathers several changes into one announcement.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch

from ..methods.base import Method
from .directions import Directions, apply_directions
from .timeline import Keyframe, seed_latent

Changed = Callable[[frozenset[str]], None]


@dataclass
class Explorer:
    """What the Sample tab shows. Seed i always means the same latent; a page holds `page_size` seeds.

    The selection is a seed, or an encoded image's latent (`selected_latent`) once one is dropped.
    """

    page_size: int = 16
    page: int = 0
    selected_seed: int = 0
    selected_latent: torch.Tensor | None = None  # an encoded image's code replaces the seed when set
    selected_image: str = ""  # where that code came from (for captions and keyframes)
    scale: float = 1.0
    labels: torch.Tensor | None = None
    amounts: list[float] = field(default_factory=list)
    directions: Directions | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "_subscribers", [])
        object.__setattr__(self, "_held", None)  # names changed inside `changes()`, announced at its end

    def __setattr__(self, name: str, value: Any) -> None:
        announced = name in _FIELDS and hasattr(self, "_subscribers")  # not while __init__ runs
        old = getattr(self, name, None) if announced else None
        object.__setattr__(self, name, value)
        if announced and not _same(old, value):
            self._announce({name})

    # --- events -------------------------------------------------------------------------------------
    def subscribe(self, fn: Changed) -> None:
        """Call `fn(names)` after every change, with the names of the fields that changed."""
        self._subscribers.append(fn)

    def unsubscribe(self, fn: Changed) -> None:
        """Stop calling `fn`."""
        self._subscribers.remove(fn)

    @contextmanager
    def changes(self) -> Iterator[None]:
        """Announce the changes made inside the block once, at its end (one redraw for a page turn)."""
        if self._held is not None:  # nested: the outer block announces
            yield
            return
        object.__setattr__(self, "_held", set())
        try:
            yield
        finally:
            held = self._held
            object.__setattr__(self, "_held", None)
            if held:
                self._announce(held)

    def update(self, **values: Any) -> None:
        """Set several fields and announce them as one change."""
        with self.changes():
            for name, value in values.items():
                if name not in _FIELDS:
                    raise AttributeError(f"Explorer has no field {name!r}")
                setattr(self, name, value)

    def announce(self, *names: str) -> None:
        """Announce a change of something else the subscribers draw from (the Sample tab's model or input
        image), with the field changes around it when inside `changes()`."""
        self._announce(set(names))

    def copy(self) -> Explorer:
        """The same state without subscribers, for a render job to read while the user changes this one."""
        return dataclasses.replace(self)

    def _announce(self, names: set[str]) -> None:
        if self._held is not None:
            self._held.update(names)
            return
        changed = frozenset(names)
        for fn in list(self._subscribers):
            fn(changed)

    # --- the state ----------------------------------------------------------------------------------
    def seeds(self) -> list[int]:
        """The seeds of the current page."""
        return list(range(self.page * self.page_size, (self.page + 1) * self.page_size))

    def go_to_seed(self, seed: int) -> None:
        """Select `seed` and show the page that holds it."""
        seed = max(0, int(seed))
        self.update(selected_seed=seed, page=seed // self.page_size, selected_latent=None, selected_image="")

    def turn_page(self, delta: int) -> None:
        """Next (+1) or previous (-1) page; the selection moves to the same cell of the new page."""
        cell = self.selected_seed - self.page * self.page_size
        page = max(0, self.page + delta)
        self.update(page=page, selected_seed=page * self.page_size + max(0, min(cell, self.page_size - 1)),
                    selected_latent=None, selected_image="")

    def select_latent(self, z: torch.Tensor, source: str) -> None:
        """Make an encoded image's code (from the file `source`) the selection."""
        self.update(selected_latent=z, selected_image=source)

    def forget_model(self) -> None:
        """A different model: the encoded selection and the directions meant something only in the old one."""
        self.update(selected_latent=None, selected_image="", directions=None)

    def grid_latents(self, method: Method) -> torch.Tensor:
        """The latents of the page's seeds, scaled (n, ...)."""
        return torch.cat([seed_latent(method, s, self.scale) for s in self.seeds()])

    def base_latent(self, method: Method) -> torch.Tensor:
        """The selection before direction moves: the encoded image's code, or the seed's scaled latent."""
        if self.selected_latent is not None:
            return self.selected_latent.to(method.device)
        return seed_latent(method, self.selected_seed, self.scale)

    def selection_latent(self, method: Method) -> torch.Tensor:
        """The selected latent moved along the principal directions by the slider amounts (1, ...)."""
        return apply_directions(self.base_latent(method), self.directions, self.amounts)

    @property
    def moved(self) -> bool:
        """True when a direction slider is off zero (the selection is no longer a plain seed)."""
        return self.directions is not None and any(a != 0 for a in self.amounts)

    def seed_keyframe(self) -> Keyframe:
        """A keyframe of the selected seed with the current label state and scale."""
        return Keyframe("seed", self.selected_seed, self._labels(), self.scale)

    def selection_keyframe(self, method: Method) -> Keyframe:
        """A keyframe of exactly what the selection shows: a seed when untouched, else its latent."""
        if self.selected_latent is None and not self.moved:
            return self.seed_keyframe()
        return Keyframe("latent", self.selection_latent(method).detach().cpu(), self._labels())

    def _labels(self) -> torch.Tensor | None:
        return None if self.labels is None else self.labels.clone()


_FIELDS = frozenset(f.name for f in dataclasses.fields(Explorer))


def _same(old: Any, new: Any) -> bool:
    """Is `new` what the field already held? Tensors by value (a label bar hands out fresh ones)."""
    if old is new:
        return True
    if isinstance(old, torch.Tensor) or isinstance(new, torch.Tensor):
        return (isinstance(old, torch.Tensor) and isinstance(new, torch.Tensor) and old.shape == new.shape
                and old.dtype == new.dtype and old.device == new.device and torch.equal(old, new))
    if isinstance(old, Directions) or isinstance(new, Directions):
        return False  # found anew: even equal vectors are news to the sliders
    return old == new
