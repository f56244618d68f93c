"""Keras subclassed networks of the adversarial autoencoders, and the
factory that builds a configuration's (`build_autoencoder`,
`build_code_discriminators`, `build_y_discriminator`)."""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import keras
import numpy as np
import tensorflow as tf

from aae_tf.config import ModelConfig

HE_INIT = "he_normal"  # Hidden layers; output layers keep Glorot uniform.


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
  """Images [B, H, W, C] to a code: ReLU layers, optional dropout and input
  noise (the image is flattened after the input noise and dropout).

  Input noise and input dropout act at training time only, before the first
  layer; `keep_prob` < 1 adds dropout after every hidden layer, and
  `hidden_noise_std` > 0 Gaussian noise on every hidden layer's output
  (training only, before that dropout). With `batch_norm` every hidden layer
  is dense (no bias), batch normalisation, then ReLU (IMSAT's encoder).

  With `posterior="gaussian"` it returns a mean (linear) and a standard
  deviation (softplus); with "deterministic" only the mean (the code itself).
  With `num_classes > 0` it also returns class logits (the semi-supervised
  encoder's y).
  """

  def __init__(self, ncode: int, units: Sequence[int] = (1000, 1000),
               posterior: str = "gaussian", keep_prob: float = 1.0,
               input_noise_std: float = 0.0, min_stddev: float = 1e-6,
               num_classes: int = 0, input_keep_prob: float = 1.0,
               kernel_initializer: str = HE_INIT,
               hidden_noise_std: float = 0.0, batch_norm: bool = False,
               name: str = "encoder", **kwargs):
    super().__init__(name=name, **kwargs)
    self.ncode = ncode
    self.units = tuple(units)
    self.posterior = posterior
    self.keep_prob = keep_prob
    self.input_noise_std = input_noise_std
    self.min_stddev = min_stddev
    self.num_classes = num_classes
    self.input_keep_prob = input_keep_prob
    self.kernel_initializer = kernel_initializer
    self.hidden_noise_std = hidden_noise_std
    self.batch_norm = batch_norm
    self.noise = keras.layers.GaussianNoise(input_noise_std, name="input_noise")
    self.flatten = keras.layers.Flatten(name="flatten")
    self.input_dropout = keras.layers.Dropout(1.0 - input_keep_prob,
                                              name="input_dropout")
    self.hidden = _attach(self, "hidden", [
        keras.layers.Dense(u, activation=None if batch_norm else "relu",
                           use_bias=not batch_norm,
                           kernel_initializer=kernel_initializer,
                           name=f"hidden_{i}")
        for i, u in enumerate(self.units)])
    self.norms = _attach(self, "norm", [
        keras.layers.BatchNormalization(name=f"norm_{i}")
        for i in range(len(self.units))] if batch_norm else [])
    self.dropouts = _attach(self, "dropout", [
        keras.layers.Dropout(1.0 - keep_prob, name=f"dropout_{i}")
        for i in range(len(self.units))])
    self.hidden_noises = _attach(self, "hidden_noise", [
        keras.layers.GaussianNoise(hidden_noise_std, name=f"hidden_noise_{i}")
        for i in range(len(self.units))] if hidden_noise_std else [])
    # One dense layer for the mean and (Gaussian) the raw standard
    # deviation: a single product instead of two thin ones.
    self.gaussian = posterior == "gaussian"
    self.code = keras.layers.Dense(ncode * (2 if self.gaussian else 1),
                                   name="code")
    self.logits = (keras.layers.Dense(num_classes, name="logits")
                   if num_classes else None)

  def trunk_variables(self) -> list:
    """The hidden layers' weights (with batch norm, its scales and
    offsets)."""
    return [v for layer in self.hidden + self.norms
            for v in layer.trainable_variables]

  def code_variables(self) -> list:
    """The hidden layers and the code head (mean and stddev)."""
    return self.trunk_variables() + list(self.code.trainable_variables)

  def class_variables(self) -> list:
    """The hidden layers and the class head."""
    return self.trunk_variables() + list(self.logits.trainable_variables)

  def call(self, images, training=False,
           batch_statistics: Optional[bool] = None) -> Dict[str, tf.Tensor]:
    """`batch_statistics` (None: `training`) says whether batch norm uses
    the batch's statistics (and updates its moving ones) or the moving
    ones; the virtual adversarial passes use the batch's without noise."""
    if batch_statistics is None:
      batch_statistics = training
    h = self.noise(images, training=training) if self.input_noise_std else images
    if self.input_keep_prob < 1.0:
      h = self.input_dropout(h, training=training)
    h = self.flatten(h)
    for i, (dense, dropout) in enumerate(zip(self.hidden, self.dropouts)):
      h = dense(h)
      if self.norms:
        h = tf.nn.relu(self.norms[i](h, training=batch_statistics))
      if self.hidden_noises:
        h = self.hidden_noises[i](h, training=training)
      h = dropout(h, training=training)
    code = self.code(h)
    if self.gaussian:
      mean, raw = tf.split(code, 2, axis=-1)
      out = {"mean": mean, "stddev": tf.nn.softplus(raw) + self.min_stddev}
    else:
      out = {"mean": code}
    if self.logits is not None:
      out["logits"] = self.logits(h)
    return out

  def get_config(self):
    return {"ncode": self.ncode, "units": list(self.units),
            "posterior": self.posterior, "keep_prob": self.keep_prob,
            "input_noise_std": self.input_noise_std,
            "min_stddev": self.min_stddev, "num_classes": self.num_classes,
            "input_keep_prob": self.input_keep_prob,
            "kernel_initializer": self.kernel_initializer,
            "hidden_noise_std": self.hidden_noise_std,
            "batch_norm": self.batch_norm, "name": self.name}


class MLPDecoder(keras.Model):
  """Codes [B, C] to images [B, H, W, C] through ReLU layers; the output is
  `output_activation` of a dense layer (tanh, sigmoid, or None: logits)."""

  def __init__(self, image_shape: Sequence[int] = (28, 28, 1),
               units: Sequence[int] = (1000, 1000),
               output_activation: str = "tanh",
               kernel_initializer: str = HE_INIT, name: str = "decoder",
               **kwargs):
    super().__init__(name=name, **kwargs)
    self.image_shape = tuple(image_shape)
    self.units = tuple(units)
    self.output_activation = output_activation
    self.kernel_initializer = kernel_initializer
    self.hidden = _attach(self, "hidden", [
        keras.layers.Dense(u, activation="relu",
                           kernel_initializer=kernel_initializer,
                           name=f"hidden_{i}")
        for i, u in enumerate(self.units)])
    self.out = keras.layers.Dense(int(np.prod(self.image_shape)),
                                  activation=output_activation, name="output")
    self.unflatten = keras.layers.Reshape(self.image_shape, name="unflatten")

  def call(self, codes, training=False):
    h = codes
    for dense in self.hidden:
      h = dense(h)
    return self.unflatten(self.out(h))

  def get_config(self):
    return {"image_shape": list(self.image_shape), "units": list(self.units),
            "output_activation": self.output_activation,
            "kernel_initializer": self.kernel_initializer, "name": self.name}


class MLPDiscriminator(keras.Model):
  """Codes [B, C] to one logit per code: LeakyReLU hidden layers, optional
  dropout after each (what makes the MAAE's discriminators differ)."""

  def __init__(self, units: Sequence[int] = (1000, 1000),
               leaky_relu_slope: float = 0.2, dropout_rate: float = 0.0,
               kernel_initializer: str = HE_INIT,
               name: str = "discriminator", **kwargs):
    super().__init__(name=name, **kwargs)
    self.units = tuple(units)
    self.leaky_relu_slope = leaky_relu_slope
    self.dropout_rate = dropout_rate
    self.kernel_initializer = kernel_initializer
    self.hidden = _attach(self, "hidden", [
        keras.layers.Dense(u, kernel_initializer=kernel_initializer,
                           name=f"hidden_{i}")
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
            "dropout_rate": self.dropout_rate,
            "kernel_initializer": self.kernel_initializer, "name": self.name}


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


class ClusterHeads(keras.layers.Layer):
  """Paper section 7: a learned head (row of W, [num_clusters, ncode]) per
  cluster; maps cluster probabilities y [N, K] to y W [N, ncode]."""

  def __init__(self, num_clusters: int, ncode: int,
               initial_spread: float = 1.0, name: str = "cluster_heads",
               **kwargs):
    super().__init__(name=name, **kwargs)
    self.num_clusters = num_clusters
    self.ncode = ncode
    self.initial_spread = initial_spread
    self.heads = self.add_weight(
        name="heads", shape=(num_clusters, ncode),
        initializer=keras.initializers.RandomNormal(stddev=initial_spread))

  def call(self, y):
    return tf.matmul(y, self.heads)

  def get_config(self):
    return {"num_clusters": self.num_clusters, "ncode": self.ncode,
            "initial_spread": self.initial_spread, "name": self.name}


class ConvEncoder(keras.Model):
  """Seed 003's convolutional encoder (images [B, H, W, C] in, code out).

  3x3x16 conv, 4x4x32 stride 2, 4x4x64 stride 2, each with batch norm and
  LeakyReLU, then a (H/4)x(W/4) valid convolution to the code: 7x7 on MNIST,
  8x8 on 32x32 CelebA. Returns {"mean": code} (deterministic), like
  MLPEncoder.
  """

  def __init__(self, ncode: int, image_shape: Sequence[int] = (28, 28, 1),
               filters: Sequence[int] = (16, 32, 64),
               leaky_relu_slope: float = 0.2, name: str = "encoder", **kwargs):
    super().__init__(name=name, **kwargs)
    self.ncode = ncode
    self.image_shape = tuple(image_shape)
    self.filters = tuple(filters)
    self.leaky_relu_slope = leaky_relu_slope
    kernels, strides = (3, 4, 4), (1, 2, 2)
    self.convs = _attach(self, "conv", [
        keras.layers.Conv2D(f, k, strides=s, padding="same", name=f"conv_{i}")
        for i, (f, k, s) in enumerate(zip(self.filters, kernels, strides))])
    self.norms = _attach(self, "norm", [
        keras.layers.BatchNormalization(name=f"norm_{i}")
        for i in range(len(self.filters))])
    self.activation = keras.layers.LeakyReLU(leaky_relu_slope)
    final = self.image_shape[0] // 4
    self.code = keras.layers.Conv2D(ncode, final, padding="valid", name="code")

  def call(self, images, training=False):
    h = images
    for conv, norm in zip(self.convs, self.norms):
      h = self.activation(norm(conv(h), training=training))
    return {"mean": tf.reshape(self.code(h), [-1, self.ncode])}

  def get_config(self):
    return {"ncode": self.ncode, "image_shape": list(self.image_shape),
            "filters": list(self.filters),
            "leaky_relu_slope": self.leaky_relu_slope, "name": self.name}


class ConvDecoder(keras.Model):
  """Seed 003's convolutional decoder (code in, images [B, H, W, C] out).

  (H/4)x(W/4)x64 transposed conv from the 1x1 code, 4x4x32 and 4x4x16
  stride-2 transposed convs, each with batch norm and LeakyReLU, then a 3x3
  conv to the image channels (tanh, or logits when output_activation=None).
  """

  def __init__(self, image_shape: Sequence[int] = (28, 28, 1),
               filters: Sequence[int] = (64, 32, 16),
               leaky_relu_slope: float = 0.2,
               output_activation: Optional[str] = "tanh",
               name: str = "decoder", **kwargs):
    super().__init__(name=name, **kwargs)
    self.image_shape = tuple(image_shape)
    self.filters = tuple(filters)
    self.leaky_relu_slope = leaky_relu_slope
    self.output_activation = output_activation
    first = self.image_shape[0] // 4
    self.deconvs = _attach(self, "deconv", [
        keras.layers.Conv2DTranspose(self.filters[0], first, padding="valid",
                                     name="deconv_0"),
        keras.layers.Conv2DTranspose(self.filters[1], 4, strides=2,
                                     padding="same", name="deconv_1"),
        keras.layers.Conv2DTranspose(self.filters[2], 4, strides=2,
                                     padding="same", name="deconv_2")])
    self.norms = _attach(self, "norm", [
        keras.layers.BatchNormalization(name=f"norm_{i}") for i in range(3)])
    self.activation = keras.layers.LeakyReLU(leaky_relu_slope)
    self.out = keras.layers.Conv2D(self.image_shape[-1], 3, padding="same",
                                   activation=output_activation, name="output")

  def call(self, codes, training=False):
    h = tf.reshape(codes, [-1, 1, 1, codes.shape[-1]])
    for deconv, norm in zip(self.deconvs, self.norms):
      h = self.activation(norm(deconv(h), training=training))
    return self.out(h)

  def get_config(self):
    return {"image_shape": list(self.image_shape),
            "filters": list(self.filters),
            "leaky_relu_slope": self.leaky_relu_slope,
            "output_activation": self.output_activation, "name": self.name}


class CelebAEncoder(keras.Model):
  """The MAAE appendix's CelebA encoder: 32x32x3 -> conv 32, 64, 128 (stride
  2, LeakyReLU then batch norm) -> flatten 2048 -> dense mean and softplus
  standard deviation of a 15-dimensional Gaussian posterior."""

  def __init__(self, ncode: int = 15, image_shape: Sequence[int] = (32, 32, 3),
               filters: Sequence[int] = (32, 64, 128), kernel_size: int = 4,
               leaky_relu_slope: float = 0.2, min_stddev: float = 1e-6,
               name: str = "encoder", **kwargs):
    super().__init__(name=name, **kwargs)
    self.ncode = ncode
    self.image_shape = tuple(image_shape)
    self.filters = tuple(filters)
    self.kernel_size = kernel_size
    self.leaky_relu_slope = leaky_relu_slope
    self.min_stddev = min_stddev
    self.convs = _attach(self, "conv", [
        keras.layers.Conv2D(f, kernel_size, strides=2, padding="same",
                            name=f"conv_{i}")
        for i, f in enumerate(self.filters)])
    self.norms = _attach(self, "norm", [
        keras.layers.BatchNormalization(name=f"norm_{i}")
        for i in range(len(self.filters))])
    self.activation = keras.layers.LeakyReLU(leaky_relu_slope)
    self.mean = keras.layers.Dense(ncode, name="mean")
    self.stddev = keras.layers.Dense(ncode, activation="softplus",
                                     name="stddev")

  def call(self, images, training=False):
    h = images
    for conv, norm in zip(self.convs, self.norms):
      h = norm(self.activation(conv(h)), training=training)
    h = tf.reshape(h, [tf.shape(h)[0], -1])
    return {"mean": self.mean(h), "stddev": self.stddev(h) + self.min_stddev}

  def get_config(self):
    return {"ncode": self.ncode, "image_shape": list(self.image_shape),
            "filters": list(self.filters), "kernel_size": self.kernel_size,
            "leaky_relu_slope": self.leaky_relu_slope,
            "min_stddev": self.min_stddev, "name": self.name}


class CelebADecoder(keras.Model):
  """The MAAE appendix's CelebA decoder: dense 8192 (viewed as 8x8x128, a
  reshape the table leaves implicit) -> transposed conv 128 and 64 (stride 2,
  batch norm then LeakyReLU) -> transposed conv 3 -> 32x32x3 (tanh)."""

  def __init__(self, image_shape: Sequence[int] = (32, 32, 3),
               filters: Sequence[int] = (128, 64), kernel_size: int = 4,
               leaky_relu_slope: float = 0.2,
               output_activation: Optional[str] = "tanh",
               name: str = "decoder", **kwargs):
    super().__init__(name=name, **kwargs)
    self.image_shape = tuple(image_shape)
    self.filters = tuple(filters)
    self.kernel_size = kernel_size
    self.leaky_relu_slope = leaky_relu_slope
    self.output_activation = output_activation
    self.start = self.image_shape[0] // 4
    self.dense = keras.layers.Dense(self.start * self.start * self.filters[0],
                                    name="dense")
    self.deconvs = _attach(self, "deconv", [
        keras.layers.Conv2DTranspose(f, kernel_size, strides=2,
                                     padding="same", name=f"deconv_{i}")
        for i, f in enumerate(self.filters)])
    self.norms = _attach(self, "norm", [
        keras.layers.BatchNormalization(name=f"norm_{i}")
        for i in range(len(self.filters))])
    self.activation = keras.layers.LeakyReLU(leaky_relu_slope)
    self.out = keras.layers.Conv2DTranspose(
        self.image_shape[-1], kernel_size, padding="same",
        activation=output_activation, name="output")

  def call(self, codes, training=False):
    h = tf.reshape(self.dense(codes),
                   [-1, self.start, self.start, self.filters[0]])
    for deconv, norm in zip(self.deconvs, self.norms):
      h = self.activation(norm(deconv(h), training=training))
    return self.out(h)

  def get_config(self):
    return {"image_shape": list(self.image_shape),
            "filters": list(self.filters), "kernel_size": self.kernel_size,
            "leaky_relu_slope": self.leaky_relu_slope,
            "output_activation": self.output_activation, "name": self.name}


# -- The configuration's networks. --


def decoder_activation(model: ModelConfig) -> Optional[str]:
  """The decoder's output: logits for BCE, else tanh on [-1, 1] or sigmoid
  on [0, 1] pixels."""
  if model.reconstruction == "bce":
    return None
  return "sigmoid" if model.pixel_range == "unit" else "tanh"


def build_autoencoder(model: ModelConfig,
                      encoder_classes: int = 0) -> Tuple[keras.Model,
                                                         keras.Model]:
  """The encoder and decoder of `model.architecture`; an MLP encoder with
  `encoder_classes` > 0 also gives class logits y."""
  output_activation = decoder_activation(model)
  if model.architecture == "conv":
    return (ConvEncoder(model.ncode, model.image_shape,
                        leaky_relu_slope=model.leaky_relu_slope),
            ConvDecoder(model.image_shape,
                        leaky_relu_slope=model.leaky_relu_slope,
                        output_activation=output_activation))
  if model.architecture == "celeba_conv":
    return (CelebAEncoder(model.ncode, model.image_shape,
                          leaky_relu_slope=model.leaky_relu_slope,
                          min_stddev=model.min_stddev),
            CelebADecoder(model.image_shape,
                          leaky_relu_slope=model.leaky_relu_slope,
                          output_activation=output_activation))
  return (MLPEncoder(model.ncode, model.encoder_units, model.posterior,
                     model.keep_prob, model.input_noise_std, model.min_stddev,
                     num_classes=encoder_classes,
                     input_keep_prob=model.input_keep_prob,
                     kernel_initializer=model.kernel_initializer,
                     hidden_noise_std=model.hidden_noise_std,
                     batch_norm=model.encoder_batch_norm),
          MLPDecoder(model.image_shape, model.decoder_units,
                     output_activation=output_activation,
                     kernel_initializer=model.kernel_initializer))


def build_code_discriminators(model: ModelConfig) -> List[MLPDiscriminator]:
  """The code discriminators: one, or `num_discriminators` whose dropout
  rates are evenly spaced from 0 to `discriminator_max_dropout`."""
  n = model.num_discriminators
  rates = (np.linspace(0.0, model.discriminator_max_dropout, n) if n > 1
           else [0.0])
  return [MLPDiscriminator(model.discriminator_units, model.leaky_relu_slope,
                           dropout_rate=float(rate),
                           kernel_initializer=model.kernel_initializer,
                           name="discriminator" if n == 1 else
                           f"discriminator_{i}")
          for i, rate in enumerate(rates)]


def build_y_discriminator(model: ModelConfig) -> MLPDiscriminator:
  """The discriminator of the categorical code y."""
  return MLPDiscriminator(model.discriminator_units, model.leaky_relu_slope,
                          kernel_initializer=model.kernel_initializer,
                          name="y_discriminator")


def build_soft_ensemble(model: ModelConfig) -> Optional[SoftEnsemble]:
  """The learned combination of several code discriminators' losses
  (`combine="soft"`), or None."""
  if model.num_discriminators > 1 and model.combine == "soft":
    return SoftEnsemble(model.soft_lambda_init)
  return None


def build_cluster_heads(model: ModelConfig) -> ClusterHeads:
  """Dimensionality reduction's cluster heads, `cluster_head_margin`
  apart at the start."""
  return ClusterHeads(model.num_classes, model.ncode,
                      initial_spread=model.cluster_head_margin)
