"""Random teacher networks for teacher-student regression (numpy).

`SparseReLUTeacher`: y = sum_j v_j relu(w_j . x_S(j) + b_j), where each hidden unit j
reads only `fan_in` randomly chosen inputs S(j). A small fan-in makes the target
*width-limited*: many units, each simple, which a wide student can match with few
non-zeros per unit but a narrow dense student cannot. fan_in = d gives an ordinary
dense random ReLU teacher.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SparseReLUTeacher:
    W: np.ndarray  # (width, d), fan_in non-zeros per row, N(0, 1/fan_in)
    b: np.ndarray  # (width,)
    v: np.ndarray  # (width,) output weights N(0, 1/width)

    @classmethod
    def draw(cls, rng: np.random.Generator, d: int, width: int, fan_in: int,
             bias_scale: float = 0.3) -> SparseReLUTeacher:
        W = np.zeros((width, d))
        for j in range(width):
            S = rng.choice(d, size=fan_in, replace=False)
            W[j, S] = rng.standard_normal(fan_in) / np.sqrt(fan_in)
        b = bias_scale * rng.standard_normal(width)
        v = rng.standard_normal(width) / np.sqrt(width)
        return cls(W, b, v)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return np.maximum(X @ self.W.T + self.b, 0.0) @ self.v


def teacher_regression(rng: np.random.Generator, teacher: SparseReLUTeacher, n_train: int,
                       n_test: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """x ~ N(0, I); y = teacher(x) standardized with the training mean and std."""
    d = teacher.W.shape[1]
    X_tr, X_te = rng.standard_normal((n_train, d)), rng.standard_normal((n_test, d))
    y_tr, y_te = teacher(X_tr), teacher(X_te)
    mu, sd = y_tr.mean(), y_tr.std()
    return X_tr, (y_tr - mu) / sd, X_te, (y_te - mu) / sd
