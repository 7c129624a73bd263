"""The latent explorer's engine (no Qt): interpolation, keyframes and timelines, rendering,
principal directions, "latest request wins" rendering, and GIF/PNG/MP4 export."""

from .directions import Directions, apply_directions, principal_directions
from .errors import Cancelled, ExportError, KeyframeError
from .export import ExportOptions, ExportResult, export_morph, iter_frames, mp4_available
from .interpolate import EASINGS, MODES, ease_in_out, interpolate, lerp, linear, slerp
from .render import RenderError, RenderResult, generate, render, render_call
from .timeline import Keyframe, ResolvedKeys, Timeline, default_labels, describe_labels, has_latent, seed_latent
from .worker import LatestRequestWorker

__all__ = ["EASINGS", "MODES", "Cancelled", "Directions", "ExportError", "ExportOptions", "ExportResult",
           "Keyframe", "KeyframeError", "LatestRequestWorker", "RenderError", "RenderResult", "ResolvedKeys",
           "Timeline", "apply_directions", "default_labels", "describe_labels", "ease_in_out", "export_morph",
           "generate", "has_latent", "interpolate", "iter_frames", "lerp", "linear", "mp4_available",
           "principal_directions", "render", "render_call", "seed_latent", "slerp"]
