"""The fast training path's switches and the one place each is applied.

`Performance` says how a method trains: channels_last memory format, bf16 autocast around the
trainer's step, which optimizer implementation (fused, foreach, or torch's plain per-tensor loop)
and whether the networks are compiled. `Performance.resolve` picks the defaults that are right for
a device and a method (RunConfig's "auto" values); the plain path (`Performance.plain()`) is
what a typical reference script does, and the tests prove both compute the same losses.

Only torch is imported here, so methods (studio.methods.base) and the engine can both use it.
"""

from __future__ import annotations

import contextlib
import inspect
from dataclasses import asdict, dataclass
from typing import Any

import torch

AMP_CHOICES = ("auto", "bf16", "off")
OPTIMIZER_CHOICES = ("auto", "fused", "foreach", "plain")
SWITCH_CHOICES = ("auto", "on", "off")


@dataclass(frozen=True)
class Performance:
    """Resolved fast-path switches (no "auto" left): see the module docstring."""

    channels_last: bool = False
    amp: str = "off"  # "bf16" or "off"
    optimizer: str = "plain"  # "fused", "foreach" or "plain"
    compile: bool = False

    @classmethod
    def plain(cls) -> Performance:
        """The reference-script way: contiguous NCHW, float32, per-tensor optimizer loop, eager."""
        return cls()

    @classmethod
    def resolve(cls, device: torch.device | str, method_cls: Any = None, *, channels_last: str | bool = "auto",
                amp: str = "auto", optimizer: str = "auto", compile: bool = False, images: bool = True) -> Performance:
        """The switches for `device` and `method_cls` (its `amp_ok`), with "auto" meaning the right default.

        auto: channels_last on CUDA and on the CPU (where oneDNN's NHWC kernels measured 5-17% faster
        per training step on this project's networks; MPS keeps NCHW); bf16 autocast where the
        method's `amp_ok` holds and the device computes bf16 natively: GPUs with bf16 support, and
        CPUs whose oneDNN has bf16 kernels (AVX512-BF16 or AMX: a 32×32 DCGAN step 1.6× faster on
        one core; CPUs without them emulate bf16 and run it slower, so they stay float32; on a CPU
        only for image runs (`images`): the 2-D point sets' small MLPs ran 0.83× as fast under bf16,
        the casts costing more than the matrix products gain); fused
        optimizers where torch has them (CUDA and CPU Adam), foreach elsewhere (RMSprop). An
        explicit "bf16" on a method whose `amp_ok` is False is refused.
        """
        device = torch.device(device)
        if amp not in AMP_CHOICES:
            raise ValueError(f"amp={amp!r}: choose one of {', '.join(AMP_CHOICES)}")
        if optimizer not in OPTIMIZER_CHOICES:
            raise ValueError(f"optimizer={optimizer!r}: choose one of {', '.join(OPTIMIZER_CHOICES)}")
        amp_ok = bool(getattr(method_cls, "amp_ok", True))
        if amp == "auto":
            worth_it = images or device.type == "cuda"
            amp = "bf16" if amp_ok and worth_it and native_bf16(device) else "off"
        elif amp == "bf16" and not amp_ok:
            name = getattr(method_cls, "name", "this method")
            raise ValueError(f"amp=bf16 is not valid for {name}: {getattr(method_cls, 'amp_reason', '')}".rstrip(": "))
        if isinstance(channels_last, str):
            if channels_last not in SWITCH_CHOICES:
                raise ValueError(f"channels_last={channels_last!r}: choose one of {', '.join(SWITCH_CHOICES)}")
            channels_last = device.type in ("cuda", "cpu") if channels_last == "auto" else channels_last == "on"
        if optimizer == "auto":
            optimizer = "fused"  # where torch has no fused kernel (RMSprop, some devices): foreach
        return cls(bool(channels_last), amp, optimizer, bool(compile))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    # --- applying the switches ---------------------------------------------------------------------
    def autocast(self, device: torch.device | str) -> contextlib.AbstractContextManager:
        """The context the trainer runs each step in: bf16 autocast, or nothing."""
        if self.amp != "bf16":
            return contextlib.nullcontext()
        return torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16)

    def memory_format(self) -> torch.memory_format:
        return torch.channels_last if self.channels_last else torch.contiguous_format

    def optimizer_flags(self, optimizer_cls: type, device: torch.device | str) -> dict[str, bool]:
        """Keyword arguments selecting the optimizer implementation (fused falls back to foreach
        where this optimizer or device has no fused kernel)."""
        accepted = inspect.signature(optimizer_cls.__init__).parameters
        if self.optimizer == "fused" and "fused" in accepted and _fused_supported(optimizer_cls, device):
            return {"fused": True}
        if self.optimizer in ("fused", "foreach") and "foreach" in accepted:
            return {"foreach": True}
        return {"foreach": False} if "foreach" in accepted else {}


def native_bf16(device: torch.device | str) -> bool:
    """Whether `device` computes bf16 in hardware: a GPU with bf16 support, or a CPU for which torch's
    oneDNN reports bf16 kernels (AVX512-BF16 or AMX units; torch's own check, not /proc/cpuinfo)."""
    device = torch.device(device)
    if device.type == "cuda":
        try:
            return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
        except (RuntimeError, AssertionError):
            return False
    if device.type == "cpu":
        return cpu_bf16()
    return False


def cpu_bf16() -> bool:
    """torch's check that oneDNN has bf16 kernels for this CPU (False where oneDNN is absent)."""
    try:
        return torch.backends.mkldnn.is_available() and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a torch build without the check: assume no bf16 units
        return False


def _fused_supported(optimizer_cls: type, device: torch.device | str) -> bool:
    # torch has fused Adam/AdamW/SGD/Adagrad kernels on CUDA (and CPU for some); RMSprop has none.
    device = torch.device(device)
    if device.type not in ("cuda", "cpu", "mps"):
        return False
    try:
        from torch.optim.optimizer import _get_fused_kernels_supported_devices
    except ImportError:  # older torch: only CUDA
        supported = ["cuda"]
    else:
        supported = _get_fused_kernels_supported_devices()
    return device.type in supported and optimizer_cls in (torch.optim.Adam, torch.optim.AdamW, torch.optim.SGD,
                                                           torch.optim.Adagrad)


def keep_implementation(optimizer: torch.optim.Optimizer, flags: list[dict[str, Any]]) -> None:
    """After `load_state_dict`: step as this machine was set to (`flags`, one dict per group, taken
    before loading), not as the checkpoint's machine did; fused kernels want their step counts on the device."""
    for group, saved in zip(optimizer.param_groups, flags, strict=False):
        group.update(saved)
        if group.get("fused") or group.get("capturable"):
            for p in group["params"]:
                state = optimizer.state.get(p, {})
                step = state.get("step")
                if isinstance(step, torch.Tensor) and step.device != p.device:
                    state["step"] = step.to(device=p.device, dtype=torch.float32)
        else:
            for p in group["params"]:
                state = optimizer.state.get(p, {})
                step = state.get("step")
                if isinstance(step, torch.Tensor) and step.device.type != "cpu":
                    state["step"] = step.to("cpu")


def implementation_flags(optimizer: torch.optim.Optimizer) -> list[dict[str, Any]]:
    """The implementation settings of each param group (what `keep_implementation` restores)."""
    return [{k: g[k] for k in ("foreach", "fused", "capturable") if k in g} for g in optimizer.param_groups]
