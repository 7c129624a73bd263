"""GAN Studio: a desktop studio for training, watching and exploring generative image models."""

__version__ = "0.1.0"
