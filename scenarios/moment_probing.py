"""Moment probing: a linear head on first- and second-order token moments beats linear
probing on the mean token (Gao et al. 2023).

Frozen features: scikit-learn's digits (1,797 8x8 images, no download), each image cut
into 2x2 patches (16 tokens), passed through a frozen random "ViT-like" token map of
width d = 32 (h = tanh(patch W1 + pos), then h + tanh(h W2); fixed by the seed, never
trained). Linear heads trained with AdamW on standardized features (stratified 50/50
split; every head through the shared torch loop):

    LP        the mean token (d features; 330 parameters at d = 32)          contrast
    MP        [mean, upper triangle of the token covariance] (560 features; 5,610)
    MP-heads  the mean and per-head 8x8 covariance blocks, 4 heads (176; 1,770), a cheap
              stand-in for the paper's MHC^3
    control   the mean of a random nonlinear token expansion tanh(h R + c) with the same
              dimension as MP (5,610 parameters): the parameter-matched control
    control-s the same expansion at the MP-heads dimension (1,770 parameters)

Claim check (spec thresholds, both presets): acc(MP) - acc(LP) >= 0.06 and
acc(MP) >= 0.92. `second_order=false` removes the covariance (MP collapses to LP) and
must fail.

What the controls show (measured test accuracy, seeds 0-2, default): LP 0.869-0.872,
MP 0.962-0.968, MP-heads 0.963-0.971, control 0.952-0.973 (quick: LP 0.833-0.862, MP
0.958-0.967, control 0.950-0.958). MP beats LP by 9-13 points, as the paper reports in
kind, but a random nonlinear pooling of the same size does as well: at this toy scale
the gain comes from giving the linear head a richer, higher-dimensional pooled feature,
not from the moments as such (MP-heads, at under a third of MP's parameters, also
matches). The backbone is random,
not pretrained, and MP+ (PSRP recalibration) is not reproduced. Cross-check (tests):
scikit-learn's LogisticRegression on the same feature matrices gives the same ordering.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .base import (
    Criterion,
    Metric,
    Note,
    Panel,
    PaperRow,
    Params,
    RunContext,
    Scenario,
    Table,
    Verdict,
    param,
)
from .history import History

HEADS = ("lp", "mp", "heads", "ctrl", "ctrl_s")
LABELS = {"lp": "LP (mean token)", "mp": "MP (mean + cov)", "heads": "MP-heads",
          "ctrl": "control (random, MP size)", "ctrl_s": "control (random, MP-heads size)"}


@dataclass(frozen=True)
class MomentProbingParams(Params):
    d: int = param(32, range=(8, 64), help="token width of the frozen backbone")
    patch: int = param(2, choices=(2, 4), help="patch side (2: 16 tokens, 4: 4 tokens)")
    n_heads: int = param(4, range=(1, 8), help="heads of MP-heads (must divide d)")
    epochs: int = param(30, range=(5, 100), help="training epochs of every head")
    batch_size: int = param(64, range=(8, 512), help="mini-batch size")
    lr: float = param(1e-2, range=(1e-4, 1e-1), log=True, help="AdamW learning rate")
    weight_decay: float = param(1e-4, range=(0.0, 1e-2), help="AdamW weight decay")
    train_fraction: float = param(0.5, range=(0.1, 0.8), help="stratified train share")
    second_order: bool = param(True, help="MP uses the covariance (false: mean only = LP)")

    def check_consistency(self) -> list[str]:
        if self.d % self.n_heads:
            return [f"n_heads: must divide d ({self.d}), got {self.n_heads}"]
        return []


def run(p: MomentProbingParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    import math

    import numpy as np
    import torch
    from sklearn.model_selection import train_test_split

    from paramlab.engines.data import digits
    from paramlab.engines.nn import models
    from paramlab.engines.nn import torch_train as tt
    from paramlab.engines.stats import moments as mo

    rng = ctx.rng
    X, y = digits.load_digits()
    tr, te = train_test_split(np.arange(y.size), train_size=p.train_fraction, stratify=y,
                              random_state=int(rng.integers(2**31)))
    tokens = mo.patch_tokens(X.reshape(-1, 8, 8).astype(np.float64), p.patch)
    backbone = mo.RandomBackbone.draw(rng, p.patch**2, tokens.shape[1], p.d)
    H = backbone(tokens)
    feats = {"lp": mo.mean_token(H), "mp": mo.moment_features(H, p.second_order),
             "heads": mo.head_moment_features(H, p.n_heads)}
    feats["ctrl"] = mo.random_expansion_features(H, feats["mp"].shape[1], rng)
    feats["ctrl_s"] = mo.random_expansion_features(H, feats["heads"].shape[1], rng)

    gen = tt.generator(ctx.seed)
    steps_per_epoch = math.ceil(tr.size / p.batch_size)
    runs, heads_out = {}, {}
    for k in HEADS:
        F_tr, F_te = mo.standardize(feats[k][tr], feats[k][te])
        X_tr, y_tr, X_te, y_te = tt.to_device(ctx.device, F_tr, y[tr], F_te, y[te])
        # one linear layer, zero-initialized (a convex problem: no random init needed)
        model = models.init_normal_(models.MLP(F_tr.shape[1], [], 10), [0.0], generator=gen)
        model = model.to(ctx.device)
        opt = torch.optim.AdamW(model.parameters(), lr=p.lr, weight_decay=p.weight_decay)
        heads_out[k] = models.param_count(model)
        runs[k] = tt.train(model, torch.nn.functional.cross_entropy, X_tr, y_tr, opt,
                           p.epochs * steps_per_epoch, batch_size=p.batch_size, gen=gen,
                           eval_every=steps_per_epoch,
                           evaluate=lambda t, m=model, a=X_te, b=y_te: {
                               "acc": tt.accuracy(m, a, b)})
    yield Note("head parameters: " + ", ".join(f"{LABELS[k]} {heads_out[k]}" for k in HEADS)
               + f"; {tr.size} train / {te.size} test digits, {tokens.shape[1]} tokens")

    final = {}
    for epoch in range(1, p.epochs + 1):
        values: dict[str, float] = {"epoch": float(epoch)}
        for k in HEADS:
            losses = []
            for _ in range(steps_per_epoch):
                out = next(runs[k])
                losses.append(out["loss"])
            values[f"loss_{k}"] = float(np.mean(losses))
            values[f"acc_{k}"] = final[k] = out["acc"]
        yield Metric(epoch, values)
        if ctx.should_stop():
            return
    yield Table("final_error", ["test error (1 - accuracy)"],
                [f"{s} ({heads_out[k]})" for k, s in
                 zip(HEADS, ("LP", "MP", "MP-heads", "ctrl", "ctrl-s"))],
                [[1.0 - final[k] for k in HEADS]])


def check(history: History, p: MomentProbingParams) -> Verdict:
    acc = {k: history.last(f"acc_{k}") for k in HEADS}
    gap = acc["mp"] - acc["lp"]
    criteria = (
        Criterion.at_least("acc(MP) - acc(LP)", gap, 0.06),
        Criterion.at_least("acc(MP)", acc["mp"], 0.92),
        Criterion.at_least("acc(MP-heads) - acc(LP)", acc["heads"] - acc["lp"], 0.0,
                           tier="mechanism"),
    )
    return Verdict.of(criteria, f"MP {acc['mp']:.3f} vs LP {acc['lp']:.3f} (+{gap:.3f}); "
                      f"MP-heads {acc['heads']:.3f}; parameter-matched random control "
                      f"{acc['ctrl']:.3f}")


SCENARIO = Scenario(
    params=MomentProbingParams,
    run=run,
    check=check,
    panels=(
        Panel("test accuracy per epoch", series=tuple(f"acc_{k}" for k in HEADS), x="epoch",
              xlabel="epoch", ylabel="test accuracy",
              labels={f"acc_{k}": v for k, v in LABELS.items()}),
        Panel("train loss per epoch", series=tuple(f"loss_{k}" for k in HEADS), x="epoch",
              logy=True, xlabel="epoch", labels={f"loss_{k}": v for k, v in LABELS.items()}),
        Panel("final test error (head parameters)", kind="bars", table="final_error"),
    ),
    presets={"quick": {"epochs": 12}},
    watch=tuple(f"loss_{k}" for k in HEADS),
    key_metric="acc_mp",
    total_steps=lambda p: p.epochs,
    uses_torch=True,
    notes=__doc__ or "",
    paper_reports="ViT-B/16 (IN-21K): linear probing 82.04% on ImageNet-1K and 75.9% on "
                  "NABirds; MP significantly outperforms LP on ten benchmarks at low "
                  "training cost, and MP+ (with PSRP) is state of the art.",
    paper_rows=(
        PaperRow('accuracy MP - LP',
                 'positive on ten benchmarks',
                 unit='', source='Tables',
                 criterion='acc(MP) - acc(LP)'),
        PaperRow('LP accuracy, ViT-B/16 (IN-21K) on ImageNet-1K',
                 '82.04',
                 unit='%', source='abstract',
                 criterion=''),
        PaperRow('LP accuracy, ViT-B/16 on NABirds',
                 '75.9',
                 unit='%', source='abstract',
                 criterion=''),
    ),
    status="partly",
)
