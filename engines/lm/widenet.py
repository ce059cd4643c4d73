"""WideNet (Xue et al. 2022, "Go Wider Instead of Deeper") at toy scale: a pre-LN transformer
encoder whose block is shared across depth, with a mixture-of-experts FFN, plus the two
baselines it is compared with and a key-pair recall task that makes FFN capacity the
bottleneck.

    x_0 = E[tokens] + P[pos]                      (a CLS token sits at position 0)
    for l in 1..L:   x = x + Attn_a(l)(LN1_n(l)(x));   x = x + FFN_f(l)(LN2_n(l)(x))
    logits = W . LN_f(x[:, 0])

`a(l)`, `f(l)`, `n(l)` say which attention, FFN and LayerNorm layer l uses:
    vit      a = f = n = l         (L independent blocks; the unshared contrast)
    albert   a = f = n = 0         (one block, LayerNorms included, repeated L times)
    widenet  a = f = 0, n = l      (shared attention and MoE-FFN; each layer keeps its LNs)
WideNet's FFN is a mixture of E experts (each the d -> 4d -> d GELU MLP) with top-k
gating (eq. 2-4 of the paper, GShard/Switch style): router probabilities p = softmax(x W_r),
token x goes to its k most probable experts, weighted by their renormalised probabilities,
with no capacity limit. The load-balance loss (Switch Transformer eq. 4) per layer is
    E * sum_e f_e P_e,   f_e = share of top-1 choices that go to e,   P_e = mean_x p_e(x),
which is 1 when routing is uniform; it is averaged over the L layers and added with weight
`balance`. Tokens are routed sparsely: each expert runs only on the tokens sent to it
(gather, MLP, weighted scatter-add), so per-token compute is k FFNs, not E.

The task (`KeyPairTask`): sequences of `seq_len` tokens, one "A" key (of na) and one "B"
key (of nb) at two random positions among distractors (of n_distract); the label is
table[a, b], a random class fixed per seed. The embeddings alone cannot store a random
function of a PAIR: the na x nb associations have to live in the FFN weights, which is
the capacity an MoE adds at constant per-token compute.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

VARIANTS = ("vit", "albert", "shared_indivln", "widenet")


@dataclass(frozen=True)
class WideNetConfig:
    vocab: int
    seq_len: int  # without the CLS token
    n_classes: int = 10
    d_model: int = 32
    heads: int = 4
    layers: int = 5
    share_attn: bool = False
    share_ffn: bool = False
    individual_ln: bool = True
    n_experts: int = 1
    top_k: int = 1
    dense_moe: bool = False  # compute every expert and mix (same numbers; faster when tiny)

    @staticmethod
    def variant(name: str, **kw: object) -> WideNetConfig:
        """The config of a named variant; kw holds the task and size fields (n_experts /
        top_k only matter for widenet)."""
        kw = dict(kw)
        n_exp = int(kw.pop("n_experts", 4))  # type: ignore[call-overload]
        top_k = int(kw.pop("top_k", 2))  # type: ignore[call-overload]
        if name == "vit":
            return WideNetConfig(**kw)  # type: ignore[arg-type]
        if name == "albert":
            return WideNetConfig(share_attn=True, share_ffn=True, individual_ln=False,
                                 **kw)  # type: ignore[arg-type]
        if name == "shared_indivln":
            return WideNetConfig(share_attn=True, share_ffn=True, **kw)  # type: ignore[arg-type]
        if name == "widenet":
            return WideNetConfig(share_attn=True, share_ffn=True, n_experts=n_exp,
                                 top_k=min(top_k, n_exp), **kw)  # type: ignore[arg-type]
        if name == "widenet_sharedln":
            return WideNetConfig(share_attn=True, share_ffn=True, individual_ln=False,
                                 n_experts=n_exp, top_k=min(top_k, n_exp),
                                 **kw)  # type: ignore[arg-type]
        raise ValueError(f"variant: expected one of {VARIANTS + ('widenet_sharedln',)}, "
                         f"got {name!r}")


class Attention(nn.Module):
    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, d = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        # written out: at T ~ 9 tokens this is several times faster on CPU than SDPA's kernel
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d // self.heads))
        y = att.softmax(-1) @ v  # bidirectional (an encoder): no mask
        return self.proj(y.transpose(1, 2).reshape(B, T, d))


class MoE(nn.Module):
    """E experts (d -> 4d -> d, GELU) with top-k softmax gating and no capacity limit.
    E = 1 is an ordinary FFN (gate weight 1, balance loss 1)."""

    def __init__(self, d: int, n_experts: int, top_k: int, dense: bool = False) -> None:
        super().__init__()
        self.n_experts, self.top_k, self.dense = n_experts, top_k, dense
        h = 4 * d
        self.w1 = nn.Parameter(torch.empty(n_experts, d, h))
        self.b1 = nn.Parameter(torch.zeros(n_experts, h))
        self.w2 = nn.Parameter(torch.empty(n_experts, h, d))
        self.b2 = nn.Parameter(torch.zeros(n_experts, d))
        self.router = nn.Linear(d, n_experts, bias=False) if n_experts > 1 else None

    def gates(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x (N, d) -> (top-k expert ids (N, k), their combine weights (N, k), probs (N, E))."""
        assert self.router is not None
        probs = self.router(x).softmax(-1)
        w, idx = probs.topk(self.top_k, dim=-1)
        return idx, w / w.sum(-1, keepdim=True), probs

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x (..., d) -> (output (..., d), balance loss (scalar), top-1 counts per expert (E,))."""
        shape = x.shape
        x = x.reshape(-1, shape[-1])
        if self.router is None:
            out = F.gelu(x @ self.w1[0] + self.b1[0]) @ self.w2[0] + self.b2[0]
            return out.view(shape), x.new_ones(()), x.new_tensor([float(x.shape[0])])
        idx, w, probs = self.gates(x)
        if self.dense:
            out = self._mix(x, idx, w)
        else:
            out = self._route(x, idx, w)
        counts = torch.bincount(idx[:, 0], minlength=self.n_experts).to(x.dtype)
        f = counts / x.shape[0]
        balance = self.n_experts * (f * probs.mean(0)).sum()
        return out.view(shape), balance, counts

    def _route(self, x: torch.Tensor, idx: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        out = torch.zeros_like(x)
        for e in range(self.n_experts):
            tok, slot = (idx == e).nonzero(as_tuple=True)
            if tok.numel() == 0:
                continue
            h = F.gelu(x[tok] @ self.w1[e] + self.b1[e]) @ self.w2[e] + self.b2[e]
            out.index_add_(0, tok, h * w[tok, slot, None])
        return out

    def _mix(self, x: torch.Tensor, idx: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        allh = F.gelu(torch.baddbmm(self.b1[:, None], x.expand(self.n_experts, *x.shape),
                                    self.w1))
        allo = torch.baddbmm(self.b2[:, None], allh, self.w2)  # (E, N, d)
        combine = torch.zeros(x.shape[0], self.n_experts, dtype=x.dtype,
                              device=x.device).scatter(1, idx, w)
        return torch.einsum("ne,end->nd", combine, allo)

    def dense_reference(self, x: torch.Tensor) -> torch.Tensor:
        """Every expert on every token, combined with the same top-k weights (for tests)."""
        x = x.reshape(-1, x.shape[-1])
        if self.router is None:
            return F.gelu(x @ self.w1[0] + self.b1[0]) @ self.w2[0] + self.b2[0]
        idx, w, _ = self.gates(x)
        allh = F.gelu(torch.einsum("nd,edh->enh", x, self.w1) + self.b1[:, None])
        allo = torch.einsum("enh,ehd->end", allh, self.w2) + self.b2[:, None]  # (E, N, d)
        combine = torch.zeros(x.shape[0], self.n_experts, dtype=x.dtype)
        combine.scatter_(1, idx, w)
        return torch.einsum("ne,end->nd", combine, allo)


class SharedEncoder(nn.Module):
    def __init__(self, cfg: WideNetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d, L = cfg.d_model, cfg.layers
        self.tok = nn.Embedding(cfg.vocab + 1, d)  # the last id is CLS
        self.pos = nn.Parameter(torch.empty(cfg.seq_len + 1, d))
        self.attn = nn.ModuleList(Attention(d, cfg.heads)
                                  for _ in range(1 if cfg.share_attn else L))
        self.ffn = nn.ModuleList(MoE(d, cfg.n_experts, cfg.top_k, cfg.dense_moe)
                                 for _ in range(1 if cfg.share_ffn else L))
        n_ln = L if cfg.individual_ln else 1
        self.ln1 = nn.ModuleList(nn.LayerNorm(d) for _ in range(n_ln))
        self.ln2 = nn.ModuleList(nn.LayerNorm(d) for _ in range(n_ln))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, cfg.n_classes)

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """tokens (B, T) -> (logits (B, classes), mean balance loss, top-1 counts (L, E))."""
        B = tokens.shape[0]
        cls = tokens.new_full((B, 1), self.cfg.vocab)
        x = self.tok(torch.cat([cls, tokens], 1)) + self.pos
        balances, counts = [], []
        for layer in range(self.cfg.layers):
            a = self.attn[0 if self.cfg.share_attn else layer]
            f = self.ffn[0 if self.cfg.share_ffn else layer]
            n = layer if self.cfg.individual_ln else 0
            x = x + a(self.ln1[n](x))
            y, bal, cnt = f(self.ln2[n](x))
            x = x + y
            balances.append(bal)
            counts.append(cnt)
        logits = self.head(self.ln_f(x[:, 0]))
        return logits, torch.stack(balances).mean(), torch.stack(counts)

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


@torch.no_grad()
def init_(model: SharedEncoder, generator: torch.Generator) -> SharedEncoder:
    """N(0, 0.02) weights (residual projections / expert outputs N(0, 0.02 / sqrt(2L)), as
    in GPT-2), zero biases, LayerNorms 1/0; drawn from `generator` in a fixed order."""
    resid = 0.02 / math.sqrt(2 * model.cfg.layers)
    for name, p in model.named_parameters():
        if name.startswith("ln") or ".ln" in name:
            p.fill_(1.0) if name.endswith("weight") else p.zero_()
        elif name.endswith(("bias", "b1", "b2")):
            p.zero_()
        else:
            std = resid if name.endswith(("proj.weight", "w2")) else 0.02
            p.normal_(0.0, std, generator=generator)
    return model


@dataclass(frozen=True)
class KeyPairTask:
    """Token ids: A keys 0..na-1, B keys na..na+nb-1, distractors after them."""

    na: int
    nb: int
    n_distract: int = 32
    seq_len: int = 8
    n_classes: int = 10

    @property
    def vocab(self) -> int:
        return self.na + self.nb + self.n_distract

    def table(self, g: torch.Generator) -> torch.Tensor:
        return torch.randint(0, self.n_classes, (self.na, self.nb), generator=g)

    def sample(self, table: torch.Tensor, n: int, g: torch.Generator
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """n sequences (n, seq_len) and their labels table[a, b]."""
        a = torch.randint(0, self.na, (n,), generator=g)
        b = torch.randint(0, self.nb, (n,), generator=g)
        seq = self.na + self.nb + torch.randint(0, self.n_distract, (n, self.seq_len), generator=g)
        pos = torch.rand(n, self.seq_len, generator=g).argsort(1)[:, :2]  # two distinct slots
        rows = torch.arange(n)
        seq[rows, pos[:, 0]] = a
        seq[rows, pos[:, 1]] = self.na + b
        return seq, table[a, b]


class StackedEncoder(nn.Module):
    """`members` independently initialised copies of `SharedEncoder(cfg)` as one tensor
    program: every weight carries a member axis (after the layer axis, if any) and all
    members read the same token batch. Member k computes the same function as
    `member(k)` (a SharedEncoder holding its weights; tested); the sum of the members'
    losses trains them independently (AdamW acts coordinate by coordinate), so K inits
    cost little more than one at toy width, where per-op overhead dominates.

    The MoE computes every expert and mixes with the top-k weights (the dense form of
    `MoE`): the experts' hidden layers are laid side by side, (d, E*4d), scaled by their
    combine weights and projected back with the stacked (E*4d, d) output weights."""

    def __init__(self, cfg: WideNetConfig, members: int) -> None:
        super().__init__()
        self.cfg, self.members = cfg, members
        K, d, L, E = members, cfg.d_model, cfg.layers, cfg.n_experts
        h = 4 * d
        na = 1 if cfg.share_attn else L
        nf = 1 if cfg.share_ffn else L
        nl = L if cfg.individual_ln else 1

        def par(*shape: int) -> nn.Parameter:
            return nn.Parameter(torch.zeros(*shape))

        self.tok = par(K, cfg.vocab + 1, d)  # the last id is CLS
        self.pos = par(K, cfg.seq_len + 1, d)
        self.qkv_w, self.qkv_b = par(na, K, d, 3 * d), par(na, K, 3 * d)
        self.proj_w, self.proj_b = par(na, K, d, d), par(na, K, d)
        self.w1, self.b1 = par(nf, K, d, E, h), par(nf, K, E, h)
        self.w2, self.b2 = par(nf, K, E, h, d), par(nf, K, E, d)
        self.register_parameter("router", par(nf, K, d, E) if E > 1 else None)
        self.ln1_w, self.ln1_b = par(nl, K, d), par(nl, K, d)
        self.ln2_w, self.ln2_b = par(nl, K, d), par(nl, K, d)
        self.lnf_w, self.lnf_b = par(K, d), par(K, d)
        self.head_w, self.head_b = par(K, d, cfg.n_classes), par(K, cfg.n_classes)

    def n_params(self) -> int:
        """Trainable parameters of one member."""
        return sum(p.numel() for p in self.parameters()) // self.members

    @staticmethod
    def _ln(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, x.shape[-1:]) * w[:, None] + b[:, None]

    def _attn(self, x: torch.Tensor, i: int, B: int) -> torch.Tensor:
        K, N, d = x.shape
        H = self.cfg.heads
        S = N // B
        qkv = torch.baddbmm(self.qkv_b[i][:, None], x, self.qkv_w[i])
        q, k, v = qkv.view(K, B, S, 3, H, d // H).permute(3, 0, 1, 4, 2, 5)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d // H))
        y = (att.softmax(-1) @ v).permute(0, 1, 3, 2, 4).reshape(K, N, d)
        return torch.baddbmm(self.proj_b[i][:, None], y, self.proj_w[i])

    def _moe(self, x: torch.Tensor, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x (K, N, d) -> (output (K, N, d), balance loss (K,), top-1 counts (K, E))."""
        K, N, d = x.shape
        E = self.cfg.n_experts
        h = 4 * d
        hid = F.gelu(torch.baddbmm(self.b1[i].view(K, 1, E * h), x,
                                   self.w1[i].view(K, d, E * h)))
        if self.router is None:
            out = torch.baddbmm(self.b2[i], hid, self.w2[i].view(K, h, d))
            return out, x.new_ones(K), x.new_full((K, 1), float(N))
        probs = (x @ self.router[i]).softmax(-1)  # (K, N, E)
        w, idx = probs.topk(self.cfg.top_k, dim=-1)
        combine = torch.zeros_like(probs).scatter(-1, idx, w / w.sum(-1, keepdim=True))
        hid = (hid.view(K, N, E, h) * combine[..., None]).view(K, N, E * h)
        out = torch.baddbmm(combine @ self.b2[i], hid, self.w2[i].view(K, E * h, d))
        counts = F.one_hot(idx[..., 0], E).sum(1).to(x.dtype)
        balance = E * (counts / N * probs.mean(1)).sum(-1)
        return out, balance, counts

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """tokens (B, T) -> (logits (K, B, classes), mean balance loss over layers (K,),
        top-1 counts (L, K, E))."""
        cfg = self.cfg
        B = tokens.shape[0]
        toks = torch.cat([tokens.new_full((B, 1), cfg.vocab), tokens], 1)
        K, S, d = self.members, toks.shape[1], cfg.d_model
        x = (self.tok[:, toks] + self.pos[:, None]).reshape(K, B * S, d)
        balances, counts = [], []
        for layer in range(cfg.layers):
            a = 0 if cfg.share_attn else layer
            f = 0 if cfg.share_ffn else layer
            n = layer if cfg.individual_ln else 0
            x = x + self._attn(self._ln(x, self.ln1_w[n], self.ln1_b[n]), a, B)
            y, bal, cnt = self._moe(self._ln(x, self.ln2_w[n], self.ln2_b[n]), f)
            x = x + y
            balances.append(bal)
            counts.append(cnt)
        z = self._ln(x.view(K, B, S, d)[:, :, 0], self.lnf_w, self.lnf_b)
        logits = torch.baddbmm(self.head_b[:, None], z, self.head_w)
        return logits, torch.stack(balances).mean(0), torch.stack(counts)

    @torch.no_grad()
    def member(self, k: int) -> SharedEncoder:
        """Member k as a SharedEncoder (a copy of its weights)."""
        cfg, E, d = self.cfg, self.cfg.n_experts, self.cfg.d_model
        m = SharedEncoder(cfg)
        m.tok.weight.copy_(self.tok[k])
        m.pos.copy_(self.pos[k])
        for i, a in enumerate(m.attn):
            a.qkv.weight.copy_(self.qkv_w[i, k].T)
            a.qkv.bias.copy_(self.qkv_b[i, k])
            a.proj.weight.copy_(self.proj_w[i, k].T)
            a.proj.bias.copy_(self.proj_b[i, k])
        for i, f in enumerate(m.ffn):
            f.w1.copy_(self.w1[i, k].permute(1, 0, 2))
            f.b1.copy_(self.b1[i, k])
            f.w2.copy_(self.w2[i, k])
            f.b2.copy_(self.b2[i, k])
            if f.router is not None:
                f.router.weight.copy_(self.router[i, k].T)
        for lns, w, b in ((m.ln1, self.ln1_w, self.ln1_b), (m.ln2, self.ln2_w, self.ln2_b)):
            for n, ln in enumerate(lns):
                ln.weight.copy_(w[n, k])
                ln.bias.copy_(b[n, k])
        m.ln_f.weight.copy_(self.lnf_w[k])
        m.ln_f.bias.copy_(self.lnf_b[k])
        m.head.weight.copy_(self.head_w[k].T)
        m.head.bias.copy_(self.head_b[k])
        assert E == m.ffn[0].n_experts and d == m.tok.weight.shape[1]
        return m


@torch.no_grad()
def init_stack_(model: StackedEncoder, generator: torch.Generator) -> StackedEncoder:
    """`init_`'s scheme for every member: N(0, 0.02) weights (attention output projections
    and expert output weights N(0, 0.02 / sqrt(2L))), zero biases, LayerNorms 1/0; drawn
    from `generator` in a fixed order, so two stacks of the same shapes get the same
    weights."""
    resid = 0.02 / math.sqrt(2 * model.cfg.layers)
    for name, p in model.named_parameters():
        if name.startswith("ln"):
            p.fill_(1.0) if name.endswith("_w") else p.zero_()
        elif name.endswith(("_b", "b1", "b2")):
            p.zero_()
        else:
            std = resid if name in ("proj_w", "w2") else 0.02
            p.normal_(0.0, std, generator=generator)
    return model


def all_key_pairs(task: KeyPairTask, table: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Every distinct input of a distractor-free task (seq_len 2): each (a, b) pair in both
    orders, 2 * na * nb sequences, and their labels: the exact recall test."""
    assert task.seq_len == 2, "only a distractor-free task has a finite input set"
    a, b = torch.meshgrid(torch.arange(task.na), torch.arange(task.nb), indexing="ij")
    a, b = a.reshape(-1), b.reshape(-1)
    ab = torch.stack([a, task.na + b], 1)
    return torch.cat([ab, ab.flip(1)]), table[a, b].repeat(2)
