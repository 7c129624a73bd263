"""Experiments as data: named, versioned recipes that reproduce published figures with the normal
Trainer, judge each trial with the paper's protocol and report measured beside published (no Qt)."""

from .catalogue import RECIPES, get_recipe, published_lines
from .protocols import METRICS, PROTOCOLS, Evaluation
from .recipe import Published, Recipe, Target
from .runner import REPORT_JSON, REPORT_MD, run_experiment

__all__ = ["METRICS", "PROTOCOLS", "RECIPES", "REPORT_JSON", "REPORT_MD", "Evaluation", "Published", "Recipe",
           "Target", "get_recipe", "published_lines", "run_experiment"]
