"""Losses on small fixed inputs with hand-computed values."""

import math

import numpy as np
import pytest
import tensorflow as tf

from aae_tf import losses


def test_reconstruction_loss():
  images = tf.constant([[1.0, -1.0, 0.0], [0.0, 0.5, 1.0]])
  recon = tf.constant([[0.0, -1.0, 0.5], [1.0, 0.0, -1.0]])
  # Per image: 0.5 * (1 + 0 + 0.25) = 0.625 and 0.5 * (1 + 0.25 + 4) = 2.625.
  assert float(losses.reconstruction_loss(images, recon)) == pytest.approx(1.625)


def test_reconstruction_loss_of_image_batches():
  images = tf.zeros([2, 28, 28, 1])
  recon = tf.ones([2, 28, 28, 1])
  assert float(losses.reconstruction_loss(images, recon)) == pytest.approx(392)


def test_reconstruction_error_is_per_pixel_mse_on_unit_scale():
  images = tf.constant([[[[1.0], [-1.0]], [[0.0], [1.0]]]])  # [1, 2, 2, 1]
  recon = tf.constant([[[[0.0], [-1.0]], [[0.0], [-1.0]]]])
  # On [0, 1] the differences are 0.5, 0, 0, 1: mean square (0.25 + 1) / 4.
  assert float(losses.reconstruction_error(images, recon)) == pytest.approx(
      0.3125)
  # The same images as the training cost's half summed squared error on
  # [-1, 1] pixels: 0.5 * (1 + 4) = 2.5, a different figure by design.
  assert float(losses.reconstruction_loss(images, recon)) == pytest.approx(2.5)


def test_consistency_loss():
  # Target p = (0.5, 0.5); prediction q = softmax(log 3, 0) = (0.75, 0.25):
  # KL = 0.5 log(0.5 / 0.75) + 0.5 log(0.5 / 0.25) = 0.5 log(4 / 3).
  target = tf.constant([[0.0, 0.0]])
  logits = tf.constant([[math.log(3.0), 0.0]])
  assert float(losses.consistency_loss(target, logits)) == pytest.approx(
      0.5 * math.log(4 / 3), rel=1e-5)
  assert float(losses.consistency_loss(logits, logits)) == pytest.approx(0.0, abs=1e-6)
  with tf.GradientTape() as tape:
    tape.watch(target)
    loss = losses.consistency_loss(target, logits)
  assert tape.gradient(loss, target) is None  # The target pass is constant.


def test_class_balance_loss():
  # Two classes. Both images sure of different classes: the batch mean is
  # (0.5, 0.5), loss 0. Both at q = (0.75, 0.25): log 2 + 0.75 log 0.75 +
  # 0.25 log 0.25. Both all but certain of one class: log 2.
  apart = tf.constant([[math.log(3.0), 0.0], [0.0, math.log(3.0)]])
  assert float(losses.class_balance_loss(apart)) == pytest.approx(0.0,
                                                                  abs=1e-6)
  same = tf.constant([[math.log(3.0), 0.0]] * 2)
  assert float(losses.class_balance_loss(same)) == pytest.approx(
      math.log(2) + 0.75 * math.log(0.75) + 0.25 * math.log(0.25), rel=1e-5)
  collapsed = tf.constant([[60.0, 0.0]] * 3)
  assert float(losses.class_balance_loss(collapsed)) == pytest.approx(
      math.log(2), rel=1e-5)
  with tf.GradientTape() as tape:
    tape.watch(same)
    loss = losses.class_balance_loss(same)
  grad = tape.gradient(loss, same).numpy()
  # Descent moves mass from the over-used class 0 to class 1.
  assert np.all(grad[:, 0] > 0) and np.all(grad[:, 1] < 0)


def test_information_loss():
  # Two classes; q = (0.75, 0.25) has entropy h = -(0.75 log 0.75 + 0.25 log
  # 0.25). Images unsure of different classes: mean entropy h, the mean
  # prediction (0.5, 0.5) has entropy log 2, so the loss is h - w log 2.
  h = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
  apart = tf.constant([[math.log(3.0), 0.0], [0.0, math.log(3.0)]])
  assert float(losses.information_loss(apart, 4.0)) == pytest.approx(
      h - 4 * math.log(2), rel=1e-5)
  # At weight 1: minus the mutual information, log 2 - h.
  assert float(losses.information_loss(apart, 1.0)) == pytest.approx(
      h - math.log(2), rel=1e-5)
  # Both images at the same q: mean and marginal entropy are both h.
  same = tf.constant([[math.log(3.0), 0.0]] * 2)
  assert float(losses.information_loss(same, 4.0)) == pytest.approx(
      -3 * h, rel=1e-5)
  # Sure of different classes: -w log 2; all sure of one class: 0.
  sure = tf.constant([[60.0, 0.0], [0.0, 60.0]])
  assert float(losses.information_loss(sure, 4.0)) == pytest.approx(
      -4 * math.log(2), rel=1e-5)
  collapsed = tf.constant([[60.0, 0.0]] * 3)
  assert float(losses.information_loss(collapsed, 4.0)) == pytest.approx(
      0.0, abs=1e-6)
  with tf.GradientTape() as tape:
    tape.watch(apart)
    loss = losses.information_loss(apart, 1.0)
  grad = tape.gradient(loss, apart).numpy()
  # Descent makes each image surer of its own class.
  assert grad[0, 0] < 0 < grad[0, 1] and grad[1, 1] < 0 < grad[1, 0]


def test_virtual_adversarial_perturbation_finds_the_only_sensitive_direction():
  """logits = a (v . x): q(y|x) changes along v only, so the power
  iteration, from any start not orthogonal to v, returns +-epsilon v / |v|."""
  v = tf.constant([[3.0], [0.0], [4.0], [0.0]])  # |v| = 5.
  a = tf.constant([[1.0, -1.0, 0.5]])
  logits_fn = lambda x: tf.matmul(x, v) @ a
  inputs = tf.constant([[0.1, 0.2, 0.3, 0.4], [1.0, -1.0, 0.0, 2.0]])
  start = tf.constant([[1.0, 1.0, 1.0, 1.0], [-2.0, 0.5, 0.3, 1.0]])
  r = losses.virtual_adversarial_perturbation(
      logits_fn, inputs, logits_fn(inputs), start, epsilon=2.0, xi=1e-3)
  np.testing.assert_allclose(np.linalg.norm(r.numpy(), axis=1), [2.0, 2.0],
                             rtol=1e-5)
  cosine = r.numpy() @ (v.numpy()[:, 0] / 5.0) / 2.0
  np.testing.assert_allclose(np.abs(cosine), [1.0, 1.0], rtol=1e-4)


def test_virtual_adversarial_loss():
  """The loss is the KL divergence between q(y|x) and q(y|x + r_adv); for a
  model that ignores its input it is 0, and only the perturbed pass carries
  a gradient."""
  w = tf.Variable([[1.0, -2.0], [0.5, 0.0]])
  logits_fn = lambda x: tf.matmul(x, w)
  inputs = tf.constant([[1.0, 0.0], [0.0, 1.0]])
  direction = tf.constant([[0.3, -1.0], [1.0, 1.0]])
  with tf.GradientTape() as tape:
    loss = losses.virtual_adversarial_loss(logits_fn, inputs, direction,
                                           epsilon=0.5, xi=1e-3)
  r = losses.virtual_adversarial_perturbation(
      logits_fn, inputs, logits_fn(inputs), direction, 0.5, 1e-3)
  expected = losses.consistency_loss(logits_fn(inputs),
                                     logits_fn(inputs + r))
  assert float(loss) == pytest.approx(float(expected), rel=1e-5)
  assert float(loss) > 0
  assert tape.gradient(loss, w) is not None
  flat = lambda x: tf.zeros([tf.shape(x)[0], 3])
  assert float(losses.virtual_adversarial_loss(
      flat, inputs, direction, 0.5, 1e-3)) == pytest.approx(0.0, abs=1e-7)


def test_discriminator_loss():
  real = tf.constant([0.0, 2.0])
  fake = tf.constant([0.0, -1.0])
  sp = lambda x: math.log1p(math.exp(x))
  expected = (sp(-0.0) + sp(-2.0)) / 2 + (sp(0.0) + sp(-1.0)) / 2
  assert float(losses.discriminator_loss(real, fake)) == pytest.approx(
      expected, rel=1e-6)


def test_generator_loss():
  fake = tf.constant([0.0, 3.0, -3.0])
  expected = (math.log(2) + math.log1p(math.exp(-3)) + math.log1p(math.exp(3))) / 3
  assert float(losses.generator_loss(fake)) == pytest.approx(expected, rel=1e-6)


def test_discriminator_accuracy():
  real = tf.constant([1.0, -1.0])
  fake = tf.constant([-2.0, -3.0])
  assert float(losses.discriminator_accuracy(real, fake)) == pytest.approx(0.75)


def test_losses_are_finite_for_large_logits():
  big = tf.constant([1e4, -1e4])
  assert np.isfinite(float(losses.discriminator_loss(big, big)))
  assert np.isfinite(float(losses.generator_loss(big)))


def test_bce_reconstruction_loss():
  images = tf.constant([[1.0, -1.0], [0.0, 1.0]])  # Intensities 1, 0, .5, 1.
  logits = tf.constant([[0.0, 0.0], [2.0, -1.0]])
  sp = lambda x: math.log1p(math.exp(x))
  # BCE(t, l) = softplus(l) - t * l.
  first = 2 * math.log(2)
  second = (sp(2.0) - 0.5 * 2.0) + (sp(-1.0) + 1.0)
  assert float(losses.bce_reconstruction_loss(images, logits)) == \
      pytest.approx((first + second) / 2, rel=1e-6)


def test_classification_error():
  logits = tf.constant([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
  assert float(losses.classification_error(tf.constant([0, 0, 0]), logits)) \
      == pytest.approx(1 / 3)


def test_cluster_head_penalty():
  # Distances 3 (heads 0-1), 4 (0-2) and 5 (1-2); margin 4 penalises only
  # the first, by 1: the mean over three pairs is 1/3.
  heads = tf.constant([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
  assert float(losses.cluster_head_penalty(heads, 4.0)) == pytest.approx(
      1 / 3, rel=1e-5)
  assert float(losses.cluster_head_penalty(heads, 2.0)) == 0.0


def test_cluster_head_penalty_gradient_is_finite_for_equal_heads():
  heads = tf.Variable([[1.0, 1.0], [1.0, 1.0]])
  with tf.GradientTape() as tape:
    loss = losses.cluster_head_penalty(heads, 1.0)
  assert np.isfinite(tape.gradient(loss, heads).numpy()).all()
