"""DECOR: projecting the reference content out of the text embedding (Jang et al. 2024).

A LINEAR ANALOGUE of text-to-image customisation, not a diffusion model. Text: K = 10
content and J = 5 style token embeddings in R^d (d = 32, random, about unit norm; rho > 0
gives every token a shared direction, like the narrow cone of CLIP's embeddings). Images:
y = A onehot(content) + B onehot(style) in R^64. The pretrained generator G is the
minimum-norm least-squares map from the K * J prompts "a <content> in <style> style"
(embedding = sum of its tokens) to their images (engines/linalg/linear_t2i.py).

Customisation, once for every (content, style) pair (T = 50 tasks per world, `worlds`
independent worlds, all batched): n_ref = 3 reference images lambda A_c + B_s + noise
(the content's salience lambda ~ U(salience_min, 1) per task: the content is the subject
of the references, not always at full strength; noise sd ref_noise / sqrt(64) per
feature), a new token e* learned by Adam (lr 0.05, 300 steps, init 0.01 N(0, I/d)) under
the prompt "a photo in S* style" (embedding e*). Nothing names the content, so e* absorbs
it. Inference: "a <k> in S* style" (embedding e_k + e*) for the K - 1 other contents; the
generated image is read back by a least-squares probe on [A B] (content coefficients a,
style coefficients b). Variants:
    naive         X = e_k + e*
    DECOR         X' = X - alpha X v v^T, v = e_ref / ||e_ref|| (the paper's projection of
                  the whole prompt embedding onto the complement of the undesired token)
    subtraction   X - e_ref (a negative-prompt-like fix; scale-dependent)
Metrics, averaged over the tasks and prompts (engines/linalg/embedding_projection.py):
    leakage        a[reference content]                 (ideal 0)
    text alignment cos(A a, A[:, k])  - the CLIP-T analogue: similarity of the image's
                   content to the prompted content (ideal 1; leakage lowers it, and so
                   does negative leakage, an image that is "anti-cat")
    content coef   a[k], the spec's "coefficient on the prompted content" (ideal 1)
    style fidelity b[reference style]                   (ideal 1)

Claim check (thresholds from the spec, fixed before any judging seed was run):
    paper  leakage, naive >= 0.6 (the overfitting is real);
           leakage, DECOR <= 0.3;
           |style fidelity, DECOR - 1| <= 0.1;
           text alignment, DECOR - naive >= 0 (DECOR restores alignment);
           Pareto: DECOR's style minus the style of the weaker-customisation front at
           DECOR's alignment >= 0. The front is the usual way to trade fidelity for
           alignment: the customisation scaled by beta in {0, 0.1, ..., 1} (image-space mix
           of the pretrained and the customised model: a LoRA scale, or the token times
           beta). This is the paper's headline (the alignment vs fidelity Pareto front
           moves up); threshold 0 (not dominated), added to the spec's list, fixed before
           it was run on any seed.
    mechanism  content coefficient DECOR - naive >= 0 (the spec's alignment measure);
           leakage, DECOR >= -0.3 (no over-correction into "anti-content");
           share of the leakage of e* alone ("a photo in S* style", end of training) that
           fully projecting (alpha = 1) the one direction e_ref removes,
           1 - projected / naive >= 0.5 (the
           paper's explanation: the undesired content sits in the token embedding, along
           the undesired token; near 1 when alpha = 1, labelled close to an identity).
The Pareto panel sweeps alpha in {0, 0.1, ..., 1} (x = style fidelity, y = alignment) next
to the weaker-customisation front, with naive (= alpha 0 = beta 1) and subtraction marked;
the table lists the three variants.
Change from the spec: its "text alignment = coefficient on the prompted content" is kept as
a mechanism row; the paper-tier alignment is the cosine (CLIP-T-like), because in a linear
generator the coefficient on the prompted content cannot see leakage (it adds, it does not
compete) while the paper's text alignment is a similarity to the prompt. Decided before
running the judging seeds.

Control: alpha = 0 (DECOR switched off, i.e. the naive variant) fails "leakage, DECOR
<= 0.3" (test). Second control: rho = 0.6 (strongly anisotropic embeddings): the
projection also removes the shared direction from the prompted content and from the style,
so it over-corrects into negative leakage, costs style and loses text alignment.

Why the toy is not a tautology, and where it is one. Were G exact on every single token,
projecting along e_ref would change only the coefficient on the reference content
(G v = A_ref / ||e_ref||), and style would be 1 by construction. Pre-training on pairs only
leaves G determined on a (K + J - 1)-dimensional span, so G e_ref carries cross-talk into
other contents and styles: naive alignment is below 1 and the projection can cost style,
which the rho sweep shows. With rho = 0 the embeddings are near-orthogonal in d = 32 and
the cost is small. The subtraction variant is equally good when lambda = 1 (e* ~ e_ref +
e_style); lambda < 1 makes it over-correct (leakage ~ lambda - 1), DECOR is scale-free.

Worlds tried (every number: seeds 0-19, quick preset = 1 world x 50 customisations,
unless stated; ranges are min..max over seeds):
  A. shipped: token mode, pairs pre-training, rho = 0, salience U(0.6, 1).
     quick   20/20 PASS: leakage naive 0.711..0.782, DECOR -0.083..0.071; alignment gain
             +0.183..+0.224 (naive ~0.78 -> DECOR ~0.97); |style - 1| <= 0.012; Pareto
             gain over the weaker-customisation front +0.66..+0.90; content coefficient
             gain +0.041..+0.069; subtraction leakage ~ mean salience - 1 (about -0.2:
             it over-corrects, DECOR is scale-free).
     default 20/20 PASS (4 worlds): leakage naive 0.729..0.766, DECOR -0.048..0.025;
             alignment gain +0.193..+0.214; |style - 1| <= 0.008; Pareto gain +0.72..+0.93.
     (The design was chosen on exploration seeds 1000-1019 first: 20/20 on both presets.)
  B. alpha = 0 (control, = naive): 0/20, "leakage, DECOR" 0.711..0.782 > 0.3.
     alpha = 0.5: 0/20, leakage 0.333..0.404 (half the leak removed: the Pareto knob).
  C. rho (shared embedding direction): 0.1 20/20 (DECOR leakage -0.43..-0.05);
     0.3 17/20 (leakage -0.92..-0.42: over-corrects, the mechanism row fails on every
     seed; Pareto gain -0.17..+0.47, negative on 3 seeds; alignment gain -0.02..+0.14;
     |style - 1| 0.03..0.09); 0.6 0/20 (alignment gain -0.18..-0.04 and Pareto gain
     -0.23..-0.16 on every seed, |style - 1| 0.09..0.15, > 0.1 on 18). The projection also
     removes the shared direction from the prompted content and from the style token; a
     smaller alpha is then better (the Pareto panel shows it). Real CLIP embeddings are
     anisotropic, so this is the toy's warning about alpha = 1.
  D. pretrain = pairs+tokens (G exact on every single token): 20/20, but |style - 1|
     <= 0.002 and content coefficient gain 0.000 on every seed, even at rho = 0.6 (where
     alignment fails on 20/20): there the style criterion holds by construction. This is
     why the shipped world pre-trains on pairs only (its cross-talk gives style a cost).
  E. d = 16: 20/20 (|style - 1| up to 0.074); d = 8 (d < K + J - 1, G cannot fit the
     pairs): 0/20, naive leakage 0.34..0.43 < 0.6 and |style - 1| 0.17..0.35: the
     generator is too entangled to leak cleanly. salience_min = 1: 20/20, naive leakage
     0.90..0.95, subtraction as good as DECOR (the spec's calibration case).
  F. mode = lora (does NOT reproduce): a rank-2 LoRA on G under a fixed random rare token
     S* (the spec's extension). quick 0/20: naive leakage 0.63..0.99, DECOR 0.65..0.81;
     default 0/20: naive 0.66..0.80, DECOR 0.68..0.75. The content is stored in the
     weights (Delta G e_S), not along e_ref in the embedding, so projecting e_ref out of
     the prompt removes little of it (mechanism row -0.06..+0.26), while subtraction
     (which removes G e_ref in image space) still works. In this linear toy DECOR needs
     the leakage to live in the text embedding; the paper applies it to fine-tuned models
     too, where the leak may also be carried by the contextual text embeddings, which a
     linear bag-of-words generator cannot show. This is why the status is "partly".
Budgets (one core, OMP threads 1, loaded 2-core box): one run takes 0.3-0.8 s (quick) and
1.0-2.0 s (default) inside `paramlab check`, about 0.9 s / 1.5 s wall with start-up.
numpy only: the scenario uses no torch, so --device changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

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

ALPHAS = tuple(i / 10 for i in range(11))
BETAS = ALPHAS  # scales of the weaker-customisation baseline front
IMAGE_DIM = 64
VARIANTS = ("naive", "decor", "sub")
LABELS = {"naive": "naive (no projection)", "decor": "DECOR (projection)",
          "sub": "subtraction (X - e_ref)"}


@dataclass(frozen=True)
class DecorParams(Params):
    d: int = param(32, range=(8, 128), help="text-embedding dimension")
    K: int = param(10, range=(2, 20), help="number of content tokens")
    J: int = param(5, range=(1, 10), help="number of style tokens")
    n_ref: int = param(3, range=(1, 10), help="reference images per customisation")
    ref_noise: float = param(0.1, range=(0.0, 0.5),
                             help="noise on each reference image (norm, relative to a concept)")
    salience_min: float = param(0.6, range=(0.1, 1.0),
                                help="the reference content's strength lambda ~ U(this, 1)")
    alpha: float = param(1.0, range=(0.0, 1.0), help="DECOR projection strength (0: naive)")
    steps: int = param(300, range=(10, 5000), log=True, help="Adam steps of the customisation")
    lr: float = param(0.05, range=(1e-4, 1.0), log=True, help="Adam learning rate")
    rho: float = param(0.0, range=(0.0, 0.8),
                       help="shared direction of all token embeddings (mean cosine)")
    worlds: int = param(4, range=(1, 32),
                        help="independent embeddings/generators, each with every task")
    mode: str = param("token", choices=("token", "lora"),
                      help="customise a new token e* (textual inversion) or a rank-r LoRA "
                           "on G under a fixed rare token S*")
    lora_rank: int = param(2, range=(1, 8), help="rank r of the LoRA update (mode=lora)")
    pretrain: str = param("pairs", choices=("pairs", "pairs+tokens"),
                          help="G's pre-training prompts: content-style pairs only, or also "
                               "one-word prompts (G exact on every token: no cross-talk)")


def _evaluate(w, gen, e, e_base, k_ref, j_ref, alpha, beta):
    """Leakage, alignment (cosine), content coefficient and style of the variants for one
    world, means over tasks and prompts: naive, subtraction, DECOR at every alpha of `alpha`
    and the weaker customisation at every scale of `beta` (an image-space mix
    (1 - beta) * pretrained + beta * customised: a LoRA scale, or the token scaled by beta).
    gen: prompts (..., T, n, d) -> images of the customised model; e (T, d) each task's S*
    token; e_base (T, d) S* before customisation (0, or the fixed rare token);
    k_ref/j_ref (T,) each task's reference pair."""
    import numpy as np

    from paramlab.engines.linalg import embedding_projection as ep

    K = w.K
    others = np.array([[k for k in range(K) if k != kr] for kr in k_ref])  # (T, K - 1)
    X = w.C[others] + e[:, None, :]  # (T, K - 1, d): "a <k> in S* style"
    V = ep.unit_directions(w.C[k_ref])[:, None]  # (T, 1, d, 1)
    custom = gen(X)
    base = w.generate(w.C[others] + e_base[:, None, :])
    beta = np.asarray(beta)[:, None, None, None]
    images = {"naive": custom, "sub": gen(X - w.C[k_ref][:, None, :]),
              "alpha": gen(ep.project_out(X[None], V[None], np.asarray(alpha)[:, None, None])),
              "beta": (1.0 - beta) * base + beta * custom}
    def pick(x, idx):  # x[..., t, i, idx[t, i]] for every task t and prompt i
        return np.take_along_axis(x, np.broadcast_to(idx[..., None], x.shape[:-1] + (1,)),
                                  -1)[..., 0]

    ref_k = np.broadcast_to(k_ref[:, None], others.shape)
    ref_j = np.broadcast_to(j_ref[:, None], others.shape)
    out = {}
    for name, Y in images.items():
        a, b = w.decompose(Y)
        out[name] = {"leak": np.mean(pick(a, ref_k), axis=(-2, -1)),
                     "coef": np.mean(pick(a, others), axis=(-2, -1)),
                     "align": np.mean(w.content_alignment(a, others), axis=(-2, -1)),
                     "style": np.mean(pick(b, ref_j), axis=(-2, -1))}
    return out


def run(p: DecorParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    import numpy as np

    from paramlab.engines.linalg import embedding_projection as ep
    from paramlab.engines.linalg import linear_t2i as lt

    rng = ctx.rng
    T = p.K * p.J
    k_ref, j_ref = np.divmod(np.arange(T), p.J)  # every (content, style) pair once
    worlds, refs, lams = [], [], []
    for _ in range(p.worlds):
        w = lt.LinearT2I.sample(rng, p.d, p.K, p.J, IMAGE_DIM, p.rho,
                                single_tokens=p.pretrain == "pairs+tokens")
        lam = rng.uniform(p.salience_min, 1.0, T)
        clean = w.image(k_ref, j_ref, lam)[:, None, :]
        noise = p.ref_noise * rng.standard_normal((T, p.n_ref, IMAGE_DIM)) / np.sqrt(IMAGE_DIM)
        worlds.append(w)
        refs.append(clean + noise)
        lams.append(lam)
    G = np.stack([w.G for w in worlds])
    e0 = 0.01 * rng.standard_normal((p.worlds, T, p.d)) / np.sqrt(p.d)
    if p.mode == "token":  # textual inversion: the prompt "a photo in S* style" is e*
        training = ((e, loss) for e, loss in lt.textual_inversion(
            G, np.stack(refs), e0, p.steps, p.lr))
        tokens = e0  # replaced by the live e* below

        def gen(i, X, state):
            return worlds[i].generate(X)
    else:  # LoRA on G, the prompt's S* a fixed random (rare) token
        e_s = rng.standard_normal((p.worlds, p.d)) / np.sqrt(p.d)
        P0 = np.zeros((p.worlds, T, IMAGE_DIM, p.lora_rank))
        Q0 = 0.01 * rng.standard_normal((p.worlds, T, p.d, p.lora_rank)) / np.sqrt(p.d)
        tokens = np.broadcast_to(e_s[:, None, :], (p.worlds, T, p.d))
        training = (((P, Q), loss) for P, Q, loss in lt.lora_customisation(
            G, np.stack(refs), e_s, P0, Q0, p.steps, p.lr))

        def gen(i, X, state):
            return lt.lora_images(G[i], state[0][i], state[1][i], X)
    yield Note(f"linear toy T2I: d={p.d}, K={p.K}, J={p.J}, rho={p.rho}; {p.worlds} world(s) x "
               f"{T} customisations (every content-style pair), n_ref={p.n_ref}, salience "
               f"U({p.salience_min}, 1), mode {p.mode}, Adam lr={p.lr} x {p.steps} steps; "
               f"DECOR alpha={p.alpha}")
    V = [ep.unit_directions(w.C[k_ref]) for w in worlds]  # (T, d, 1) per world
    t_idx = np.arange(T)

    def token_leak(i, state, alpha):  # the token alone: "a photo in S* style"
        tok = tokens[i] if p.mode == "lora" else state[i]
        X = ep.project_out(tok, V[i], alpha)[:, None, :]  # (T, 1, d)
        a = worlds[i].decompose(gen(i, X, state))[0][:, 0]
        return float(np.mean(a[t_idx, k_ref])) / p.worlds

    step, state = -1, None
    for step, (state, loss) in enumerate(training):
        leak = sum(token_leak(i, state, 0.0) for i in range(p.worlds))
        leak_p = sum(token_leak(i, state, p.alpha) for i in range(p.worlds))
        yield Metric(step, {"loss": float(np.mean(loss)), "leak_token": leak,
                            "leak_token_decor": leak_p})
        if ctx.should_stop():
            return
    if p.mode == "token":
        tokens = state
    alphas = np.array(sorted(set(ALPHAS) | {p.alpha}))
    base_tokens = np.zeros_like(tokens) if p.mode == "token" else tokens
    res = [_evaluate(w, partial(gen, i, state=state), tokens[i], base_tokens[i], k_ref, j_ref,
                     alphas, np.array(BETAS)) for i, w in enumerate(worlds)]
    avg = {v: {m: np.mean([r[v][m] for r in res], axis=0) for m in res[0][v]}
           for v in ("naive", "sub", "alpha", "beta")}
    at = int(np.flatnonzero(alphas == p.alpha)[0])
    avg["decor"] = {m: float(x[at]) for m, x in avg["alpha"].items()}
    for a in ALPHAS:
        j = int(np.flatnonzero(alphas == a)[0])
        step += 1
        yield Metric(step, {"alpha": a, "pareto_style": float(avg["alpha"]["style"][j]),
                            "pareto_align_decor": float(avg["alpha"]["align"][j]),
                            "pareto_leak_decor": float(avg["alpha"]["leak"][j])})
    for j, b in enumerate(BETAS):
        step += 1
        yield Metric(step, {"beta": b, "pareto_style": float(avg["beta"]["style"][j]),
                            "pareto_align_scaled": float(avg["beta"]["align"][j]),
                            "pareto_leak_scaled": float(avg["beta"]["leak"][j])})
    for v in ("naive", "sub"):
        step += 1
        yield Metric(step, {"pareto_style": float(avg[v]["style"]),
                            f"pareto_align_{v}": float(avg[v]["align"])})
    step += 1
    final = {f"{m}_{v}": float(avg[v][m]) for v in VARIANTS for m in ("leak", "align", "coef",
                                                                       "style")}
    final["mean_salience"] = float(np.mean(lams))
    # S*'s own leakage after the full projection (alpha = 1), end of training
    full = sum(token_leak(i, state, 1.0) for i in range(p.worlds))
    final["leak_token_full"] = full
    yield Metric(step, final)
    yield Table("variants", rows=[LABELS[v] for v in VARIANTS],
                columns=["leakage", "text alignment (cos)", "content coef", "style fidelity"],
                cells=[[final[f"{m}_{v}"] for m in ("leak", "align", "coef", "style")]
                       for v in VARIANTS])
    yield Note("leakage naive {leak_naive:.3f}, DECOR {leak_decor:.3f}, subtraction "
               "{leak_sub:.3f}; alignment naive {align_naive:.3f}, DECOR {align_decor:.3f}; "
               "style DECOR {style_decor:.3f}; mean salience {mean_salience:.3f}".format(**final))


def _pareto_gain(history: History, align: float, style: float) -> float:
    """DECOR's style minus the style the weaker-customisation front (scale beta) reaches at
    DECOR's text alignment (linear interpolation along the front; > 0: DECOR's point lies
    above that front)."""
    import numpy as np

    if "pareto_align_scaled" not in history:
        return float("nan")
    _, front_align = history.series("pareto_align_scaled")
    steps, _ = history.series("pareto_align_scaled")
    front_style = [history.at("pareto_style", s) for s in steps]
    order = np.argsort(front_align)
    return float(style - np.interp(align, np.asarray(front_align)[order],
                                   np.asarray(front_style)[order]))


def check(history: History, p: DecorParams) -> Verdict:
    last = lambda name: history.last(name) if name in history else float("nan")  # noqa: E731
    criteria = (
        Criterion.at_least("leakage, naive", last("leak_naive"), 0.6),
        Criterion.at_most("leakage, DECOR", last("leak_decor"), 0.3),
        Criterion.at_most("|style fidelity, DECOR - 1|", abs(last("style_decor") - 1.0), 0.1),
        Criterion.at_least("text alignment (cos), DECOR - naive",
                           last("align_decor") - last("align_naive"), 0.0),
        Criterion.at_least("Pareto: style, DECOR - weaker customisation at equal alignment",
                           _pareto_gain(history, last("align_decor"), last("style_decor")),
                           0.0),
        Criterion.at_least("content coefficient, DECOR - naive",
                           last("coef_decor") - last("coef_naive"), 0.0, tier="mechanism"),
        Criterion.at_least("leakage, DECOR (no over-correction)", last("leak_decor"), -0.3,
                           tier="mechanism"),
        Criterion.at_least("share of e*'s own leakage removed by projecting e_ref",
                           1.0 - ratio(last("leak_token_full"), last("leak_token")), 0.5,
                           tier="mechanism"),
    )
    return Verdict.of(criteria, f"DECOR cuts leakage {last('leak_naive'):.2f} -> "
                      f"{last('leak_decor'):.2f}, alignment {last('align_naive'):.2f} -> "
                      f"{last('align_decor'):.2f}, style {last('style_decor'):.2f}")


SCENARIO = Scenario(
    params=DecorParams,
    run=run,
    check=check,
    panels=(
        Panel("customisation: reference reconstruction loss", series=("loss",), logy=True,
              xlabel="Adam step"),
        Panel("leakage of e* alone ('a photo in S* style')",
              series=("leak_token", "leak_token_decor"), xlabel="Adam step",
              labels={"leak_token": "naive", "leak_token_decor": "projected"}),
        Panel("Pareto: text alignment vs style fidelity (alpha 0..1)",
              series=("pareto_align_*",), x="pareto_style", xlabel="style fidelity",
              ylabel="text alignment (cos)",
              labels={"pareto_align_decor": "DECOR, alpha 0..1", "pareto_align_naive": "naive",
                      "pareto_align_sub": "subtraction",
                      "pareto_align_scaled": "weaker customisation, scale 0..1"}),
        Panel("leakage vs alpha", series=("pareto_leak_decor",), x="alpha", xlabel="alpha"),
        Panel("variants", kind="bars", table="variants"),
    ),
    presets={"quick": {"worlds": 1}},
    watch=("loss",),
    key_metric="loss",
    total_steps=lambda p: p.steps + len(ALPHAS) + len(BETAS) + 2,
    notes=__doc__ or "",
    paper_reports="Textual-inversion / DreamBooth / LoRA style customisation from a few "
                  "references leaks their content and misaligns prompts; projecting the text "
                  "embedding onto the orthogonal complement of the undesired tokens "
                  "(training-free) reduces content leakage and moves the text-alignment vs "
                  "visual-fidelity Pareto front up (qualitative figures and CLIP/DINO "
                  "score curves; no single headline number).",
    paper_rows=(
        PaperRow("content leakage without projection", "present (qualitative)",
                 "coefficient on reference content", "qualitative figures (no number)",
                 "leakage, naive"),
        PaperRow("content leakage with DECOR", "removed (qualitative)",
                 "coefficient on reference content", "qualitative figures (no number)",
                 "leakage, DECOR"),
        PaperRow("style / visual fidelity kept", "not reported as a number",
                 "|style coefficient - 1|", "Pareto plots (curves only)",
                 "|style fidelity, DECOR - 1|"),
        PaperRow("text alignment gain over the un-projected model", "higher CLIP-T "
                 "(curves only)", "cosine difference", "Pareto plots",
                 "text alignment (cos), DECOR - naive"),
        PaperRow("Pareto front: fidelity at equal text alignment, vs baselines",
                 "front moves up (curves only)", "style coefficient difference",
                 "Pareto plots (text alignment vs image fidelity)",
                 "Pareto: style, DECOR - weaker customisation at equal alignment"),
    ),
    status="partly",
)
