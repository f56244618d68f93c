"""The convolutional networks of seeds 003 and 000, layer by layer."""

import numpy as np
import pytest
import tensorflow as tf

from aae_tf import networks


def _count(layer, trainable=True):
  variables = (layer.trainable_variables if trainable
               else layer.non_trainable_variables)
  return sum(int(np.prod(v.shape)) for v in variables)


def _trace(model, x, stages):
  """Output shape after each named stage (layer lists run in call order)."""
  shapes = []
  for fn in stages:
    x = fn(x)
    shapes.append(tuple(x.shape[1:]))
  return shapes


def test_seed003_mnist_encoder_table():
  enc = networks.ConvEncoder(5)
  out = enc(tf.zeros([2, 28, 28, 1]))["mean"]
  assert out.shape == (2, 5)
  x = tf.zeros([2, 28, 28, 1])
  shapes = _trace(enc, x, [enc.conv_0, enc.conv_1, enc.conv_2, enc.code])
  assert shapes == [(28, 28, 16), (14, 14, 32), (7, 7, 64), (1, 1, 5)]
  assert [_count(c) for c in enc.convs] == [
      3 * 3 * 1 * 16 + 16, 4 * 4 * 16 * 32 + 32, 4 * 4 * 32 * 64 + 64]
  assert _count(enc.code) == 7 * 7 * 64 * 5 + 5
  # Batch norm: gamma and beta trained, moving statistics kept.
  assert [_count(n) for n in enc.norms] == [32, 64, 128]
  assert [_count(n, False) for n in enc.norms] == [32, 64, 128]


def test_seed003_mnist_decoder_table():
  dec = networks.ConvDecoder((28, 28, 1))
  assert dec(tf.zeros([2, 5])).shape == (2, 28, 28, 1)
  x = tf.zeros([2, 1, 1, 5])
  shapes = _trace(dec, x, [dec.deconv_0, dec.deconv_1, dec.deconv_2, dec.out])
  assert shapes == [(7, 7, 64), (14, 14, 32), (28, 28, 16), (28, 28, 1)]
  assert [_count(d) for d in dec.deconvs] == [
      7 * 7 * 5 * 64 + 64, 4 * 4 * 64 * 32 + 32, 4 * 4 * 32 * 16 + 16]
  assert _count(dec.out) == 3 * 3 * 16 * 1 + 1
  assert np.all(np.abs(dec(tf.random.normal([3, 5]) * 50).numpy()) <= 1)


def test_seed003_celeba_variant():
  enc = networks.ConvEncoder(50, image_shape=(32, 32, 3))
  dec = networks.ConvDecoder((32, 32, 3))
  assert enc(tf.zeros([2, 32, 32, 3]))["mean"].shape == (2, 50)
  assert _count(enc.code) == 8 * 8 * 64 * 50 + 50
  assert dec(tf.zeros([2, 50])).shape == (2, 32, 32, 3)
  assert _count(dec.deconv_0) == 8 * 8 * 50 * 64 + 64


def test_maae_celeba_encoder_table():
  enc = networks.CelebAEncoder()
  out = enc(tf.zeros([2, 32, 32, 3]))
  assert out["mean"].shape == (2, 15) and out["stddev"].shape == (2, 15)
  x = tf.zeros([2, 32, 32, 3])
  shapes = _trace(enc, x, [enc.conv_0, enc.norm_0, enc.conv_1, enc.norm_1,
                           enc.conv_2, enc.norm_2])
  assert shapes == [(16, 16, 32), (16, 16, 32), (8, 8, 64), (8, 8, 64),
                    (4, 4, 128), (4, 4, 128)]
  assert [_count(c) for c in enc.convs] == [
      4 * 4 * 3 * 32 + 32, 4 * 4 * 32 * 64 + 64, 4 * 4 * 64 * 128 + 128]
  # Flatten 4 * 4 * 128 = 2048, then the two heads.
  assert _count(enc.mean) == _count(enc.stddev) == 2048 * 15 + 15


def test_maae_celeba_decoder_table():
  dec = networks.CelebADecoder()
  assert dec(tf.zeros([2, 15])).shape == (2, 32, 32, 3)
  assert _count(dec.dense) == 15 * 8192 + 8192
  x = tf.reshape(dec.dense(tf.zeros([2, 15])), [2, 8, 8, 128])
  shapes = _trace(dec, x, [dec.deconv_0, dec.deconv_1, dec.out])
  assert shapes == [(16, 16, 128), (32, 32, 64), (32, 32, 3)]
  assert [_count(d) for d in dec.deconvs] == [
      4 * 4 * 128 * 128 + 128, 4 * 4 * 128 * 64 + 64]
  assert _count(dec.out) == 4 * 4 * 64 * 3 + 3


@pytest.mark.parametrize("cls,args", [
    (networks.ConvEncoder, (5,)), (networks.ConvDecoder, ()),
    (networks.CelebAEncoder, ()), (networks.CelebADecoder, ())])
def test_conv_get_config_round_trip(cls, args):
  model = cls(*args)
  assert cls.from_config(model.get_config()).get_config() == model.get_config()


def test_discriminator_of_seed003():
  disc = networks.MLPDiscriminator((500, 500))
  assert disc(tf.zeros([4, 5])).shape == (4,)
  assert _count(disc) == (5 * 500 + 500) + (500 * 500 + 500) + 501
