"""Small real data for toy reproductions: scikit-learn's digits and transformed variants.

`load_digits()` gives the 1,797 8x8 digit images shipped with scikit-learn (no download),
flattened to 64 features in [0, 1]. `split` cuts index sets; `make_transform(name, rng)`
builds one "task" of the merging and continual-learning literature: the same digits seen
through a fixed transformation (rotated, mirrored, inverted, noisy, shifted, or with
scrambled pixel blocks). Randomness comes from the numpy Generator passed in, so a task is
repeatable from the run's seed. Arrays are numpy; move them to torch with
`torch_train.to_device`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

SIDE = 8  # digits are 8 x 8
Transform = Callable[[np.ndarray], np.ndarray]


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """X (1797, 64) float32 scaled by 1/16 to [0, 1], y (1797,) int64 in 0..9.

    Reads the CSV that scikit-learn ships (what `sklearn.datasets.load_digits` reads)
    without importing sklearn, whose import costs ~1.5 CPU s, a sixth of a quick run;
    falls back to sklearn's loader if the file is not where sklearn keeps it.
    """
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("sklearn")
    roots = list(spec.submodule_search_locations or []) if spec else []
    for root in roots:
        path = Path(root) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            raw = np.loadtxt(path, delimiter=",")
            X, y = raw[:, :-1], raw[:, -1]
            break
    else:
        from sklearn.datasets import load_digits as _load

        d = _load()
        X, y = d.data, d.target
    return (X / 16.0).astype(np.float32), y.astype(np.int64)


def split(n: int, fractions: Sequence[float], rng: np.random.Generator) -> list[np.ndarray]:
    """A random permutation of range(n) cut into consecutive parts of the given fractions
    (they must sum to 1; the last part takes the rounding remainder)."""
    if abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError(f"fractions must sum to 1, got {sum(fractions)}")
    perm = rng.permutation(n)
    cuts = np.round(np.cumsum(fractions)[:-1] * n).astype(int)
    return np.split(perm, cuts)


# --------------------------------------------------------------------------- transforms


def _images(X: np.ndarray) -> np.ndarray:
    return X.reshape(-1, SIDE, SIDE)


def _flat(imgs: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(imgs.reshape(-1, SIDE * SIDE))


def rot90(X: np.ndarray) -> np.ndarray:
    """Rotate each image by 90 degrees counter-clockwise."""
    return _flat(np.rot90(_images(X), k=1, axes=(1, 2)))


def flip_lr(X: np.ndarray) -> np.ndarray:
    """Mirror each image left-right."""
    return _flat(_images(X)[:, :, ::-1])


def invert(X: np.ndarray) -> np.ndarray:
    """Inverted intensity 1 - x."""
    return 1.0 - X


def shift(X: np.ndarray, dx: int = 2, dy: int = 0) -> np.ndarray:
    """Translate by (dx right, dy down) pixels, filling with zeros (no wrap-around)."""
    imgs = _images(X)
    out = np.zeros_like(imgs)
    h, w = SIDE - abs(dy), SIDE - abs(dx)
    src_y, dst_y = (0, dy) if dy >= 0 else (-dy, 0)
    src_x, dst_x = (0, dx) if dx >= 0 else (-dx, 0)
    out[:, dst_y:dst_y + h, dst_x:dst_x + w] = imgs[:, src_y:src_y + h, src_x:src_x + w]
    return _flat(out)


def block_permutation(perm: np.ndarray, block: int) -> Transform:
    """Move the (block x block) tiles of each image to the positions given by `perm`."""
    tiles = SIDE // block

    def apply(X: np.ndarray) -> np.ndarray:
        imgs = _images(X)
        t = imgs.reshape(-1, tiles, block, tiles, block).transpose(0, 1, 3, 2, 4)
        t = t.reshape(-1, tiles * tiles, block, block)[:, perm]
        t = t.reshape(-1, tiles, tiles, block, block).transpose(0, 1, 3, 2, 4)
        return _flat(t)

    return apply


def make_transform(name: str, rng: np.random.Generator, *, noise_std: float = 0.35,
                   shift_px: int = 2, block: int = 2) -> Transform:
    """The transform of task `name` (one of TASKS). Randomness (the noise draws, the block
    permutation) comes from `rng`; a noise transform draws fresh noise on every call."""
    if name == "rot90":
        return rot90
    if name == "flip_lr":
        return flip_lr
    if name == "invert":
        return invert
    if name == "noise":
        return lambda X: (X + noise_std * rng.standard_normal(X.shape)).astype(X.dtype)
    if name == "shift":
        return lambda X: shift(X, dx=shift_px)
    if name == "block_perm":
        if SIDE % block:
            raise ValueError(f"block must divide {SIDE}, got {block}")
        return block_permutation(rng.permutation((SIDE // block) ** 2), block)
    raise ValueError(f"unknown task {name!r}; choose from {', '.join(TASKS)}")


TASKS = ("rot90", "flip_lr", "invert", "noise", "shift", "block_perm")
