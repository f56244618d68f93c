"""Prior statistics on large samples."""

import numpy as np
import pytest
import tensorflow as tf

from aae_tf import config as config_lib
from aae_tf import priors
from aae_tf.errors import ConfigError

N = 20000


def _rng():
  return tf.random.Generator.from_seed(1)


def test_gaussian_statistics():
  z = priors.GaussianPrior(3, std=2.0).sample(_rng(), N).numpy()
  assert z.shape == (N, 3) and z.dtype == np.float32
  np.testing.assert_allclose(z.mean(0), 0.0, atol=0.05)
  np.testing.assert_allclose(z.std(0), 2.0, rtol=0.03)


def test_truncated_gaussian_stays_within_two_stds():
  z = priors.TruncatedGaussianPrior(5, std=3.0).sample(_rng(), N).numpy()
  assert z.shape == (N, 5) and z.dtype == np.float32
  assert np.abs(z).max() <= 2 * 3.0
  np.testing.assert_allclose(z.mean(0), 0.0, atol=0.06)
  # Standard deviation of N(0, 1) cut at +-2: sqrt(1 - 2*2*phi(2)/(2*Phi(2)-1)).
  phi = np.exp(-2.0) / np.sqrt(2 * np.pi)
  mass = 0.9544997361036416
  expected = 3.0 * np.sqrt(1 - 4 * phi / mass)
  np.testing.assert_allclose(z.std(0), expected, rtol=0.03)


def test_truncated_gaussian_samples_inside_a_compiled_function():
  prior = priors.build_prior(
      config_lib.PriorConfig(dist_type="truncated_gaussian"), 4)
  rng = _rng()
  z = tf.function(lambda: prior.sample(rng, 64), jit_compile=True)()
  assert z.shape == (64, 4) and float(tf.reduce_max(tf.abs(z))) <= 2.0


def test_gmm_component_statistics():
  prior = priors.GaussianMixturePrior(2, 10, radius=1.4, stds=(0.5, 0.1))
  for k in (0, 3, 7):
    z = prior.sample(_rng(), N, labels=tf.fill([N], k)).numpy()
    angle = 2 * np.pi * k / 10
    np.testing.assert_allclose(z.mean(0), 1.4 * np.array(
        [np.cos(angle), np.sin(angle)]), atol=0.02)
    radial = z @ np.array([np.cos(angle), np.sin(angle)])
    tangential = z @ np.array([-np.sin(angle), np.cos(angle)])
    assert radial.std() == pytest.approx(0.5, rel=0.03)
    assert tangential.std() == pytest.approx(0.1, rel=0.03)


def test_gmm_unlabeled_uses_all_components_equally():
  prior = priors.GaussianMixturePrior(2)
  z = prior.sample(_rng(), N).numpy()
  share = np.bincount(np.argmax(prior.log_density_2d(z), 1), minlength=10) / N
  np.testing.assert_allclose(share, 0.1, atol=0.015)
  # -1 means "any component" as well.
  z = prior.sample(_rng(), N, labels=tf.fill([N], priors.UNLABELED)).numpy()
  share = np.bincount(np.argmax(prior.log_density_2d(z), 1), minlength=10) / N
  np.testing.assert_allclose(share, 0.1, atol=0.015)


def test_gmm_pairs_share_the_component():
  prior = priors.GaussianMixturePrior(6)
  z = prior.sample(_rng(), 2000).numpy().reshape(2000, 3, 2)
  comps = [np.argmax(prior.log_density_2d(z[:, p]), 1) for p in range(3)]
  # Same component in every pair (up to overlaps of neighbours); independent
  # components would agree about 10% of the time.
  assert np.mean(comps[0] == comps[1]) > 0.9
  assert np.mean(comps[0] == comps[2]) > 0.9


def test_swiss_roll_geometry_and_segments():
  prior = priors.SwissRollPrior(2, 10, radius=3.0, turns=2.0)
  z = prior.sample(_rng(), N).numpy()
  r = np.linalg.norm(z, axis=1)
  assert r.max() <= 3.0 + 1e-5
  # r = 3 sqrt(u) and angle = 4 pi sqrt(u): angle = 4 pi r / 3 (mod 2 pi).
  angle = np.mod(np.arctan2(z[:, 1], z[:, 0]), 2 * np.pi)
  expected = np.mod(4 * np.pi * r / 3.0, 2 * np.pi)
  diff = np.abs(np.angle(np.exp(1j * (angle - expected))))
  assert diff.max() < 1e-3
  # u uniform: r^2 / 9 uniform on [0, 1).
  np.testing.assert_allclose(np.mean(r**2 / 9), 0.5, atol=0.01)
  z4 = prior.sample(_rng(), 1000, labels=tf.fill([1000], 4)).numpy()
  u = np.linalg.norm(z4, axis=1)**2 / 9
  assert u.min() >= 0.4 - 1e-5 and u.max() <= 0.5 + 1e-5


@pytest.mark.parametrize("dist_type,ncode", [("gmm", 3), ("swiss_roll", 1)])
def test_odd_ncode_is_refused(dist_type, ncode):
  with pytest.raises(ConfigError, match="even"):
    priors.build_prior(config_lib.PriorConfig(dist_type=dist_type), ncode)


def test_unknown_prior():
  with pytest.raises(ConfigError, match="Unknown prior"):
    priors.build_prior(config_lib.PriorConfig(dist_type="laplace"), 2)


def test_sampling_is_seeded():
  prior = priors.GaussianMixturePrior(2)
  a = prior.sample(tf.random.Generator.from_seed(5), 10).numpy()
  b = prior.sample(tf.random.Generator.from_seed(5), 10).numpy()
  np.testing.assert_array_equal(a, b)
