"""The Fréchet distance against pytorch-fid's own, and KID against a direct computation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pytorch_fid.fid_score import calculate_frechet_distance

from studio.metrics import MetricError, frechet_distance, kernel_inception_distance
from studio.metrics.frechet import trace_sqrt_product_lapack, trace_sqrt_product_torch
from studio.metrics.kid import mmd2_unbiased


def random_statistics(rng: np.random.Generator, n: int, dim: int, shift: float = 0.0):
    """Mean and covariance of n correlated samples (rank n-1 when n <= dim)."""
    mixing = rng.normal(size=(dim, dim)) / np.sqrt(dim)
    x = rng.normal(size=(n, dim)) @ mixing * rng.uniform(0.5, 2.0) + shift
    return x.mean(0), np.cov(x, rowvar=False)


@pytest.mark.parametrize("n1,n2", [(400, 300), (30, 20), (2, 5)], ids=["full-rank", "rank-deficient", "rank-1"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agrees_with_pytorch_fid_at_dim_64(n1, n2, seed):
    rng = np.random.default_rng(seed)
    mu1, sigma1 = random_statistics(rng, n1, 64)
    mu2, sigma2 = random_statistics(rng, n2, 64, shift=0.3)
    expected = calculate_frechet_distance(mu1, sigma1, mu2, sigma2)
    got = frechet_distance(mu1, sigma1, mu2, sigma2)
    assert isinstance(got, float) and np.isfinite(got)
    assert got == pytest.approx(float(np.real(expected)), rel=1e-6)


def test_agrees_with_pytorch_fid_at_dim_2048_full_rank_and_rank_deficient():
    # Inception's 2048 dimensions; scipy's sqrtm makes this the slowest of these tests (~30 s).
    rng = np.random.default_rng(3)
    mu1, sigma1 = random_statistics(rng, 4096, 2048)
    mu2, sigma2 = random_statistics(rng, 1000, 2048, shift=0.1)  # fewer samples than dimensions
    expected = float(np.real(calculate_frechet_distance(mu1, sigma1, mu2, sigma2)))
    got = frechet_distance(mu1, sigma1, mu2, sigma2)
    assert np.isfinite(got) and got == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("n", [200, 40, 3])
def test_the_gpu_and_cpu_factorisations_agree(n):
    # frechet_distance uses eigh on CUDA and pivoted Cholesky elsewhere: both give Tr((Σ1 Σ2)^½).
    rng = np.random.default_rng(n)
    _, sigma1 = random_statistics(rng, n, 64)
    _, sigma2 = random_statistics(rng, 50, 64)
    torch_value = trace_sqrt_product_torch(torch.tensor(sigma1), torch.tensor(sigma2))
    assert trace_sqrt_product_lapack(sigma1, sigma2) == pytest.approx(torch_value, rel=1e-7)
    assert trace_sqrt_product_lapack(np.zeros((64, 64)), sigma2) == 0.0


def test_accepts_tensors_and_gives_zero_for_identical_statistics():
    rng = np.random.default_rng(3)
    mu, sigma = random_statistics(rng, 10, 64)  # rank-deficient: sqrt of a singular product
    value = frechet_distance(torch.tensor(mu), torch.tensor(sigma), mu, sigma)
    assert value >= 0.0 and value < 1e-6 * np.trace(sigma)


def test_bad_statistics_name_the_problem():
    mu, sigma = np.zeros(4), np.eye(4)
    with pytest.raises(MetricError, match="do not match"):
        frechet_distance(mu, sigma, np.zeros(5), np.eye(5))
    with pytest.raises(MetricError, match="NaN"):
        frechet_distance(mu, sigma * np.nan, mu, sigma)


def naive_kid(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD² with k(a, b) = (a·b/d + 1)³, by explicit loops over pairs."""
    d = x.shape[1]
    k = lambda a, b: (float(a @ b) / d + 1) ** 3  # noqa: E731
    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_kid_matches_a_direct_double_loop():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(12, 6)), rng.normal(size=(12, 6)) + 0.5
    # One subset of all rows: exactly the unbiased estimate on the whole sets.
    mean, std = kernel_inception_distance(x, y, subsets=1, subset_size=1000)
    assert mean == pytest.approx(naive_kid(x, y), rel=1e-10)
    assert std == 0.0
    # Unequal sets: the subset size is the smaller count, and each subset is a direct estimate.
    z = rng.normal(size=(7, 6))
    assert float(mmd2_unbiased(torch.tensor(x[:7]), torch.tensor(z))) == pytest.approx(naive_kid(x[:7], z), rel=1e-10)


def test_kid_is_near_zero_for_one_distribution_and_positive_for_two():
    rng = np.random.default_rng(5)
    a, b, c = (rng.normal(size=(300, 16)) for _ in range(3))
    same, same_std = kernel_inception_distance(a, b, subsets=20, subset_size=100)
    shifted, _ = kernel_inception_distance(a, c + 1.0, subsets=20, subset_size=100)
    assert abs(same) < 3 * same_std + 1e-3
    assert shifted > 10 * max(abs(same), same_std)
