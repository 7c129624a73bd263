"""The explorer's state, without Qt: a page of numbered seeds, the selection, the latent scale,
the label state and the direction amounts; and the latents they stand for."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..methods.base import Method
from .directions import Directions, apply_directions
from .timeline import Keyframe, seed_latent


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

    def seeds(self) -> list[int]:
        """The seeds of the current page."""
        return list(range(self.page * self.page_size, (self.page + 1) * self.page_size))

    def go_to_seed(self, seed: int) -> None:
        """Select `seed` and show the page that holds it."""
        self.selected_seed = max(0, int(seed))
        self.page = self.selected_seed // self.page_size
        self.selected_latent, self.selected_image = None, ""

    def turn_page(self, delta: int) -> None:
        """Next (+1) or previous (-1) page; the selection moves to the same cell of the new page."""
        cell = self.selected_seed - self.page * self.page_size
        self.page = max(0, self.page + delta)
        self.selected_seed = self.page * self.page_size + max(0, min(cell, self.page_size - 1))
        self.selected_latent, self.selected_image = None, ""

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
