"""What every method is: networks, optimizers, a step schedule, `train_phase`, `sample`.

Methods know nothing about files, threads or widgets. The engine draws batches, runs the schedule,
logs the scalars a phase returns and saves `state_dict()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import nn

from ..data.dataset import Dataset, DatasetKind
from ..fastpath import Performance, implementation_flags, keep_implementation
from ..nn.augment import Augmenter, parse_policy, parse_probability
from ..nn.critics import spectral_normalize
from .aids import SMALL_DATA_PRESET, AidParams, small_data_preset
from .averaging import GeneratorAverage
from .params import BaseParams, ConfigError, build_params, params_to_dict, saved_params


@dataclass(frozen=True)
class DataSpec:
    """The shape of the data a method is built for (saved in checkpoints to rebuild it)."""

    kind: DatasetKind
    channels: int = 0
    image_size: int = 0
    point_dim: int = 0
    label_dim: int = 0
    label_names: tuple[str, ...] = ()
    multi_label: bool = False

    @classmethod
    def from_dataset(cls, ds: Dataset) -> "DataSpec":
        return cls(ds.kind, ds.channels, ds.image_size, ds.point_dim, ds.label_dim, tuple(ds.label_names), ds.multi_label)

    def to_dict(self) -> dict:
        return {"kind": self.kind.value, "channels": self.channels, "image_size": self.image_size,
                "point_dim": self.point_dim, "label_dim": self.label_dim,
                "label_names": list(self.label_names), "multi_label": self.multi_label}

    @classmethod
    def from_dict(cls, d: dict) -> "DataSpec":
        return cls(DatasetKind(d["kind"]), d["channels"], d["image_size"], d["point_dim"], d["label_dim"],
                   tuple(d["label_names"]), d["multi_label"])

    @property
    def is_images(self) -> bool:
        return self.kind != DatasetKind.POINTS


@dataclass
class Batch:
    """One training batch on the training device.

    `x`: images in [-1, 1] (N, C, H, W) or points (N, D). `y`: condition vectors (N, label_dim),
    one-hot or multi-hot, or None. `target`: the paired target images (PAIRED) or a batch of the
    second domain (UNPAIRED).
    """

    x: torch.Tensor
    y: torch.Tensor | None = None
    target: torch.Tensor | None = None


@dataclass(frozen=True)
class Plot:
    """A group of scalars that belong on one chart, with reference lines (name -> y)."""

    title: str
    scalars: tuple[str, ...]
    reference_lines: dict[str, float] = field(default_factory=dict)


class Method:
    """Base class of every method; subclasses register themselves with `@register`."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    source: ClassVar[str] = ""
    kinds: ClassVar[tuple[DatasetKind, ...]] = (DatasetKind.IMAGES,)
    Params: ClassVar[type] = BaseParams
    presets: ClassVar[dict[str, dict[str, Any]]] = {}
    scalars: ClassVar[dict[str, str]] = {}  # documented scalar name -> meaning
    plots: ClassVar[tuple[Plot, ...]] = ()
    has_encoder: ClassVar[bool] = False
    # True where `sample` needs a reference image (U-Net VAE-GAN) or translates an input (pix2pix).
    needs_reference: ClassVar[bool] = False
    # How `preview` lays out its grid: "samples" (the samples themselves), "pairs-side-by-side"
    # (input | output per cell) or "pairs-interleaved" (reference cell, then its sample).
    preview_layout: ClassVar[str] = "samples"
    # The fast path (studio/fastpath.py): whether bf16 autocast suits the method (False: why not),
    # and networks torch.compile must leave alone (double backward through them).
    amp_ok: ClassVar[bool] = True
    amp_reason: ClassVar[str] = ""
    no_compile: ClassVar[tuple[str, ...]] = ()
    # The small-data aids (aids.py), for methods whose Params derive from AidParams: the discriminator's
    # decision boundary on real images, for ADA's r_t = E[sign(D(real) - threshold)]: 0 for a logit, ½ for a
    # least-squares output; None where there is none (a Wasserstein critic, BEGAN's auto-encoder).
    real_threshold: ClassVar[float | None] = 0.0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.has_aids():
            # Every method with the aids offers the small-data preset.
            if SMALL_DATA_PRESET not in cls.presets:
                cls.presets = {**cls.presets, SMALL_DATA_PRESET: small_data_preset(cls.real_threshold)}

    @classmethod
    def optional_plots(cls) -> tuple[Plot, ...]:
        """Charts of scalars logged only with some settings, drawn once they arrive (the adaptive
        augmentation's p and r_t); `scalars` and `plots` are what every run of the method logs."""
        return (AUGMENT_PLOT,) if cls.has_aids() else ()

    @classmethod
    def optional_scalars(cls) -> dict[str, str]:
        """The scalars of `optional_plots` and what each means."""
        return dict(AUGMENT_SCALARS) if cls.has_aids() else {}

    @classmethod
    def has_aids(cls) -> bool:
        """True for a method with the small-data aids (augmentation, averaged generator, spectral norm)."""
        return isinstance(cls.Params, type) and issubclass(cls.Params, AidParams)

    def __init__(self, params: Any, spec: DataSpec, device: torch.device | str = "cpu",
                 perf: Performance | None = None):
        self.params = params
        self.spec = spec
        self.device = torch.device(device)
        # How it trains: the device's defaults unless the trainer (or a test) says otherwise.
        self.perf = perf if perf is not None else Performance.resolve(self.device, type(self))
        self.nets: dict[str, nn.Module] = {}
        self.opts: dict[str, torch.optim.Optimizer] = {}
        self.build()
        self.augmenter = self._build_augmenter()
        if getattr(params, "spectral_norm", False):
            for name in self.discriminator_nets():
                spectral_normalize(self.nets[name])
        for net in self.nets.values():
            net.to(self.device, memory_format=self.perf.memory_format())
        ema = getattr(params, "ema", 0.0)
        self.average = GeneratorAverage({n: self.nets[n] for n in self.generator_nets()}, ema) if ema else None
        self.opts.update(self.build_optimizers())
        if self.perf.compile:
            for name, net in self.nets.items():
                if name not in self.no_compile:
                    net.compile()  # in place: parameters and state_dict keys stay as they are

    # --- what a method defines -------------------------------------------------------------
    def build(self) -> None:
        """Create the networks in `self.nets`."""
        raise NotImplementedError

    def build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Create one optimizer per trained part (called after the networks are on the device)."""
        raise NotImplementedError

    def schedule(self) -> list[tuple[str, int]]:
        """The phases of one training step and how often each runs, e.g. [("critic", 5), ("generator", 1)]."""
        return [("step", 1)]

    def train_phase(self, phase: str, batch: Batch) -> dict[str, torch.Tensor]:
        """Run one update of `phase` on `batch`; return detached 0-dim tensors to log."""
        raise NotImplementedError

    def latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw n latent vectors from the prior (on the method's device)."""
        dim = getattr(self.params, "latent_dim")
        return torch.randn(n, dim, generator=generator, device=self._gen_device(generator))

    @torch.no_grad()
    def sample(self, z: torch.Tensor, labels: torch.Tensor | None = None,
               reference: torch.Tensor | None = None) -> torch.Tensor:
        """Generate from latents (and condition vectors): images in [-1, 1] or points."""
        raise NotImplementedError

    @torch.no_grad()
    def preview(self, z: torch.Tensor, labels: torch.Tensor | None = None,
                reference: torch.Tensor | None = None) -> torch.Tensor:
        """The images shown as the run's sample grid (translation methods show input and output)."""
        return self.sample(z, labels, reference)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Map images in [-1, 1] to latents (only methods with `has_encoder`)."""
        raise NotImplementedError(f"{self.name} has no encoder")

    def reconstruct(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Encode then decode images in [-1, 1] (only methods with `has_encoder`)."""
        raise NotImplementedError(f"{self.name} has no encoder, so it cannot reconstruct images")

    def learning_rate_factor(self, step: int, total_steps: int) -> float | None:
        """The method's own schedule: what every optimizer's initial learning rate is multiplied by for step
        `step` (0-based) of `total_steps`, by the step (CycleGAN's linear decay) or by what the run did so far
        (BEGAN's halvings on a stall); None: no schedule of its own (a method with a published one overrides this).
        `schedule_learning_rates` multiplies it by the run's own anneal: neither overwrites the other."""
        return None

    def extra_state(self) -> dict[str, Any]:
        """Training state beyond weights and optimizers (e.g. BEGAN's k_t): tensors and plain data."""
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Restore what `extra_state` returned."""

    # --- shared machinery ---------------------------------------------------------------------
    def optimizer(self, optimizer_cls: type[torch.optim.Optimizer], params: Any,
                  **kwargs: Any) -> torch.optim.Optimizer:
        """`optimizer_cls(params, **kwargs)` in the implementation the fast path chose (fused, foreach or plain).

        Every method's `build_optimizers` makes its optimizers through this one helper.
        """
        return optimizer_cls(params, **kwargs, **self.perf.optimizer_flags(optimizer_cls, self.device))

    def named_optimizer(self, kind: str, params: Any, lr: float, betas: tuple[float, float] = (0.9, 0.999),
                        momentum: float = 0.0) -> torch.optim.Optimizer:
        """An optimizer chosen by a setting's name: "adam" (with `betas`), "rmsprop" or "sgd" (with `momentum`)."""
        if kind == "adam":
            return self.optimizer(torch.optim.Adam, params, lr=lr, betas=betas)
        if kind == "rmsprop":
            return self.optimizer(torch.optim.RMSprop, params, lr=lr)
        if kind == "sgd":
            return self.optimizer(torch.optim.SGD, params, lr=lr, momentum=momentum)
        raise ValueError(f"unknown optimizer '{kind}': use adam, rmsprop or sgd")

    def schedule_learning_rates(self, step: int, total_steps: int, run_factor: float | None = None) -> None:
        """Set every optimizer's learning rate for step `step` of `total_steps`: `learning_rate_factor` times
        `run_factor` (the run's own anneal, RunConfig.lr_anneal), from the rate each group started with.

        The rate each group started from is kept as its "initial_lr" (torch's own schedulers use that
        key), so it is saved with the optimizer and a resumed run continues on the same schedule.
        """
        own = self.learning_rate_factor(step, total_steps)
        if own is None and run_factor is None:
            return
        factor = (1.0 if own is None else own) * (1.0 if run_factor is None else run_factor)
        for opt in self.opts.values():
            for group in opt.param_groups:
                group["lr"] = group.setdefault("initial_lr", group["lr"]) * factor

    def learning_rate_scalar(self, opt: str) -> torch.Tensor:
        """The rate `self.opts[opt]` steps with now (its first group's), as a 0-dim tensor on the device for
        the logged `lr`: read from the optimizer, so the record is the rate used. A new tensor is filled
        only when the rate changes, never copied from the host each step."""
        lr = float(self.opts[opt].param_groups[0]["lr"])
        cached = getattr(self, "_lr_scalar", None)
        if cached is None or cached[0] != lr:
            self._lr_scalar = cached = (lr, torch.full((), lr, device=self.device))
        return cached[1]

    def update(self, opt: str, loss: torch.Tensor, inputs: list[torch.Tensor] | None = None) -> None:
        """One optimizer step of `self.opts[opt]` on `loss`; `inputs` limits which tensors get gradients
        (a generator step need not fill the discriminator's, which its next zero_grad would drop)."""
        self.opts[opt].zero_grad(set_to_none=True)
        loss.backward(inputs=inputs)
        self.opts[opt].step()

    # --- the small-data aids (aids.py): augmentation, the averaged generator, spectral norm ---------------
    def _build_augmenter(self) -> Augmenter | None:
        p = self.params
        if not isinstance(p, AidParams):
            return None
        policy = parse_policy(p.augment)
        probability = parse_probability(p.augment_p)
        if policy and not self.spec.is_images:
            raise ConfigError(f"augment={p.augment}: augmentation transforms images, but this data is 2-D points; "
                              "set augment=none")
        if policy and probability is None and self.real_threshold is None:
            raise ConfigError(f"augment_p=auto: {self.name}'s discriminator has no real/fake boundary for ADA's "
                              "r_t = E[sign(D(real))]; give augment_p a probability such as 1 (or 0.5)")
        if not policy:
            return None
        return Augmenter(policy, probability, batch_size=p.batch_size, device=self.device, target=p.augment_target,
                         speed_images=1000.0 * p.augment_kimg)

    def discriminator_nets(self) -> list[str]:
        """Names of the networks that judge images (spectral normalisation applies to them)."""
        return [n for n in ("discriminator", "critic", "d_a", "d_b") if n in self.nets]

    def for_discriminator(self, images: torch.Tensor) -> torch.Tensor:
        """`images` as the discriminator sees them: augmented by the run's policy (aids.py), identity without one.
        The one place every method hands images to its discriminator through; images joined along channels
        (pix2pix's input beside its output) are transformed alike, and gradients flow through to the generator."""
        return images if self.augmenter is None else self.augmenter(images, self.spec.channels)

    def observe_real(self, scores: torch.Tensor) -> torch.Tensor:
        """Note the discriminator's outputs on (augmented) real images for the adaptive probability; returns them."""
        if self.augmenter is not None and self.real_threshold is not None:
            self.augmenter.observe(scores, self.real_threshold)
        return scores

    def end_step(self) -> dict[str, torch.Tensor]:
        """After every phase of a step: fold the generator into its average and let the augmentation adapt;
        returns the scalars to log (augment_p and augment_rt when adaptive)."""
        if self.average is not None:
            self.average.update(self.nets)
        return self.augmenter.step() if self.augmenter is not None else {}

    @contextmanager
    def averaged_generators(self) -> Iterator[bool]:
        """Within the block the averaged generator stands in for the trained one (sample grids, evaluation);
        yields whether there is one. Training must not run inside it."""
        if self.average is None:
            yield False
            return
        trained = {name: self.nets[name] for name in self.average.models}
        self.nets.update(self.average.modules())
        try:
            yield True
        finally:
            self.nets.update(trained)

    def use_average(self) -> bool:
        """Copy the averaged generator's weights into the generator for good (a method loaded to sample);
        False when there is no average."""
        if self.average is None:
            return False
        with torch.no_grad():
            for name, module in self.average.modules().items():
                self.nets[name].load_state_dict(module.state_dict())
        return True

    @property
    def conditional(self) -> bool:
        """True when the networks take a condition vector."""
        return bool(getattr(self.params, "conditional", False)) and self.spec.label_dim > 0

    @property
    def cond_dim(self) -> int:
        return self.spec.label_dim if self.conditional else 0

    def generator_nets(self) -> list[str]:
        """Names of the networks needed to sample (exported, snapshotted for the Sample tab)."""
        return [n for n in ("generator", "decoder", "encoder") if n in self.nets]

    def train(self, mode: bool = True) -> None:
        for net in self.nets.values():
            net.train(mode)

    def state_dict(self) -> dict[str, Any]:
        state = {
            "nets": {k: v.state_dict() for k, v in self.nets.items()},
            "opts": {k: v.state_dict() for k, v in self.opts.items()},
            "extra": self.extra_state(),
        }
        if self.average is not None:
            state["average"] = self.average.state_dict()
        if self.augmenter is not None:
            state["augment"] = self.augmenter.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any], *, optimizers: bool = True) -> None:
        for k, v in state["nets"].items():
            self.nets[k].load_state_dict(v)
        if self.average is not None:
            if "average" in state:
                self.average.load_state_dict(state["average"])
            else:  # saved before the average was on: it starts from the weights just loaded
                self.average = GeneratorAverage({n: self.nets[n] for n in self.average.models}, self.average.decay)
        if self.augmenter is not None and "augment" in state:
            self.augmenter.load_state_dict(state["augment"])
        if optimizers:
            for k, v in state.get("opts", {}).items():
                flags = implementation_flags(self.opts[k])
                self.opts[k].load_state_dict(v)
                keep_implementation(self.opts[k], flags)  # a checkpoint from another machine steps as this one does
        self.load_extra_state(state.get("extra", {}))

    def params_dict(self) -> dict:
        return params_to_dict(self.params)

    def _gen_device(self, generator: torch.Generator | None) -> torch.device:
        return generator.device if generator is not None else self.device

    @classmethod
    def make_params(cls, preset: str | None = None, overrides: dict | None = None) -> Any:
        """Params from the defaults, a named preset, then user overrides (validated)."""
        layer: dict = {}
        if preset:
            if preset not in cls.presets:
                raise ConfigError(f"unknown preset '{preset}' for {cls.name}; presets: {', '.join(cls.presets) or 'none'}")
            layer = cls.presets[preset]
        return build_params(cls.Params, layer, overrides or {})

    @classmethod
    def restore_params(cls, saved: dict) -> Any:
        """Params of a saved run (a checkpoint's complete settings), as it trained: settings added since it
        was saved take their `legacy` value where they have one."""
        return saved_params(cls.Params, saved)


AUGMENT_PLOT = Plot("Adaptive augmentation", ("augment_p", "augment_rt"), {"target 0.6": 0.6})
AUGMENT_SCALARS = {
    "augment_p": "the probability each augmentation is applied to each image the discriminator sees (augment_p auto)",
    "augment_rt": "ADA's overfitting heuristic r_t = E[sign(D(real))] over the last 4 steps: p rises while it is "
                  "above augment_target (0.6), falls while below",
}


def linear_decay(step: int, total_steps: int, decay_start: float) -> float:
    """1 until the fraction `decay_start` of the steps, then falling linearly to 0 at `total_steps`
    (CycleGAN's schedule: n_epochs at the initial rate, then n_epochs_decay down to zero).

    `step` is the 0-based index of the step about to run; the factor is (T - t) / (T - s) from
    s = round(decay_start · T), so the last step runs at 1 / (T - s) and step T would run at 0.
    """
    start = round(decay_start * total_steps)
    if step < start or total_steps <= start:
        return 1.0
    return max(0.0, (total_steps - step) / (total_steps - start))


def condition_vectors(labels: torch.Tensor | None, spec: DataSpec, device=None) -> torch.Tensor | None:
    """Class indices or multi-hot rows -> float condition vectors (N, label_dim); None passes."""
    if labels is None or spec.label_dim == 0:
        return None
    labels = labels.to(device) if device is not None else labels
    if labels.dtype in (torch.int64, torch.int32, torch.int16, torch.uint8) and labels.dim() == 1:
        return torch.nn.functional.one_hot(labels.long(), spec.label_dim).float()
    return labels.float()
