"""`PreprocessSettings`: the knobs of the digit paths, with the reason for each default. Every path takes a
`settings` argument defaulting to `DEFAULT`; measurements behind the values are in benchmarks/ROBUSTNESS.md
and benchmarks/REALWORLD.md."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PreprocessSettings:
    """Knobs of the preprocessing; the defaults reproduce MNIST's normalisation."""

    # MNIST's size-normalisation box (pixels): the longer side of a digit's ink becomes this.
    box: int = 20
    # Output side (pixels).
    size: int = 28
    # Where MNIST puts the centre of mass, in pixel-index coordinates (row and column): 14 after MNIST's
    # whole-pixel shift (measured: benchmarks/ROBUSTNESS.md, "Settings").
    centre: float = 14.0
    # An input no larger than this on both sides (and at most 1.5 times as wide as tall) is one digit: a bitmap
    # (USPS 16x16, MNIST 28x28, a 32x32 icon: fast path, no background removal, no splitting, no stroke change)
    # or a tight crop from a form (its paper and the neighbours' fragments removed, see `bitmap_clean_share`).
    bitmap_max_side: int = 64
    # A canvas is area-downscaled by a whole factor until its longer side is at most this before its components
    # are labelled (800 -> 100: 64x fewer pixels); digits are then cut from the full-resolution alpha.
    canvas_find_side: int = 100
    # A photo is area-downscaled until its longer side is at most this before analysis (12 MP -> 1.9 MP).
    photo_work_side: int = 1600
    # Stroke widths (pixels at the 28x28 scale, 2 * area / perimeter) kept as drawn; canvas and photo strokes
    # outside are redrawn at `stroke_target`, so a thin 5-px brush on a 600-px digit (0.2 px after scaling) or a
    # marker filling the loops is brought back into what the model was trained on. The range is inside MNIST's
    # 5th-95th percentile widths (benchmarks/ROBUSTNESS.md, "Settings").
    stroke_range: tuple[float, float] = (1.6, 3.3)
    # The width strokes outside `stroke_range` are redrawn at: MNIST's median.
    stroke_target: float = 2.2
    # Resolution (longer side, pixels) at which a digit's strokes are measured and redrawn: 4x the box, so that
    # the final area-downscale to 20 gives MNIST-like anti-aliased edges.
    stroke_side: int = 80
    # Canvas alpha (0-255) from which a pixel counts as ink when finding components; fainter pixels are the
    # brush's anti-aliased fringe (they still reach the digit image).
    alpha_threshold: int = 64
    # A small image is a clean bitmap (MNIST, USPS, an icon) when at least this share of its pixels sit at the
    # background level itself (shares measured: benchmarks/REALWORLD.md, "The small-image path"); otherwise a crop from
    # paper (a form box, a cheque: noisy and patterned, no level repeated that often) and its paper and
    # neighbours are removed.
    bitmap_clean_share: float = 0.15
    # The paper of such a crop is a grey opening this wide (a fraction of its longer side), wider than any stroke
    # (narrower ones broke bold strokes: benchmarks/REALWORLD.md, "The small-image path").
    crop_kernel_frac: float = 0.6
    # Its ink threshold is at least this fraction of the pen's level (the 99th percentile above the paper).
    crop_pen_frac: float = 0.35
    # Ink level (fraction of full ink, 0-1) from which a pixel counts when `split_digits` finds components.
    ink_threshold: float = 0.3
    # Weakest contrast (fraction of the paper's brightness, 0-1) that can be ink; a page whose darkest marks
    # are fainter than this is blank ("no digit found").
    min_contrast: float = 0.15
    # A photo's threshold is at least this fraction of the pen's level (its darkest 2%): a stroke's edge is
    # at half its darkness, while shadows and ruled lines are fainter than the pen.
    pen_level_frac: float = 0.55
    # Photo marks whose mean ink contrast is below this fraction of the darkest digit-sized mark's are not
    # ink (table texture, the tips of shadows, faint ruled lines): one pen wrote the digits.
    relative_contrast: float = 0.6
    # Candidates shorter than this fraction of the tallest candidate are specks, dots or punctuation.
    min_height_frac: float = 0.4
    # Parts of a shadow wider than this (a fraction of the first pass's kernel; then `shadow_flat_strokes` pen
    # widths) that join a wider part are background, even where narrower than the kernel: a shadow's tips.
    shadow_flat_frac: float = 1 / 3
    shadow_flat_strokes: float = 2.0
    # Deepest shadow so given back, as the fraction of the paper's brightness it takes away: deeper regions (a
    # dark table, the ink of a bold digit touching it) never are: between what shadows and ink take
    # (benchmarks/ROBUSTNESS.md, "Settings").
    shadow_depth: float = 0.55
    # Wide regions deeper than this (same measure) are bold ink or a dark table: the reconstruction neither
    # raises nor crosses them, so a bold digit touching the table beyond the sheet's edge keeps its strokes.
    ink_depth: float = 0.7
    # Longest side (pixels) at which that reconstruction runs: it takes one 3x3 step per pixel of its longest
    # path, so its cost grows with the square of this (timings: benchmarks/ROBUSTNESS.md, "Settings").
    shadow_side: int = 320
    # A photo's candidate of at least this many marks, none holding `texture_share` of their ink, is texture
    # (the grain of a table beyond the sheet's edge, a patterned cloth), not a digit: a digit is one to a few
    # strokes, and a broken or grainy one still has a main piece.
    texture_pieces: int = 8
    texture_share: float = 0.5
    # Smallest digit height in pixels at the analysis resolution; shorter marks are dust.
    min_height_px: int = 8
    # A candidate wider than this many times its height may be touching digits: it is split where a single
    # stroke joins them (the single-stroke rule keeps MNIST's few digits this wide whole: benchmarks/ROBUSTNESS.md).
    split_aspect: float = 1.25
    # A candidate wider than this many times its height is certainly several digits (hardly any MNIST digit is).
    sure_split_aspect: float = 1.7


DEFAULT = PreprocessSettings()
