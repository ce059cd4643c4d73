"""A linear analogue of text-to-image customisation (the setting of DECOR, arXiv 2412.09169).

Text side: K content-token and J style-token embeddings in R^d. Optionally every token
shares one common direction u with weight rho (t = sqrt(rho) u + sqrt(1 - rho) z), a
stand-in for the anisotropy of CLIP's text-embedding space (its tokens sit in a narrow
cone); rho is then the expected cosine between any two tokens.

Image side: "image" features y = A onehot(content) + B onehot(style) in R^D (columns of A
and B are random, about unit norm). A prompt's embedding is the sum of its token embeddings
(a bag of words), and the pretrained generator G (D x d) is the minimum-norm least-squares
map from the K * J pretraining prompts "a <content> in <style> style" to their images. A
content is never seen without a style in pre-training, so G is fixed only on the
(K + J - 1)-dimensional span of the prompts: G e_content alone carries some cross-talk into
other concepts (the entanglement a real text encoder has, here from the data).

Customisation (textual inversion): a new token e* is learned with Adam from a few reference
images of one (content, style) pair under the prompt "a photo in S* style", whose embedding
is e* alone; nothing in the prompt names the content, so e* absorbs it (content leakage).
`decompose` reads any generated image back as content and style coefficients with a linear
probe on the dictionary [A B].
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .adam import Adam
from .embedding_projection import least_squares_probe


def token_embeddings(rng: np.random.Generator, n: int, d: int, rho: float) -> np.ndarray:
    """n token embeddings (n, d), entries N(0, 1/d) (about unit norm), sharing a common
    direction with weight rho: E[cos(t_i, t_j)] ~ rho for i != j."""
    u = rng.standard_normal(d) / np.sqrt(d)
    Z = rng.standard_normal((n, d)) / np.sqrt(d)
    return np.sqrt(rho) * u + np.sqrt(1.0 - rho) * Z


def pair_prompts(C: np.ndarray, S: np.ndarray) -> np.ndarray:
    """Embeddings (K * J, d) of every prompt "a <content k> in <style j> style", k major."""
    return (C[:, None, :] + S[None, :, :]).reshape(-1, C.shape[1])


def pretrain_generator(C: np.ndarray, S: np.ndarray, A: np.ndarray, B: np.ndarray,
                       single_tokens: bool = False) -> np.ndarray:
    """G (D, d): the minimum-norm least-squares map from every pair prompt to its image.

    single_tokens=True adds the K + J one-word prompts ("a <content>" -> A_k, "<style>" ->
    B_j), which fixes G on every token separately (no cross-talk when d >= K + J).
    """
    X = pair_prompts(C, S)
    Y = (A.T[:, None, :] + B.T[None, :, :]).reshape(-1, A.shape[0])
    if single_tokens:
        X, Y = np.vstack([X, C, S]), np.vstack([Y, A.T, B.T])
    return (np.linalg.pinv(X) @ Y).T


@dataclass(frozen=True)
class LinearT2I:
    C: np.ndarray  # (K, d) content-token embeddings
    S: np.ndarray  # (J, d) style-token embeddings
    A: np.ndarray  # (D, K) image features of each content
    B: np.ndarray  # (D, J) image features of each style
    G: np.ndarray  # (D, d) pretrained generator

    @classmethod
    def sample(cls, rng: np.random.Generator, d: int = 32, K: int = 10, J: int = 5,
               D: int = 64, rho: float = 0.0, single_tokens: bool = False) -> LinearT2I:
        E = token_embeddings(rng, K + J, d, rho)
        A = rng.standard_normal((D, K)) / np.sqrt(D)
        B = rng.standard_normal((D, J)) / np.sqrt(D)
        C, S = E[:K], E[K:]
        return cls(C, S, A, B, pretrain_generator(C, S, A, B, single_tokens))

    @property
    def K(self) -> int:
        return self.C.shape[0]

    def image(self, content: np.ndarray, style: np.ndarray,
              salience: np.ndarray | float = 1.0) -> np.ndarray:
        """Ground-truth images salience * A[:, content] + B[:, style] (..., D)."""
        return np.asarray(salience)[..., None] * self.A.T[content] + self.B.T[style]

    def generate(self, X: np.ndarray) -> np.ndarray:
        """Images (..., D) generated from prompt embeddings X (..., d)."""
        return X @ self.G.T

    def decompose(self, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(content coefficients (..., K), style coefficients (..., J)) of images Y."""
        coef = least_squares_probe(Y, np.hstack([self.A, self.B]))
        return coef[..., :self.K], coef[..., self.K:]

    def content_alignment(self, a: np.ndarray, k: np.ndarray) -> np.ndarray:
        """CLIP-T analogue: cosine between the content part A a of an image and the image
        A[:, k] of the prompted content (1: only the prompted content, at any strength)."""
        from .embedding_projection import cosine

        return cosine(a @ self.A.T, self.A.T[k])


def textual_inversion(G: np.ndarray, Y_ref: np.ndarray, e0: np.ndarray, steps: int,
                      lr: float) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Learn one token per task by Adam on the reference reconstruction loss.

    Y_ref (..., T, n_ref, D): each task's reference images; e0 (..., T, d): initial tokens;
    G (D, d), or (..., D, d) for a stack of worlds. The loss of task t is
    mean_i ||G e_t - y_ti||^2 / D (the denoising loss of a linear generator whose prompt is
    the new token alone). Yields (e (..., T, d), loss (..., T)) after every step; e is
    updated in place (copy it to keep it).
    """
    D = G.shape[-2]
    Gt = np.swapaxes(G, -1, -2)
    y_bar = Y_ref.mean(axis=-2)
    spread = np.mean(np.sum((Y_ref - y_bar[..., None, :]) ** 2, axis=-1), axis=-1) / D
    e = np.array(e0, dtype=np.float64)
    opt = Adam(lr=lr)
    for _ in range(steps):
        r = e @ Gt - y_bar  # (..., T, D)
        opt.step(e, 2.0 * r @ G / D)
        r = e @ Gt - y_bar
        yield e, np.sum(r * r, axis=-1) / D + spread


def lora_images(G: np.ndarray, P: np.ndarray, Q: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Images of prompts X (..., T, n, d) under per-task adapted generators G + P_t Q_t^T.

    G (..., D, d); P (..., T, D, r); Q (..., T, d, r): one rank-r LoRA per task.
    """
    base = X @ np.swapaxes(G, -1, -2)[..., None, :, :]
    return base + (X @ Q) @ np.swapaxes(P, -1, -2)


def lora_customisation(G: np.ndarray, Y_ref: np.ndarray, e_s: np.ndarray, P0: np.ndarray,
                       Q0: np.ndarray, steps: int,
                       lr: float) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """DreamBooth/LoRA-style customisation: a fixed rare token e_s, a rank-r update
    G + P Q^T learned per task by Adam on mean_i ||(G + P Q^T) e_s - y_ti||^2 / D.

    G (..., D, d); Y_ref (..., T, n_ref, D); e_s (..., d); P0 (..., T, D, r) (zero, as LoRA
    initialises its up-projection); Q0 (..., T, d, r). Yields (P, Q, loss (..., T)) after
    every step; P and Q are updated in place.
    """
    D = G.shape[-2]
    y_bar = Y_ref.mean(axis=-2)
    spread = np.mean(np.sum((Y_ref - y_bar[..., None, :]) ** 2, axis=-1), axis=-1) / D
    base = (G @ e_s[..., None])[..., None, :, 0]  # (..., 1, D): G e_s
    es = e_s[..., None, :]  # (..., 1, d)
    P, Q = np.array(P0, dtype=np.float64), np.array(Q0, dtype=np.float64)
    opt_p, opt_q = Adam(lr=lr), Adam(lr=lr)
    for _ in range(steps):
        z = (es[..., None, :] @ Q)[..., 0, :]  # (..., T, r): Q^T e_s
        r = base + (P @ z[..., None])[..., 0] - y_bar  # (..., T, D)
        rP = (r[..., None, :] @ P)[..., 0, :]  # (..., T, r): P^T r
        g_p = 2.0 * r[..., :, None] * z[..., None, :] / D
        g_q = 2.0 * es[..., :, None] * rP[..., None, :] / D
        opt_p.step(P, g_p)
        opt_q.step(Q, g_q)
        z = (es[..., None, :] @ Q)[..., 0, :]
        r = base + (P @ z[..., None])[..., 0] - y_bar
        yield P, Q, np.sum(r * r, axis=-1) / D + spread
