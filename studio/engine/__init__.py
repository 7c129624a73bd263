"""The training engine: trainer loop, events, run directory, checkpoints, device policy (no Qt)."""

from .checkpoint import LoadedRun, load_checkpoint, load_method, method_from_state, save_checkpoint
from .config import RunConfig
from .device import describe_device, pick_device
from .events import FINAL_STATES, Event, Images, Metric, Points, Scalars, Status
from .rundir import RunDirectory, RunDirError
from .trainer import Trainer, run_step

__all__ = ["FINAL_STATES", "Event", "Images", "LoadedRun", "Metric", "Points", "RunConfig", "RunDirError",
           "RunDirectory", "Scalars", "Status", "Trainer", "describe_device", "load_checkpoint", "load_method", "method_from_state",
           "pick_device", "run_step", "save_checkpoint"]
