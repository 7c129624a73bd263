"""What a discriminator sees on small data: differentiable augmentation at a probability p, fixed or adaptive.

- DiffAugment (Zhao, Liu, Lin, Zhu & Han, "Differentiable Augmentation for Data-Efficient GAN
  Training", NeurIPS 2020; their DiffAugment_pytorch.py): every image a discriminator judges, real
  and generated alike, is transformed by the same random family of differentiable operations, so
  the generator's gradient flows through them and it is never pushed to draw the augmentations.
  Policies: `colour` (brightness ± 0.5, saturation × [0, 2], contrast × [0.5, 1.5]), `translation`
  (up to 1/8 of the size, zero padded) and `cutout` (a square of half the size set to zero).
- ADA's adaptive probability (Karras et al., "Training Generative Adversarial Networks with Limited
  Data", NeurIPS 2020): each operation is applied to each image with probability p, and p follows
  the overfitting heuristic r_t = E[sign(D(real))]: every `interval` steps p rises by
  batch·interval / speed when r_t is above the target (0.6) and falls by as much when below.

Everything is vectorised over the batch and stays on the images' device: the probability and the
heuristic's running sums are 0-dim tensors, so no step waits for the host. Randomness comes from
torch's global generator on that device, so a resumed run draws the same transforms.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import torch
import torch.nn.functional as F

POLICIES = ("colour", "translation", "cutout")
_SPELLINGS = {"colour": "colour", "color": "colour", "translation": "translation", "translate": "translation",
              "cutout": "cutout"}
TRANSLATION_RATIO = 0.125  # DiffAugment's: shifts of up to 1/8 of the side
CUTOUT_RATIO = 0.5  # DiffAugment's: a square hole half the side


def parse_policy(text: str) -> tuple[str, ...]:
    """The operations named by `text` ("none", or a comma list of colour, translation, cutout) in canonical
    order; ValueError naming the unknown part and what is allowed."""
    parts = [p.strip().lower() for p in str(text).split(",") if p.strip()]
    if not parts or parts == ["none"]:
        return ()
    unknown = [p for p in parts if p not in _SPELLINGS]
    if unknown:
        raise ValueError(f"augment={text!r}: {', '.join(map(repr, unknown))} is not an augmentation; "
                         f"use none or a comma list of {', '.join(POLICIES)}")
    chosen = {_SPELLINGS[p] for p in parts}
    return tuple(p for p in POLICIES if p in chosen)


def canonical_policy(text: str) -> str:
    """`text` spelled the one way settings store it: "none" or e.g. "colour,translation,cutout"."""
    return ",".join(parse_policy(text)) or "none"


def policy_choices() -> tuple[str, ...]:
    """Every policy in its canonical spelling (the window's choices), none first."""
    return ("none", *(",".join(c) for k in range(1, len(POLICIES) + 1) for c in combinations(POLICIES, k)))


def parse_probability(text: Any) -> float | None:
    """`augment_p` as a number in [0, 1], or None for "auto" (adaptive); ValueError saying what to write."""
    if isinstance(text, str) and text.strip().lower() == "auto":
        return None
    try:
        p = float(text)
    except (TypeError, ValueError):
        raise ValueError(f"augment_p={text!r}: write auto (adaptive, as ADA) or a probability from 0 to 1") from None
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"augment_p={text!r}: a probability must be between 0 and 1 (or auto)")
    return p


def canonical_probability(text: Any) -> str:
    """`augment_p` spelled the one way settings store it: "auto" or a number such as "0.5"."""
    p = parse_probability(text)
    return "auto" if p is None else f"{p:g}"


# --- the operations ---------------------------------------------------------------------------------------
def _chosen(n: int, p: torch.Tensor | float | None, device: torch.device) -> torch.Tensor | None:
    """A (n,) boolean mask of the images an operation applies to (None: all of them)."""
    if p is None or (isinstance(p, float) and p >= 1.0):
        return None
    return torch.rand(n, device=device) < p


def _factor(n: int, low: float, high: float, chosen: torch.Tensor | None, like: torch.Tensor, neutral: float
            ) -> torch.Tensor:
    """(n, 1, 1, 1) uniform draws in [low, high), `neutral` where the image was not chosen."""
    f = torch.rand(n, 1, 1, 1, dtype=like.dtype, device=like.device) * (high - low) + low
    return f if chosen is None else torch.where(chosen.view(n, 1, 1, 1), f, torch.full_like(f, neutral))


def _grouped(x: torch.Tensor, channels: int) -> torch.Tensor:
    """(N, G·C, H, W) -> (N, G, C, H, W): images joined along channels, each judged as one."""
    n, c, h, w = x.shape
    if c % channels:
        raise ValueError(f"{c} channels are not whole images of {channels} channel(s)")
    return x.reshape(n, c // channels, channels, h, w)


def colour(x: torch.Tensor, p: torch.Tensor | float | None = None, channels: int | None = None) -> torch.Tensor:
    """DiffAugment's colour: brightness, saturation and contrast, each drawn per image (and each applied with
    probability p); images joined along channels (groups of `channels`) are changed alike."""
    n, c = x.shape[:2]
    channels = channels or c
    x = x + _factor(n, -0.5, 0.5, _chosen(n, p, x.device), x, 0.0)
    g = _grouped(x, channels)
    grey = g.mean(dim=2, keepdim=True)
    g = (g - grey) * _factor(n, 0.0, 2.0, _chosen(n, p, x.device), x, 1.0).unsqueeze(1) + grey
    mean = g.mean(dim=(2, 3, 4), keepdim=True)
    g = (g - mean) * _factor(n, 0.5, 1.5, _chosen(n, p, x.device), x, 1.0).unsqueeze(1) + mean
    return g.reshape(x.shape)


def translation(x: torch.Tensor, p: torch.Tensor | float | None = None, ratio: float = TRANSLATION_RATIO
                ) -> torch.Tensor:
    """DiffAugment's translation: each image shifted by up to `ratio` of its size, the uncovered border zero."""
    n, _, h, w = x.shape
    sx, sy = int(h * ratio + 0.5), int(w * ratio + 0.5)
    shift_x = torch.randint(-sx, sx + 1, (n, 1, 1), device=x.device)
    shift_y = torch.randint(-sy, sy + 1, (n, 1, 1), device=x.device)
    chosen = _chosen(n, p, x.device)
    if chosen is not None:
        shift_x, shift_y = shift_x * chosen.view(n, 1, 1), shift_y * chosen.view(n, 1, 1)
    batch, gx, gy = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(h, device=x.device),
                                   torch.arange(w, device=x.device), indexing="ij")
    gx = torch.clamp(gx + shift_x + 1, 0, h + 1)
    gy = torch.clamp(gy + shift_y + 1, 0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1])
    return padded.permute(0, 2, 3, 1)[batch, gx, gy].permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, p: torch.Tensor | float | None = None, ratio: float = CUTOUT_RATIO) -> torch.Tensor:
    """DiffAugment's cutout: a square of `ratio` of the size, at a random place in each image, set to zero."""
    n, _, h, w = x.shape
    size_x, size_y = int(h * ratio + 0.5), int(w * ratio + 0.5)
    off_x = torch.randint(0, h + (1 - size_x % 2), (n, 1, 1), device=x.device)
    off_y = torch.randint(0, w + (1 - size_y % 2), (n, 1, 1), device=x.device)
    batch, gx, gy = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(size_x, device=x.device),
                                   torch.arange(size_y, device=x.device), indexing="ij")
    gx = torch.clamp(gx + off_x - size_x // 2, min=0, max=h - 1)
    gy = torch.clamp(gy + off_y - size_y // 2, min=0, max=w - 1)
    mask = torch.ones(n, h, w, dtype=x.dtype, device=x.device)
    mask[batch, gx, gy] = 0
    chosen = _chosen(n, p, x.device)
    if chosen is not None:
        mask = torch.where(chosen.view(n, 1, 1), mask, torch.ones_like(mask))
    return x * mask.unsqueeze(1)


def diff_augment(x: torch.Tensor, policy: tuple[str, ...], p: torch.Tensor | float | None = None,
                 channels: int | None = None) -> torch.Tensor:
    """`x` (N, C, H, W) through each operation of `policy` in order, each applied to each image with
    probability p (None or 1: always). Images joined along channels (groups of `channels`, as pix2pix's
    discriminator sees an input beside its output) get the same transform."""
    for op in policy:
        if op == "colour":
            x = colour(x, p, channels)
        elif op == "translation":
            x = translation(x, p)
        elif op == "cutout":
            x = cutout(x, p)
        else:
            raise ValueError(f"unknown augmentation {op!r}: use {', '.join(POLICIES)}")
    return x


# --- the probability, fixed or adaptive ------------------------------------------------------------------
class Augmenter:
    """A run's augmentation: the policy, its probability p (fixed, or adapted by ADA's heuristic) and the
    heuristic's running sums. `__call__` augments; `observe` takes the discriminator's outputs on real
    images; `step` ends a training step (adjusting p every `interval` steps) and returns what to log
    (p and r_t when adaptive; nothing for a fixed p). Under torch.distributed the ranks pool their sums,
    so every rank keeps the same p."""

    def __init__(self, policy: tuple[str, ...], p: float | None, *, batch_size: int, device: torch.device | str,
                 target: float = 0.6, interval: int = 4, speed_images: float = 100_000.0):
        self.policy = policy
        self.adaptive = p is None
        self.target, self.interval = target, interval
        # How far p moves per adjustment: from 0 to 1 over `speed_images` images (ADA: 500k).
        self.adjustment = batch_size * interval / speed_images
        device = torch.device(device)
        self.fixed = p  # a fixed probability is a plain number: reading it never waits for the device
        self.p = torch.tensor(0.0 if p is None else float(p), device=device)
        self.sign_sum = torch.zeros((), device=device)
        self.sign_count = torch.zeros((), device=device)
        self.r_t = torch.zeros((), device=device)  # the heuristic at the last adjustment
        self.steps = 0

    def __call__(self, x: torch.Tensor, channels: int | None = None) -> torch.Tensor:
        """`x` as the discriminator sees it (groups of `channels` along the channels transformed alike)."""
        if not self.policy or self.fixed == 0.0:
            return x
        p = self.p.to(x.dtype) if self.adaptive else (None if self.fixed >= 1.0 else self.fixed)
        return diff_augment(x, self.policy, p, channels)

    def observe(self, real_scores: torch.Tensor, threshold: float = 0.0) -> None:
        """Add sign(D(real) - threshold) of a batch to the heuristic's sums (threshold: D's decision boundary)."""
        if self.adaptive:
            scores = real_scores.detach().float()
            self.sign_sum = self.sign_sum + torch.sign(scores - threshold).sum()
            self.sign_count = self.sign_count + scores.numel()

    def step(self) -> dict[str, torch.Tensor]:
        """End a training step: every `interval` steps move p towards keeping r_t at the target. Returns p and r_t."""
        self.steps += 1
        if not self.adaptive:
            return {}
        if self.steps % self.interval == 0:
            if torch.distributed.is_available() and torch.distributed.is_initialized():
                # Every rank steps at the same step: one p for all, from every rank's real images.
                sums = torch.stack([self.sign_sum, self.sign_count])
                torch.distributed.all_reduce(sums)
                self.sign_sum, self.sign_count = sums[0], sums[1]
            seen = self.sign_count > 0
            r_t = self.sign_sum / self.sign_count.clamp(min=1.0)
            self.r_t = torch.where(seen, r_t, self.r_t)
            move = torch.sign(r_t - self.target) * self.adjustment
            self.p = torch.where(seen, (self.p + move).clamp(0.0, 1.0), self.p)
            self.sign_sum = torch.zeros_like(self.sign_sum)
            self.sign_count = torch.zeros_like(self.sign_count)
        return {"augment_p": self.p, "augment_rt": self.r_t}

    def state_dict(self) -> dict[str, Any]:
        return {"p": self.p.clone(), "sign_sum": self.sign_sum.clone(), "sign_count": self.sign_count.clone(),
                "r_t": self.r_t.clone(), "steps": self.steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        device = self.p.device
        self.p = state["p"].to(device).clone()
        self.sign_sum = state["sign_sum"].to(device).clone()
        self.sign_count = state["sign_count"].to(device).clone()
        self.r_t = state["r_t"].to(device).clone()
        self.steps = int(state["steps"])
