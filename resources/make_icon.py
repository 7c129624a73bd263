"""Regenerate resources/icon.png (256 px) from the same drawing as icon.svg, with PIL only.

Run: python resources/make_icon.py (no SVG renderer needed).
"""

from pathlib import Path

from PIL import Image, ImageDraw

SCALE = 4  # draw large, then downsample: smooth edges without an SVG renderer


def draw(size: int = 256) -> Image.Image:
    s = SCALE
    big = size * s
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    # The background gradient, clipped to a rounded square.
    grad = Image.new("RGBA", (big, big))
    top, bottom = (43, 58, 143), (21, 26, 58)
    gd = ImageDraw.Draw(grad)
    for y in range(big):
        t = y / (big - 1)
        gd.line([(0, y), (big, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)) + (255,))
    mask = Image.new("L", (big, big), 0)
    ImageDraw.Draw(mask).rounded_rectangle([8 * s, 8 * s, 248 * s, 248 * s], radius=48 * s, fill=255)
    img.paste(grad, (0, 0), mask)
    d = ImageDraw.Draw(img)
    for cx, cy, r in ((52, 70, 7), (76, 98, 5), (46, 122, 6), (80, 146, 7), (54, 176, 5), (84, 196, 4)):
        d.ellipse([(cx - r) * s, (cy - r) * s, (cx + r) * s, (cy + r) * s], fill=(143, 166, 255, 220))
    d.line([(96 * s, 128 * s), (130 * s, 128 * s)], fill=(228, 230, 238, 255), width=10 * s)
    d.line([(118 * s, 112 * s), (136 * s, 128 * s), (118 * s, 144 * s)], fill=(228, 230, 238, 255), width=10 * s,
           joint="curve")
    colours = [(230, 76, 60), (60, 180, 100), (60, 110, 230), (240, 200, 40), (200, 80, 220), (70, 210, 220)]
    for i, colour in enumerate(colours):
        x = 150 + 42 * (i % 2)
        y = 64 + 42 * (i // 2)
        d.rounded_rectangle([x * s, y * s, (x + 36) * s, (y + 36) * s], radius=6 * s, fill=colour + (255,))
    white = (255, 255, 255, 230)
    d.ellipse([158 * s, 72 * s, 178 * s, 92 * s], fill=white)
    d.rectangle([201 * s, 115 * s, 219 * s, 133 * s], fill=white)
    d.polygon([(168 * s, 154 * s), (180 * s, 176 * s), (156 * s, 176 * s)], fill=white)
    return img.resize((size, size), Image.LANCZOS)


if __name__ == "__main__":
    out = Path(__file__).with_name("icon.png")
    draw().save(out)
    print(f"wrote {out}")
