"""BEGAN, boundary equilibrium GAN (Berthelot, Schumm & Metz 2017; seed 002).

The discriminator is an auto-encoder. It tries to reconstruct real images well and generated ones
badly; the generator tries to make images it reconstructs well. The balance term k_t (a tensor kept
on the device and saved in checkpoints) holds E[L(G(z))] = γ·E[L(x)].

One combined step, as in the paper: both networks are updated from the same D weights, D's loss on
G(z_D) and G's on G(z_G), two noise batches drawn separately (`separate_noise`; off, one fake batch
serves as both, as many implementations do), and k_t is updated after them from L(G(z_G)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from ..nn.autoencoder import AutoEncoderDiscriminator, BEGANDecoder
from ..nn.losses import began_convergence, began_k_update, reconstruction_loss
from .aids import AidParams
from .base import Batch, Method, Plot
from .params import param
from .registry import register


@dataclass
class BEGANParams(AidParams):
    batch_size: int = param(16, "Images per training batch (the paper: 16).", low=1, high=4096)
    latent_dim: int = param(64, "Size of the noise vector z, drawn uniformly from [-1, 1].", low=1, high=1024)
    hidden_dim: int = param(64, "Size of the discriminator's embedding h (the auto-encoder's bottleneck).",
                            low=1, high=1024)
    width: int = param(64, "Filters per conv layer (n); the encoder widens by n at each halving.", low=4, high=512)
    start_size: int = param(8, "Largest side of the decoder's first map h0 and the encoder's last (the paper: 8×8; "
                            "28-pixel images grow from 7×7). 0: the smallest map of 4 to 7 pixels (the studio's "
                            "BEGAN before the paper's).", low=0, high=64, legacy=0)
    skip_connections: bool = param(False, "Join h0, upsampled, to the output of each of the decoders' upsampling "
                                   "steps (the paper's optional skip connections, §3.5.1).")
    gamma: float = param(0.5, "Diversity ratio γ = E[L(G(z))] / E[L(x)]: lower is sharper but less varied.",
                         low=0.0, high=1.0)
    lambda_k: float = param(0.001, "λ_k, the step size of the balance term k_t.", low=0.0, high=1.0)
    lr: float = param(1e-4, "Learning rate of G and D (Adam).", low=1e-7, high=1e-1, log=True)
    beta1: float = param(0.5, "Adam β1.", low=0.0, high=0.999)
    beta2: float = param(0.999, "Adam β2.", low=0.0, high=0.9999)
    lr_decay: bool = param(False, "Halve the learning rate when the convergence measure stalls (see decay_patience); "
                           "it multiplies any other schedule of the run (lr_anneal).")
    decay_patience: int = param(3000, "With lr_decay: every this many steps, halve the lr unless the window's mean "
                                "M_global beat every earlier window's.", low=1, high=10_000_000)
    separate_noise: bool = param(True, "Draw z_D (for D's loss) and z_G (for G's loss and k_t) separately, as the "
                                 "paper does; off, one fake batch serves as both (one G pass fewer).")
    conditional: bool = param(False, "Condition G (label joined to z) and D (label as constant channels).")


@register
class BEGAN(Method):
    name = "began"
    title = "BEGAN (boundary equilibrium GAN)"
    source = "Berthelot, Schumm & Metz, BEGAN: Boundary Equilibrium Generative Adversarial Networks (2017); seed 002"
    description = (
        "The discriminator is an auto-encoder, and the game is played over its reconstruction error: "
        "it learns to rebuild real images faithfully and generated ones poorly, while the generator, "
        "built like the decoder, learns images the auto-encoder rebuilds well. A proportional "
        "controller k_t decides how hard the discriminator pushes on fakes, keeping the generated "
        "images' error at γ times the real images' error; γ trades variety (high) for sharpness "
        "(low). Its convergence measure M_global falls as images improve, so unlike most GAN losses "
        "it is a progress curve. ELU convolutions, no BatchNorm, uniform noise, one combined update."
    )
    Params = BEGANParams
    real_threshold = None  # an auto-encoder judges by reconstruction, with no real/fake boundary for ADA's r_t
    scalars = {
        "k_t": "balance term k_t in [0, 1] after this step: how much D's loss pushes on generated images",
        "convergence": "M_global = L(x) + |γ·L(x) - L(G(z))|: falls as the samples improve",
        "d_loss": "discriminator loss, L(x) - k_t·L(G(z_D))",
        "g_loss": "generator loss, L(G(z_G))",
        "recon_real": "L(x): the auto-encoder's mean absolute reconstruction error on real images",
        "recon_fake": "L(G(z_G)): its reconstruction error on the generator's batch",
        "lr": "the learning rate the optimizers stepped with (halves on a stall when lr_decay is on, times the "
              "run's lr_anneal)",
    }
    plots = (
        Plot("Convergence (M_global)", ("convergence",)),
        Plot("k_t", ("k_t",), {"0": 0.0, "1": 1.0}),
        Plot("Losses", ("d_loss", "g_loss")),
        Plot("Reconstruction error", ("recon_real", "recon_fake")),
        Plot("Learning rate", ("lr",)),
    )
    presets = {
        "paper": {"batch_size": 16, "latent_dim": 64, "hidden_dim": 64, "width": 64, "gamma": 0.5, "lambda_k": 0.001,
                  "lr": 1e-4, "lr_decay": True},
        "tiny": {"batch_size": 16, "latent_dim": 16, "hidden_dim": 16, "width": 8},
    }

    def build(self) -> None:
        p, s = self.params, self.spec
        # "G uses the same architecture (though not the same weights) as the discriminator decoder" (§3.5)
        self.nets["generator"] = BEGANDecoder(p.latent_dim, s.channels, s.image_size, p.width, self.cond_dim,
                                              p.start_size, p.skip_connections)
        self.nets["discriminator"] = AutoEncoderDiscriminator(s.channels, s.image_size, p.width, p.hidden_dim,
                                                              self.cond_dim, p.start_size, p.skip_connections)
        self.k = torch.zeros((), device=self.device)  # k_0 = 0
        self.halvings = 0  # of the learning rate, on stalls of M_global
        self._reset_decay_window(best=math.inf)

    def build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params
        return {name: self.optimizer(torch.optim.Adam, self.nets[name].parameters(), lr=p.lr, betas=(p.beta1, p.beta2))
                for name in ("discriminator", "generator")}

    def latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Uniform noise in [-1, 1], as in the paper."""
        u = torch.rand(n, self.params.latent_dim, generator=generator, device=self._gen_device(generator))
        return u.mul_(2).sub_(1)

    def train_phase(self, phase: str, batch: Batch) -> dict[str, torch.Tensor]:
        p = self.params
        G, D = self.nets["generator"], self.nets["discriminator"]
        y = batch.y if self.conditional else None
        n = batch.x.shape[0]
        fake = self.for_discriminator(G(self.latent(n), y))  # G(z_G), as D sees it
        real = self.for_discriminator(batch.x)
        recon_real = reconstruction_loss(real, D(real, y))
        recon_fake = reconstruction_loss(fake, D(fake, y))  # L(G(z_G))
        if p.separate_noise:
            with torch.no_grad():
                fake_d = self.for_discriminator(G(self.latent(n), y))  # G(z_D): D's loss treats it as given data
            recon_fake_d = reconstruction_loss(fake_d, D(fake_d, y))
        else:
            recon_fake_d = recon_fake
        d_loss = recon_real - self.k * recon_fake_d
        g_loss = recon_fake
        for opt in self.opts.values():
            opt.zero_grad(set_to_none=True)
        # Both players from D's current (not yet updated) weights: D's gradient treats the fakes as
        # given data, G's goes through D.
        d_loss.backward(inputs=list(D.parameters()), retain_graph=True)
        g_loss.backward(inputs=list(G.parameters()))
        self.opts["discriminator"].step()
        self.opts["generator"].step()
        lr = self.learning_rate_scalar("generator")  # the rate these steps took, before a stall halves it
        self.k = began_k_update(self.k, recon_real, recon_fake, p.gamma, p.lambda_k)
        convergence = began_convergence(recon_real, recon_fake, p.gamma)
        if p.lr_decay:
            self._track_stall(convergence)
        return {"k_t": self.k, "convergence": convergence, "d_loss": d_loss.detach(), "g_loss": g_loss.detach(),
                "recon_real": recon_real.detach(), "recon_fake": recon_fake.detach(), "lr": lr}

    # --- learning-rate decay on a stalled convergence measure ---------------------------------
    def learning_rate_factor(self, step: int, total_steps: int) -> float | None:
        """½ per stall of M_global so far ("decaying by a factor of 2 when the measure of convergence
        stalls", §4.1), applied by `schedule_learning_rates` with the run's own anneal; None without lr_decay."""
        return 0.5 ** self.halvings if self.params.lr_decay else None

    def _reset_decay_window(self, best: float | torch.Tensor) -> None:
        self._window_sum = torch.zeros((), device=self.device)
        self._window_steps = 0
        self._best_window = torch.as_tensor(best, dtype=torch.float32).to(self.device)

    def _track_stall(self, convergence: torch.Tensor) -> None:
        # A full window is judged when the next step's value arrives, from the sums as the last phase left
        # them: under torchrun they are the ranks' mean by then, so every rank halves at the same step.
        if self._window_steps >= self.params.decay_patience:
            mean = self._window_sum / self._window_steps
            improved = bool(mean < self._best_window)  # the one host sync per window
            self._reset_decay_window(torch.minimum(mean, self._best_window))
            if not improved:
                self.halvings += 1
        # Accumulate on the device; look at the host once per window, not once per step.
        self._window_sum = self._window_sum + convergence
        self._window_steps += 1

    # --- state beyond weights ---------------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        return {"k_t": self.k, "decay_window_sum": self._window_sum, "decay_window_steps": self._window_steps,
                "decay_best_window": self._best_window, "lr_halvings": self.halvings}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if "k_t" in state:
            self.k = state["k_t"].to(self.device).clone()
        if "decay_window_sum" in state:
            self._window_sum = state["decay_window_sum"].to(self.device).clone()
            self._window_steps = int(state["decay_window_steps"])
            self._best_window = state["decay_best_window"].to(self.device).clone()
        if "lr_halvings" in state:
            self.halvings = int(state["lr_halvings"])
        elif "decay_window_sum" in state:
            # Saved before the halvings were counted, when they were written into the optimizers' rates
            # (loaded before this): count them there, and keep the rate the run started from.
            for opt in self.opts.values():
                for group in opt.param_groups:
                    start = group.setdefault("initial_lr", self.params.lr)
                    self.halvings = max(0, round(math.log2(start / group["lr"]))) if group["lr"] > 0 else 0

    @torch.no_grad()
    def sample(self, z: torch.Tensor, labels: torch.Tensor | None = None,
               reference: torch.Tensor | None = None) -> torch.Tensor:
        """Generated images, clamped to [-1, 1] (the decoder's output is linear, as in the paper)."""
        G = self.nets["generator"]
        cond = labels.to(self.device) if (labels is not None and self.conditional) else None
        return G(z.to(self.device), cond).clamp(-1.0, 1.0)
