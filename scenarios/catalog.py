"""The built-in scenarios: metadata only. Each module is imported when a run starts."""

from __future__ import annotations

from .base import Paper, ScenarioMeta
from .registry import register

_PKG = "paramlab.scenarios"

register(ScenarioMeta(
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
    paper_reports="sym k>r: error >= Omega(1/T^2) (polynomial); sym k=r and asym k>r: "
                  "exp(-Omega(T)) and exp(-Omega(alpha^2 T)) (linear); a one-step "
                  "modification makes the asymmetric rate independent of alpha.",
    entry_point=f"{_PKG}.matrix_sensing_overparam:SCENARIO",
    status="reproduces",
))

register(ScenarioMeta(
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
    paper_reports="Abstract: SubGM with small init is agnostic to over-parameterization "
                  "and noise; small init nullifies over-parameterization (an exponential "
                  "improvement in the convergence rate) and SubGM converges to the true "
                  "solution even under arbitrarily large and arbitrarily dense noise; with "
                  "Gaussian measurements the sample size needed is independent of r'.",
    entry_point=f"{_PKG}.robust_matrix_recovery_subgradient:SCENARIO",
    status="partly",
))

register(ScenarioMeta(
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
    paper_reports="Theory: NB needs O(log n) samples, LR O(n). Gaussian-mixture simulation "
                  "(K up to 7, n up to 1000): NB reaches the Bayes error with far fewer "
                  "samples than LR, and its sample need barely grows with n; on pretrained "
                  "vision features NB converges faster and wins in few-shot cases.",
    entry_point=f"{_PKG}.naive_bayes_vs_logreg:SCENARIO",
    status="reproduces",
))

register(ScenarioMeta(
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
    paper_reports="After the first GD step: 100% train accuracy (noisy labels fitted), test "
                  "accuracy close to 50%; after more steps: near-optimal test accuracy "
                  "(Bayes-optimal given the label noise) while still interpolating the noisy "
                  "training labels.",
    entry_point=f"{_PKG}.xor_benign_overfitting_grokking:SCENARIO",
    status="reproduces",
))

register(ScenarioMeta(
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
    paper_reports="Test error at the end of training diverges near alpha = N/P = 1 (the "
                  "smallest eigenvalue of the data covariance goes to 0) while early "
                  "stopping stays near-optimal; over-parameterized students need small "
                  "initial weights; larger networks do not harm generalization.",
    entry_point=f"{_PKG}.overtraining_peak_linear_student:SCENARIO",
    status="reproduces",
))

register(ScenarioMeta(
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
    paper_reports="No numbers (a conceptual paper): the dual flow, OLS / minimum-residual "
                  "correspondence and Gauss-Markov optimality are stated as theorems of the "
                  "categorical formulation.",
    entry_point=f"{_PKG}.gauss_markov_residuals:SCENARIO",
    status="reproduces",
))

register(ScenarioMeta(
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
    paper_reports="Science 2015 Fig. 1 (n = d = 10,000, no signal): the reused holdout "
                  "reports about 0.63 accuracy for the selected classifier while the true "
                  "accuracy is 0.5; Thresholdout's answers stay near 0.5 and still let real "
                  "signal through.",
    entry_point=f"{_PKG}.thresholdout_reusable_holdout:SCENARIO",
    status="reproduces",
))

register(ScenarioMeta(
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
    paper_reports="Test risk of RF regression decreases monotonically with both the number "
                  "of features and the number of samples when the ridge is tuned; for "
                  "powerlaw tasks near-optimal performance is only reached when the training "
                  "error is much smaller than the test error; CNTK tasks on standard vision "
                  "data fall in that class.",
    entry_point=f"{_PKG}.rf_ridge_more_is_better:SCENARIO",
    status="partly",
))

register(ScenarioMeta(
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
    paper_reports="A theorem, no experiments: no bound that depends only on (S, h) can be "
                  "uniformly tight in the over-parameterized setting; for algorithm-dependent "
                  "bounds, a trade-off between the algorithm's accuracy and the bound's "
                  "tightness.",
    entry_point=f"{_PKG}.generalization_bounds_not_tight:SCENARIO",
    status="reproduces",
))

register(ScenarioMeta(
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
    paper_reports="Theorems, no experiments: the closed-form expression for Sigma in terms of "
                  "one-connections, and generic finite-to-one-ness of the parametrization for "
                  "every simple mixed graph (plus an algorithm to search the vanishing ideal, "
                  "not reproduced here).",
    entry_point=f"{_PKG}.one_connection_sem:SCENARIO",
    status="reproduces",
))

register(ScenarioMeta(
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
    paper_reports="PCB-Merging outperforms Task Arithmetic, TIES and DARE by about 1-4 points "
                  "of average accuracy across T5, ViT and LLM merging benchmarks (NeurIPS "
                  "2024).",
    entry_point=f"{_PKG}.pcb_merging:SCENARIO",
    status="partly",
))

register(ScenarioMeta(
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
    paper_reports="Tsallis-INF's cumulative iterations approach those of the best fixed "
                  "omega over 5000 shifted-Laplacian systems (averaged over 40 trials); "
                  "ChebCB, using the diagonal shift as context, approaches the "
                  "instance-optimal omega; both come with sublinear regret guarantees.",
    entry_point=f"{_PKG}.sor_bandit_relaxation:SCENARIO",
    status="partly",
))

register(ScenarioMeta(
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
    paper_reports="Every abc-parametrization is either in the kernel regime or learns features "
                  "(dichotomy); muP is the maximal feature-learning one. The muP limits beat "
                  "the NTK and finite-width nets on Word2Vec and Omniglot MAML, and "
                  "performance improves with width.",
    entry_point=f"{_PKG}.mup_feature_learning:SCENARIO",
    status="reproduces",
))

register(ScenarioMeta(
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
    paper_reports="Shrinkage attenuates effects; both LCC and Tweedie's correction reduce "
                  "the attenuation, Tweedie's giving nearly unbiased treatment effects, "
                  "meeting or beating approaches that need retraining or new labels (PPI) "
                  "in simulations and on DHS wealth data.",
    entry_point=f"{_PKG}.debias_shrunk_predictions:SCENARIO",
    status="reproduces",
))

register(ScenarioMeta(
    id="moment-probing",
    title="Moment probing: linear head on token mean + covariance beats linear probing",
    theme="fine-tuning",
    paper=Paper(
        title="Tuning Pre-trained Model via Moment Probing",
        authors="Mingze Gao, Qilong Wang, Zhenyi Lin, Pengfei Zhu, Qinghua Hu, Jingbo Zhou",
        year=2023, arxiv="2307.11342"),
    claim="A linear classifier on the feature distribution of frozen tokens, approximated by "
          "their first and second moments, beats linear probing on the mean token.",
    paper_reports="ViT-B/16 (IN-21K): linear probing 82.04% on ImageNet-1K and 75.9% on "
                  "NABirds; MP significantly outperforms LP on ten benchmarks at low "
                  "training cost, and MP+ (with PSRP) is state of the art.",
    entry_point=f"{_PKG}.moment_probing:SCENARIO",
    status="partly",
))

register(ScenarioMeta(
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
    paper_reports="LPS outperforms the 100M-parameter ClimaX on 3 of 4 ClimateBench "
                  "variables, notably surface temperature and precipitation; with 50-member "
                  "MPI-ESM1.2-LR ensemble-mean targets LPS stays more accurate on "
                  "temperature but is outperformed by a deep learning emulator on "
                  "precipitation.",
    entry_point=f"{_PKG}.climate_emulator_variability:SCENARIO",
    status="reproduces",
))

register(ScenarioMeta(
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
    paper_reports="Across Inception V3, MobileNet, a Penn Treebank LSTM and GNMT, "
                  "large-sparse models consistently outperform small-dense ones of equal "
                  "memory footprint, with up to 10x fewer non-zero parameters at minimal "
                  "loss in accuracy.",
    entry_point=f"{_PKG}.gradual_magnitude_pruning:SCENARIO",
    status="reproduces",
))
