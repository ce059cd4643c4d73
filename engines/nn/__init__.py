"""Neural-network engines (torch, and numpy teachers): models, training, pruning.

`models` (MLP zoo with explicit init), `torch_train` (the shared training loop),
`parametrization` (SP / NTK / muP), `pruning` (gradual magnitude pruning), `teachers`
(random teacher networks), `xor_data` (XOR cluster data and its two-layer ReLU net),
`coverage` (the pass@N-aligned DCO loss and exact pass@N of a classifier).
"""
