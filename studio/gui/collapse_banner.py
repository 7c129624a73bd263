"""The window's side of the live collapse monitor (studio/metrics/collapse.py).

When a run's samples collapse, the trainer (or a followed run's metrics.jsonl) sends a
Status("collapse"). The window then names it on the banner with the usual remedies, offers to resume
from the last checkpoint with a lower learning rate, and outlines the near-duplicates on the Monitor
tab's sample grid. A partial collapse (`kind: "partial"`: varied samples that cover too little of the
data) says what share of the real images' neighbourhoods the samples cover against the data's own
baseline, and outlines the nearest-duplicate pairs.
"""

from __future__ import annotations

import html
from typing import Any

RESUME_LOWER_LR = "Resume from the last checkpoint with a lower learning rate"


def checkpoint_note(detail: dict) -> str:
    """Whether the checkpoint a resume would start from was written before the collapse began."""
    step, since = detail.get("checkpoint"), detail.get("since")
    if not isinstance(step, int) or not isinstance(since, int):
        return ""
    if step < since:
        return f" The last checkpoint (step {step}) is from before the collapse began (step {since})."
    return (f" The last checkpoint (step {step}) is from after the collapse began (step {since}): a lower learning "
            "rate may not undo it, and training again is surer.")


def show_collapse(window: Any, event: Any) -> None:
    """Put a collapse on `window`'s banner and outline its near-duplicates on the Monitor tab."""
    from ..engine.rundir import RunDirectory
    from ..metrics.collapse import collapse_remedies

    detail = event.detail
    partial = detail.get("kind") == "partial"
    duplicates = list(detail.get("duplicates", []))
    if duplicates or not partial:
        grid_step = detail.get("grid_step", event.step)
        window.monitor_tab.mark_duplicates(grid_step if isinstance(grid_step, int) else event.step, duplicates,
                                           int(detail.get("cells", 0)), pairs=partial)
    run_dir = window.monitor_tab.run_dir
    action = None
    if run_dir is not None and RunDirectory(run_dir).last_checkpoint.exists():
        action = (RESUME_LOWER_LR, window.resume_lower_lr)
    remedies = collapse_remedies(str(detail.get("method", "")), "the button" if action else "none is written yet",
                                 "partial" if partial else "total")
    message = html.escape(event.message, quote=False)
    if partial:
        pairs = ""
        if duplicates:
            pairs = (" The nearest-duplicate pair is" if len(duplicates) == 1
                     else f" The {len(duplicates)} nearest-duplicate pairs are") + " outlined on the samples."
        text = f"<b>Partial mode collapse:</b> {message}.{pairs}"
    else:
        text = f"<b>Mode collapse:</b> {message}, outlined on the Monitor tab's samples."
    text += f"<br>Remedies: {html.escape(remedies, quote=False)}.{checkpoint_note(detail)}"
    window.banner.show_message(text, "warning", action)
    window.statusBar().showMessage(event.message, 15000)
