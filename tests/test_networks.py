"""Network shapes, dtypes, parameter counts and configs."""

import numpy as np
import pytest
import tensorflow as tf

from aae_tf import networks


def _params(model):
  return sum(int(np.prod(v.shape)) for v in model.trainable_variables)


def test_encoder_gaussian_posterior():
  enc = networks.MLPEncoder(2)
  out = enc(tf.zeros([5, 28, 28, 1]))
  assert set(out) == {"mean", "stddev"}
  assert out["mean"].shape == (5, 2) and out["mean"].dtype == tf.float32
  assert np.all(out["stddev"].numpy() > 0)
  # 784-1000-1000 then one head of 2 + 2 units (mean, raw stddev).
  assert _params(enc) == (784 * 1000 + 1000) + (1000 * 1000 + 1000) + (1000 * 4 + 4)


def test_encoder_code_head_splits_mean_and_stddev():
  """The fused head's first ncode outputs are the mean, the last ncode the
  standard deviation through softplus (plus the floor)."""
  enc = networks.MLPEncoder(3, units=(16,), min_stddev=1e-3)
  x = tf.random.normal([4, 28, 28, 1])
  out = enc(x)
  h = enc.hidden_0(tf.reshape(x, [4, -1]))
  raw = enc.code(h).numpy()
  np.testing.assert_allclose(out["mean"].numpy(), raw[:, :3], rtol=1e-5)
  np.testing.assert_allclose(out["stddev"].numpy(),
                             np.log1p(np.exp(raw[:, 3:])) + 1e-3, rtol=1e-5)


def test_encoder_deterministic():
  enc = networks.MLPEncoder(8, posterior="deterministic")
  out = enc(tf.zeros([3, 28, 28, 1]))
  assert set(out) == {"mean"} and out["mean"].shape == (3, 8)


def test_encoder_dropout_and_noise_only_in_training():
  enc = networks.MLPEncoder(2, units=(64,), keep_prob=0.5, input_noise_std=0.6)
  x = tf.random.normal([4, 28, 28, 1])
  a = enc(x, training=False)["mean"]
  b = enc(x, training=False)["mean"]
  np.testing.assert_array_equal(a.numpy(), b.numpy())
  c = enc(x, training=True)["mean"]
  assert not np.allclose(a.numpy(), c.numpy())


def test_decoder_range_and_params():
  dec = networks.MLPDecoder((28, 28, 1))
  y = dec(tf.random.normal([6, 2]) * 100)
  assert y.shape == (6, 28, 28, 1)
  assert np.all(np.abs(y.numpy()) <= 1.0)
  assert _params(dec) == (2 * 1000 + 1000) + (1000 * 1000 + 1000) + (1000 * 784 + 784)


def test_discriminator_one_logit():
  disc = networks.MLPDiscriminator()
  logits = disc(tf.zeros([7, 2]))
  assert logits.shape == (7,)
  assert _params(disc) == (2 * 1000 + 1000) + (1000 * 1000 + 1000) + 1001


@pytest.mark.parametrize("cls,args", [
    (networks.MLPEncoder, (4,)), (networks.MLPDecoder, ()),
    (networks.MLPDiscriminator, ())])
def test_get_config_round_trip(cls, args):
  model = cls(*args)
  clone = cls.from_config(model.get_config())
  assert clone.get_config() == model.get_config()


def test_encoder_batch_norm_normalises_each_hidden_unit_over_the_batch():
  enc = networks.MLPEncoder(3, units=(8,), posterior="deterministic",
                            batch_norm=True)
  x = tf.random.normal([16, 28, 28, 1])
  out = enc(x, training=True)["mean"].numpy()
  assert enc.hidden_0.bias is None  # The norm's offset replaces it.
  h = enc.hidden_0(tf.reshape(x, [16, -1])).numpy()
  eps = enc.norm_0.epsilon
  normalised = (h - h.mean(0)) / np.sqrt(h.var(0) + eps)
  np.testing.assert_allclose(out, enc.code(np.maximum(normalised, 0)).numpy(),
                             rtol=1e-4, atol=1e-4)
  # Its scale and offset train with the hidden layers; its moving
  # statistics are not trained and only move at training time.
  assert {v.name for v in enc.norm_0.trainable_variables} <= {
      v.name for v in enc.trunk_variables()}
  assert len(enc.trunk_variables()) == 3  # Kernel, scale, offset.
  moving = enc.norm_0.moving_mean.numpy().copy()
  enc(x, training=False)
  np.testing.assert_array_equal(moving, enc.norm_0.moving_mean.numpy())
  enc(x, training=True)
  assert not np.allclose(moving, enc.norm_0.moving_mean.numpy())


def test_encoder_batch_statistics_without_noise():
  """The virtual adversarial passes: the batch's statistics, no noise."""
  enc = networks.MLPEncoder(3, units=(8,), posterior="deterministic",
                            batch_norm=True, input_noise_std=1.0)
  x = tf.random.normal([16, 28, 28, 1])
  a = enc(x, training=False, batch_statistics=True)["mean"].numpy()
  b = enc(x, training=False, batch_statistics=True)["mean"].numpy()
  # The moving statistics moved between the two calls; the outputs, which
  # use the batch's, did not (nor did noise act).
  np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
  moving = enc(x, training=False)["mean"].numpy()
  assert not np.allclose(a, moving, atol=1e-3)
