"""Linear-algebra engines (numpy): closed forms and matrix iterations.

`linear` (ridge paths, least squares, Gaussian risk), `linear_student` (closed-form GD of a
linear student), `random_features` (eigenstructured tasks, random-feature maps),
`matrix_sensing` (factorized sensing, (sub-)gradient steps), `linear_systems` (SOR on
shifted Laplacians), `gauss_markov` (parameter and residual flows of least squares),
`sem` (linear SEMs on mixed graphs).
"""
