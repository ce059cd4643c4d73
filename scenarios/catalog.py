"""The built-in scenarios: what `paramlab list` shows (id, title, theme, paper, claim).

Each scenario's module, `paramlab.scenarios.<id with '-' replaced by '_'>`, is imported
only when the scenario is loaded; what the paper reports, the status at toy scale and the
notes are fields of the module's `SCENARIO`.
"""

from __future__ import annotations

from .base import Paper, ScenarioMeta

BUILTIN: tuple[ScenarioMeta, ...] = (
    ScenarioMeta(
        id="matrix-sensing-overparam",
        title="Over-parameterization slows GD in matrix sensing",
        theme="over-parameterization",
        paper=Paper(
            title="How Over-Parameterization Slows Down Gradient Descent in Matrix Sensing: "
                  "The Curses of Symmetry and Initialization",
            authors="Nuoya Xiong, Lijun Ding, Simon S. Du", year=2023, arxiv="2310.01769"),
        claim="Symmetric XX^T GD with k > r converges only sublinearly (Omega(1/T^2)) while "
              "k = r is linear; asymmetric FG^T with k > r converges linearly, faster with "
              "larger init scale alpha, and imbalance between F and G helps.",
    ),
    ScenarioMeta(
        id="robust-matrix-recovery-subgradient",
        title="Sub-gradient method with small init: robust over-parameterized matrix recovery",
        theme="over-parameterization",
        paper=Paper(
            title="Global Convergence of Sub-gradient Method for Robust Matrix Recovery: Small "
                  "Initialization, Noisy Measurements, and Over-parameterization",
            authors="Jianhao Ma, Salar Fattahi", year=2022, arxiv="2202.08788"),
        claim="The sub-gradient method on the l1 loss with small initialization and "
              "geometrically decaying steps recovers a low-rank PSD matrix even with an "
              "over-estimated rank r' > r and a dense fraction of gross outliers, where l2 "
              "methods fail; small init nullifies over-parameterization (smaller alpha, "
              "smaller error).",
    ),
    ScenarioMeta(
        id="naive-bayes-vs-logreg",
        title="Naive Bayes needs O(log n) samples, logistic regression O(n)",
        theme="statistics",
        paper=Paper(
            title="Revisiting Discriminative vs. Generative Classifiers: Theory and Implications",
            authors="Chenyu Zheng, Guoqiang Wu, Fan Bao, Yue Cao, Chongxuan Li, Jun Zhu",
            year=2023, arxiv="2302.02334"),
        claim="Multiclass naive Bayes approaches its asymptotic (here Bayes) error with "
              "O(log n) samples while multiclass logistic regression needs O(n), n the feature "
              "dimension; misspecified NB shows 'two regimes' (NB first, LR at large m).",
    ),
    ScenarioMeta(
        id="xor-benign-overfitting-grokking",
        title="Benign overfitting and grokking on XOR cluster data",
        theme="generalization",
        paper=Paper(
            title="Benign Overfitting and Grokking in ReLU Networks for XOR Cluster Data",
            authors="Zhiwei Xu, Yutong Wang, Spencer Frei, Gal Vardi, Wei Hu", year=2023,
            arxiv="2310.02541"),
        claim="A two-layer ReLU net trained by GD on high-dimensional XOR clusters with flipped "
              "labels fits every training label (noise included) after one step while testing "
              "at chance (it is then a linear classifier); later it reaches near-optimal test "
              "accuracy while still fitting the flipped labels.",
    ),
    ScenarioMeta(
        id="overtraining-peak-linear-student",
        title="Overtraining peaks at #params = #samples in a linear student",
        theme="generalization",
        paper=Paper(
            title="High-dimensional dynamics of generalization error in neural networks",
            authors="Madhu S. Advani, Andrew M. Saxe", year=2017, arxiv="1710.03667"),
        claim="For gradient descent on a linear student learning a noisy linear teacher, "
              "overtraining (final test error minus the early-stopping optimum) is worst when "
              "#params P ~ #samples N and shrinks when the student is made smaller or larger; "
              "for P > N a frozen subspace keeps the init, so large initial weights hurt.",
    ),
    ScenarioMeta(
        id="gauss-markov-residuals",
        title="Gauss-Markov adjunction: parameter and residual flows of least squares",
        theme="statistics",
        paper=Paper(
            title="The Gauss-Markov Adjunction: Categorical Semantics of Residuals in "
                  "Supervised Learning",
            authors="Moto Kamiura", year=2025, arxiv="2507.02442"),
        claim="Variations of parameters correspond to variations of residuals through -X (a "
              "dual flow); the OLS estimator and the minimum residual, orthogonal to the data, "
              "are related by limit preservation; OLS is the best linear unbiased estimator.",
    ),
    ScenarioMeta(
        id="thresholdout-reusable-holdout",
        title="Thresholdout: a reusable holdout under adaptive queries",
        theme="statistics",
        paper=Paper(
            title="Preserving Statistical Validity in Adaptive Data Analysis",
            authors="Cynthia Dwork, Vitaly Feldman, Moritz Hardt, Toniann Pitassi, Omer Reingold, "
                    "Aaron Roth", year=2015, arxiv="1411.2664"),
        claim="Adaptively chosen queries overfit a reused holdout (reported accuracy far above "
              "the truth); Thresholdout, answering from the training set unless it disagrees "
              "with the holdout by more than a noisy threshold, keeps the answers valid.",
    ),
    ScenarioMeta(
        id="rf-ridge-more-is-better",
        title="More features, more data and interpolation are better in RF ridge regression",
        theme="over-parameterization",
        paper=Paper(
            title="More is Better in Modern Machine Learning: when Infinite "
                  "Overparameterization is Optimal and Overfitting is Obligatory",
            authors="James B. Simon, Dhruva Karkada, Nikhil Ghosh, Mikhail Belkin", year=2023,
            arxiv="2311.14646"),
        claim="With an optimally tuned ridge, the test risk of random-feature regression falls "
              "monotonically in #features and #samples (infinite width is optimal); on tasks "
              "with power-law eigenstructure the optimum needs near-zero train error "
              "(overfitting is obligatory), unlike noisy tasks that need a ridge.",
    ),
    ScenarioMeta(
        id="generalization-bounds-not-tight",
        title="No (S, h)-generalization bound is uniformly tight when over-parameterized",
        theme="generalization",
        paper=Paper(
            title="Fantastic Generalization Measures are Nowhere to be Found",
            authors="Michael Gastpar, Ido Nachum, Jonathan Shafer, Thomas Weinberger", year=2024,
            arxiv="2309.13658"),
        claim="When parameters outnumber samples, two populations indistinguishable from the "
              "training set and the learned hypothesis give that hypothesis errors that differ "
              "by about 0.5, so no bound depending only on (S, h) is uniformly tight; with many "
              "samples per parameter the gap vanishes.",
    ),
    ScenarioMeta(
        id="one-connection-sem",
        title="One-connection rule: closed-form covariances of cyclic linear SEMs",
        theme="statistics",
        paper=Paper(
            title="One-connection rule for structural equation models",
            authors="Bibhas Adhikari, Elizabeth Gross, Marc Harkonen, Elias Tsigaridas",
            year=2022, arxiv="2210.00239"),
        claim="For a mixed graph whose directed part may be cyclic, the covariance entries have a "
              "closed form as sums over one-connections divided by det(I - Lambda)^2; when the "
              "graph is simple, the parametrization is generically finite-to-one.",
    ),
    ScenarioMeta(
        id="pcb-merging",
        title="PCB-Merging vs Task Arithmetic, TIES, DARE on digits task vectors",
        theme="model merging",
        paper=Paper(
            title="Parameter Competition Balancing for Model Merging",
            authors="Guodong Du, Junlin Lee, Jing Li, Runhua Jiang, Yifei Guo, Shuyang Yu, "
                    "Hanting Liu, Sim Kuan Goh, Ho-Kin Tang, Daojing He, Min Zhang",
            year=2024, arxiv="2410.02396"),
        claim="Weighting each task vector entry by intra-balancing exp(n norm(|tau|)^2) times "
              "inter-balancing tanh(tau_i * sum tau), dropping low scores and rescaling, gives a "
              "training-free merge that beats Task Arithmetic, TIES and DARE.",
    ),
    ScenarioMeta(
        id="sor-bandit-relaxation",
        title="Learning to relax: a bandit picks the SOR omega across linear systems",
        theme="learning to optimize",
        paper=Paper(
            title="Learning to Relax: Setting Solver Parameters Across a Sequence of Linear "
                  "System Instances",
            authors="Mikhail Khodak, Edmond Chow, Maria-Florina Balcan, Ameet Talwalkar",
            year=2024, arxiv="2310.02246"),
        claim="A bandit that sees only iteration counts chooses the SOR relaxation omega across "
              "a sequence of linear systems with total cost approaching the best fixed omega in "
              "hindsight (sublinear regret), far below Gauss-Seidel; a contextual bandit "
              "approaches the instance-optimal policy.",
    ),
    ScenarioMeta(
        id="mup-feature-learning",
        title="Feature learning in infinite-width nets needs muP",
        theme="scaling",
        paper=Paper(
            title="Feature Learning in Infinite-Width Neural Networks (Tensor Programs IV)",
            authors="Greg Yang, Edward J. Hu", year=2021, arxiv="2011.14522"),
        claim="Under SP (fixed lr) the infinite-width limit blows up and under NTK it freezes "
              "the features (kernel regime); the Maximal Update Parametrization keeps feature "
              "learning Theta(1) at every width, wider muP nets do better and beat the NTK "
              "limit, and the optimal learning rate transfers across widths.",
    ),
    ScenarioMeta(
        id="debias-shrunk-predictions",
        title="Debiasing shrunk ML predictions for causal effects (LCC, Tweedie)",
        theme="statistics",
        paper=Paper(
            title="Debiasing Machine Learning Predictions for Causal Inference Without "
                  "Additional Ground Truth Data: \"One Map, Many Trials\" in Satellite-Driven "
                  "Poverty Analysis",
            authors="Markus Pettersson, Connor T. Jerzak, Adel Daoud", year=2025,
            arxiv="2508.01341"),
        claim="Accuracy-trained predictions shrink toward the mean, so treatment effects "
              "estimated on them are attenuated; linear calibration (LCC) and Tweedie's "
              "correction, fitted upstream only, remove most of the bias without fresh labels.",
    ),
    ScenarioMeta(
        id="moment-probing",
        title="Moment probing: linear head on token mean + covariance beats linear probing",
        theme="fine-tuning",
        paper=Paper(
            title="Tuning Pre-trained Model via Moment Probing",
            authors="Mingze Gao, Qilong Wang, Zhenyi Lin, Pengfei Zhu, Qinghua Hu, Jingbo Zhou",
            year=2023, arxiv="2307.11342"),
        claim="A linear classifier on the feature distribution of frozen tokens, approximated by "
              "their first and second moments, beats linear probing on the mean token.",
    ),
    ScenarioMeta(
        id="climate-emulator-variability",
        title="Internal variability decides linear vs deep climate emulators",
        theme="statistics",
        paper=Paper(
            title="The impact of internal variability on benchmarking deep learning climate "
                  "emulators",
            authors="Bjoern Luetjens, Raffaele Ferrari, Duncan Watson-Parris, Noelle E. Selin",
            year=2024, arxiv="2408.05288"),
        claim="With 3-member ClimateBench targets, linear pattern scaling beats a deep emulator "
              "on precipitation because the network overfits internal variability; with "
              "50-member ensemble means the deep emulator wins on precipitation, while "
              "temperature stays best emulated linearly.",
    ),
    ScenarioMeta(
        id="gradual-magnitude-pruning",
        title="Gradual magnitude pruning: large-sparse beats small-dense at equal nnz",
        theme="pruning",
        paper=Paper(
            title="To prune, or not to prune: exploring the efficacy of pruning for model "
                  "compression",
            authors="Michael Zhu, Suyog Gupta", year=2017, arxiv="1710.01878"),
        claim="Gradual magnitude pruning with a cubic sparsity schedule, applied during "
              "training, gives large-sparse models that consistently beat small-dense models "
              "with the same number of non-zero parameters, by more at higher sparsity.",
    ),
    ScenarioMeta(
        id="outcome-invariant-augmentation-iv",
        title="Outcome-invariant data augmentation as an instrument (IVL regression)",
        theme="statistics",
        paper=Paper(
            title="An Analysis of Causal Effect Estimation using Outcome Invariant Data "
                  "Augmentation",
            authors="Uzair Akbar, Niki Kilbertus, Hao Shen, Krikamol Muandet, Bo Dai",
            year=2025, arxiv="2510.25128"),
        claim="When the outcome is invariant to an augmentation, augmenting acts as an "
              "intervention on the treatment and reduces hidden-confounding bias; treating "
              "the augmentation parameters as instrument-like and regularizing IV by ERM "
              "(IVL) reduces the causal error further than plain DA+ERM.",
    ),
    ScenarioMeta(
        id="entropic-particle-filtering",
        title="Entropic particle filtering keeps PRM-guided PF from collapsing early",
        theme="inference-time scaling",
        paper=Paper(
            title="Mitigating Premature Exploitation in Particle-based Monte Carlo for "
                  "Inference-Time Scaling",
            authors="Giorgio Giannone, Guangxuan Xu, Nikhil Shivakumar Nayak, Rohan Mahesh "
                    "Awhad, Shivchander Sudalairaj, Kai Xu, Akash Srivastava",
            year=2025, arxiv="2510.05825"),
        claim="Particle filtering guided by a process reward model whose early scores are "
              "over-confident collapses onto few ancestors (particle impoverishment) and "
              "plateaus with the particle budget; Entropic Annealing (flatten the resampling "
              "distribution when its entropy drops) keeps diversity so accuracy climbs with "
              "N, most at small budgets; Look-ahead Modulation does not hurt.",
    ),
    ScenarioMeta(
        id="pass-at-n-dco",
        title="Cross-entropy overconfidence lowers pass@N; the DCO loss rescues it",
        theme="fine-tuning",
        paper=Paper(
            title="Rethinking Fine-Tuning when Scaling Test-Time Compute: Limiting Confidence "
                  "Improves Mathematical Reasoning",
            authors="Feng Chen, Allan Raventós, Nan Cheng, Surya Ganguli, Shaul Druckmann",
            year=2025, arxiv="2502.07154"),
        claim="pass@N falls with longer cross-entropy training because the model grows "
              "overconfident; the Direct Coverage Optimization loss -log(1 - (1 - p)^N) limits "
              "confidence and keeps pass@N high.",
    ),
    ScenarioMeta(
        id="decor-embedding-projection",
        title="Projecting the reference content out of a learned style token stops leakage",
        theme="fine-tuning",
        paper=Paper(
            title="DECOR: Decomposition and Projection of Text Embeddings for Text-to-Image "
                  "Customization",
            authors="Geonhui Jang, Jin-Hwa Kim, Yong-Hyun Park, Junho Kim, Gayoung Lee, "
                    "Yonghyun Jeong",
            year=2024, arxiv="2412.09169"),
        claim="A token learned from a few reference images absorbs their content (content "
              "leakage, prompt misalignment); projecting the prompt's text embedding onto the "
              "orthogonal complement of the undesired content token (X' = X - alpha X V V^T) "
              "removes the leakage, restores text alignment and keeps the style, training-free.",
    ),
    ScenarioMeta(
        id="token-crisis-repeat",
        title="Repeating data for many epochs degrades LM validation loss; dropout mitigates",
        theme="scaling",
        paper=Paper("To Repeat or Not To Repeat: Insights from Scaling LLM under Token-Crisis",
                    "Xue, Fu, Zhou, Zheng, You", 2023, "2305.13230"),
        claim="At a fixed training-token budget, repeating a smaller unique dataset for many "
              "epochs gives a worse validation loss than fresh tokens, more so with fewer "
              "unique tokens and larger models; dropout largely mitigates it.",
    ),
    ScenarioMeta(
        id="universality-lens-bayes-mixture",
        title="A Bayes mixture's regret is set by the target's prior weight, not by width",
        theme="over-parameterization",
        paper=Paper(
            title="The Universality Lens: Why Even Highly Over-Parametrized Models Learn Well",
            authors="Meir Feder, Ruediger Urbanke, Yaniv Fogel",
            year=2025, arxiv="2506.07661"),
        claim="A Bayesian mixture over a huge hypothesis class has regret about "
              "-log w_eps(theta0)/n + eps, set by the prior weight of hypotheses near the "
              "truth, not by the class size or parameter count: simple truths are learned "
              "from few samples, and the mixture does not overfit where ERM does.",
    ),
    ScenarioMeta(
        id='idealized-runtime-api',
        title='Idealized runtime of transformer inference',
        theme='scaling',
        paper=Paper(title="Cheaply Evaluating Inference Efficiency Metrics for "
                          "Autoregressive Transformer APIs",
                    authors="Narayanan, Santhanam, Henderson, Bommasani, Lee, Liang",
                    year=2023, arxiv="2305.02440"),
        claim="An idealized-runtime model F(p) + g (o - 1), fit on a small profile grid, "
              "predicts held-out query runtimes far better than a total-tokens model",
    ),
    ScenarioMeta(
        id="longtail-foundation-bias",
        title="Foundation-model bias under long tails: parameter vs data imbalance",
        theme="fine-tuning",
        paper=Paper(
            title="Rethinking the Bias of Foundation Model under Long-tailed Distribution",
            authors="Chen et al.",
            year=2025, arxiv="2501.15955"),
        claim="Logit adjustment fixes the data imbalance of a long-tailed downstream set but "
              "not the parameter imbalance inherited from pre-training; backdoor adjustment "
              "(averaging foundation models with different pre-training priors) fixes both.",
    ),
    ScenarioMeta(
        id="pac-invariant-representations",
        title="PAC generalization of approximate invariance across interventions",
        theme="statistics",
        paper=Paper(title="PAC Generalization via Invariant Representations",
                    authors="Advait Parulekar, Karthikeyan Shanmugam, Sanjay Shakkottai",
                    year=2023, arxiv="2205.15196"),
        claim="A representation that is eps-approximately invariant on K interventions drawn "
              "from a parameterized family on a linear SEM stays approximately invariant on "
              "all but a fraction O(1/K) of unseen interventions of that family, with K not "
              "growing with the ambient dimension when the intervention sites are few and "
              "of bounded in-degree; ERM on all covariates is not invariant.",
    ),
    ScenarioMeta(
        id="unified-peft-prefix-adapter",
        title="Unified view of PEFT: prefix tuning as a gated parallel adapter",
        theme="fine-tuning",
        paper=Paper(title="Towards a Unified View of Parameter-Efficient Transfer Learning",
                    authors="He, Zhou, Ma, Berg-Kirkpatrick, Neubig",
                    year=2022, arxiv="2110.04366"),
        claim="Prefix tuning is exactly a gated parallel adapter on attention; a Mix-and-Match "
              "adapter (prefix + scaled parallel FFN adapter) matches full fine-tuning with a "
              "few percent of the parameters.",
    ),
    ScenarioMeta(
        id="data-diet-el2n",
        title="Data diet: prune the easy examples by early EL2N scores",
        theme="pruning",
        paper=Paper(
            title="Deep Learning on a Data Diet: Finding Important Examples Early in Training",
            authors="Mansheej Paul, Surya Ganguli, Gintare Karolina Dziugaite", year=2021,
            arxiv="2107.07075"),
        claim="EL2N (||softmax(f(x)) - onehot(y)||) and GraNd scores computed a few epochs "
              "into training and averaged over a few inits find the examples that matter: "
              "keeping the highest-scoring half of the data matches full-data accuracy and "
              "beats random pruning, and the highest scores flag noisy labels.",
    ),
    ScenarioMeta(
        id='rff-model-error-discovery',
        title='RFF interpolation for model-error discovery',
        theme='scientific ML',
        paper=Paper(
            title="Interpretable structural model error discovery from sparse assimilation "
                  "increments using spectral bias-reduced neural networks",
            authors="Rambod Mojgani, Ashesh Chattopadhyay, Pedram Hassanzadeh", year=2023,
            arxiv="2309.13211"),
        claim="Sparse regression on analysis increments recovers a missing PDE term from sparse "
              "observations only when the interpolator has a random-Fourier-feature layer; "
              "a plain MLP's spectral bias corrupts the derivatives.",
    ),
    ScenarioMeta(
        id="overtraining-scaling-law",
        title="Scaling laws with over-training: L(C, M) predicts an over-trained run",
        theme="scaling",
        paper=Paper(
            title="Language models scale reliably with over-training and on downstream tasks",
            authors="Gadre, Smyrnis, Shankar, Gururangan, Wortsman, Shao, Mercat, Fang, Li, "
                    "Keh, Xin, Nezhurina, Vasiljevic, Jitsev, Dimakis, Ilharco, Song, Kollar, "
                    "Carmon, Dave, Heckel, Muennighoff, Schmidt", year=2024, arxiv="2403.08540"),
        claim="A scaling law in compute C and token multiplier M = D/N, fitted on small runs, "
              "predicts the loss of a larger, over-trained run; top-1 error follows an "
              "exponential in loss.",
    ),
    ScenarioMeta(
        id='flora-tucker-adapter',
        title='FLoRA: Tucker core-space adapter vs LoRA on a conv weight',
        theme='fine-tuning',
        paper=Paper(title='FLoRA: Low-Rank Core Space for N-dimension', authors='Si et al.',
                    year=2025, arxiv='2405.14739'),
        claim='At a matched parameter budget, a Tucker (core-space) adapter on a 4-D conv '
              'weight fits a spatially structured change far better than LoRA on the '
              'reshaped matrix',
    ),
    ScenarioMeta(
        id="accuracy-on-the-curve",
        title="Accuracy on the curve: nonlinear majority/minority accuracy",
        theme="generalization",
        paper=Paper(
            title="Accuracy on the Curve: On the Nonlinear Correlation of ML Performance "
                  "Between Data Subpopulations",
            authors="Liang, Mao, Kwon, Yang, Zou", year=2023, arxiv="2305.02995"),
        claim="Across a zoo of models, minority-subpopulation accuracy is a convex "
              "(moon-shaped), not linear, function of majority accuracy under spurious "
              "correlation; with no spurious correlation the two move together",
    ),
    ScenarioMeta(
        id='maid-inexact-bilevel',
        title='MAID: adaptively inexact first-order bilevel method',
        theme='optimization',
        paper=Paper(title='An adaptively inexact first-order method for bilevel optimization '
                          'with application to hyperparameter learning',
                    authors='Salehi, Mukherjee, Roberts, Ehrhardt', year=2023, arxiv='2308.10098'),
        claim="MAID's inexact backtracking line search with adaptive lower-level accuracy "
              "converges robustly whatever its initial step and accuracy, where a fixed-step "
              "HOAG-like method with an a-priori accuracy schedule stalls or diverges.",
    ),
    ScenarioMeta(
        id='increlora-rank-allocation',
        title='IncreLoRA: incremental rank allocation',
        theme='fine-tuning',
        paper=Paper(title='IncreLoRA: Incremental Parameter Allocation Method for '
                          'Parameter-Efficient Fine-tuning',
                    authors='Zhang et al.', year=2023, arxiv='2308.12043'),
        claim='Starting from small ranks and adding rank to the most important modules '
              'beats uniform LoRA at the same parameter budget',
    ),
    ScenarioMeta(
        id='olinear-orthotrans',
        title='OLinear: forecasting in an orthogonally transformed domain',
        theme='statistics',
        paper=Paper(title='OLinear: A Linear Model for Time Series Forecasting in Orthogonally '
                          'Transformed Domain', authors='Yue et al.', year=2025,
                    arxiv='2505.08550'),
        claim="Encoding each series in the eigenbasis of the lookback window's temporal Pearson "
              "correlation (OrthoTrans) decorrelates the inputs and beats time-domain and "
              "fixed-basis forecasters.",
    ),
    ScenarioMeta(
        id='openelm-layerwise-scaling',
        title='OpenELM layer-wise scaling: per-layer heads and FFN widths',
        theme='scaling',
        paper=Paper(title='OpenELM: An Efficient Language Model Family with Open-source '
                          'Training and Inference Framework',
                    authors='Mehta et al.', year=2024, arxiv='2404.14619'),
        claim='Layer-wise scaling grows attention heads (alpha 0.5 to 1.0) and FFN width '
              '(beta 0.5 to 4.0) linearly with depth; the per-layer arithmetic reproduces '
              'the published OpenELM configs',
    ),
    ScenarioMeta(
        id='pela-lowrank-distill',
        title='PELA: low-rank compression with distillation',
        theme='fine-tuning',
        paper=Paper(title='PELA: Learning Parameter-Efficient Models with Low-Rank '
                          'Approximation',
                    authors='Guo, Wang, Kankanhalli', year=2024, arxiv='2310.10700'),
        claim='SVD low-rank + feature distillation keeps accuracy within ~0.6 pt with 1/3 '
              'of the params',
    ),
    ScenarioMeta(
        id='sft-recipe-batch-lr',
        title='SFT recipe: larger batch, lower learning rate; early signals',
        theme='fine-tuning',
        paper=Paper(title='Unveiling the Secret Recipe: A Guide For Supervised Fine-Tuning '
                          'Small LLMs', authors='Pareja et al.', year=2024,
                    arxiv='2412.13337'),
        claim='For SFT of small LLMs, larger batches with lower learning rates end better, '
              'and lower early gradient norm with higher early loss predicts a better '
              'final model.',
    ),
    ScenarioMeta(
        id="ignite-surrogate-sharpness",
        title="IGNITE: surrogate sharpness constraint for offline optimisation",
        theme="optimization",
        paper=Paper(title="Incorporating Surrogate Gradient Norm to Improve Offline "
                          "Optimization Techniques",
                    authors="Dao, Nguyen, Hoang, Low", year=2024, arxiv=""),
        claim="Constraining the surrogate's sharpness (the norm of its parameter gradient "
              "on the offline data) during training makes gradient-ascent offline "
              "optimisation find better designs out of distribution.",
    ),
    ScenarioMeta(
        id='s3ft-self-supervised-ft',
        title="S3FT: fine-tune on the model's own correct answers",
        theme='fine-tuning',
        paper=Paper(title="Selective Self-to-Supervised Fine-Tuning for Generalization in "
                          "Large Language Models",
                    authors="Gupta et al.", year=2025, arxiv="2502.08130"),
        claim="Training on the model's own judged-correct responses instead of the gold "
              "halves the general-ability drop of SFT while matching its task accuracy",
    ),
    ScenarioMeta(
        id='root-bridge-offline-opt',
        title='ROOT: offline optimisation as a probabilistic bridge',
        theme='optimization',
        paper=Paper(title='Rethinking Offline Optimization as Distributional Translation '
                    'via Probabilistic Bridge', authors='Dao, Tran, Nguyen, Truong, Hoang',
                    year=2025, arxiv='2509.16300'),
        claim='A Brownian bridge trained on low/high pairs from GP synthetic functions '
              'translates offline designs to high-scoring ones and beats surrogate gradient '
              'ascent',
    ),
    ScenarioMeta(
        id="ot-data-selection-projektor",
        title="Projektor: OT-predicted performance for data selection",
        theme="scaling",
        paper=Paper(
            title="Performance Scaling via Optimal Transport: Enabling Data Selection from "
                  "Partially Revealed Sources",
            authors="Kang, Just, Sahu, Jia",
            year=2023,
            arxiv="2307.02460",
        ),
        claim="Performance of a model trained on a mixture of data sources is predicted from "
              "the label-aware OT distance between the mixture and the validation data, "
              "projected from small revealed sizes to larger ones; choosing the mixture by "
              "the prediction beats black-box scaling fits",
    ),
    ScenarioMeta(
        id="structured-ffn-sgt",
        title="Structured FFN + self-guided training",
        theme="scaling",
        paper=Paper(title="Building on Efficient Foundations: Effectively Training LLMs with "
                          "Structured Feedforward Layers",
                    authors="Xiuying Wei, Skander Moalla, Razvan Pascanu, Caglar Gulcehre",
                    year=2024, arxiv="2406.16450"),
        claim="Low-rank FFNs train worse from scratch than dense ones; self-guided training "
              "(a dense guide blended in, its weight decaying 1 -> 0) lowers the low-rank "
              "network's loss at equal steps.",
    ),
    ScenarioMeta(
        id='arbitrary-few-params-apet',
        title='Arbitrary few parameters (APET): random sparse tuning vs scale',
        theme='fine-tuning',
        paper=Paper(title='Arbitrary Few Parameters are Good Enough for Adapting Large-scale '
                          'Pre-trained Language Models',
                    authors='Su et al.', year=2023, arxiv='2306.02320'),
        claim='With scale, a random arbitrary subset of tunable parameters performs like a '
              'designed PET, and fewer tunable parameters are needed to match full '
              'fine-tuning.',
    ),
    ScenarioMeta(
        id='lr-batch-scaling-law',
        title='Step Law: optimal learning rate and batch size scale with model and data size',
        theme='scaling',
        paper=Paper(title='Predictable Scale: Part I -- Optimal Hyperparameter Scaling Law '
                          'in Large Language Model Pretraining',
                    authors='Li et al.', year=2025, arxiv='2503.04715'),
        claim='The loss over (lr, batch) is convex with a broad plateau; the optimal lr '
              'follows a power law eta* = 1.79 N^-0.713 D^0.307 and B* = 0.58 D^0.571, and '
              'the fitted law lands near the grid optimum.',
    ),
    ScenarioMeta(
        id='widenet-shared-moe',
        title='WideNet: share the block across depth, widen its FFN into experts',
        theme='scaling',
        paper=Paper(title='Go Wider Instead of Deeper',
                    authors='Xue, Shi, Wei, Lou, Liu, You', year=2022, arxiv='2107.11817'),
        claim='A transformer block shared across depth with a mixture-of-experts FFN and '
              'per-layer LayerNorms matches the unshared model (ViT) with far fewer '
              'parameters and beats plain sharing (ALBERT)',
    ),
    ScenarioMeta(
        id="infinite-compute-pretraining",
        title="Pre-training under infinite compute: tuned weight decay and ensembles",
        theme="scaling",
        paper=Paper("Pre-training under infinite compute", "Kim, Kotha, Liang, Hashimoto", 2025,
                    "2509.14786"),
        claim="With fixed data and unlimited compute, default weight decay overfits as "
              "parameters grow; a ~30x larger tuned weight decay restores a monotone loss "
              "curve in parameter count, and ensembling independently trained models "
              "lowers the loss further.",
    ),
    ScenarioMeta(
        id='kind-diffusion-learngene',
        title='KIND: learngene transfer in a tiny class-conditional diffusion model',
        theme='fine-tuning',
        paper=Paper(title='KIND: Knowledge Integration and Diversion in Diffusion Models',
                    authors='Xie et al.', year=2024, arxiv='2408.07337'),
        claim='Pre-training a diffusion model with SVD-factorised weights split into a shared '
              'learngene and class-gated tailors, then transferring only the learngene with '
              'new tailors, beats LoRA on a normally pre-trained backbone at matched '
              'trainable parameters.',
    ),
)
