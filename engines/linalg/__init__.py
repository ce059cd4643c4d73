"""Linear-algebra engines (numpy): closed forms and matrix iterations.

`linear` (ridge paths, least squares, Gaussian risk), `linear_student` (closed-form GD of a
linear student), `random_features` (eigenstructured tasks, random-feature maps),
`matrix_sensing` (factorized sensing, (sub-)gradient steps), `linear_systems` (SOR on
shifted Laplacians), `gauss_markov` (parameter and residual flows of least squares),
`sem` (linear SEMs on mixed graphs), `embedding_projection` (projecting undesired directions
out of embeddings, DECOR's X - alpha X V V^T; least-squares probes), `linear_t2i` (a linear
text-to-image toy: token embeddings, a least-squares generator, textual inversion by Adam).
Also `orthotrans` (OrthoTrans: a data-adaptive orthogonal basis for forecasting, in closed
form), `spectral1d` (1-D periodic pseudo-spectral numerics and sparse model-error
discovery), `adam` (torch.optim.Adam's update on numpy arrays, for the iterative fits).
"""
