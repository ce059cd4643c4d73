"""Statistical engines (numpy): estimators, learners and data models.

`naive_bayes` (generative vs discriminative classifiers), `adaptive_holdout`
(Thresholdout), `debias` (corrections of shrunk predictions), `moments` (moment features
of token sets), `bandits` (loss-feedback bandits), `halfspaces` (halfspace learners and
teachers), `climate` (a toy ClimateBench and linear pattern scaling), `linear_iv`
(linear SEMs with hidden confounders: exact covariances, ERM and IV-like regression,
outcome-invariant augmentation), `particles` (particle filters with entropic annealing),
`pass_at_k` (exact pass@k and the unbiased pass@k estimator from sampled answers),
`bayes_mixture` (Bayes mixtures over a finite class of conditional Bernoulli models, their
log-loss regret and the prior-weight bound; a Monte-Carlo class of random tanh networks).
`pac_invariance` (interventions on a linear SEM: exact environment covariances, Wishart
sample moments, invariant-subset selection and its violation on unseen interventions),
`overtrain_law` (the L(C, M) over-training law, its optimal multiplier M*, Err(L)),
`scaling` (power-law and Chinchilla-style fits in log space, held-out relative error,
bootstrap intervals over seeds).
Also `bilevel` (MAID and a fixed-step HOAG-like bilevel solver), `offline_design` (offline
model-based optimisation worlds: black boxes, offline data, scores), `projektor` (Projektor:
OTDD distances and the two-stage performance projection), `subpop_curve` (accuracy on the
curve: a synthetic Waterbirds and a zoo of logistic models).
"""
