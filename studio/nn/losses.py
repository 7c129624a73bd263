"""Adversarial losses shared by the methods, written once."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F


def bce_real_loss(real_logits: torch.Tensor) -> torch.Tensor:
    """-log D(x), averaged: the discriminator's term for real data."""
    return F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))


def bce_fake_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """-log(1 - D(G(z))), averaged: the discriminator's term for generated data."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))


def bce_discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-log D(x) - log(1 - D(G(z))), averaged: 2 ln 2 at the equilibrium D = 1/2."""
    return bce_real_loss(real_logits) + bce_fake_loss(fake_logits)


def bce_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The non-saturating generator loss, -log D(G(z))."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def bce_minimax_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The saturating (minimax) generator loss log(1 - D(G(z))), averaged: what the generator minimises
    in the original objective (and in Larsen et al.'s VAE-GAN code); it is log ½ at D = ½."""
    return -bce_fake_loss(fake_logits)


# --- Wasserstein critics (WGAN, WGAN-GP) ---------------------------------------------------------


def wasserstein_estimate(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """E[C(x)] - E[C(G(z))]: the critic maximises it; for a Lipschitz critic it estimates the W-distance."""
    return real_scores.mean() - fake_scores.mean()


def wasserstein_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """-E[C(G(z))]: the generator raises the critic's score of its samples."""
    return -fake_scores.mean()


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor,
                     weight: float = 10.0, alpha: torch.Tensor | None = None, group: int = 1) -> torch.Tensor:
    """weight · E[(‖∇C(x̂)‖₂ - 1)²] at x̂ = α·fake + (1 - α)·real, α ~ U(0, 1) drawn per sample.

    Works for any sample shape (images N×C×H×W, points N×D): α broadcasts over all but the batch
    dimension. The graph is kept so the penalty can be minimised by the critic. For a packing critic
    (`group` = its pack m) one α and one gradient norm cover each run of m samples, the critic's one input.
    """
    n = real.shape[0]
    if alpha is None:
        alpha = torch.rand((n // group,) + (1,) * (real.dim() - 1), device=real.device, dtype=real.dtype)
        alpha = alpha.repeat_interleave(group, dim=0)
    mixed = (alpha * fake.detach() + (1 - alpha) * real.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    norms = grad.reshape(n // group, -1).norm(2, dim=1)
    return weight * ((norms - 1) ** 2).mean()


# --- BEGAN ------------------------------------------------------------------------------------


def reconstruction_loss(v: torch.Tensor, reconstruction: torch.Tensor) -> torch.Tensor:
    """BEGAN's L(v) = mean |v - D(v)| (η = 1): how badly the auto-encoder reconstructs v."""
    return (v - reconstruction).abs().mean()


def began_k_update(k: torch.Tensor, recon_real: torch.Tensor, recon_fake: torch.Tensor, gamma: float,
                   lambda_k: float) -> torch.Tensor:
    """k_{t+1} = clip(k_t + λ_k (γ L(x) - L(G(z))), 0, 1), computed on the device (no host sync)."""
    return (k + lambda_k * (gamma * recon_real.detach() - recon_fake.detach())).clamp(0.0, 1.0)


def began_convergence(recon_real: torch.Tensor, recon_fake: torch.Tensor, gamma: float) -> torch.Tensor:
    """BEGAN's M_global = L(x) + |γ L(x) - L(G(z))|: falls as the samples improve."""
    recon_real, recon_fake = recon_real.detach(), recon_fake.detach()
    return recon_real + (gamma * recon_real - recon_fake).abs()


# --- Least-squares GAN (CycleGAN) --------------------------------------------------------------


def lsgan_discriminator_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """½ (E[(D(x) - 1)²] + E[D(G(z))²]): halved as in CycleGAN, to slow D against G; ¼ at D = ½."""
    return 0.5 * (F.mse_loss(real_scores, torch.ones_like(real_scores))
                  + F.mse_loss(fake_scores, torch.zeros_like(fake_scores)))


def lsgan_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """E[(D(G(z)) - 1)²]: the generator pulls the scores of its samples towards the real label."""
    return F.mse_loss(fake_scores, torch.ones_like(fake_scores))
