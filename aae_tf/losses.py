"""Losses named by role. Each returns a scalar averaged over the batch."""

from __future__ import annotations

from typing import Callable, Union

import tensorflow as tf


def reconstruction_loss(images: tf.Tensor, reconstructions: tf.Tensor) -> tf.Tensor:
  """Half the squared error summed over an image's pixels, batch mean.

  Summing over pixels (the Gaussian log-likelihood up to constants, as in the
  TF1 original) keeps reconstruction on the scale the adversarial weights of
  the paper assume; a per-pixel mean would let the prior terms dominate.
  """
  squared = tf.square(reconstructions - images)
  return 0.5 * tf.reduce_mean(tf.reduce_sum(
      tf.reshape(squared, [tf.shape(squared)[0], -1]), axis=1))


def bce_reconstruction_loss(images: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
  """Binary cross-entropy summed over an image's pixels, batch mean.

  `images` are in [-1, 1] and read as pixel intensities (images + 1) / 2.
  """
  targets = (images + 1.0) / 2.0
  ce = tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits)
  return tf.reduce_mean(tf.reduce_sum(tf.reshape(ce, [tf.shape(ce)[0], -1]),
                                      axis=1))


def reconstruction_error(images: tf.Tensor,
                         reconstructions: tf.Tensor) -> tf.Tensor:
  """The reconstruction error of every results table and of the logged
  `reconstruction_error`: mean squared error per pixel on the [0, 1] pixel
  scale, for images and reconstructions in [-1, 1].

  Unlike the training costs above it does not depend on the configured loss
  or pixel range, so MSE and BCE runs compare.
  """
  return tf.reduce_mean(tf.square(reconstructions - images)) / 4.0


def discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
  """Sigmoid cross-entropy: prior samples are real (1), codes are fake (0).

  Equals mean(softplus(-real)) + mean(softplus(fake)).
  """
  real = tf.nn.sigmoid_cross_entropy_with_logits(
      labels=tf.ones_like(real_logits), logits=real_logits)
  fake = tf.nn.sigmoid_cross_entropy_with_logits(
      labels=tf.zeros_like(fake_logits), logits=fake_logits)
  return tf.reduce_mean(real) + tf.reduce_mean(fake)


def generator_loss(fake_logits: tf.Tensor) -> tf.Tensor:
  """Non-saturating generator loss: the encoder wants its codes called real."""
  return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
      labels=tf.ones_like(fake_logits), logits=fake_logits))


def discriminator_accuracy(real_logits: tf.Tensor,
                           fake_logits: tf.Tensor) -> tf.Tensor:
  """Share of prior samples and codes the discriminator classifies right."""
  correct = tf.concat([tf.cast(real_logits > 0, tf.float32),
                       tf.cast(fake_logits <= 0, tf.float32)], axis=0)
  return tf.reduce_mean(correct)


def classification_error(labels: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
  """Share of examples whose most likely class is not the label."""
  predicted = tf.argmax(logits, axis=-1, output_type=tf.int32)
  return tf.reduce_mean(tf.cast(
      tf.not_equal(predicted, tf.cast(labels, tf.int32)), tf.float32))


def consistency_loss(target_logits: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
  """KL(p_target || p) between the class distributions of two passes of the
  same images, batch mean; no gradient reaches the target pass."""
  target = tf.stop_gradient(tf.nn.softmax(target_logits))
  log_target = tf.stop_gradient(tf.nn.log_softmax(target_logits))
  return tf.reduce_mean(tf.reduce_sum(
      target * (log_target - tf.nn.log_softmax(logits)), axis=-1))


def _marginal_entropy(logits: tf.Tensor) -> tf.Tensor:
  """H(mean q) of the batch's mean class distribution q = softmax(logits),
  [N, K] -> scalar."""
  mean = tf.reduce_mean(tf.nn.softmax(logits), axis=0)
  return -tf.reduce_sum(mean * tf.math.log(tf.maximum(mean, 1e-12)))


def class_balance_loss(logits: tf.Tensor) -> tf.Tensor:
  """KL(mean q || uniform) = log K - H(mean q) of the batch's mean class
  distribution q = softmax(logits), [N, K] -> scalar; 0 when the batch uses
  the K classes equally, log K when it puts everything in one."""
  num_classes = tf.cast(tf.shape(logits)[-1], logits.dtype)
  return tf.math.log(num_classes) - _marginal_entropy(logits)


def information_loss(logits: tf.Tensor, marginal_weight: float) -> tf.Tensor:
  """IMSAT's information term (Hu et al.) as a loss to minimise:
  mean_b H(q_b) - marginal_weight * H(mean_b q_b) for q_b = softmax(logits),
  [N, K] -> scalar. The first term asks each prediction to be sure, the
  second the batch to use the classes evenly; at marginal_weight 1 it is
  minus the mutual information of x and y over the batch."""
  conditional = -tf.reduce_mean(tf.reduce_sum(
      tf.nn.softmax(logits) * tf.nn.log_softmax(logits), axis=-1))
  return conditional - marginal_weight * _marginal_entropy(logits)


def _unit_directions(x: tf.Tensor) -> tf.Tensor:
  """Each example of `x` scaled to unit L2 norm over its non-batch axes (0
  stays 0). Dividing by the largest entry first keeps the tiny gradients of
  the power iteration from vanishing under the square root's constant."""
  axes = list(range(1, x.shape.rank))
  x = x / (tf.reduce_max(tf.abs(x), axis=axes, keepdims=True) + 1e-30)
  return x * tf.math.rsqrt(tf.reduce_sum(tf.square(x), axis=axes,
                                         keepdims=True) + 1e-12)


def virtual_adversarial_perturbation(
    logits_fn: Callable[[tf.Tensor], tf.Tensor], inputs: tf.Tensor,
    target_logits: tf.Tensor, direction: tf.Tensor,
    epsilon: Union[float, tf.Tensor], xi: float,
    power_iterations: int = 1) -> tf.Tensor:
  """Miyato et al.'s virtual adversarial perturbation of `inputs`.

  Starting from the random `direction` (the shape of `inputs`), each power
  iteration moves `xi` along the current direction and replaces it by the
  gradient of KL(softmax(target_logits) || softmax(logits_fn(inputs + xi d)))
  with respect to d: the direction in which the class distribution changes
  fastest. Returns that direction scaled to L2 norm `epsilon` per example
  (one norm for all, or a tensor [B, 1, ...] of one per example), a
  constant (no gradient flows through it).
  """
  d = _unit_directions(direction)
  for _ in range(power_iterations):
    with tf.GradientTape() as tape:
      tape.watch(d)
      divergence = consistency_loss(target_logits,
                                    logits_fn(inputs + xi * d))
    gradient = tape.gradient(divergence, d,
                             unconnected_gradients=tf.UnconnectedGradients.ZERO)
    d = _unit_directions(tf.stop_gradient(gradient))
  return epsilon * d


def virtual_adversarial_loss(
    logits_fn: Callable[[tf.Tensor], tf.Tensor], inputs: tf.Tensor,
    direction: tf.Tensor, epsilon: Union[float, tf.Tensor], xi: float,
    power_iterations: int = 1) -> tf.Tensor:
  """KL(q(y|x) || q(y|x + r_adv)), batch mean: how far the class
  distribution moves under the virtual adversarial perturbation r_adv
  (`virtual_adversarial_perturbation`); the clean pass is the constant
  target, so the gradient asks the perturbed pass to agree with it."""
  target = tf.stop_gradient(logits_fn(inputs))
  r_adv = virtual_adversarial_perturbation(logits_fn, inputs, target,
                                           direction, epsilon, xi,
                                           power_iterations)
  return consistency_loss(target, logits_fn(inputs + r_adv))


def cluster_head_penalty(heads: tf.Tensor, margin: float) -> tf.Tensor:
  """Paper section 7: penalises cluster heads closer than `margin`.

  Mean over the pairs i < j of max(0, margin - |head_i - head_j|), for
  `heads` [K, D] (K >= 2). A small constant under the square root keeps the
  gradient finite when two heads coincide.
  """
  diff = heads[:, None, :] - heads[None, :, :]
  distance = tf.sqrt(tf.reduce_sum(tf.square(diff), axis=-1) + 1e-12)
  k = tf.shape(heads)[0]
  upper = tf.linalg.band_part(tf.ones([k, k]), 0, -1) - tf.eye(k)
  gaps = tf.nn.relu(margin - distance) * upper
  return tf.reduce_sum(gaps) / tf.reduce_sum(upper)
