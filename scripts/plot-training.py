#!/usr/bin/env python3
"""Draws docs/training-creatures-64.png, the built-in model's loss curve, from the per-step logs in docs/.

Documentation only (the product needs no Python): Pillow and the standard library, no plotting package.

    python3 scripts/plot-training.py

Top panel: the training reconstruction term (4 pyramid scales x weight 10), mean of each 500 steps, over
the cumulative steps of the runs listed in RUNS. Runs 1-2 take BatchNorm with batch statistics and a
growing frame gap, runs 3+ with frozen running statistics: the curves are not comparable across that
boundary, which is why it is marked. Bottom panel: the held-out ratio (`fomm evaluate --videos 100
--frames 50`: reconstruction L1 over the L1 of repeating the source frame) after each run, as measured and
written in the README; it is not computed here.
"""
import csv
import os
import sys

from PIL import Image, ImageDraw, ImageFont

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FROZEN_START = 47500  # runs 3+ start from run 2's last step and number their own steps from 0
WIDENED_START = FROZEN_START + 73684  # run 6b starts (--init --widen) from run 6a's last step, again from 0
MOTION_START = WIDENED_START + 52500  # run 9 starts (--init --widen) from run 8's last step, again from 0
MOTION128_START = MOTION_START + 15000  # run 10 starts (--init --widen) from run 9's last step, again from 0
GENERATOR64_START = MOTION128_START + 18921  # run 11 starts (--init --widen) from run 10's last step, again from 0
KP_FULL_RES_START = GENERATOR64_START + 12500 + 2959  # run 14 starts (--init) from run 12's last step, again from 0
FULL_RES_START = KP_FULL_RES_START + 11002  # run 16 starts (--init) from run 15's last step, again from 0
KP15_START = FULL_RES_START + 9074  # run 18 starts (--init --widen) from run 17's last step, again from 0
KP25_START = KP15_START + 11501  # run 20 starts (--init --widen) from run 19's last step, again from 0
KP40_START = KP25_START + 6466  # run 22 starts (--init --widen) from run 21's last step, again from 0
KP60_START = KP40_START + 5513  # run 24 starts (--init --widen) from run 23's last step, again from 0
KP80_START = KP60_START + 2929  # run 26 starts (--init --widen) from run 24's last step (not 25's), again from 0
# (label, log, steps added before this log's step numbers, held-out ratio after the run or None)
RUNS = [
    ("run 1", "docs/training-creatures-64-separation.csv", 0, 0.71),
    ("run 2", "docs/training-creatures-64-separation-extended.csv", 0, 0.68),
    ("run 3 (BatchNorm frozen)", "docs/training-creatures-64-frozen-bn.csv", FROZEN_START, 0.61),
    ("run 4", "docs/training-creatures-64-frozen-bn-extended.csv", FROZEN_START, 0.57),
    ("run 5", "docs/training-creatures-64-frozen-bn-extended2.csv", FROZEN_START, 0.54),
    ("run 6a (1,184 steps more)", "docs/training-creatures-64-frozen-bn-extended3.csv", FROZEN_START, None),
    ("run 6b (generator widened)", "docs/training-creatures-64-widened.csv", WIDENED_START, 0.48),
    ("run 7", "docs/training-creatures-64-widened-extended.csv", WIDENED_START, 0.47),
    ("run 8", "docs/training-creatures-64-widened-extended2.csv", WIDENED_START, 0.47),
    ("run 9 (motion nets wider)", "docs/training-creatures-64-widened-motion.csv", MOTION_START, 0.45),
    ("run 10 (their deep levels)", "docs/training-creatures-64-widened-motion128.csv", MOTION128_START, 0.44),
    ("run 11 (generator 64)", "docs/training-creatures-64-widened-generator64.csv", GENERATOR64_START, 0.43),
    ("run 12", "docs/training-creatures-64-widened-generator64-long.csv", GENERATOR64_START, None),
    ("run 14 (detector full res.)", "docs/training-creatures-64-kp-full-res.csv", KP_FULL_RES_START, 0.42),
    ("run 15", "docs/training-creatures-64-kp-full-res-long.csv", KP_FULL_RES_START, 0.41),
    ("run 16 (motion full res.)", "docs/training-creatures-64-full-res.csv", FULL_RES_START, 0.41),
    ("run 17", "docs/training-creatures-64-full-res-long.csv", FULL_RES_START, 0.41),
    ("run 18 (15 keypoints)", "docs/training-creatures-64-full-res-kp15.csv", KP15_START, 0.40),
    ("run 19", "docs/training-creatures-64-full-res-kp15-long.csv", KP15_START, 0.39),
    ("run 20 (25 keypoints)", "docs/training-creatures-64-full-res-kp25.csv", KP25_START, 0.38),
    ("run 21", "docs/training-creatures-64-full-res-kp25-long.csv", KP25_START, 0.38),
    ("run 22 (40 keypoints)", "docs/training-creatures-64-full-res-kp40.csv", KP40_START, 0.37),
    ("run 23", "docs/training-creatures-64-full-res-kp40-long.csv", KP40_START, 0.37),
    ("run 24 (60 keypoints)", "docs/training-creatures-64-full-res-kp60.csv", KP60_START, 0.36),
    ("run 25 (model lost)", "docs/training-creatures-64-full-res-kp60-long.csv", KP60_START, 0.36),
    ("run 26 (80 keypoints)", "docs/training-creatures-64-full-res-kp80.csv", KP80_START, 0.354),
]
COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (23, 190, 207), (188, 189, 34), (127, 127, 127), (0, 0, 128), (128, 0, 0),
           (0, 100, 0), (255, 0, 255), (0, 0, 0), (100, 100, 0)]
WINDOW = 500
LEGEND_ROWS = 13
W, H = 960, 640
LEFT, RIGHT = 70, 20
TOP_PANEL = (30, 400)
BOTTOM_PANEL = (450, 590)
RATIO_RANGE = (0.35, 0.8)


def font(size):
    name = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    return ImageFont.truetype(name, size) if os.path.exists(name) else ImageFont.load_default()


def windows(path, offset):
    """Mean reconstruction term of each WINDOW steps: [(cumulative step at the window's end, mean)]."""
    rows = list(csv.DictReader(open(os.path.join(ROOT, path))))
    out, acc, start = [], [], None
    for r in rows:
        step = int(r["step"]) + offset
        if start is None:
            start = step
        acc.append(float(r["loss_reconstruction"]))
        if step - start >= WINDOW - 10:
            out.append((step, sum(acc) / len(acc)))
            acc, start = [], None
    return out


def main():
    curves = [(label, windows(path, off), ratio) for label, path, off, ratio in RUNS]
    xmax = max(c[1][-1][0] for c in curves)
    ymin, ymax = 0.3, 1.7
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    f, small = font(14), font(12)

    def x(step):
        return LEFT + (W - LEFT - RIGHT) * step / xmax

    def y(v, lo, hi, panel):
        return panel[1] - (panel[1] - panel[0]) * (v - lo) / (hi - lo)

    # Axes and grid.
    for panel, lo, hi, ticks, fmt in ((TOP_PANEL, ymin, ymax, [0.3 + 0.1 * i for i in range(15)], "%.1f"),
                                      (BOTTOM_PANEL, *RATIO_RANGE, [0.4, 0.5, 0.6, 0.7, 0.8], "%.1f")):
        d.rectangle([LEFT, panel[0], W - RIGHT, panel[1]], outline="black")
        for t in ticks:
            yy = y(t, lo, hi, panel)
            d.line([LEFT, yy, W - RIGHT, yy], fill=(225, 225, 225))
            d.text((LEFT - 8, yy), fmt % t, fill="black", font=small, anchor="rm")
    for s in range(0, xmax + 1, 10000):
        for panel in (TOP_PANEL, BOTTOM_PANEL):
            d.line([x(s), panel[0], x(s), panel[1]], fill=(235, 235, 235))
        d.text((x(s), BOTTOM_PANEL[1] + 6), "%dk" % (s // 1000), fill="black", font=small, anchor="mt")
    d.text((W // 2, H - 4), "training steps (batch 8), cumulative over the runs", fill="black", font=f, anchor="mb")
    d.text((LEFT, 8), "training reconstruction term (mean of %d steps)" % WINDOW, fill="black", font=f)
    d.text((LEFT, BOTTOM_PANEL[0] - 22), "held-out ratio: reconstruction L1 / L1 of repeating the source "
           "(100 videos); the goal is under 0.5", fill="black", font=f)
    # The goal line and the BatchNorm boundary.
    goal = y(0.5, *RATIO_RANGE, BOTTOM_PANEL)
    d.line([LEFT, goal, W - RIGHT, goal], fill=(120, 120, 120), width=2)
    bx = x(FROZEN_START)
    d.line([bx, TOP_PANEL[0], bx, TOP_PANEL[1]], fill=(120, 120, 120), width=1)
    d.text((bx - 4, TOP_PANEL[0] + 6), "batch statistics | running statistics (frozen)", fill=(90, 90, 90),
           font=small, anchor="ma")

    points = []
    for i, (label, pts, ratio) in enumerate(curves):
        c = COLOURS[i % len(COLOURS)]
        d.line([(x(s), y(v, ymin, ymax, TOP_PANEL)) for s, v in pts], fill=c, width=2)
        column, row = divmod(i, LEGEND_ROWS)  # two columns: one reached down into the curves
        d.text((W - RIGHT - 440 + 220 * column, TOP_PANEL[0] + 12 + 17 * row), "- " + label, fill=c, font=f)
        if ratio is not None:
            points.append((pts[-1][0], ratio, c))
    for i, (s, r, c) in enumerate(points):
        px, py = x(s), y(r, *RATIO_RANGE, BOTTOM_PANEL)
        d.ellipse([px - 5, py - 5, px + 5, py + 5], fill=c)
        if i == 0 or "%.2f" % r != "%.2f" % points[i - 1][1]:  # a repeated value would overprint its neighbour
            d.text((px - 8, py - 8), "%.2f" % r, fill=c, font=small, anchor="rb")
    d.line([(x(s), y(r, *RATIO_RANGE, BOTTOM_PANEL)) for s, r, _ in points], fill=(150, 150, 150))
    out = os.path.join(ROOT, "docs/training-creatures-64.png")
    img.save(out)
    print("wrote", out)


if __name__ == "__main__":
    sys.exit(main())
