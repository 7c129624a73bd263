"""The events a run emits; every view of a run (run directory, GUI, CLI) reads this one stream."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Union

import numpy as np

from .state import FINAL_STATES, RunState, StatusNote  # noqa: F401 - FINAL_STATES: run states after which a run is over


@dataclass
class Scalars:
    """Logged scalars at a step (losses, k_t, images_per_sec, ...)."""

    step: int
    values: dict[str, float]
    time: float = 0.0  # seconds of training so far


@dataclass
class Images:
    """An image grid (uint8 H×W×C) such as the fixed-latent samples or real images."""

    step: int
    name: str  # "samples", "reconstructions", "real"
    image: np.ndarray


@dataclass
class Points:
    """Generated 2-D points (N×2) for the live scatter of the point datasets."""

    step: int
    points: np.ndarray


@dataclass
class Metric:
    """An evaluation figure (FID, KID, mode coverage, ...) with the sample count it used."""

    step: int
    name: str
    value: float
    n: int = 0
    extra: dict = field(default_factory=dict)


@dataclass
class Status:
    """A change of run state (started, paused, resumed, diverged, stopped, finished, error) or a note
    (checkpoint, alert, collapse)."""

    step: int
    state: RunState | StatusNote
    message: str = ""
    path: str = ""  # the checkpoint written, for StatusNote.CHECKPOINT
    detail: dict = field(default_factory=dict)  # facts beyond the message, e.g. a collapse's near-duplicates

    def __post_init__(self) -> None:
        if not isinstance(self.state, (RunState, StatusNote)):  # text from a file: status_from_text first
            raise TypeError(f"Status.state is a RunState or a StatusNote, not {type(self.state).__name__} "
                            f"{self.state!r}")


Event = Union[Scalars, Images, Points, Metric, Status]
Subscriber = Callable[[Event], None]
