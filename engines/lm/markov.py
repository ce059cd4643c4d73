"""Synthetic languages with an exactly computable entropy rate (numpy).

A k-th order Markov chain over a vocabulary of V tokens: the next token depends on the
last `order` tokens through a row P[s] of a (V**order, V) table, s the base-V number of
that context (oldest token most significant). Rows are drawn from Dirichlet(alpha): a
small alpha gives peaked rows, a low-entropy "language".

The chain on contexts moves s = (x_1..x_k) -> s' = (x_2..x_k, c) with probability P[s, c].
Its stationary distribution pi (computed by power iteration on that sparse move) gives the
entropy rate  H = sum_s pi(s) H(P[s])  (Cover & Thomas, Thm 4.2.4): the expected log-loss,
in nats, of the Bayes predictor that knows P, hence a floor for every language model
whose context holds at least `order` tokens. Sequences start from pi, so every position
of a sampled sequence is stationary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MarkovChain:
    P: np.ndarray  # (V**order, V): next-token distribution given the last `order` tokens
    V: int
    order: int

    @classmethod
    def dirichlet(cls, rng: np.random.Generator, V: int, order: int, alpha: float,
                  floor: float = 1e-9) -> MarkovChain:
        """Rows ~ Dirichlet(alpha). A floor of 1e-9 per entry (then renormalised) keeps every
        transition possible, so the chain is irreducible and aperiodic and pi is unique
        (small-alpha Gamma draws can underflow to exactly 0); it moves H by < 1e-6 nats."""
        P = rng.dirichlet(np.full(V, alpha), size=V ** order)
        P = np.maximum(P, floor)
        return cls(P / P.sum(1, keepdims=True), V, order)

    @property
    def n_states(self) -> int:
        return self.V ** self.order

    def state_of(self, context: np.ndarray) -> np.ndarray:
        """Base-V index of the last `order` tokens of each row of `context` (..., >= order)."""
        s = np.zeros(context.shape[:-1], dtype=np.int64)
        for j in range(self.order):
            s = s * self.V + context[..., context.shape[-1] - self.order + j]
        return s

    def tokens_of(self, states: np.ndarray) -> np.ndarray:
        """Inverse of `state_of`: (n,) states -> (n, order) tokens."""
        out = np.empty((*states.shape, self.order), dtype=np.int64)
        s = states.copy()
        for j in range(self.order - 1, -1, -1):
            out[..., j] = s % self.V
            s //= self.V
        return out

    def step_distribution(self, dist: np.ndarray) -> np.ndarray:
        """One move of the context chain: dist over contexts -> dist over the next contexts.
        s' = (s mod V**(k-1)) * V + c, so summing the mass of s * P[s, c] over the oldest
        token x_1 lands it on s'."""
        flow = dist[:, None] * self.P  # (S, V): mass of (s, c)
        return flow.reshape(self.V, -1).sum(0)

    def stationary(self, tol: float = 1e-14, max_iter: int = 100_000) -> np.ndarray:
        pi = np.full(self.n_states, 1.0 / self.n_states)
        for _ in range(max_iter):
            nxt = self.step_distribution(pi)
            if np.abs(nxt - pi).sum() < tol:
                return nxt / nxt.sum()
            pi = nxt
        raise RuntimeError("power iteration did not converge")

    def row_entropies(self) -> np.ndarray:
        return -(self.P * np.log(self.P)).sum(1)

    def entropy_rate(self) -> float:
        """H = sum_s pi(s) H(P[s]) in nats per token."""
        return float(self.stationary() @ self.row_entropies())

    def sample(self, rng: np.random.Generator, n_seq: int, length: int) -> np.ndarray:
        """n_seq independent stationary sequences of `length` tokens, (n_seq, length) int64.
        The first `order` tokens are a context drawn from pi; the chains advance together
        (one vectorised draw per position)."""
        k = self.order
        if length < k:
            raise ValueError(f"length must be >= order ({k}), got {length}")
        out = np.empty((n_seq, length), dtype=np.int64)
        s = rng.choice(self.n_states, size=n_seq, p=self.stationary())
        out[:, :k] = self.tokens_of(s)
        cum = np.cumsum(self.P, axis=1)
        cum[:, -1] = 1.0
        tail = self.V ** (k - 1)
        for t in range(k, length):
            u = rng.random(n_seq)
            c = (u[:, None] >= cum[s]).sum(1)
            out[:, t] = c
            s = (s % tail) * self.V + c
        return out

    def log_prob_next(self, context: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        """log P(next | context): the Bayes predictor's log-likelihood of each window."""
        return np.log(self.P[self.state_of(context), nxt])


def windows(tokens: np.ndarray, context: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (context tokens -> next token) window of each sequence, sequence by sequence:
    X (n, context), Y (n,), n = n_seq * (length - context)."""
    view = np.lib.stride_tricks.sliding_window_view(tokens, context + 1, axis=1)
    flat = view.reshape(-1, context + 1)
    return np.ascontiguousarray(flat[:, :context]), np.ascontiguousarray(flat[:, context])


def sample_windows(chain: MarkovChain, rng: np.random.Generator, n: int, context: int,
                   seq_windows: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """n windows from ceil(n / seq_windows) fresh sequences of seq_windows windows each."""
    n_seq = -(-n // seq_windows)
    X, Y = windows(chain.sample(rng, n_seq, seq_windows + context), context)
    return X[:n], Y[:n]
