"""The one wording of a mode collapse, shared by every detector that calls one."""

from __future__ import annotations


def collapse_message(step: int, reasons: list[str], *, kind: str = "total", final: bool = False,
                     since: int | None = None) -> str:
    """The one wording of a collapse, whichever detector saw it (the live monitor on the sample grid, collapse.py; the
    partial-collapse alarm on precision/recall (partial_collapse.py), or the evaluator's fall in diversity
    or coverage, engine/evaluation.py): what and when (`final`: the verdict at the run's end), then why."""
    low = f" (low since step {since})" if since is not None else ""
    if final:
        head = f"the run ended {'collapsed' if kind == 'total' else 'partly collapsed'} at step {step}{low}"
    else:
        head = f"{'possible mode collapse' if kind == 'total' else 'partial mode collapse'} at step {step}{low}"
    return f"{head}: " + "; ".join(reasons)
