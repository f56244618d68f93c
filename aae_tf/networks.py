"""Keras subclassed networks of the MLP adversarial autoencoder."""

from __future__ import annotations

from typing import Dict, Sequence

import keras
import numpy as np
import tensorflow as tf

HE_INIT = "he_normal"


def _attach(model: keras.Model, prefix: str, layers: list) -> tuple:
  """Sets each layer as attribute `prefix_i` and returns them as a tuple.

  `tf.train.Checkpoint` follows a Keras model's attributes but not layers
  kept only in a Python list, so every layer must be an attribute to be
  saved under the network.
  """
  for i, layer in enumerate(layers):
    setattr(model, f"{prefix}_{i}", layer)
  return tuple(layers)


class MLPEncoder(keras.Model):
  """Images [B, D] to a code: ReLU layers, optional dropout and input noise.

  With `posterior="gaussian"` it returns a mean (linear) and a standard
  deviation (softplus); with "deterministic" only the mean (the code itself).
  With `num_classes > 0` it also returns class logits (the semi-supervised
  encoder's y).
  """

  def __init__(self, ncode: int, units: Sequence[int] = (1000, 1000),
               posterior: str = "gaussian", keep_prob: float = 1.0,
               input_noise_std: float = 0.0, min_stddev: float = 1e-6,
               num_classes: int = 0, name: str = "encoder", **kwargs):
    super().__init__(name=name, **kwargs)
    self.ncode = ncode
    self.units = tuple(units)
    self.posterior = posterior
    self.keep_prob = keep_prob
    self.input_noise_std = input_noise_std
    self.min_stddev = min_stddev
    self.num_classes = num_classes
    self.noise = keras.layers.GaussianNoise(input_noise_std, name="input_noise")
    self.hidden = _attach(self, "hidden", [
        keras.layers.Dense(u, activation="relu", kernel_initializer=HE_INIT,
                           name=f"hidden_{i}")
        for i, u in enumerate(self.units)])
    self.dropouts = _attach(self, "dropout", [
        keras.layers.Dropout(1.0 - keep_prob, name=f"dropout_{i}")
        for i in range(len(self.units))])
    self.mean = keras.layers.Dense(ncode, name="mean")
    self.stddev = (keras.layers.Dense(ncode, activation="softplus",
                                      name="stddev")
                   if posterior == "gaussian" else None)
    self.logits = (keras.layers.Dense(num_classes, name="logits")
                   if num_classes else None)

  def trunk_variables(self) -> list:
    return [v for layer in self.hidden for v in layer.trainable_variables]

  def code_variables(self) -> list:
    """The hidden layers and the code heads (mean, stddev)."""
    heads = [self.mean] + ([self.stddev] if self.stddev is not None else [])
    return self.trunk_variables() + [v for h in heads
                                     for v in h.trainable_variables]

  def class_variables(self) -> list:
    """The hidden layers and the class head."""
    return self.trunk_variables() + list(self.logits.trainable_variables)

  def call(self, images, training=False) -> Dict[str, tf.Tensor]:
    h = self.noise(images, training=training) if self.input_noise_std else images
    for dense, dropout in zip(self.hidden, self.dropouts):
      h = dropout(dense(h), training=training)
    out = {"mean": self.mean(h)}
    if self.stddev is not None:
      out["stddev"] = self.stddev(h) + self.min_stddev
    if self.logits is not None:
      out["logits"] = self.logits(h)
    return out

  def get_config(self):
    return {"ncode": self.ncode, "units": list(self.units),
            "posterior": self.posterior, "keep_prob": self.keep_prob,
            "input_noise_std": self.input_noise_std,
            "min_stddev": self.min_stddev, "num_classes": self.num_classes,
            "name": self.name}


class MLPDecoder(keras.Model):
  """Codes [B, C] to images [B, D] in [-1, 1] (tanh) or logits (linear)."""

  def __init__(self, output_size: int = 784,
               units: Sequence[int] = (1000, 1000),
               output_activation: str = "tanh", name: str = "decoder",
               **kwargs):
    super().__init__(name=name, **kwargs)
    self.output_size = output_size
    self.units = tuple(units)
    self.output_activation = output_activation
    self.hidden = _attach(self, "hidden", [
        keras.layers.Dense(u, activation="relu", kernel_initializer=HE_INIT,
                           name=f"hidden_{i}")
        for i, u in enumerate(self.units)])
    self.out = keras.layers.Dense(output_size, activation=output_activation,
                                  name="output")

  def call(self, codes, training=False):
    h = codes
    for dense in self.hidden:
      h = dense(h)
    return self.out(h)

  def get_config(self):
    return {"output_size": self.output_size, "units": list(self.units),
            "output_activation": self.output_activation, "name": self.name}


class MLPDiscriminator(keras.Model):
  """Codes [B, C] to one logit per code: LeakyReLU hidden layers, optional
  dropout after each (what makes the MAAE's discriminators differ)."""

  def __init__(self, units: Sequence[int] = (1000, 1000),
               leaky_relu_slope: float = 0.2, dropout_rate: float = 0.0,
               name: str = "discriminator", **kwargs):
    super().__init__(name=name, **kwargs)
    self.units = tuple(units)
    self.leaky_relu_slope = leaky_relu_slope
    self.dropout_rate = dropout_rate
    self.hidden = _attach(self, "hidden", [
        keras.layers.Dense(u, kernel_initializer=HE_INIT, name=f"hidden_{i}")
        for i, u in enumerate(self.units)])
    self.activation = keras.layers.LeakyReLU(leaky_relu_slope)
    self.dropout = keras.layers.Dropout(dropout_rate, name="dropout")
    self.logit = keras.layers.Dense(1, name="logit")

  def call(self, codes, training=False):
    h = codes
    for dense in self.hidden:
      h = self.activation(dense(h))
      if self.dropout_rate:
        h = self.dropout(h, training=training)
    return self.logit(h)[:, 0]

  def get_config(self):
    return {"units": list(self.units),
            "leaky_relu_slope": self.leaky_relu_slope,
            "dropout_rate": self.dropout_rate, "name": self.name}


class SoftEnsemble(keras.layers.Layer):
  """Combines N losses as sum_i softmax(lambda * L)_i * L_i (GMAN-style).

  lambda = softplus(raw) > 0 is trainable: lambda -> 0 gives the mean,
  lambda -> inf the max.
  """

  def __init__(self, initial_lambda: float = 1.0, name: str = "ensemble",
               **kwargs):
    super().__init__(name=name, **kwargs)
    self.initial_lambda = initial_lambda
    raw = float(np.log(np.expm1(initial_lambda)))
    self.raw_lambda = self.add_weight(
        name="raw_lambda", shape=(),
        initializer=keras.initializers.Constant(raw))

  @property
  def temperature(self) -> tf.Tensor:
    return tf.nn.softplus(self.raw_lambda)

  def call(self, losses_vector):
    weights = tf.nn.softmax(self.temperature * losses_vector)
    return tf.reduce_sum(weights * losses_vector)

  def get_config(self):
    return {"initial_lambda": self.initial_lambda, "name": self.name}
