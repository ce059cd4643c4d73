"""Parameter-efficient fine-tuning (PEFT) over a frozen base: small torch wrappers, each with
an exact trainable-parameter count, so that methods are compared at budgets matched by
construction.

`modules` (LoRA on a Linear, bottleneck adapters in sequential and scaled-parallel
placement, prefix key/value vectors for an attention, and prefix attention computed
directly and in He et al.'s gated-parallel-adapter form), `backbones` (a tiny pre-LN
transformer over digit patches with slots for the wrappers, and its pre-training),
`methods` (attach a method to a backbone: head-only, full FT, LoRA, adapters, prefix,
MAM; hand formulas for their trainable counts; lock-step training of several methods).
Also `apet` (k random backbone entries tuned at once over stacked masks), `increlora`
(IncreLoRA incremental rank allocation), `self_ft` (S3FT: fine-tuning on the model's own
correct answers), `tucker` (FLoRA's Tucker adapter and LoRA on conv weights).
"""
