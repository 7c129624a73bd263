"""The training engine: trainer loop, events, run directory, checkpoints, device policy (no Qt).

Names load on first use (PEP 562), so a light module such as `studio.engine.state` can be imported
by the window before torch is.
"""

from importlib import import_module

_HOMES = {
    "LoadedRun": "checkpoint", "load_checkpoint": "checkpoint", "load_method": "checkpoint",
    "method_from_state": "checkpoint", "save_checkpoint": "checkpoint",
    "RunConfig": "config",
    "describe_device": "device", "pick_device": "device",
    "FINAL_STATES": "state", "RunState": "state",
    "Event": "events", "Images": "events", "Metric": "events", "Points": "events", "Scalars": "events",
    "Status": "events",
    "RunDirectory": "rundir", "RunDirError": "rundir",
    "Trainer": "trainer", "run_step": "trainer",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_HOMES[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
