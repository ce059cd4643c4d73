"""Idealized runtime of autoregressive transformer inference (Narayanan, Santhanam, Henderson,
Bommasani, Lee, Liang 2023, "Cheaply Evaluating Inference Efficiency Metrics for
Autoregressive Transformer APIs", arXiv 2305.02440).

The paper's method at toy scale. Three decoder-only transformers with a KV cache
(engines/lm/transformer.py: pre-LN, vocab 256, random weights, greedy decoding; small 2
layers d 128 (0.50M params), medium 3 x 192 (1.49M), large 4 x 256 (3.37M); the cached and
cache-less decoders give the same logits to 1e-5, tested). A query (p, o) = a prefill call
on p random prompt tokens, then o - 1 single-token decode calls. Its runtime is read from a
clock (param `clock`):
  flop (default; tests and `paramlab check`): a deterministic roofline clock charging each
       forward call L x 20 us + max(matmul FLOPs / 5e10 FLOP/s, bytes moved / 5e8 B/s),
       FLOPs counted exactly (tested against a hand count and torch's FlopCounterMode),
       bytes = every fp32 weight + the K/V cache read and written. The constants are the
       spec's calibration 2 (FLOP/byte ratio 100, as on real accelerators); bytes are
       counted at 4 per value (the model runs in fp32) where calibration 2 used 2P, so g/b
       comes out ~550 rather than ~150. The generations really run; the clock reads the
       shapes of the forward calls they make;
  cpu  (real timing, for the console): this thread's CPU time of the whole generation,
       median of `repeats` after 3 warm-up generations;
  wall the wall clock: what an API caller sees, broken under contention from other jobs.
Profile: grid p in {16, 32, 64, 128, 256} x o in {1, 2, 8, 32}. Fit (1/y-weighted least
squares, i.e. relative error): runtime = a + b p + g (o - 1) [+ c (p - p_b)+], the knot p_b
chosen among the interior grid p (or none) by the fit's grid MAPE (the paper's piecewise-
linear F(p)). Held-out: `queries` random (p, o), p ~ U{16..256}, o ~ U{1..32}. Contrast
(the spec's naive baseline): runtime = alpha (p + o), one parameter, same weighted LS.
API view: raw = measured / s x LogNormal(0, 0.5) per query, s = 4 for the largest model
(a provider speed-up; 4 is the spec's recommendation over 3 for margin), 1 for the others.

Claim check (thresholds from the spec's calibration update, fixed before seeds 0-19):
  paper      worst model's MAPE of the idealized-runtime fit on held-out queries <= 0.15
             (spec; calibration 2 kept 0.15, calibration 1 loosened to 0.20 for a loaded
             CPU timer: not needed on the FLOP clock);
  paper      naive MAPE / idealized MAPE >= 3 for every model (spec: 2x proposed, raised
             to 3x by calibration);
  mechanism  g / b >= 10 for every model (b = mean prefill cost per prompt token over the
             grid's p range; decode is sequential and memory bound, prefill parallel);
  mechanism  the idealized runtime orders the models by size;
  mechanism  the raw API mean runtime of the largest model / the next one < 1 (ranking
             inverted). Holds by construction of the speed-up once s > ideal(L)/ideal(M)
             (~2.2 here): a demonstration, not evidence.
Presets: default 3 models, 20-point grid, 40 queries; quick medium + large, p {16, 64, 256}
x o {1, 8, 32}, 16 queries.

Measured, seeds 0-19, FLOP clock (min / median / max):
  quick    PASS 20/20. worst MAPE 0.028 / 0.036 / 0.063; naive/ideal 12.2 / 24.4 / 30.1;
           g/b 580 (identical on every seed: the clock depends on shapes, not weights);
           API large/medium 0.35 / 0.62 / 0.78. 2.2 s alone on one core; 3.2-9.7 s wall
           while other jobs shared the 2-core box.
  default  PASS 20/20. worst MAPE 0.042 / 0.053 / 0.065; naive/ideal 13.1 / 15.8 / 20.5;
           g/b 537; API large/medium 0.44 / 0.54 / 0.79. 6.8 s alone; 7.7-11.8 s wall
           under load.
What varies per seed: the held-out queries, the prompts, the weights and the contention
draws; the profile itself is deterministic. The residual error is structural: a decode
step's K/V traffic and attention FLOPs grow with the context, which the constant g ignores
(the same misfit calibration 1 saw on a real CPU).

Control (tests/test_idealized_runtime_api.py): prefill-only profiling, `grid_o = 1` (the
spec's calibration 1 broken variant): the o - 1 column is all zero, g is unidentifiable
(fitted as 0) and queries with up to 32 outputs are mispredicted. Quick, seeds 0-19: FAIL
20/20, worst MAPE 0.75 / 0.87 / 0.94 (fails <= 0.15), naive/ideal 0.99 / 1.02 / 1.10
(fails >= 3), g/b 0; the normal run passes both criteria (test).

Probes and worlds (not judged; numbers from this box, 2 cores shared with other jobs):
  - KV cache off (`kv_cache = false`, calibration 2's broken variant), FLOP clock, default,
    seeds 0-2: PASS 3/3, worst MAPE 0.051-0.060, naive/ideal 14.6-16.5, 41-49 s per run.
    It does not break here: with fp32 weights a forward call on fewer than ~200 tokens is
    memory bound (4P bytes outweigh 2P n / 100 FLOP-equivalents), so recomputing a
    context <= 288 tokens costs little more than a cached step on this roofline. (It broke
    calibration 2's clock, which counted 2 bytes per weight: compute bound from n ~ 100.)
    Not used as the control for that reason;
  - real timing, `clock = cpu` (preset `cpu-timer`): quick seeds 0-2 PASS 3/3 (worst MAPE
    0.060-0.076, naive/ideal 5.8-8.4, g/b 14-22); default seed 0 PASS once (worst MAPE
    0.099, per-model 0.075 / 0.099 / 0.083, g/b 24.7-31.9, 28 s) and FAIL once (both paper
    criteria, run while pytest loaded the other core); default seeds 0-4 at load 1.6-3:
    PASS 3/5, worst MAPE 0.078 / 0.133 / 0.174 (min / median / max), naive/ideal
    3.0-6.0, g/b 13.6-21.1, 16-21 s per run. Load-sensitive, as the spec warns (its
    calibration 1 needed <= 0.20 under load); hence the FLOP clock for checks and tests;
  - wall clock, quick seeds 0-1 on a lightly loaded box: PASS 2/2 (worst MAPE 0.038-0.070);
    under the heavy load of the spec's calibrations it gave MAPE 0.56-0.82.
Not done: the paper's capability-vs-cost table (only the cost table is shown), batching
(batch 1 throughout) and the CUDA path (no GPU used; the model is moved to ctx.device, and
thread CPU time is meaningless for GPU kernels - use the FLOP clock there).
"""

from __future__ import annotations

import math
import time
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
from paramlab.scenarios.measure import maximum, minimum

# name -> (layers, d_model, heads): the spec's 2-4 layers, d 128-256
SIZES = {"small": (2, 128, 2), "medium": (3, 192, 3), "large": (4, 256, 4)}
VOCAB = 256
MAPE = "worst model: MAPE of the idealized-runtime fit on held-out queries"
NAIVE = "naive total-tokens MAPE / idealized MAPE (worst model)"
G_OVER_B = "decode cost per output token g / prefill cost per prompt token b (min over models)"
IDEAL_ORDER = "idealized runtime ranks the models by size (1 = yes)"
API_INVERTS = ("raw API runtime, largest / next model (< 1: ranking inverted; by "
               "construction of the provider speed-up)")


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.replace(" ", "").split(",") if v]


def _names(text: str) -> list[str]:
    return [v for v in text.replace(" ", "").split(",") if v]


@dataclass(frozen=True)
class IdealizedRuntimeApiParams(Params):
    models: str = param("small,medium,large",
                        help="model sizes, smallest first (small (2 layers, d 128), medium "
                             "(3, 192), large (4, 256))")
    grid_p: str = param("16,32,64,128,256", help="prompt lengths p of the profiling grid")
    grid_o: str = param("1,2,8,32", help="output lengths o of the profiling grid ('1' alone: "
                                         "prefill-only profiling, a broken variant)")
    queries: int = param(40, range=(4, 200), help="held-out queries, p ~ U{16..256}, "
                                                 "o ~ U{1..32}")
    clock: str = param("flop", choices=("flop", "cpu", "wall"),
                       help="flop: deterministic roofline clock of each forward call (tests, "
                            "checks); cpu: this thread's CPU time (real timing); wall: wall "
                            "clock (breaks under contention from other jobs)")
    repeats: int = param(3, range=(1, 9), help="repeats per measurement with a real clock "
                                               "(median); the FLOP clock needs one")
    kv_cache: bool = param(True, help="decode with a KV cache (false: recompute the whole "
                                      "context every step, a broken variant)")
    knot: bool = param(True, help="allow one breakpoint in F(p), chosen from the interior "
                                  "grid p by the fit's grid error")
    contention: float = param(0.5, range=(0.0, 1.5),
                              help="API view: sigma of the lognormal contention slowdown")
    speedup: float = param(4.0, range=(1.0, 8.0),
                           help="API view: provider speed-up of the largest model")

    def check_consistency(self) -> None:
        names = _names(self.models)
        if not names or any(n not in SIZES for n in names) or len(set(names)) != len(names):
            raise ValueError(f"models: expected distinct names from {sorted(SIZES)}, "
                             f"got {self.models!r}")
        gp, go = _ints(self.grid_p), _ints(self.grid_o)
        if len(gp) < 2 or min(gp) < 1 or max(gp) > 256:
            raise ValueError(f"grid_p: expected >= 2 lengths in [1, 256], got {self.grid_p!r}")
        if not go or min(go) < 1 or max(go) > 64:
            raise ValueError(f"grid_o: expected lengths in [1, 64], got {self.grid_o!r}")


def _n_rows(p: IdealizedRuntimeApiParams) -> int:
    k = len(_names(p.models))
    return k * (len(_ints(p.grid_p)) * len(_ints(p.grid_o)) + p.queries + 1)


def _design(P, Q, knot):
    import numpy as np

    cols = [np.ones_like(P), P, Q - 1.0]
    if knot is not None:
        cols.append(np.maximum(P - knot, 0.0))
    return np.stack(cols, 1)


def fit_runtime(P, Q, y, knots):
    """1/y-weighted least squares (relative error) of y ~ a + b p + g (o - 1)
    [+ c (p - knot)+], the knot chosen among `knots` (None: no knot) by grid MAPE."""
    import numpy as np

    best = None
    for knot in [None, *knots]:
        X = _design(P, Q, knot)
        coef, *_ = np.linalg.lstsq(X / y[:, None], np.ones_like(y), rcond=None)
        err = float(np.mean(np.abs(X @ coef - y) / y))
        if best is None or err < best[0] - 1e-12:
            best = (err, knot, coef)
    return best[1], best[2]


def predict(knot, coef, P, Q):
    return _design(P, Q, knot) @ coef


def _measure(model, cfg, n_params, n_p, n_o, p, device, rng, clock, repeats, timer) -> float:
    """Seconds of one query (median over repeats): prefill n_p random tokens, then decode
    to n_o output tokens; the FLOP clock charges each forward call, a real clock times
    the whole generation."""
    import numpy as np
    import torch

    from paramlab.engines.lm import transformer as tf

    reads = []
    for _ in range(repeats):
        prompt = torch.as_tensor(rng.integers(0, VOCAB, (1, n_p)), device=device)
        seconds = [0.0]

        def charge(n_new: int, n_past: int, seconds=seconds) -> None:
            seconds[0] += clock.forward_seconds(cfg, n_params, n_new, n_past)

        t0 = timer()
        tf.generate(model, prompt, n_o, kv_cache=p.kv_cache,
                    on_forward=charge if p.clock == "flop" else None)
        reads.append(seconds[0] if p.clock == "flop" else timer() - t0)
    return float(np.median(reads))


def run(p: IdealizedRuntimeApiParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    import numpy as np
    import torch

    from paramlab.engines.lm import transformer as tf

    rng = ctx.rng
    names = _names(p.models)
    gp, go = _ints(p.grid_p), _ints(p.grid_o)
    clock = tf.FlopClock()
    q_p = rng.integers(16, 257, p.queries).astype(float)
    q_o = rng.integers(1, 33, p.queries).astype(float)
    knots = [float(v) for v in sorted(gp)[1:-1]] if p.knot else []
    repeats = 1 if p.clock == "flop" else p.repeats
    timer = time.thread_time if p.clock == "cpu" else time.perf_counter
    yield Note(f"clock {p.clock}" + ("" if p.clock == "flop" else f", median of {repeats}")
               + f"; KV cache {'on' if p.kv_cache else 'off'}; grid p {gp} x o {go}; "
               f"{p.queries} held-out queries; API view: speed-up {p.speedup:g} for "
               f"{names[-1]}, contention LogNormal(0, {p.contention:g})")

    step = 0
    summary = {}
    for i, name in enumerate(names):
        L, d, h = SIZES[name]
        cfg = tf.TransformerConfig(vocab=VOCAB, layers=L, d_model=d, heads=h, max_len=320)
        g = torch.Generator().manual_seed(ctx.seed * 1000 + i)
        model = tf.init_(tf.TinyTransformer(cfg), g).to(ctx.device).eval()
        n_params = model.n_params()

        def measure(n_p: int, n_o: int, model=model, cfg=cfg, n_params=n_params) -> float:
            return _measure(model, cfg, n_params, n_p, n_o, p, ctx.device, rng, clock,
                            repeats, timer)

        if p.clock != "flop":
            for _ in range(3):  # warm-up (allocator, kernels) before any timed read
                measure(64, 4)
        P, Q, Y = [], [], []
        for n_o in go:
            for n_p in gp:
                y = measure(n_p, n_o)
                P.append(n_p)
                Q.append(n_o)
                Y.append(y)
                yield Metric(step, {"p": float(n_p), "runtime_ms": 1e3 * y,
                                    f"prof_{name}_o{n_o}": 1e3 * y})
                step += 1
                if ctx.should_stop():
                    return
        P, Q, Y = (np.asarray(v, float) for v in (P, Q, Y))
        knot, coef = fit_runtime(P, Q, Y, knots)
        x = P + Q  # naive: y ~ alpha (p + o), 1/y-weighted LS (no intercept)
        alpha = float(np.sum(x / Y) / np.sum((x / Y) ** 2))
        pmin, pmax = float(min(gp)), float(max(gp))
        ends = predict(knot, coef, np.array([pmin, pmax]), np.ones(2))
        b = float(ends[1] - ends[0]) / (pmax - pmin)  # mean prefill cost per prompt token
        g_tok = float(coef[2])

        measured = np.array([measure(int(a), int(o)) for a, o in zip(q_p, q_o)])
        ideal = predict(knot, coef, q_p, q_o)
        naive = alpha * (q_p + q_o)
        for j in range(p.queries):
            yield Metric(step, {"measured_ms": 1e3 * measured[j],
                                f"pred_{name}": 1e3 * ideal[j],
                                f"naive_{name}": 1e3 * naive[j]})
            step += 1
        # API view: the provider speeds up the largest model; contention slows each call
        slow = rng.lognormal(0.0, p.contention, p.queries)
        s = p.speedup if i == len(names) - 1 else 1.0
        api = measured / s * slow
        row = {
            "size_index": float(i),
            "n_params_M": n_params / 1e6,
            "mape_ideal": float(np.mean(np.abs(ideal - measured) / measured)),
            "mape_naive": float(np.mean(np.abs(naive - measured) / measured)),
            "b_us_per_tok": 1e6 * b,
            "g_ms_per_tok": 1e3 * g_tok,
            "g_over_b": g_tok / b if b > 0 else math.nan,
            "ideal_mean_ms": 1e3 * float(measured.mean()),
            "api_mean_ms": 1e3 * float(api.mean()),
        }
        summary[name] = row
        yield Metric(step, row)
        step += 1
        yield Note(f"{name} ({n_params / 1e6:.2f}M params): F(p) = {1e3 * coef[0]:.3f} ms + "
                   f"{1e6 * coef[1]:.2f} us/tok"
                   + ("" if knot is None else f" + {1e6 * coef[3]:.2f} us/tok past p={knot:g}")
                   + f", g = {1e3 * g_tok:.3f} ms/tok (g/b {row['g_over_b']:.1f}); MAPE "
                   f"ideal {row['mape_ideal']:.3f}, naive {row['mape_naive']:.3f}")
    cols = ["params (M)", "b (us/prompt tok)", "g (ms/out tok)", "MAPE ideal", "MAPE naive",
            "idealized ms/query", "API ms/query"]
    keys = ["n_params_M", "b_us_per_tok", "g_ms_per_tok", "mape_ideal", "mape_naive",
            "ideal_mean_ms", "api_mean_ms"]
    yield Table("cost", names, cols, [[summary[n][k] for k in keys] for n in names])


def check(history: History, p: IdealizedRuntimeApiParams) -> Verdict:
    ideal = history.series("mape_ideal")[1] if "mape_ideal" in history else []
    naive = history.series("mape_naive")[1] if "mape_naive" in history else []
    gb = history.series("g_over_b")[1] if "g_over_b" in history else []
    worst = maximum(ideal)
    ratios = [n / m if m > 0 else math.nan for n, m in zip(naive, ideal)]
    criteria = [
        Criterion.at_most(MAPE, worst, 0.15),
        Criterion.at_least(NAIVE, minimum(ratios), 3.0),
        Criterion.at_least(G_OVER_B, minimum(gb), 10.0, tier="mechanism"),
    ]
    if "ideal_mean_ms" in history and len(ideal) >= 2:
        means = history.series("ideal_mean_ms")[1]
        ordered = all(a < b for a, b in zip(means, means[1:]))
        criteria.append(Criterion.at_least(IDEAL_ORDER, float(ordered), 1.0,
                                           tier="mechanism"))
        api = history.series("api_mean_ms")[1]
        criteria.append(Criterion.at_most(API_INVERTS, api[-1] / api[-2], 1.0,
                                          tier="mechanism"))
    return Verdict.of(criteria, f"the idealized-runtime fit predicts held-out queries to "
                                f"{worst:.1%} (worst model); the total-tokens model is "
                                f">= {minimum(ratios):.1f}x worse")


SCENARIO = Scenario(
    params=IdealizedRuntimeApiParams,
    run=run,
    check=check,
    panels=(
        Panel("profile: runtime vs prompt tokens p, one line per (model, o)",
              series=("prof_*",), x="p", logx=True, logy=True,
              xlabel="prompt tokens p (log)", ylabel="runtime (ms, log)"),
        Panel("held-out queries: predicted vs measured runtime", series=("pred_*", "naive_*"),
              x="measured_ms", logx=True, logy=True, xlabel="measured (ms, log)",
              ylabel="predicted (ms, log)"),
        Panel("MAPE per model (x: size index)", series=("mape_ideal", "mape_naive"),
              x="size_index", xlabel="model (0 = smallest)", ylabel="MAPE",
              labels={"mape_ideal": "idealized-runtime fit", "mape_naive": "total tokens"}),
        Panel("idealized vs raw API runtime per query (mean)",
              series=("ideal_mean_ms", "api_mean_ms"), x="size_index",
              xlabel="model (0 = smallest)", ylabel="ms / query"),
        Panel("cost per model", kind="bars", table="cost"),
    ),
    presets={"quick": {"models": "medium,large", "grid_p": "16,64,256", "grid_o": "1,8,32",
                       "queries": 16},
             # real timing for the console: thread CPU time, median of 3 (load-sensitive)
             "cpu-timer": {"clock": "cpu"}},
    watch=("runtime_ms",),
    key_metric="runtime_ms",
    total_steps=lambda p: _n_rows(p) - 1,
    uses_torch=True,
    threads=2,  # 0.99, 1.06, 1.13x on 2 idle cores vs 1 (bench_threads, quick, 3 runs)
    notes=__doc__ or "",
    paper_reports="Raw API runtimes mix model cost with provider hardware/software and "
                  "contention; the idealized runtime (uniform hardware, no contention) is "
                  "estimated by profiling each model on a small (prompt tokens, output "
                  "tokens) grid and fitting runtime = F(p) + g (o - 1), F piecewise linear; "
                  "the fit predicts other queries accurately, decode tokens cost far more "
                  "than prompt tokens, and raw API rankings need not follow model cost "
                  "(arXiv 2305.02440, Sec. 3-4; figures, no single headline percentage "
                  "transcribed here).",
    paper_rows=(
        PaperRow("error of the fitted idealized-runtime model on other queries",
                 "small (figures; exact % not transcribed)", "MAPE",
                 "Sec. 3-4, fit-quality figures", MAPE),
        PaperRow("total-tokens model vs idealized-runtime fit", "not reported (the paper "
                 "argues runtime is not a function of total tokens)", "ratio",
                 "Sec. 3 (motivation of F(p) + g (o - 1))", NAIVE),
        PaperRow("decode cost per output token / prefill cost per prompt token",
                 ">> 1 (parallel prefill vs sequential decode; figures)", "ratio",
                 "Sec. 3, runtime vs p and o plots", G_OVER_B),
        PaperRow("raw API ranking vs idealized ranking", "can differ (figures)", "",
                 "Sec. 4, API vs idealized comparisons", API_INVERTS),
    ),
    status="reproduces",
)
