from __future__ import annotations

import numpy as np
import pytest

from paramlab.engines.linalg import linear, linear_student, random_features


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """Small matrices: multi-threaded BLAS only thrashes on a shared, loaded CPU."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def _problem(n, p, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, p)), rng.standard_normal(n)


# ---------------------------------------------------------------- ridge (engines.linear)


@pytest.mark.parametrize("n,p", [(20, 8), (8, 20)])
def test_ridge_primal_dual_and_svd_path_agree(n, p):
    X, y = _problem(n, p)
    lams = np.array([1e-3, 0.1, 10.0])
    path = linear.RidgePath.fit(X, y)
    kpath = linear.KernelRidgePath.fit(X @ X.T, y)
    W = path.coef(lams)
    for k, lam in enumerate(lams):
        w_primal = linear.ridge_primal(X, y, lam)
        w_dual = X.T @ linear.ridge_dual(X @ X.T, y, lam)
        assert np.allclose(w_primal, w_dual, atol=1e-10)
        assert np.allclose(W[:, k], w_primal, atol=1e-10)
        assert np.allclose(X.T @ kpath.dual_coef(lam), w_primal, atol=1e-10)
    assert np.allclose(path.fitted(lams), kpath.fitted(lams), atol=1e-10)


def test_ridge_path_matches_sklearn_ridge():
    from sklearn.linear_model import Ridge

    X, y = _problem(30, 12, seed=1)
    path = linear.RidgePath.fit(X, y)
    for lam in (1e-4, 0.5, 20.0):
        ref = Ridge(alpha=lam, fit_intercept=False, solver="cholesky").fit(X, y).coef_
        assert np.allclose(path.coef(lam), ref, atol=1e-9)


def test_kernel_ridge_path_matches_sklearn_kernel_ridge():
    from sklearn.kernel_ridge import KernelRidge

    X, y = _problem(25, 10, seed=2)
    X_test = np.random.default_rng(3).standard_normal((7, 10))
    kpath = linear.KernelRidgePath.fit(X @ X.T, y)
    ref = KernelRidge(alpha=0.3, kernel="linear").fit(X, y).predict(X_test)
    assert np.allclose(X_test @ X.T @ kpath.dual_coef(0.3), ref, atol=1e-9)


def test_train_risk_without_forming_predictions_is_exact():
    X, y = _problem(15, 40, seed=4)
    lams = np.logspace(-6, 2, 9)
    path, kpath = linear.RidgePath.fit(X, y), linear.KernelRidgePath.fit(X @ X.T, y)
    direct = np.mean((X @ path.coef(lams) - y[:, None]) ** 2, axis=0)
    assert np.allclose(path.train_risk(lams), direct, rtol=1e-8, atol=1e-14)
    assert np.allclose(kpath.train_risk(lams), direct, rtol=1e-6, atol=1e-12)
    assert np.allclose(linear.mse(X @ path.coef(lams), y), direct)


def test_tiny_ridge_on_a_rank_deficient_design_is_the_min_norm_solution():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((30, 4)) @ rng.standard_normal((4, 10))  # rank 4
    y = rng.standard_normal(30)
    w = linear.RidgePath.fit(X, y).coef(1e-12)
    assert np.allclose(w, linear.min_norm_least_squares(X, y), atol=1e-6)


def test_gaussian_risk_is_the_population_mean_squared_error():
    rng = np.random.default_rng(6)
    eigs, w_star, w = np.array([2.0, 0.5, 0.1]), rng.standard_normal(3), rng.standard_normal(3)
    x = rng.standard_normal((200_000, 3)) * np.sqrt(eigs)
    y = x @ w_star + 0.3 * rng.standard_normal(200_000)
    mc = np.mean((x @ w - y) ** 2)
    assert np.isclose(linear.gaussian_risk(w, w_star, eigs, 0.09), mc, rtol=0.02)


# ------------------------------------------------- GD dynamics (engines.linear_student)


@pytest.mark.parametrize("N,P", [(12, 5), (6, 15)])
def test_closed_form_gd_equals_explicit_gd_iterations(N, P):
    rng = np.random.default_rng(7)
    X, y, _ = linear_student.linear_teacher(rng, N, P, 1.0, 0.5)
    w0 = linear_student.initial_weights(rng, P, 1.0)
    lr, steps = 0.05, 300
    loop = linear_student.gd_iterates(X, y, w0, lr, steps)
    gd = linear_student.LinearGD.fit(X, y, w0)
    times = lr * np.arange(steps + 1)
    assert np.allclose(gd.coef(times, lr=lr), loop, atol=1e-10)
    train = np.mean((X @ loop - y[:, None]) ** 2, axis=0)
    assert np.allclose(gd.train_error(times, lr=lr), train, atol=1e-10)


def test_gradient_flow_is_the_small_step_limit_of_gd():
    rng = np.random.default_rng(8)
    X, y, _ = linear_student.linear_teacher(rng, 10, 10, 1.0, 1.0)
    gd = linear_student.LinearGD.fit(X, y, np.zeros(10))
    times = np.array([0.5, 2.0, 8.0])
    assert np.allclose(gd.coef(times, lr=1e-4), gd.coef(times), atol=1e-3)


def test_long_training_reaches_min_norm_solution_plus_frozen_init():
    rng = np.random.default_rng(9)
    N, P = 8, 20
    X, y, _ = linear_student.linear_teacher(rng, N, P, 1.0, 1.0)
    w0 = linear_student.initial_weights(rng, P, 2.0)
    gd = linear_student.LinearGD.fit(X, y, w0)
    pinv = linear.min_norm_least_squares(X, y)
    null = w0 - np.linalg.pinv(X) @ (X @ w0)
    assert np.allclose(gd.limit(), pinv + null, atol=1e-8)
    assert np.allclose(gd.coef(np.array([1e6]))[:, 0], gd.limit(), atol=1e-6)
    # from w0 = 0 the limit is the min-norm least-squares solution
    assert np.allclose(gd.with_init(np.zeros(P)).limit(), pinv, atol=1e-8)


# ------------------------------------------ tasks and random features (random_features)


def test_power_law_target_has_unit_signal_variance_and_the_asked_decay():
    task = random_features.EigenTask.power_law(200, alpha=1.5, beta=2.0, sigma=0.0)
    power = task.v**2 * task.eigs
    assert np.isclose(power.sum(), 1.0)
    assert np.isclose(power[0] / power[3], 4.0**2.0)


def test_rf_ridge_risk_matches_sklearn_ridge_on_the_same_features():
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(10)
    task = random_features.EigenTask.power_law(60, 1.5, 1.5, 0.1)
    Z, y = task.sample(rng, 40)
    F = random_features.gaussian_projection(rng, 80, 60)
    lams = np.array([1e-3, 1.0])
    risk, train = random_features.linear_rf_ridge_risks(task, Z, y, F, lams)
    Phi = random_features.linear_features(Z, F)
    for k, lam in enumerate(lams):
        w = Ridge(alpha=lam, fit_intercept=False, solver="svd").fit(Phi, y).coef_
        b = random_features.feature_coef_to_input(w, F)
        assert np.isclose(risk[k], task.risk(b), rtol=1e-8)
        assert np.isclose(train[k], np.mean((Phi @ w - y) ** 2), rtol=1e-8)


def test_very_wide_random_features_approach_the_kernel_limit():
    rng = np.random.default_rng(11)
    task = random_features.EigenTask.power_law(40, 1.5, 1.5, 0.0)
    Z, y = task.sample(rng, 30)
    lams = np.array([1e-2])
    wide, _ = random_features.linear_rf_ridge_risks(
        task, Z, y, random_features.gaussian_projection(rng, 40_000, 40), lams)
    limit, _ = random_features.kernel_limit_ridge_risks(task, Z, y, lams)
    assert np.isclose(wide[0], limit[0], rtol=0.05)
