"""The Sample tab: latent explorer, label toggles, directions, morphing timeline and export."""

from .sample_tab import SampleTab
from .selfcheck import selfcheck_hook

__all__ = ["SampleTab", "selfcheck_hook"]
