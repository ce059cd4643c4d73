"""Neural-network engines (torch, and numpy teachers): models, training, pruning.

`models` (MLP zoo with explicit init), `torch_train` (the shared training loop),
`parametrization` (SP / NTK / muP), `pruning` (gradual magnitude pruning), `teachers`
(random teacher networks), `xor_data` (XOR cluster data and its two-layer ReLU net),
`coverage` (the pass@N-aligned DCO loss and exact pass@N of a classifier).
Also `data_diet` (EL2N / GraNd data pruning), `fourier_interp` (batched 1-D interpolators
with and without random Fourier features), `hparam_grid` (a teacher-student grid over
(width, data, batch, learning rate) trained many-at-once), `ignite` (IGNITE: surrogates
trained under a sharpness constraint), `kind_ddpm` (KIND on a tiny class-conditional DDPM
over 8x8 digits), `longtail` (long-tailed learning: logit adjustment and backdoor
averaging), `pela` (PELA-style low-rank compression with feature distillation and weight
alignment), `root_bridge` (ROOT: offline optimisation as a low-to-high score bridge),
`structured_ffn` (low-rank FFN stacks and self-guided training).
"""
