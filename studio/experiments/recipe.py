"""What an experiment is: a named, versioned recipe (data, method, settings, steps, evaluation, the
published figure it reproduces and the target it must reach), plain data that runs the normal Trainer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..engine.config import RunConfig

# An experiment's figure -> (the in-training evaluator's metric of the same thing, the factor between them).
MONITOR_METRICS = {"modes": ("modes_covered", 1.0), "high_quality": ("high_quality", 0.01),
                   "classes_covered": ("classes_covered", 1.0)}


@dataclass(frozen=True)
class Published:
    """A figure from a paper: `value` of `metric` (a key the evaluation reports), and where it was published."""

    metric: str
    value: float
    source: str


@dataclass(frozen=True)
class Target:
    """What a run must reach: `metric` at least (or at most) `value`, averaged over the trials; with
    `relative_to`, at least (or most) that other figure of the same trials plus `value` (the averaged
    generator's precision against its raw generator's)."""

    metric: str
    value: float
    at_least: bool = True
    relative_to: str = ""

    def met(self, measured: float, reference: float | None = None) -> bool:
        """Whether `measured` meets it (`reference`: the `relative_to` figure; missing, it is not met)."""
        if self.relative_to:
            if reference is None:
                return False
            measured = measured - reference
        return measured >= self.value if self.at_least else measured <= self.value

    def __str__(self) -> str:
        if self.relative_to:
            return f"{'≥' if self.at_least else '≤'} {self.relative_to}" + (f" {self.value:+g}" if self.value else "")
        return f"{'≥' if self.at_least else '≤'} {self.value:g}"


@dataclass(frozen=True)
class Recipe:
    """One experiment. `params` override `preset`; `config` sets other RunConfig fields (image size,
    log and sample intervals); `published_steps` is the paper's training budget in steps, when it
    differs from what the recipe runs; `time_limit_minutes` is the CPU budget the recipe promises."""

    name: str
    version: int
    title: str
    description: str
    dataset: str
    method: str
    evaluation: str
    steps: int
    preset: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    samples: int = 2500
    published: tuple[Published, ...] = ()
    figure: str = ""
    targets: tuple[Target, ...] = ()
    published_steps: int | None = None
    published_trials: int | None = None
    time_limit_minutes: float | None = None
    requires: str = ""  # how to get data that does not come with the studio (said when it is missing)

    def run_config(self, *, seed: int = 0, dataset: str | None = None, steps: int | None = None,
                   device: str = "auto", amp: str | None = None) -> RunConfig:
        """The RunConfig of one trial: the recipe's, with the trial's seed and any overrides (`amp`: the
        precision, "auto" by default, "bf16" or "off" to check a recipe under the other one)."""
        config = RunConfig(method=self.method, dataset=dataset or self.dataset, preset=self.preset,
                           params=dict(self.params), steps=steps or self.steps, seed=seed, device=device,
                           experiment=self.name)
        for key, value in self.config.items():
            setattr(config, key, value)
        if amp is not None:
            config.amp = amp
        config.validate()
        return config

    def monitor_lines(self) -> dict[str, dict[str, float]]:
        """The published figures as reference lines for the Monitor's metric charts: in-training metric
        name -> {label: value}, in that metric's units (the evaluator logs high quality as a share)."""
        lines: dict[str, dict[str, float]] = {}
        for p in self.published:
            if p.metric in MONITOR_METRICS:
                key, scale = MONITOR_METRICS[p.metric]
                # A percentage in the paper, a share on the chart: the label gives both.
                label = f"published {p.value:g}% = {p.value * scale:g}" if scale == 0.01 else f"published {p.value:g}"
                lines.setdefault(key, {})[label] = p.value * scale
        return lines

    def describe(self) -> dict[str, Any]:
        """Plain facts for `studio experiments --json` and the window's list."""
        return {
            "name": self.name, "version": self.version, "title": self.title, "description": self.description,
            "dataset": self.dataset, "method": self.method, "preset": self.preset, "params": dict(self.params),
            "config": dict(self.config), "steps": self.steps, "published_steps": self.published_steps,
            "evaluation": self.evaluation, "samples": self.samples, "figure": self.figure,
            "published": [{"metric": p.metric, "value": p.value, "source": p.source} for p in self.published],
            "published_trials": self.published_trials,
            "targets": [{"metric": t.metric, "value": t.value, "at_least": t.at_least, "relative_to": t.relative_to,
                         "text": str(t)} for t in self.targets],
            "time_limit_minutes": self.time_limit_minutes, "requires": self.requires,
        }
