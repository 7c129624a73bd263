"""`studio bench`: every performance figure of docs/BENCHMARKS.md, measured side by side in one run.

One module per part, each returning its section of the result:

- `training.py` — training images/s of DCGAN and WGAN-GP on the studio's fast path (the trainer's
  own `Trainer.train_steps`) against a plain loop written as reference scripts are;
- `augment.py` — what the small-data aids (DiffAugment, adaptive p, the averaged generator) add to a
  32×32 DCGAN step of the same loop;
- `window.py` — images/s headless and with the studio window attached (offscreen), and the UI stall
  while training. The measurement drives Qt, so it is passed in (`measure_window`, from
  `studio.gui.benchmark`): nothing here imports `studio.gui`;
- `fid.py` — FID feature extraction and the Fréchet distance against pytorch-fid;
- `launch.py` — seconds from spawning `python -m studio` to the window's first painted frame;
- `report.py` — the result's keys, the targets judged, the readable table;
- `run.py` — `run_bench()`, which returns one dict with every figure (`studio bench --json` prints it).
"""

from .report import RESULT_KEYS, format_report, targets
from .run import run_bench
from .training import TRAIN_METHODS
from .window import WindowMeasure

__all__ = ["RESULT_KEYS", "TRAIN_METHODS", "WindowMeasure", "format_report", "run_bench", "targets"]
