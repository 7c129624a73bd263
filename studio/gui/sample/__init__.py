"""The Sample tab: latent explorer, label toggles, directions, morphing timeline and export.

`SampleView` (the window's view of the tab) imports without torch; `SampleTab` and
`selfcheck_hook` load torch, so they are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .protocol import SampleView

if TYPE_CHECKING:
    from .sample_tab import SampleTab
    from .selfcheck import selfcheck_hook

__all__ = ["SampleTab", "SampleView", "selfcheck_hook"]


def __getattr__(name: str) -> Any:
    if name == "SampleTab":
        from .sample_tab import SampleTab

        return SampleTab
    if name == "selfcheck_hook":
        from .selfcheck import selfcheck_hook

        return selfcheck_hook
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
