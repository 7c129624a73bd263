"""A terminal view of a run: a progress bar while training and one summary line at the end."""

from __future__ import annotations

import sys
import time


def warning_line(event) -> str | None:
    """The one line an alert or a collapse prints, or None for any other event."""
    from ..engine.events import Status
    from ..engine.state import StatusNote

    if not isinstance(event, Status):
        return None
    if event.state is StatusNote.ALERT:
        return f"alert: {event.message}"
    if event.state is StatusNote.COLLAPSE:
        from ..metrics.collapse import collapse_remedies

        remedies = collapse_remedies(str(event.detail.get("method", "")), "studio train --resume DIR --lr-scale 0.5",
                                     str(event.detail.get("kind", "total")))
        return f"warning: {event.message}; {remedies}"
    return None


def print_warnings(event) -> None:
    """Subscriber for quiet runs: no progress bar, but alerts and collapses still print one line on stderr."""
    if (text := warning_line(event)) is not None:
        print(text, file=sys.stderr, flush=True)


class ProgressBar:
    """Subscriber that draws `[####....] step/total  loss ...  img/s  ETA` on stderr."""

    def __init__(self, total: int, start: int = 0, stream=None, width: int = 28):
        self.total, self.start, self.width = total, start, width
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.last: dict[str, float] = {}
        self.t0 = time.perf_counter()
        self._last_draw = 0.0

    def __call__(self, event) -> None:
        from ..engine.events import Metric, Scalars, Status
        from ..engine.state import StatusNote

        if isinstance(event, Status) and event.state is StatusNote.STARTED and event.detail.get("steps"):
            self.total = int(event.detail["steps"])  # a run sized in epochs knows its steps once the data is open
        elif isinstance(event, Scalars):
            self.last = event.values
            self.draw(event.step)
        elif isinstance(event, Metric):
            self.line(f"step {event.step}: {event.name} = {event.value:.4g} (N={event.n})")
        elif (text := warning_line(event)) is not None:
            self.line(text)

    def draw(self, step: int, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self._last_draw < (0.1 if self.tty else 5.0):
            return
        self._last_draw = now
        frac = min(1.0, step / max(1, self.total))
        bar = "#" * int(frac * self.width) + "." * (self.width - int(frac * self.width))
        done = step - self.start
        rate = done / max(now - self.t0, 1e-9)
        eta = (self.total - step) / rate if rate > 0 else 0
        shown = " ".join(f"{k}={v:.3g}" for k, v in list(self.last.items())[:4] if k != "images_per_sec")
        ips = self.last.get("images_per_sec", 0.0)
        text = f"[{bar}] {step}/{self.total}  {shown}  {ips:.0f} img/s  ETA {eta:.0f}s"
        self.stream.write(("\r" + text + "\033[K") if self.tty else text + "\n")
        self.stream.flush()

    def line(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\033[K")
        self.stream.write(text + "\n")
        self.stream.flush()
