#!/usr/bin/env python3
"""Check a screenshot of a picture: not blank, and not clipped.

Blank: less than 1 % of the pixels differ from the background.  Clipped:
something is drawn in the outermost 4 pixels of the right or bottom edge,
where the margin around the picture should be.  Prints one line; exits 1
when the picture fails.
"""
import sys

from PIL import Image


def main():
    path = sys.argv[1]
    image = Image.open(path).convert("RGB")
    width, height = image.size
    pixels = image.load()
    background = pixels[width - 1, height - 1]

    def drawn(x, y):
        return sum(abs(a - b) for a, b in zip(pixels[x, y], background)) > 60

    sample = [(x, y) for x in range(0, width, 2) for y in range(0, height, 2)]
    ink = sum(1 for x, y in sample if drawn(x, y)) / len(sample)
    edge = [(x, y) for x in range(width - 4, width) for y in range(height)] + \
           [(x, y) for y in range(height - 4, height) for x in range(width)]
    clipped = any(drawn(x, y) for x, y in edge)
    problems = []
    if ink < 0.01:
        problems.append("blank (%.2f %% drawn)" % (100 * ink))
    if clipped:
        problems.append("clipped (drawn at the right or bottom edge)")
    print("%s: %dx%d, %.1f %% drawn, %s" % (path, width, height, 100 * ink, "; ".join(problems) or "ok"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
