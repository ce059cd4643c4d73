"""Benign overfitting and grokking on XOR cluster data (Xu, Wang, Frei, Vardi & Hu 2023).

Data: n training points in R^d (d >> n), x = +-mu1 + xi (label +1) or +-mu2 + xi (label -1),
xi ~ N(0, I_d), mu1 orthogonal to mu2, ||mu||^2 = mu2; each training label flipped with
probability eta; the test set (n_test points) is clean. Net: f(x) = sum_j a_j ReLU(<w_j, x>),
m neurons, a_j = +-1/sqrt(m) frozen, w_j ~ N(0, init_scale^2 I); full-batch GD on the
logistic loss (float32 torch, shared loop `engines.nn.torch_train.train`).

What is measured after each GD step (every step up to 10, then about ten times per
decade of steps): train accuracy on the observed (noisy) labels, clean
test accuracy, noisy-fit (the fraction of flipped training points predicted with their
flipped label), the loss, and mean_j |cos(w_j, mu_k)| (neurons aligning to the cluster
directions = features being learned). Contrast: sklearn LogisticRegression (C = 1e4) on the
same data interpolates the noisy training set but stays at chance on the test set (XOR is
not linearly separable); drawn as a flat line.

Why step 1 looks linear: from a tiny init each neuron moves by ~ a_j sum_i y_i x_i over
its active points, so after one step f(x) ~ <sum_i y_i x_i, x> (the closed-form one-step
classifier). Its sign agreement with the trained net on test points is reported in a
note. Measured on the quick data (n=60, d=8000): 0.75-1.00 over seeds 0-7 at m=100 and
0.96-1.00 at m=2000; the agreement is decided per cluster (a whole cluster flips when its
linear score sum_i y_i s_i mu2 is near 0), and the net approaches the closed form as
m grows (law of large numbers over neurons), so the tests check it at m=2000.

Thresholds (from the spec, fixed in advance; the same for quick and default): step 1
train >= 0.90 and test <= 0.62; final train = 1 and noisy-fit = 1; final test >= 0.70
and final - step-1 test >= 0.20.

Measured (CPU, float32), the former quick (n=60, d=8000, mu2=700, 80 steps) seeds 0/1/2: step 1
train 1.00/0.93/0.97, test 0.37/0.49/0.50; final train 1, noisy-fit 1, test 1.00/0.77/0.71
(seed 2 is still climbing: 0.79 after 300 steps). Default (n=100, d=16000, mu2=900, 150
steps) seeds 0-4: step 1 test 0.48-0.52; final test 0.85/0.91/0.98/0.88/0.90. Some seeds
plateau below 1: once the loss saturates on the training set, the gradient that aligns
neurons to mu1/mu2 shrinks (an honest finite-size effect; larger m or mu2 reduces it).

Quick preset (issue 11). It was n=60, m=100: 19/20 PASS on seeds 0-19 (seed 9: step-1
train 0.85). Two finite-size effects, both outside the paper's regime, not noise in the
measurement: (1) the step-1 classifier is ~ <sum_i y_i x_i, x>, which fits x_i when
||x_i||^2 ~ d beats the cross terms, chiefly the cluster-imbalance term ~ sqrt(n/2) mu2;
the paper assumes d >> n^2 (high dimension), and at n=60, d=8000 (d/n^2 = 2.2) the closed
form itself failed to interpolate on seeds 1/9/17 (train 0.82/0.85/0.80), while the
default (n=100, d=16000, mu2=900) interpolates on 20/20. n=40 gives quick the same
margin as the default (sqrt(n/2) mu2 / (d + mu2) = 0.36 vs 0.38; it was 0.44); the
closed form then interpolates on 20/20. (2) the one-step net is linear only as m grows
(the nonlinear part averages out over neurons, ~1/sqrt(m)): at n=40, m=100 the step-1
test accuracy reached 0.635 on seed 19; m=200 halves the variance of that part. Now
quick = n=40, m=200 (d, mu2, steps unchanged; thresholds unchanged): 20/20 PASS on seeds
0-19, step-1 train 0.95-1.00, step-1 test 0.40-0.55, final test 0.74-1.00, gain
0.22-0.56; ~2 s of CPU. Tried and rejected: d=12000, mu2=900 at n=40 (seed 2: final test
0.615). Default unchanged: 20/20 PASS (step-1 test 0.45-0.55, final test 0.77-1.00).

A d too small (e.g. d=1000) breaks the mechanism: the step-1 linear classifier no longer
interpolates (train ~0.6) and the net learns the clusters instead of memorizing the
flipped labels (final train < 1), so the check fails.
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
    Verdict,
    param,
)
from .history import History


@dataclass(frozen=True)
class XORParams(Params):
    n: int = param(100, range=(20, 400), help="number of training points")
    d: int = param(16000, range=(500, 30000),
                   help="input dimension (d >> n for benign overfitting)")
    mu2: float = param(900.0, range=(50.0, 2000.0),
                       help="||mu||^2, squared norm of each cluster mean")
    eta: float = param(0.15, range=(0.0, 0.3), help="label-flip probability of the training set")
    m: int = param(100, range=(20, 400), help="number of neurons (width)")
    lr: float = param(3e-3, range=(1e-4, 1e-2), log=True, help="GD step size")
    steps: int = param(150, range=(1, 500), help="number of GD steps")
    init_scale: float = param(1e-6, range=(1e-8, 1e-2), log=True,
                              help="std of the first-layer init (tiny: step 1 is near-linear)")
    n_test: int = param(400, range=(100, 4000), help="number of clean test points")
    linear_baseline: bool = param(True, help="fit the sklearn logistic-regression contrast")


def run(p: XORParams, ctx: RunContext) -> Iterator[Metric | Note]:
    import torch

    from paramlab.engines.nn import torch_train as tt
    from paramlab.engines.nn import xor_data as xd

    g = tt.generator(ctx.seed)
    data = xd.xor_clusters(p.n, p.d, p.mu2, p.eta, p.n_test, generator=g)
    net = xd.two_layer_relu(p.d, p.m, p.init_scale, generator=g)
    n_flipped = int(data.flipped.sum())
    yield Note(f"n={p.n}, d={p.d}, ||mu||^2={p.mu2:g}, {n_flipped} of {p.n} training labels "
               f"flipped; m={p.m} neurons, second layer frozen at +-1/sqrt(m)")

    linear_test = float("nan")
    if p.linear_baseline:
        from sklearn.linear_model import LogisticRegression

        clf = LogisticRegression(C=1e4, max_iter=1000)
        clf.fit(data.X.numpy(), data.y.numpy())
        linear_train = float(clf.score(data.X.numpy(), data.y.numpy()))
        linear_test = float(clf.score(data.X_test.numpy(), data.y_test.numpy()))
        yield Note(f"linear baseline (logistic regression): train {linear_train:.3f}, "
                   f"test {linear_test:.3f}")

    data = data.to(ctx.device)
    net.to(ctx.device)
    trainable = [q for q in net.parameters() if q.requires_grad]
    opt = torch.optim.SGD(trainable, lr=p.lr)

    def evaluate(t: int) -> dict[str, float]:
        # about ten evaluations per decade of steps (the panels use a log step axis)
        if t > 10 and t % (t // 10) != 0 and t != p.steps:
            return {}
        f_train = net(data.X).reshape(-1)
        f_test = net(data.X_test).reshape(-1)
        fit = (f_train > 0) == (data.y > 0)
        out = {
            "train_acc": float(fit.float().mean()),
            "test_acc": float(((f_test > 0) == (data.y_test > 0)).float().mean()),
            "noisy_fit": float(fit[data.flipped].float().mean()) if n_flipped else float("nan"),
            "train_loss": float(xd.logistic_loss(f_train, data.y)),
        }
        cos = xd.mean_abs_cosine(net.layers[0].weight, data.mu)
        out["cos_mu1"], out["cos_mu2"] = float(cos[0]), float(cos[1])
        if p.linear_baseline:
            out["linear_test_acc"] = linear_test
        if t == 1:
            lin = xd.one_step_linear_scores(data.X, data.y, data.X_test)
            out["step1_agreement"] = float(((lin > 0) == (f_test > 0)).float().mean())
        return out

    for rec in tt.train(net, xd.logistic_loss, data.X, data.y, opt, p.steps,
                        evaluate=evaluate, should_stop=ctx.should_stop):
        t = rec.pop("step")
        rec.pop("loss")  # the loss before the step; train_loss is after it
        if not rec:
            continue
        if t == 1:
            yield Note(f"step 1: train {rec['train_acc']:.3f}, test {rec['test_acc']:.3f}; "
                       f"sign agreement with <sum_i y_i x_i, x> on test points "
                       f"{rec['step1_agreement']:.3f}")
        yield Metric(t, rec)


def check(history: History, p: XORParams) -> Verdict:
    T = history.last_step or 0
    train1, test1 = history.at("train_acc", 1), history.at("test_acc", 1)
    trainT, testT = history.at("train_acc", T), history.at("test_acc", T)
    noisyT = history.at("noisy_fit", T)
    criteria = [
        Criterion.at_least("step 1 train accuracy", train1, 0.90),
        Criterion.at_most("step 1 test accuracy (near chance)", test1, 0.62),
        Criterion.at_least("final train accuracy", trainT, 1.0),
        Criterion.at_least("final noisy-fit (flipped labels still fitted)", noisyT, 1.0),
        Criterion.at_least("final test accuracy", testT, 0.70),
        Criterion.at_least("test gain, final - step 1", testT - test1, 0.20),
    ]
    if "linear_test_acc" in history:
        criteria.append(Criterion.at_most("linear baseline test accuracy (chance)",
                                          history.last("linear_test_acc"), 0.62,
                                          tier="mechanism"))
    return Verdict.of(criteria, f"step 1: train {train1:.2f}, test {test1:.2f}; step {T:g}: "
                      f"train {trainT:.2f}, noisy-fit {noisyT:.2f}, test {testT:.2f}")


SCENARIO = Scenario(
    params=XORParams,
    run=run,
    check=check,
    panels=(
        Panel("accuracy: step 1 fits noise at chance test, later test rises",
              series=("train_acc", "test_acc", "noisy_fit", "linear_test_acc"), logx=True,
              xlabel="GD step (log)",
              labels={"train_acc": "train", "test_acc": "test", "noisy_fit": "noisy-fit",
                      "linear_test_acc": "linear baseline test"}),
        Panel("mean |cos(w_j, mu_k)| (features learned)", series=("cos_mu1", "cos_mu2"),
              logx=True, xlabel="GD step (log)",
              labels={"cos_mu1": "mu1", "cos_mu2": "mu2"}),
        Panel("training loss", series=("train_loss",), logy=True, xlabel="GD step",
              labels={"train_loss": "logistic loss"}),
    ),
    presets={"quick": {"n": 40, "d": 8000, "mu2": 700.0, "m": 200, "steps": 80}},
    watch=("train_loss",),
    key_metric="test_acc",
    total_steps=lambda p: p.steps,
    uses_torch=True,
    threads=2,  # 1.36x faster on 2 idle cores than on 1 (bench_threads, quick)
    notes=__doc__ or "",
    paper_reports="After the first GD step: 100% train accuracy (noisy labels fitted), test "
                  "accuracy close to 50%; after more steps: near-optimal test accuracy "
                  "(Bayes-optimal given the label noise) while still interpolating the noisy "
                  "training labels.",
    paper_rows=(
        PaperRow("train accuracy after one GD step (noisy labels included)", "100%",
                 "accuracy", "Sec. 3, main theorem (t = 1); Fig. 1", "step 1 train accuracy"),
        PaperRow("test accuracy after one GD step", "about 50% (test error >= 1/2 - o(1))",
                 "accuracy", "Sec. 3, main theorem (t = 1); Fig. 1",
                 "step 1 test accuracy (near chance)"),
        PaperRow("train accuracy later in training (flipped labels still fitted)", "100%",
                 "accuracy", "Sec. 3, main theorem; Fig. 1",
                 "final noisy-fit (flipped labels still fitted)"),
        PaperRow("clean test accuracy later in training", "near 100% (test error -> 0)",
                 "accuracy", "Sec. 3, main theorem; Fig. 1", "final test accuracy"),
        PaperRow("linear classifier on XOR data", "not reported (chance: XOR is not "
                 "linearly separable)", "accuracy", "Sec. 2",
                 "linear baseline test accuracy (chance)"),
    ),
    status="reproduces",
)
