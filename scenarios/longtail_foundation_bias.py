"""Foundation-model bias under long tails: parameter vs data imbalance (Chen et al. 2025).

The paper: a foundation model fine-tuned on a long-tailed task carries two biases. Data
imbalance comes from the downstream label skew; parameter imbalance from the skew of the
pre-training data, which lives in the features. Re-balancing (logit adjustment, LA / GLA)
fixes the first, not the second. Treating the pre-training "semantic factor" z as a
confounder, backdoor adjustment P(y | do(x)) = sum_z P(y | x, z) P(z) (eq. 6) is done in
the official code by averaging the predictions of models fine-tuned from different
foundation models (CLIP, OpenCLIP, MetaCLIP): about +1.67 points over GLA on average.

Toy world (spec P25, torch, engines/nn/longtail.py):
- K = 20 classes in R^30, each a mixture of 3 Gaussian sub-clusters (centres N(0, 1),
  noise sd 0.9).
- Foundation models z = A, B, C: MLP encoders 30 -> 128 -> 32 (ReLU) with a linear head,
  pre-trained (Adam, lr 2e-3, minibatch 64) on their own exponentially long-tailed set
  (imbalance ratio 100, 600 samples in the head class), each with its own random class
  order, so each model's "parameter tail" differs. Two more encoders are pre-trained on
  A's class order (same prior, other draws and init): the same-prior ensemble.
- Downstream: long-tailed train set (IR 20, 100 in the head class) with its own order;
  balanced test set (150 per class).
- Fine-tuning (PEFT analogue): frozen encoder, linear head initialised from the
  pre-training head, 100 full-batch Adam steps (lr 1e-2), loss CE or LA
  (CE(f + tau log pi_downstream), tau = 1; predictions use the raw f).
- Methods on model A's encoder: CE, LA; ens-same-prior = mean softmax of the LA heads of
  A and its two same-prior siblings; BA = mean softmax of the LA heads of A, B, C
  (uniform P(z)).
- Groups: param-head / param-tail = the 10 most / least frequent classes of A's
  pre-training set; data-head / data-tail = the same for the downstream set; overall =
  balanced accuracy.
- Averaging by design: each run trains `replicates` independent worlds (new centres, class
  orders, data, init) as one stack of R x 5 encoders (stacked weights, batched matmul) and
  averages the group accuracies over them before the criteria are read (default R = 12,
  quick R = 4; quick also has 300 head samples and 12 epochs).

Claim check (thresholds from the spec, fixed before the judging seeds; all paper tier):
  1.  data imbalance is fixable: acc_LA(data-tail) - acc_CE(data-tail) >= 0.04;
  2.  parameter imbalance survives LA: acc_LA(param-head) - acc_LA(param-tail) >= 0.06;
      LA removes <= 35% of CE's param gap and >= 40% of CE's data gap;
  3a. backdoor adjustment helps: overall_BA - overall_LA >= 0.04;
  3b. param-tail_BA - param-tail_ens-same-prior >= 0.03 (different confounder values z,
      not plain ensembling, is what lifts A's parameter tail).
  Mechanism: BA's param gap is below LA's.

Controls (tests/test_longtail_foundation_bias.py):
- finetune_loss = CE: the "re-balanced" head is plain CE, so criterion 1 reads 0 and fails.
- confounders = same: B and C are pre-trained on A's order (all z equal), BA becomes a
  same-prior ensemble and criterion 3b fails.
- pretrain_imbalance_ratio = 1 switches parameter imbalance off (not tested).

Worlds tried, seeds 0-19 (2-core box shared with other jobs, OMP threads 1):
- W1, one world per run (R = 1): quick 19/20 PASS (seed 9 fails "LA removes >= 40% of the
  data gap" at 0.352); default 16/20 (seeds 2, 9, 18, 19 fail that criterion at
  0.27-0.38: the data-gap share read 0.27-25.3, a ratio with a small, noisy denominator).
  Every other criterion passed on every seed. Wall 0.6 s quick, 3 s default.
- W2, averaged over R worlds: quick R = 4 20/20 PASS; default R = 8 19/20 (seed 12: data-gap
  share 0.373). Medians: quick LA data-tail gain +0.118 (min +0.101), LA param gap 0.234
  (min 0.180), LA removes -41%..+13% of the param gap and 58%-106% of the data gap, BA - LA
  +0.120 (min +0.106), BA - ens-same on param-tail +0.132 (min +0.100); default +0.067
  (min +0.060), 0.130 (min 0.110), -1%..22% / 37%-67%, +0.081 (min +0.072), +0.063 (min
  +0.052). Wall quick 2-3 s, default 10-16 s.
- W3 (shipped): default R = 12 (quick stays W2's R = 4).
  quick   20/20 PASS (as W2). Wall 2-3 s per run (up to 9 s for the first run of a
          process, torch import included).
  default 20/20 PASS. LA data-tail gain +0.057..+0.079 (median +0.066); LA param gap
          0.112..0.157 (median 0.135); LA removes 6%..16% of CE's param gap but 42%..65%
          of its data gap; BA - LA overall +0.072..+0.090 (median +0.081); BA - ens-same
          on param-tail +0.053..+0.077 (median +0.063). Wall 12-21 s per run (39 s once,
          under load from other jobs).
  The spec's 3-seed prototype (one world, 400 head samples) read: LA data-tail gain
  +0.089..+0.095, LA param gap 0.108..0.212, BA - LA +0.078..+0.093, BA - ens-same
  +0.058..+0.078: the same picture.
Controls measured (quick, seeds 0-19):
- finetune_loss = CE: 0/20 PASS; criterion 1 reads exactly 0 (and the data-gap share 0).
  This failure holds by construction (the LA head is the CE head) and shows only that the
  criterion can fail; it is not evidence.
- confounders = same: 0/20 PASS; 3b reads -0.016..+0.012 (median +0.001) against +0.100..
  +0.162 with distinct priors. 3a still passes (+0.057..+0.069): plain ensembling alone
  gives about +6 points overall in this toy, which is why 3b, not 3a, carries the
  backdoor claim. BA's param-gap advantage over LA also shrinks (0.012..0.045 vs
  0.129..0.241).
Paper vs toy: the toy exaggerates BA's gain (+8 to +12 points vs the paper's +1.7), because
the toy foundation models have deliberately disjoint tail classes; the same-prior ensemble
(criterion 3b) is the honest contrast. The paper's per-data-set numbers are in paper_rows.
Cross-check (spec): an LA-trained head matches scikit-learn LogisticRegression with a
post-hoc -log prior offset (>= 97% agreement; tests/test_longtail_engine.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from paramlab.scenarios.base import (
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
from paramlab.scenarios.history import History
from paramlab.scenarios.measure import ratio

D_IN, HIDDEN, D_FEAT = 30, 128, 32
SUBCLUSTERS = 3
GROUPS = ("overall", "param-head", "param-tail", "data-head", "data-tail")
METHODS = ("CE", "LA", "ens-same-prior", "BA")
C1 = "1. data-tail: LA - CE"
C2A = "2. param gap under LA: param-head - param-tail"
C2B = "2. share of CE's param gap that LA removes"
C2C = "2. share of CE's data gap that LA removes"
C3A = "3a. overall: BA - LA"
C3B = "3b. param-tail: BA - ens-same-prior"


@dataclass(frozen=True)
class LongtailParams(Params):
    n_classes: int = param(20, range=(10, 50), help="classes K (groups are the top/bottom K/2)")
    pretrain_imbalance_ratio: float = param(
        100.0, range=(1.0, 200.0), log=True,
        help="head/tail ratio of each foundation model's pre-training set (1: no parameter "
             "imbalance)")
    downstream_imbalance_ratio: float = param(20.0, range=(1.0, 100.0), log=True,
                                              help="head/tail ratio of the downstream train set")
    n_foundation_models: int = param(3, range=(2, 5),
                                     help="foundation models z = A, B, C, ... (BA averages them)")
    pretrain_head_samples: int = param(600, range=(200, 2000),
                                       help="pre-training samples of the head class")
    pretrain_epochs: int = param(30, range=(5, 60), help="pre-training epochs (Adam)")
    downstream_head_samples: int = param(100, range=(20, 500),
                                         help="downstream train samples of the head class")
    finetune_loss: str = param("LA", choices=("LA", "CE"),
                               help="loss of the re-balanced fine-tuning and of BA's members "
                                    "(CE: the control for criterion 1)")
    la_tau: float = param(1.0, range=(0.0, 2.0), help="logit-adjustment strength tau")
    finetune_steps: int = param(100, range=(20, 400), help="full-batch Adam steps on the head")
    confounders: str = param("distinct", choices=("distinct", "same"),
                             help="BA's members: distinct pre-training priors (the paper) or "
                                  "all on A's prior (the control for 3b)")
    cluster_noise: float = param(0.9, range=(0.1, 3.0), help="noise sd around sub-cluster centres")
    test_per_class: int = param(150, range=(50, 1000), help="balanced test samples per class")
    replicates: int = param(12, range=(1, 32),
                            help="independent worlds (centres, class orders, data) trained as "
                                 "one stack; group accuracies are averaged over them")


def _mixture(rng, centres, counts, noise):
    """Labels and inputs: counts[c] samples of class c, each from a random sub-cluster."""
    import numpy as np

    y = np.repeat(np.arange(len(counts)), counts)
    sub = rng.integers(0, SUBCLUSTERS, size=y.size)
    x = centres[y, sub] + noise * rng.standard_normal((y.size, centres.shape[-1]))
    return x, y


def _group_acc(per_class, head, tail):
    return [per_class.mean(), per_class[head[0]].mean(), per_class[head[1]].mean(),
            per_class[tail[0]].mean(), per_class[tail[1]].mean()]


def _world(rng, p: LongtailParams, pre_counts, down_counts):
    """One replicate world: class centres, the models' class orders and their data."""
    import numpy as np

    K, n_fm = p.n_classes, p.n_foundation_models
    centres = rng.standard_normal((K, SUBCLUSTERS, D_IN))
    # model 0 is A; 1..n_fm-1 are B, C, ... (their own class orders); then n_fm - 1 more
    # on A's order (the same-prior ensemble). confounders = "same": B, C, ... on A's order.
    orders = [rng.permutation(K)]
    for _ in range(1, n_fm):
        orders.append(orders[0] if p.confounders == "same" else rng.permutation(K))
    orders += [orders[0]] * (n_fm - 1)
    xs, ys = [], []
    for order in orders:
        counts = np.zeros(K, dtype=int)
        counts[order] = pre_counts  # order[0] is the model's head class
        x, y = _mixture(rng, centres, counts, p.cluster_noise)
        xs.append(x)
        ys.append(y)
    down_order = rng.permutation(K)
    dcounts = np.zeros(K, dtype=int)
    dcounts[down_order] = down_counts
    xd, yd = _mixture(rng, centres, dcounts, p.cluster_noise)
    xt, yt = _mixture(rng, centres, np.full(K, p.test_per_class), p.cluster_noise)
    return dict(orders=orders, xs=xs, ys=ys, down_order=down_order, dcounts=dcounts,
                xd=xd, yd=yd, xt=xt, yt=yt)


def run(p: LongtailParams, ctx: RunContext) -> Iterator[Metric | Table | Note]:
    import numpy as np
    import torch

    from paramlab.engines.nn import longtail as lt

    rng, dev, K, R = ctx.rng, ctx.device, p.n_classes, p.replicates
    n_fm = p.n_foundation_models
    M = 2 * n_fm - 1  # models per world
    gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
    pre_counts = lt.longtail_counts(K, p.pretrain_head_samples, p.pretrain_imbalance_ratio)
    down_counts = lt.longtail_counts(K, p.downstream_head_samples, p.downstream_imbalance_ratio)
    worlds = [_world(rng, p, pre_counts, down_counts) for _ in range(R)]
    f32 = dict(dtype=torch.float32, device=dev)
    # every world's M models sit in one stack of R * M (model index r * M + m)
    Xp = torch.tensor(np.stack([x for w in worlds for x in w["xs"]]), **f32)
    Yp = torch.tensor(np.stack([y for w in worlds for y in w["ys"]]), device=dev)
    Xd = torch.tensor(np.stack([w["xd"] for w in worlds]), **f32)
    Yd = torch.tensor(np.stack([w["yd"] for w in worlds]), device=dev)
    Xt = torch.tensor(np.stack([w["xt"] for w in worlds]), **f32)
    Yt = torch.tensor(np.stack([w["yt"] for w in worlds]), device=dev)
    N = Xp.shape[1]
    yield Note(f"K={K}, {R} replicate worlds x ({n_fm} foundation models + {n_fm - 1} "
               f"same-prior controls), {N} pre-training samples each (IR "
               f"{p.pretrain_imbalance_ratio:g}); downstream {Yd.shape[1]} samples (IR "
               f"{p.downstream_imbalance_ratio:g}); BA confounders: {p.confounders}")

    # --- pre-training: R * M encoders + heads, stacked, minibatch Adam on each own set
    net = lt.StackedMLP(R * M, D_IN, HIDDEN, D_FEAT, K, gen=gen).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    bs = 64
    rows = torch.arange(R * M, device=dev).unsqueeze(1)
    for epoch in range(p.pretrain_epochs):
        perm = torch.argsort(torch.rand(R * M, N, generator=gen), dim=1).to(dev)
        total = torch.zeros(R * M, device=dev)
        for s in range(0, N, bs):
            idx = perm[:, s:s + bs]
            logp = torch.log_softmax(net(Xp[rows, idx]), -1)
            per_model = -logp.gather(-1, Yp[rows, idx].unsqueeze(-1)).squeeze(-1).mean(-1)
            opt.zero_grad(set_to_none=True)
            per_model.sum().backward()
            opt.step()
            total += per_model.detach() * idx.shape[1]
        z_loss = (total / N).view(R, M).mean(0).tolist()
        yield Metric(epoch, {f"pretrain_loss_z{m}": z_loss[m] for m in range(M)})
        if ctx.should_stop():
            return

    # --- fine-tuning: frozen encoders, heads initialised from pre-training; a CE head and
    # a re-balanced (LA) head per model, all 2 R M trained together
    with torch.no_grad():
        fd = net.features(Xd.repeat_interleave(M, 0))
        ft = net.features(Xt.repeat_interleave(M, 0))
    log_pi = lt.log_prior(torch.tensor(np.stack([w["dcounts"] for w in worlds]), **f32))
    tau = p.la_tau if p.finetune_loss == "LA" else 0.0
    taus = torch.tensor([0.0] * (R * M) + [tau] * (R * M), device=dev)
    y2 = Yd.repeat_interleave(M, 0).repeat(2, 1)
    W, b, losses = lt.train_linear_heads(
        torch.cat([fd, fd]), y2, torch.cat([net.W3, net.W3]), torch.cat([net.b3, net.b3]),
        log_pi.repeat_interleave(M, 0).repeat(2, 1), taus, p.finetune_steps, 1e-2)
    E = p.pretrain_epochs
    for t, ls in enumerate(losses):
        ce, re = ls[:R * M].view(R, M).mean(0).tolist(), ls[R * M:].view(R, M).mean(0).tolist()
        yield Metric(E + t, {"finetune_loss_ce": ce[0], "finetune_loss_la": re[0],
                             **{f"finetune_loss_rebalanced_z{m}": re[m] for m in range(M)}})

    # --- evaluation on each world's balanced test set; raw f(x), no adjustment
    with torch.no_grad():
        logits = torch.baddbmm(b, torch.cat([ft, ft]), W).view(2, R, M, *ft.shape[1:2], K)
        ce, re = logits[0], logits[1]
        same = [0] + list(range(n_fm, M))
        preds = {"CE": ce[:, 0].argmax(-1), "LA": re[:, 0].argmax(-1),
                 "ens-same-prior": torch.stack([lt.backdoor_average(re[r, same])
                                                for r in range(R)]).argmax(-1),
                 "BA": torch.stack([lt.backdoor_average(re[r, :n_fm])
                                    for r in range(R)]).argmax(-1)}
    half = K // 2
    cells = np.zeros((len(METHODS), len(GROUPS)))
    by_rank = np.zeros((len(METHODS), K))  # accuracy by A's pre-training frequency rank
    for r, w in enumerate(worlds):
        a_order = w["orders"][0]
        for i, m in enumerate(METHODS):
            hit = (preds[m][r] == Yt[r]).float()
            per_class = (torch.zeros(K, device=dev).index_add_(0, Yt[r], hit)
                         / p.test_per_class).cpu().numpy()
            cells[i] += np.array(_group_acc(
                per_class, (a_order[:half], a_order[K - half:]),
                (w["down_order"][:half], w["down_order"][K - half:]))) / R
            by_rank[i] += per_class[a_order] / R
    yield Table("group_acc", list(METHODS), list(GROUPS), cells.tolist())
    for m, row in zip(METHODS, cells):
        yield Note(f"{m:>15}: " + "  ".join(f"{g} {v:.3f}" for g, v in zip(GROUPS, row)))
    for i, rank in enumerate(range(K - 1, -1, -1)):  # rarest class first
        yield Metric(E + p.finetune_steps + i, {
            "pretrain_freq_A": float(pre_counts[rank]),
            **{f"class_acc_{m.replace('-', '_')}": float(by_rank[j, rank])
               for j, m in enumerate(METHODS)}})


def _cell(history: History, method: str, group: str) -> float:
    t = history.tables.get("group_acc")
    if t is None:
        return float("nan")
    return float(t.cells[t.rows.index(method)][t.columns.index(group)])


def check(history: History, p: LongtailParams) -> Verdict:
    a = lambda m, g: _cell(history, m, g)  # noqa: E731
    gap_ce_param = a("CE", "param-head") - a("CE", "param-tail")
    gap_la_param = a("LA", "param-head") - a("LA", "param-tail")
    gap_ce_data = a("CE", "data-head") - a("CE", "data-tail")
    gap_la_data = a("LA", "data-head") - a("LA", "data-tail")
    criteria = (
        Criterion.at_least(C1, a("LA", "data-tail") - a("CE", "data-tail"), 0.04),
        Criterion.at_least(C2A, gap_la_param, 0.06),
        Criterion.at_most(C2B, ratio(gap_ce_param - gap_la_param, gap_ce_param), 0.35),
        Criterion.at_least(C2C, ratio(gap_ce_data - gap_la_data, gap_ce_data), 0.40),
        Criterion.at_least(C3A, a("BA", "overall") - a("LA", "overall"), 0.04),
        Criterion.at_least(C3B, a("BA", "param-tail") - a("ens-same-prior", "param-tail"), 0.03),
        Criterion.at_least("BA param gap below LA's (LA gap - BA gap)",
                           gap_la_param - (a("BA", "param-head") - a("BA", "param-tail")),
                           0.0, tier="mechanism"),
    )
    return Verdict.of(criteria, (
        f"LA lifts data-tail by {a('LA', 'data-tail') - a('CE', 'data-tail'):+.3f} but leaves a "
        f"param gap of {gap_la_param:.3f}; BA adds {a('BA', 'overall') - a('LA', 'overall'):+.3f} "
        f"overall and {a('BA', 'param-tail') - a('ens-same-prior', 'param-tail'):+.3f} on "
        f"param-tail over a same-prior ensemble"))


def _total_steps(p: LongtailParams) -> int:
    return p.pretrain_epochs + p.finetune_steps + p.n_classes - 1


SCENARIO = Scenario(
    params=LongtailParams,
    run=run,
    check=check,
    panels=(
        Panel("pre-training loss per epoch, each z", series=("pretrain_loss_z*",),
              xlabel="epoch", ylabel="cross-entropy"),
        Panel("fine-tuning loss per step", series=("finetune_loss_ce", "finetune_loss_la",
                                                   "finetune_loss_rebalanced_z*"),
              xlabel="step", ylabel="training loss"),
        Panel("accuracy by group and method", kind="bars", table="group_acc"),
        Panel("per-class accuracy vs pre-training frequency (model A)",
              series=("class_acc_*",), x="pretrain_freq_A", logx=True,
              xlabel="pre-training samples of the class (log)", ylabel="test accuracy"),
    ),
    presets={"quick": {"pretrain_head_samples": 300, "pretrain_epochs": 12, "replicates": 4}},
    watch=("finetune_loss_la",),
    key_metric="finetune_loss_la",
    total_steps=_total_steps,
    threads=2,  # 1.19-1.25x faster on 2 idle cores than on 1 (bench_threads, quick)
    notes=__doc__ or "",
    paper_reports="Fine-tuned foundation models (CLIP with PEFT) on long-tailed sets inherit a "
                  "parameter imbalance from pre-training that re-balancing (LA / GLA) does not "
                  "remove; backdoor adjustment, averaging models fine-tuned from CLIP, OpenCLIP "
                  "and MetaCLIP, adds about +1.67 points on average over GLA (ImageNet-LT "
                  "73.5 -> 74.2, Places365-LT +1.5, iNaturalist 2018 +2.0).",
    paper_rows=(
        PaperRow("gain of backdoor adjustment over GLA, mean of 3 data sets", "+1.67",
                 "accuracy points", "abstract; main results table", C3A),
        PaperRow("ImageNet-LT accuracy, GLA -> backdoor adjustment", "73.5 -> 74.2",
                 "% top-1", "main results table (ImageNet-LT)", C3A),
        PaperRow("Places365-LT gain over GLA", "+1.5", "accuracy points",
                 "main results table (Places365-LT)", C3A),
        PaperRow("iNaturalist 2018 gain over GLA", "+2.0", "accuracy points",
                 "main results table (iNat18)", C3A),
        PaperRow("re-balancing fixes the downstream (data) tail", "not reported as a number",
                 "accuracy points", "Sec. 3 analysis (per-class figures)", C1),
        PaperRow("parameter imbalance left after re-balancing", "not reported as a number",
                 "accuracy points", "Sec. 3 analysis (accuracy vs pre-training frequency)", C2A),
        PaperRow("backdoor gain beyond plain ensembling on the param tail", "not reported",
                 "accuracy points", "no same-prior ensemble in the paper", C3B),
    ),
    status="reproduces",
)
