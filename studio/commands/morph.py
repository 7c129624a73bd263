"""`studio morph`: a morph between keyframes (seeds or encoded images) as a GIF, PNG strip or MP4."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from . import UserError

KEYS_HELP = ("comma-separated keyframes: seed:N (that seed's sample), image:PATH (the image encoded, for "
             "models with an encoder); add @LABEL for a key's own label, e.g. seed:3@circle,seed:8@square")


def add_command(sub) -> None:
    p = sub.add_parser("morph", help="morph between seeds or encoded images; write a GIF, PNG strip or MP4",
                       description="Walk the model's latent space from keyframe to keyframe and write the frames.")
    p.add_argument("--run", required=True, help="run directory or checkpoint file")
    p.add_argument("--keys", required=True, help=KEYS_HELP)
    p.add_argument("--frames", type=int, default=24, help="frames per segment, from one key to the next (default 24)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--slerp", dest="mode", action="store_const", const="slerp",
                      help="spherical interpolation (the default: keeps latents at the prior's typical norm)")
    mode.add_argument("--lerp", dest="mode", action="store_const", const="lerp", help="straight-line interpolation")
    p.set_defaults(mode="slerp")
    p.add_argument("--easing", default="linear", help="linear, ease-in-out, ease-in or ease-out (default linear)")
    p.add_argument("--loop", action="store_true",
                   help="walk back from the last key to the first (the last frame is the first key again)")
    p.add_argument("--label", default=None,
                   help="label for keys without @LABEL (class name or index; join attributes with +)")
    p.add_argument("--scale", type=float, default=1.0, help="latent scale (truncation) of seed keys (default 1)")
    p.add_argument("--out", default="morph.gif",
                   help="output file: .gif, .png (a strip of the frames) or .mp4 (default morph.gif)")
    p.add_argument("--fps", type=float, default=12.0, help="frames per second (default 12)")
    p.add_argument("--size", type=int, default=None, help="side of each image in pixels (default: the model's size)")
    p.add_argument("--plays", type=int, default=0, help="GIF: times to play, 0 = forever (default 0)")
    p.add_argument("--grid", type=int, default=1,
                   help="several morphs in one animation: N variations, seed keys moved by 1000 each (default 1)")
    p.add_argument("--columns", type=int, default=None, help="grid columns (default: square-ish)")
    p.add_argument("--reference", default=None,
                   help="reference/input image file or dataset source (U-Net VAE-GAN, pix2pix, CycleGAN)")
    p.add_argument("--checkpoint", default="last", choices=("last", "best"), help="which checkpoint of a run directory")
    p.add_argument("--raw", action="store_true",
                   help="use the generator's own last weights, not their moving average (runs trained with ema)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, ...")
    p.set_defaults(handler=run)


def parse_keys(text: str, method, default_label: str | None) -> list:
    """Keyframes from the --keys text; UserError names the bad key and shows the right form."""
    from ..latent import Keyframe
    from .sample import label_vectors

    keys = []
    for raw in (part.strip() for part in text.split(",")):
        if not raw:
            continue
        body, _, label = raw.partition("@")
        kind, sep, value = body.partition(":")
        kind = kind.strip().lower()
        if not sep or kind not in ("seed", "image"):
            raise UserError(f"--keys {raw!r}: write seed:N or image:PATH (optionally @LABEL)")
        if kind == "seed":
            try:
                seed = int(value)
            except ValueError:
                raise UserError(f"--keys {raw!r}: the seed must be a whole number, e.g. seed:3") from None
            key_value = seed
        else:
            if not method.has_encoder:
                raise UserError(f"--keys {raw!r}: {method.name} has no encoder, so images cannot be keys; "
                                f"use seed:N keys, or a run of a model with an encoder (vae, alpha-gan)")
            if not value or not Path(value).is_file():
                raise UserError(f"--keys {raw!r}: no such image file {value!r}")
            key_value = Path(value)
        wanted = label or default_label
        if wanted and not method.conditional:
            raise UserError(f"--keys {raw!r}: {method.name} on this run takes no labels; leave out @LABEL and --label")
        try:
            labels = label_vectors(method.spec, wanted, 1) if wanted else None
        except UserError as exc:
            raise UserError(f"--keys {raw!r}: {exc}") from None
        keys.append(Keyframe(kind, key_value, None if labels is None else labels[0]))
    if not keys:
        raise UserError("--keys: give at least one keyframe, e.g. seed:3,seed:8")
    return keys


def _reference(source: str | None, method, config: dict):
    """The reference/input image for models that generate from one (None for the others)."""
    if not method.needs_reference:
        return None
    if source and Path(source).is_file():
        from ..latent.timeline import image_tensor

        return image_tensor(Path(source), method.spec).unsqueeze(0).to(method.device)
    from ..latent.references import reference_images, run_direction

    return reference_images(source or config.get("run", config).get("dataset", ""), method, 1, 0,
                            run_direction(config))


def run(args: argparse.Namespace) -> int:
    from ..engine import load_method, pick_device
    from ..latent import Cancelled, ExportError, ExportOptions, KeyframeError, Timeline, export_morph

    if args.frames < 1:
        raise UserError(f"--frames {args.frames}: use at least 1 frame per segment")
    if args.grid < 1:
        raise UserError(f"--grid {args.grid}: use at least 1")
    loaded = load_method(args.run, pick_device(args.device), which=args.checkpoint, raw=args.raw)
    method = loaded.method
    keys = parse_keys(args.keys, method, args.label)
    keys = [dataclasses.replace(k, scale=args.scale) if k.kind == "seed" else k for k in keys]
    timeline = Timeline(keys, args.frames, args.mode, args.easing, args.loop)
    timelines = [timeline.with_seed_offset(1000 * i) for i in range(args.grid)]
    options = ExportOptions(size=args.size, fps=args.fps, plays=args.plays, columns=args.columns)
    tty = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if tty:
            sys.stderr.write(f"\rrendering {done}/{total} frames\033[K")
            sys.stderr.flush()

    try:
        result = export_morph(args.out, method, timelines, options, _reference(args.reference, method, loaded.config),
                              progress=progress)
    except (KeyframeError, ExportError) as exc:
        raise UserError(str(exc)) from None
    except Cancelled:
        raise UserError("cancelled") from None
    if tty:
        sys.stderr.write("\r\033[K")
    print(f"wrote {result.path} ({result.frames} frames, {result.width}×{result.height}, "
          f"{args.fps:g} fps; {loaded.path}, step {loaded.step})")
    return 0
