"""RunConfig: everything needed to repeat a run, saved as config.json and inside each checkpoint."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..methods.params import ConfigError
from ..metrics.partial_collapse import DEFAULT_THRESHOLD as PARTIAL_THRESHOLD

LR_ANNEAL_FLOOR = 0.02  # where an annealed learning rate ends, as a share of its starting value

DIRECTIONS = ("AtoB", "BtoA")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(h|m|s)")
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1}

_TYPES = {"int": int, "float": (int, float), "str": str, "bool": bool, "dict": dict, "list": list, "None": type(None)}


def _type_ok(value: Any, annotation: Any) -> bool:
    """True when `value` (from JSON) fits a field annotated `annotation` (e.g. 'int | None')."""
    kinds = []
    for part in str(annotation).split("|"):
        kind = _TYPES.get(part.strip().split("[")[0])
        if kind is None:
            return True  # a type this check does not know: validate() judges the value
        kinds.append(kind)
    if isinstance(value, bool) and bool not in kinds:
        return False  # JSON true is not a number of steps
    return any(isinstance(value, kind) for kind in kinds)


@dataclass
class RunConfig:
    """What to train, on what, for how long, and how often to log, sample, save and evaluate."""

    method: str = "dcgan"
    dataset: str = "builtin:shapes"
    preset: str | None = None
    params: dict[str, Any] = field(default_factory=dict)  # overrides on top of the preset
    steps: int = 1000
    seed: int = 0
    device: str = "auto"
    image_size: int | None = None  # resize images to this size (None: the dataset's own)
    channels: int | None = None  # 1 or 3 (None: the dataset's own)
    dataset_count: int | None = None  # limit the number of items loaded (None: all)
    # The condition (studio/data/labels.py): a labelled source's classes, or a multi-label source's
    # attributes (CelebA), kept and relabelled in this order (None: all of them).
    classes: list[str] | None = None
    attributes: list[str] | None = None
    split: str = "train"  # which part of a source with splits to train on
    direction: str = "AtoB"  # paired data: translate A into B, or B into A
    # Run length: `epochs` (when set) decides `steps` once the data is open: ceil(epochs × items ÷ batch).
    epochs: float | None = None
    time_limit: float | None = None  # seconds of this session's training; then finish with a checkpoint
    log_every: int = 10
    sample_every: int = 100
    checkpoint_every: int = 500
    eval_every: int = 0  # 0: no in-training evaluation
    eval_samples: int = 1000
    eval_metrics: list[str] = field(default_factory=lambda: ["kid"])
    fixed_samples: int = 64  # size of the fixed latent batch shown as the sample grid
    # The live collapse monitor (studio/metrics/collapse.py): on the fixed batch at each sample interval.
    collapse_check: bool = True
    collapse_threshold: float = 0.25  # flag when the samples are less varied than this share of real images
    collapse_warmup: int = 500  # steps before a collapse can be called (an untrained generator draws one blob)
    # The partial-collapse alarm (studio/metrics/partial_collapse.py): precision, recall, density and coverage
    # of eval_samples samples every prdc_every steps (0: off), read against the data's real-vs-real baseline.
    prdc_every: int = 500
    partial_threshold: float = PARTIAL_THRESHOLD  # flag when recall stays below this share of its baseline
    # Over this share of the run's last steps every learning rate falls linearly to LR_ANNEAL_FLOOR of
    # its value (0: constant). Settling the generator is what makes 2-D samples land within 3σ of a mode.
    lr_anneal: float = 0.0
    # The experiment this run is a trial of (`studio experiment`, File → Experiments…): the Monitor draws
    # its published figures on the matching charts. Set by Recipe.run_config; None for a plain run.
    experiment: str | None = None
    # The fast path (studio/fastpath.py); "auto" picks what is right for the device and the method.
    channels_last: str = "auto"  # auto (on for CUDA and CPU), on, off
    amp: str = "auto"  # auto (bf16 where the method tolerates it on a GPU or a CPU with bf16 units), bf16, off
    optimizer: str = "auto"  # auto (fused on CUDA where torch has it, else foreach), fused, foreach, plain
    compile: bool = False  # torch.compile the networks (the first steps are slow while it compiles)

    def validate(self) -> None:
        """Raise ConfigError naming the first bad value."""
        for name in ("steps", "log_every", "sample_every", "checkpoint_every", "fixed_samples"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}={getattr(self, name)} must be at least 1")
        if self.eval_every < 0 or self.eval_samples < 2:
            raise ConfigError("eval_every must be 0 (off) or positive, and eval_samples at least 2")
        if not 0 < self.collapse_threshold <= 1 or self.collapse_warmup < 0:
            raise ConfigError(f"collapse_threshold={self.collapse_threshold} must be in (0, 1] and "
                              f"collapse_warmup={self.collapse_warmup} at least 0")
        if self.prdc_every < 0 or not 0 < self.partial_threshold <= 1:
            raise ConfigError(f"prdc_every={self.prdc_every} must be 0 (off) or positive, and "
                              f"partial_threshold={self.partial_threshold} in (0, 1]")
        if not 0.0 <= self.lr_anneal <= 1.0:
            raise ConfigError(f"lr_anneal={self.lr_anneal} must be a share of the steps between 0 (off) and 1")
        if self.epochs is not None and not self.epochs > 0:
            raise ConfigError(f"epochs={self.epochs} must be positive (or none, to count steps)")
        if self.time_limit is not None and not self.time_limit > 0:
            raise ConfigError(f"time_limit={self.time_limit} must be a positive number of seconds (or none)")
        for name in ("classes", "attributes"):
            chosen = getattr(self, name)
            if chosen is not None and (not chosen or not all(isinstance(n, str) and n.strip() for n in chosen)):
                raise ConfigError(f"{name}={chosen!r} must name one or more {name} (or be none, for all)")
        if self.classes is not None and self.attributes is not None:
            raise ConfigError("choose classes or attributes, not both")
        if self.direction not in DIRECTIONS:
            raise ConfigError(f"direction={self.direction!r} must be one of {', '.join(DIRECTIONS)}")
        if self.channels not in (None, 1, 3):
            raise ConfigError(f"channels={self.channels} must be 1 or 3")
        from ..fastpath import AMP_CHOICES, OPTIMIZER_CHOICES, SWITCH_CHOICES

        switches = (("channels_last", SWITCH_CHOICES), ("amp", AMP_CHOICES), ("optimizer", OPTIMIZER_CHOICES))
        for name, choices in switches:
            if getattr(self, name) not in choices:
                raise ConfigError(f"{name}={getattr(self, name)!r} must be one of {', '.join(choices)}")

    def evaluates_at(self, step: int) -> bool:
        """Whether the trainer calls the evaluator after `step`: every eval_every and every prdc_every steps."""
        return any(every and step % every == 0 for every in (self.eval_every, self.prdc_every))

    def steps_for_epochs(self, items: int, batch_size: int) -> int:
        """The steps `epochs` passes over `items` take at `batch_size` (the whole batch, over all processes)."""
        return max(1, math.ceil(self.epochs * items / batch_size - 1e-9))

    def load_options(self) -> dict[str, Any]:
        """The keyword arguments of `open_dataset` that load this run's data whole, as the window's dataset
        panel does; the trainer then applies the run's choice of classes, attributes and direction to it."""
        return {"size": self.image_size, "channels": self.channels, "count": self.dataset_count, "split": self.split}

    def data_choice(self) -> dict[str, Any]:
        """The run's choice within its data: the keyword arguments of `open_dataset` beyond `load_options`."""
        return {"classes": self.classes, "attributes": self.attributes, "direction": self.direction}

    def lr_factor(self, step: int) -> float:
        """The learning-rate multiplier for `step` (counted from 0) under `lr_anneal`."""
        if self.lr_anneal <= 0:
            return 1.0
        start = self.steps * (1.0 - self.lr_anneal)
        if step <= start:
            return 1.0
        done = min(1.0, (step - start) / (self.steps - start))
        return 1.0 - (1.0 - LR_ANNEAL_FLOOR) * done

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunConfig":
        """Build from a dict, ignoring keys this version does not know (old configs still load);
        ConfigError for a value of the wrong type (a damaged or hand-edited config.json)."""
        if not isinstance(data, dict):
            raise ConfigError(f"the run's config is not a JSON object (it holds a {type(data).__name__})")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in fields}
        for name, value in values.items():
            if not _type_ok(value, fields[name].type):
                raise ConfigError(f"the run's config has {name}={value!r}, but it must be {fields[name].type}; "
                                  "repair or remove that entry of config.json")
        return cls(**values)

    @classmethod
    def load(cls, path: Path) -> "RunConfig":
        """Read a config.json (JSON only: a config never runs code)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: cannot read the run's config ({exc})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: the run's config is not a JSON object")
        return cls.from_dict(data.get("run", data))


def parse_duration(text: str) -> float:
    """Seconds in a duration such as `90m`, `2h`, `45s`, `1h30m` or `1.5h`; ValueError saying how to write one."""
    compact = str(text).strip().lower().replace(" ", "")
    parts = _DURATION.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact or len({u for _, u in parts}) != len(parts):
        raise ValueError(f"{text!r} is not a duration; write hours, minutes and seconds such as 90m, 2h, 45s or 1h30m")
    seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"{text!r}: a time limit must be longer than zero")
    return seconds


def format_duration(seconds: float) -> str:
    """`1h30m`, `90s`, `2h`: the short form `parse_duration` reads back."""
    whole = round(seconds)
    if abs(seconds - whole) > 1e-6:
        return f"{seconds:g}s"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return "".join(f"{v}{u}" for v, u in ((hours, "h"), (minutes, "m"), (secs, "s")) if v) or "0s"
