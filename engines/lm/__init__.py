"""Tiny language-model engines (shared by the scaling / pre-training scenarios).

`markov` (synthetic languages: k-th order Markov chains with Dirichlet rows, their exact
stationary distribution and entropy rate, sampling, context windows), `mlp_lm` (a
context-window MLP language model, single and stacked: K models of one shape as one
batched program), `stacked_train` (AdamW with a learning rate per model, and the loop that
trains K stacked models side by side on their own batches), `transformer` (a tiny causal
transformer with a KV cache, and a roofline FLOP clock of its forward calls),
`teacher_grid` (a random-MLP teacher over all 3-token contexts with an exact entropy floor,
and a grid of student runs trained as one stacked program).
Also `ensemble_grid` (a width x weight-decay x ensemble-member grid of MLP LMs trained as
one program), `layerwise` (OpenELM layer-wise scaling: per-layer heads and FFN widths),
`sft_grid` (supervised fine-tuning of a tiny LM over a batch-size x learning-rate grid),
`widenet` (a pre-LN encoder with shared blocks and a shared top-k mixture-of-experts FFN).
"""
