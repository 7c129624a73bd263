"""A run's outputs beside the trainer's events: built here once, for the command line, the window and
experiments alike.

The trainer records its own run directory (config.json, metrics.jsonl, status.json, sample grids and
checkpoints: `RunDirectory`, subscribed first, on rank 0 only). `run_outputs` adds the views a caller
asks for: the TensorBoard mirror (`tensorboard.py`) and the terminal's progress bar or warnings
(`console.py`), none of them on the ranks of a multi-process run other than 0. What could not be opened
(TensorBoard not installed) is said in `problems`; the caller decides whether the run goes on without it.

    outputs = run_outputs(run_dir, tensorboard=True, console="progress", steps=config.steps)
    trainer = Trainer(config, run_dir=run_dir, subscribers=outputs.subscribers)
    try:
        trainer.run()
    finally:
        outputs.close()
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from . import distributed
from .events import Subscriber

Console = Literal["progress", "warnings"] | None  # a progress bar, only the warnings, or nothing on the terminal


@dataclass
class RunOutputs:
    """The subscribers a run's caller hands the Trainer, and how to close them."""

    subscribers: tuple[Subscriber, ...] = ()
    problems: list[str] = field(default_factory=list)  # an output that could not be opened, and why
    _closers: list = field(default_factory=list)

    def close(self) -> list[str]:
        """Flush and close what holds files open (TensorBoard); returns what did not close cleanly."""
        failed = []
        for close in self._closers:
            try:
                close()
            except Exception as exc:  # noqa: BLE001 - losing the last TensorBoard events must not stop the caller
                failed.append(f"TensorBoard logs not closed cleanly: {exc}")
        self._closers = []
        return failed


def run_outputs(run_dir: str | Path | None, *, tensorboard: bool = False, console: Console = None, steps: int = 0,
                stream=None) -> RunOutputs:
    """The outputs of a run into `run_dir`: TensorBoard event files in <run_dir>/tensorboard when asked,
    and the terminal's `console` view of a run of `steps` steps (on `stream`, default stderr)."""
    if not distributed.current().is_main:
        return RunOutputs()  # rank 0 speaks for the run
    subscribers: list[Subscriber] = []
    outputs = RunOutputs()
    if console == "progress":
        from .console import ProgressBar

        subscribers.append(ProgressBar(steps, stream=stream))
    elif console == "warnings":
        from .console import print_warnings

        subscribers.append(print_warnings)
    if tensorboard and run_dir is not None:
        from .tensorboard import TensorBoardMissing, TensorBoardSubscriber

        try:
            board = TensorBoardSubscriber(run_dir)
        except (TensorBoardMissing, OSError) as exc:
            outputs.problems.append(f"TensorBoard logs cannot be written: {exc}")
        else:
            subscribers.append(board)
            outputs._closers.append(board.close)
    outputs.subscribers = tuple(subscribers)
    return outputs
