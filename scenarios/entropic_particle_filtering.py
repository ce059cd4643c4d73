"""Entropic particle filtering vs particle filtering on a synthetic reasoning tree
(Giannone et al. 2025, arXiv 2510.05825).

TODO notes: filled in after the seeds 0-19 runs.
"""

from __future__ import annotations

import math
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

METHODS = ("pf", "epf", "epf_lam", "pf_hot", "epf_ess")
LABELS = {"pf": "PF", "epf": "ePF (EA)", "epf_lam": "ePF + LaM",
          "pf_hot": "PF, fixed T", "epf_ess": "ePF, its_hub ESS schedule"}
TRACE_N = 32  # the budget whose per-step traces are drawn (the nearest one run)


@dataclass(frozen=True)
class EPFParams(Params):
    n_steps: int = param(10, range=(4, 20), help="reasoning steps T (resampling after each "
                                                 "but the last)")
    p_sound: float = param(0.3, range=(0.05, 0.8),
                           help="probability that an approach picked at step 0 is sound")
    error_rate: float = param(0.05, range=(0.0, 0.2),
                              help="per-step probability that a sound path breaks")
    prm_early_noise: float = param(3.0, range=(0.0, 6.0),
                                   help="PRM noise sd at step 0 (0 turns the over-confident "
                                        "early scores off)")
    prm_late_noise: float = param(0.7, range=(0.0, 3.0), help="PRM noise sd at the last step")
    h_min: float = param(0.9, range=(0.0, 0.99),
                         help="EA: normalised entropy kept by annealing (0: ePF = PF)")
    lookahead_lambda: float = param(0.5, range=(0.0, 1.0),
                                    help="LaM: weight of the sampled successor's logit")
    hot_temperature: float = param(3.0, range=(1.0, 20.0),
                                   help="the fixed temperature of the pf_hot ablation")
    ess_threshold: float = param(0.5, range=(0.0, 1.0),
                                 help="its_hub ESS schedule: anneal when ESS / N is below")
    early_phase: float = param(0.5, range=(0.0, 1.0),
                               help="its_hub ESS schedule: anneal only while t / T_max is below")
    n_min: int = param(4, range=(2, 256), help="smallest particle budget N (doubling)")
    n_max: int = param(64, range=(2, 256), help="largest particle budget N")
    n_problems: int = param(2000, range=(50, 20_000), log=True,
                            help="problem instances per budget and method")
    resampling: str = param("multinomial", choices=("multinomial", "systematic"),
                            help="how ancestors are drawn from the resampling distribution")

    def check_consistency(self) -> list[str]:
        if self.n_min > self.n_max:
            return [f"n_min: must be <= n_max ({self.n_max}), got {self.n_min}"]
        return []


def budgets(p: EPFParams) -> list[int]:
    out, n = [], p.n_min
    while n <= p.n_max:
        out.append(n)
        n *= 2
    return out


def trace_budget(p: EPFParams) -> int:
    return min(budgets(p), key=lambda n: abs(math.log(n / TRACE_N)))


def methods(p: EPFParams) -> dict:
    from paramlab.engines.stats.particles import Method

    return {
        "pf": Method("none"),
        "epf": Method("entropy", h_min=p.h_min),
        "epf_lam": Method("entropy", h_min=p.h_min, lookahead=p.lookahead_lambda),
        "pf_hot": Method("fixed", fixed_temperature=p.hot_temperature),
        "epf_ess": Method("ess", ess_threshold=p.ess_threshold, early_phase=p.early_phase),
    }


def run(p: EPFParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    import numpy as np

    from paramlab.engines.stats.particles import ReasoningTree, run_filter

    tree = ReasoningTree(p.n_steps, p.p_sound, p.error_rate, p.prm_early_noise,
                         p.prm_late_noise)
    ns, n_trace = budgets(p), trace_budget(p)
    yield Note(f"{p.n_problems} problems per budget N in {ns}; T = {p.n_steps} steps, "
               f"p_sound {p.p_sound}, PRM noise sd {p.prm_early_noise} -> "
               f"{p.prm_late_noise}; h_min {p.h_min}, LaM lambda {p.lookahead_lambda}, "
               f"fixed T {p.hot_temperature}; {p.resampling} resampling")
    acc = {m: [] for m in METHODS}
    trace = {}
    for step, n in enumerate(ns):
        # common random numbers: every method starts from the same seed at a given N, so
        # they see the same initial approaches
        seed = int(ctx.rng.integers(0, 2**63 - 1))
        values = {"n_particles": float(n)}
        for name, method in methods(p).items():
            r = run_filter(tree, method, p.n_problems, n, np.random.default_rng(seed),
                           p.resampling)
            acc[name].append(float(r.correct.mean()))
            values[f"acc_{name}"] = acc[name][-1]
            values[f"ancestors_{name}"] = float(r.ancestors[-1].mean())
            values[f"temp_{name}"] = float(r.temperature.mean())
            values[f"entropy0_{name}"] = float(r.entropy[0].mean())
            if name == "pf":  # first step after which PF has <= 2 root ancestors on average
                low = np.flatnonzero(r.ancestors.mean(axis=1) <= 2.0)
                values["collapse_step_pf"] = float(low[0]) if low.size else math.inf
            if n == n_trace:
                trace[name] = r
            if ctx.should_stop():
                return
        values["se_acc"] = float(np.sqrt(0.25 / p.n_problems))
        yield Metric(step, values)
    yield Table("accuracy (fraction of problems solved)", [LABELS[m] for m in METHODS],
                [f"N={n}" for n in ns], [acc[m] for m in METHODS])

    # per-step traces at one budget: mean over problems, and problem 0 of ePF
    base = len(ns)
    for t in range(p.n_steps):
        values = {"step_t": float(t)}
        for name in ("pf", "epf", "pf_hot"):
            r = trace[name]
            values[f"sound_frac_{name}_t"] = float(r.sound_frac[t].mean())
            values[f"ancestors_{name}_t"] = float(r.ancestors[t].mean())
            if t < p.n_steps - 1:
                values[f"entropy_{name}_t"] = float(r.entropy[t].mean())
                values[f"temperature_{name}_t"] = float(r.temperature[t].mean())
        if t < p.n_steps - 1:
            values["instance_entropy_epf_t"] = float(trace["epf"].entropy[t, 0])
            values["instance_entropy_used_epf_t"] = float(trace["epf"].entropy_used[t, 0])
            values["instance_temperature_epf_t"] = float(trace["epf"].temperature[t, 0])
        yield Metric(base + t, values)
    yield Note(f"traces drawn at N = {n_trace}; PF keeps {trace['pf'].ancestors[-1].mean():.1f}"
               f" root ancestors, ePF {trace['epf'].ancestors[-1].mean():.1f}")


def _by_n(history: History, name: str) -> dict[int, float]:
    xs, ys = history.paired("n_particles", name)
    return {int(x): y for x, y in zip(xs, ys)}


def check(history: History, p: EPFParams) -> Verdict:
    nan = math.nan
    a = {m: _by_n(history, f"acc_{m}") for m in METHODS}
    anc = {m: _by_n(history, f"ancestors_{m}") for m in METHODS}
    ent0 = _by_n(history, "entropy0_pf")
    at = lambda m, n: a[m].get(n, nan)  # noqa: E731
    criteria = (
        Criterion.at_least("1. ePF - PF accuracy at N=16", at("epf", 16) - at("pf", 16), 0.20),
        Criterion.at_least("2. ePF accuracy at N=32", at("epf", 32), 0.70),
        Criterion.at_most("2. PF accuracy at N=32", at("pf", 32), 0.55),
        Criterion.at_least("3. ePF accuracy gain from N=4 to N=32",
                           at("epf", 32) - at("epf", 4), 0.30),
        Criterion.at_most("3. PF accuracy gain from N=4 to N=32",
                          at("pf", 32) - at("pf", 4), 0.25),
        Criterion.at_least("4. ePF+LaM - ePF accuracy at N=8",
                           at("epf_lam", 8) - at("epf", 8), -0.03),
        Criterion.at_most("PF's resampling entropy at step 0, N=32 (over-confident, < h_min)",
                          ent0.get(32, nan), 0.9, tier="mechanism"),
        Criterion.at_most("PF unique root ancestors at the end, N=32 (impoverished)",
                          anc["pf"].get(32, nan), 2.0, tier="mechanism"),
        Criterion.at_most("PF steps until <= 2 root ancestors, N=32 (O(log N): log2 N = 5)",
                          _by_n(history, "collapse_step_pf").get(32, nan), 5.0,
                          tier="mechanism"),
        Criterion.at_least("ePF / PF unique root ancestors at the end, N=32",
                           ratio(anc["epf"].get(32, nan), anc["pf"].get(32, nan)), 1.5,
                           tier="mechanism"),
        Criterion.at_least("ePF relative gain over PF at N=16 (paper: up to 0.5)",
                           ratio(at("epf", 16), at("pf", 16)) - 1.0, 0.5, tier="mechanism"),
        Criterion.at_least("its_hub ESS-schedule ePF accuracy at N=32",
                           at("epf_ess", 32), 0.70, tier="mechanism"),
        Criterion.at_least("fixed-T PF (pf_hot, T=3) accuracy at N=32",
                           at("pf_hot", 32), 0.70, tier="mechanism"),
    )
    return Verdict.of(criteria, f"at N=32 ePF solves {at('epf', 32):.2f} of the problems, PF "
                      f"{at('pf', 32):.2f} (N=4: {at('epf', 4):.2f} vs {at('pf', 4):.2f}); "
                      f"ePF+LaM {at('epf_lam', 32):.2f}, fixed T {at('pf_hot', 32):.2f}")


SCENARIO = Scenario(
    params=EPFParams,
    run=run,
    check=check,
    panels=(
        Panel("accuracy vs particle budget N", x="n_particles", logx=True,
              series=tuple(f"acc_{m}" for m in METHODS), xlabel="particles N (log)",
              ylabel="fraction solved", labels={f"acc_{m}": LABELS[m] for m in METHODS}),
        Panel("resampling entropy and temperature vs step (N=32)", x="step_t",
              series=("entropy_pf_t", "entropy_epf_t", "temperature_epf_t",
                      "instance_entropy_epf_t", "instance_temperature_epf_t"),
              xlabel="reasoning step t",
              labels={"entropy_pf_t": "PF H/log N", "entropy_epf_t": "ePF H/log N (T=1)",
                      "temperature_epf_t": "ePF temperature",
                      "instance_entropy_epf_t": "one problem: H/log N",
                      "instance_temperature_epf_t": "one problem: temperature"}),
        Panel("unique root ancestors vs step (N=32)", x="step_t",
              series=("ancestors_pf_t", "ancestors_epf_t", "ancestors_pf_hot_t"),
              xlabel="reasoning step t", logy=True,
              labels={"ancestors_pf_t": "PF", "ancestors_epf_t": "ePF",
                      "ancestors_pf_hot_t": "PF, fixed T"}),
        Panel("unique root ancestors at the end vs N", x="n_particles", logx=True,
              series=tuple(f"ancestors_{m}" for m in METHODS), xlabel="particles N (log)",
              labels={f"ancestors_{m}": LABELS[m] for m in METHODS}),
        Panel("PF genealogy: steps until <= 2 root ancestors vs N", x="n_particles",
              logx=True, series=("collapse_step_pf",), xlabel="particles N (log)",
              labels={"collapse_step_pf": "PF collapse step"}),
        Panel("fraction of sound particles vs step (N=32)", x="step_t",
              series=("sound_frac_pf_t", "sound_frac_epf_t", "sound_frac_pf_hot_t"),
              xlabel="reasoning step t",
              labels={"sound_frac_pf_t": "PF", "sound_frac_epf_t": "ePF",
                      "sound_frac_pf_hot_t": "PF, fixed T"}),
    ),
    presets={"quick": {"n_problems": 1000, "n_max": 32}},
    watch=("acc_pf", "acc_epf"),
    key_metric="acc_epf",
    total_steps=lambda p: len(budgets(p)) + p.n_steps - 1,
    notes=__doc__ or "",
    paper_reports="On challenging math benchmarks with language models, PF guided by an "
                  "over-confident PRM suffers premature exploitation (particle "
                  "impoverishment); ePF (Entropic Annealing + Look-ahead Modulation) gives up "
                  "to 50% relative improvement in task reward over strong baselines, with "
                  "the largest gains at small particle budgets.",
    paper_rows=(
        PaperRow("relative task-reward improvement of ePF over PF", "up to 50 %",
                 "relative (here at N=16)", "abstract",
                 "ePF relative gain over PF at N=16 (paper: up to 0.5)"),
        PaperRow("ePF - PF accuracy at a small budget", "not reported (largest gains at small "
                 "budgets)", "fraction solved, N=16", "abstract",
                 "1. ePF - PF accuracy at N=16"),
        PaperRow("PF accuracy plateaus with the budget", "not reported (premature "
                 "exploitation)", "accuracy gain N=4 -> 32", "abstract",
                 "3. PF accuracy gain from N=4 to N=32"),
        PaperRow("ePF accuracy scales with the budget", "not reported", "accuracy gain "
                 "N=4 -> 32", "abstract", "3. ePF accuracy gain from N=4 to N=32"),
        PaperRow("LaM on top of EA", "not reported (further gains)", "accuracy difference, "
                 "N=8", "abstract", "4. ePF+LaM - ePF accuracy at N=8"),
        PaperRow("particle impoverishment under PF", "not reported", "unique root ancestors, "
                 "N=32", "abstract", "PF unique root ancestors at the end, N=32 (impoverished)"),
    ),
    status="reproduces",
)
