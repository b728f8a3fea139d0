"""Synthetic character images drawn with NumPy: thick anti-aliased strokes, dark ink on white."""

from __future__ import annotations

import math
from typing import Dict, List, Sequence, Tuple

import numpy as np

Point = Tuple[float, float]

# Strokes in a unit box (x right, y down), as polylines.
_SHAPES: Dict[str, List[Sequence[Point]]] = {
    "1": [[(0.5, 0.1), (0.5, 0.9)]],
    "0": [[(0.5 + 0.28 * math.sin(t * math.pi / 24), 0.5 - 0.4 * math.cos(t * math.pi / 24)) for t in range(49)]],
    "7": [[(0.2, 0.12), (0.8, 0.12), (0.4, 0.9)]],
    "L": [[(0.25, 0.1), (0.25, 0.88), (0.78, 0.88)]],
    "T": [[(0.15, 0.12), (0.85, 0.12)], [(0.5, 0.12), (0.5, 0.9)]],
    "X": [[(0.2, 0.1), (0.8, 0.9)], [(0.8, 0.1), (0.2, 0.9)]],
    "H": [[(0.25, 0.1), (0.25, 0.9)], [(0.75, 0.1), (0.75, 0.9)], [(0.25, 0.5), (0.75, 0.5)]],
    "4": [[(0.6, 0.9), (0.6, 0.1), (0.15, 0.62), (0.85, 0.62)]],
}


def _segment_distance(px: np.ndarray, py: np.ndarray, a: Point, b: Point) -> np.ndarray:
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = np.clip(((px - ax) * dx + (py - ay) * dy) / length2, 0.0, 1.0) if length2 else np.zeros_like(px)
    return np.hypot(px - (ax + t * dx), py - (ay + t * dy))


def ink(char: str, size: int = 64, thickness: float = 6.0) -> np.ndarray:
    """Ink coverage in [0, 1] of a synthetic ``char``, ``size`` x ``size`` float array."""
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    dist = np.full((size, size), np.inf)
    for stroke in _SHAPES[char]:
        pts = [(x * size, y * size) for x, y in stroke]
        for a, b in zip(pts, pts[1:]):
            dist = np.minimum(dist, _segment_distance(xs, ys, a, b))
    return np.clip(thickness / 2 + 0.5 - dist, 0.0, 1.0)


def gray(char: str, size: int = 64, thickness: float = 6.0) -> np.ndarray:
    """Dark ink on white paper, uint8 H x W."""
    return np.round(255 * (1 - ink(char, size, thickness))).astype(np.uint8)


def chars() -> List[str]:
    """The characters this module can draw."""
    return list(_SHAPES)
