"""Diagnostic (not a test): the paper's semi-supervised recipe as a plain script,
on this project's splits and labeled images, for comparison with
`classify_mnist.py --recipe paper`.

Written from the recipe's description only (docs/recipes.md): Keras
`Sequential` MLPs with Glorot initialisation; a deterministic encoder trunk
with a linear z head and a softmax y head; a sigmoid decoder of [z, y] on
[0, 1] pixels with half the summed squared error; ReLU critics on z and y; per
minibatch of 100, in this order, each with its own SGD: reconstruction (0.01,
momentum 0.9), both critics (0.1, 0.1), the whole encoder as generator of
both (0.1, 0.1), cross-entropy on 100 labeled images drawn with replacement
(0.1, 0.9); N(0, 0.3^2) noise on every training input; rates / 10 after
epoch 50. Per epoch: validation and test error of argmax q(y|x).

  python benchmarks/diagnostics/reference_curve.py --data_dir /path/to/mnist --epochs 20
"""

import os
import sys

from absl import app
from absl import flags
from absl import logging

sys.path.insert(0, os.path.dirname(os.path.dirname(  # benchmarks/: common
    os.path.abspath(__file__))))
import common

flags.DEFINE_integer("epochs", 20, "Epochs.")
flags.DEFINE_integer("num_labeled", 100, "Labeled images (balanced).")
flags.DEFINE_integer("seed", 0, "Seed of the labeled draw and of training.")
flags.DEFINE_string("data_dir", None, "Folder with the MNIST IDX files.")
FLAGS = flags.FLAGS
BATCH = 100
NOISE = 0.3
DECAY_EPOCH = 50


def build(ncode=10, classes=10, units=1000, pixels=784):
  import keras  # pylint: disable=g-import-not-at-top
  dense = keras.layers.Dense

  def mlp(outputs, activation=None):
    return keras.Sequential([dense(units, "relu"), dense(units, "relu"),
                             dense(outputs, activation)])

  trunk = keras.Sequential([dense(units, "relu"), dense(units, "relu")])
  z_head, y_head = dense(ncode), dense(classes)
  decoder = mlp(pixels, "sigmoid")
  z_critic, y_critic = mlp(1), mlp(1)
  return trunk, z_head, y_head, decoder, z_critic, y_critic


def main(argv):
  del argv
  import numpy as np  # pylint: disable=g-import-not-at-top
  import keras  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from aae_tf import data as data_lib  # pylint: disable=g-import-not-at-top
  from aae_tf import mnist  # pylint: disable=g-import-not-at-top
  keras.utils.set_random_seed(FLAGS.seed)
  splits = mnist.load_mnist(FLAGS.data_dir)
  unit = lambda x: x.reshape(len(x), -1).astype(np.float32) / 255.0  # pylint: disable=unnecessary-lambda-assignment
  train_x = unit(splits.train.images)
  chosen = data_lib.balanced_indices(splits.train.labels, FLAGS.num_labeled,
                                     FLAGS.seed)
  labeled_x = train_x[chosen]
  labeled_y = splits.train.labels[chosen].astype(np.int32)
  nets = build()
  trunk, z_head, y_head, decoder, z_critic, y_critic = nets
  x0 = tf.zeros([1, 784])
  h0 = trunk(x0)
  decoder(tf.concat([z_head(h0), y_head(h0)], 1))
  z_critic(z_head(h0))
  y_critic(y_head(h0))
  encoder_vars = (trunk.trainable_variables + z_head.trainable_variables +
                  y_head.trainable_variables)
  lr = tf.Variable(1.0, trainable=False)  # Shared decay factor.
  sgd = lambda rate, m: keras.optimizers.SGD(lambda: rate * lr, momentum=m)  # pylint: disable=unnecessary-lambda-assignment
  opt_rec, opt_dis, opt_gen, opt_cls = (sgd(0.01, 0.9), sgd(0.1, 0.1),
                                        sgd(0.1, 0.1), sgd(0.1, 0.9))
  bce = tf.nn.sigmoid_cross_entropy_with_logits

  def encode(x):
    h = trunk(x + NOISE * tf.random.normal(tf.shape(x)))
    return z_head(h), tf.nn.softmax(y_head(h))

  @tf.function(jit_compile=True)
  def step(x, lx, ly):
    with tf.GradientTape() as tape:
      z, y = encode(x)
      loss = 0.5 * tf.reduce_mean(tf.reduce_sum(
          tf.square(decoder(tf.concat([z, y], 1)) - x), 1))
    v = encoder_vars + decoder.trainable_variables
    opt_rec.apply_gradients(zip(tape.gradient(loss, v), v))
    with tf.GradientTape() as tape:
      z, y = encode(x)
      n = tf.shape(x)[0]
      real_z, real_y = tf.random.normal(tf.shape(z)), tf.one_hot(
          tf.random.uniform([n], 0, 10, tf.int32), 10)
      loss = 0.0
      for critic, real, fake in ((z_critic, real_z, z), (y_critic, real_y, y)):
        r, f = critic(real), critic(fake)
        loss += (tf.reduce_mean(bce(labels=tf.ones_like(r), logits=r)) +
                 tf.reduce_mean(bce(labels=tf.zeros_like(f), logits=f)))
    v = z_critic.trainable_variables + y_critic.trainable_variables
    opt_dis.apply_gradients(zip(tape.gradient(loss, v), v))
    with tf.GradientTape() as tape:
      z, y = encode(x)
      loss = 0.0
      for critic, fake in ((z_critic, z), (y_critic, y)):
        f = critic(fake)
        loss += tf.reduce_mean(bce(labels=tf.ones_like(f), logits=f))
    opt_gen.apply_gradients(zip(tape.gradient(loss, encoder_vars),
                                encoder_vars))
    with tf.GradientTape() as tape:
      h = trunk(lx + NOISE * tf.random.normal(tf.shape(lx)))
      loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
          labels=ly, logits=y_head(h)))
    v = trunk.trainable_variables + y_head.trainable_variables
    opt_cls.apply_gradients(zip(tape.gradient(loss, v), v))

  @tf.function(jit_compile=True)
  def predict(x):
    return tf.argmax(y_head(trunk(x)), axis=1, output_type=tf.int32)

  def error(split):
    x = unit(split.images)
    guesses = np.concatenate([predict(x[i:i + 1000]).numpy()
                              for i in range(0, len(x), 1000)])
    return float(np.mean(guesses != split.labels))

  rng = np.random.default_rng(FLAGS.seed)
  curve = []
  for epoch in range(1, FLAGS.epochs + 1):
    if epoch == DECAY_EPOCH + 1:
      lr.assign(0.1)
    order = rng.permutation(len(train_x))
    for start in range(0, len(order) - BATCH + 1, BATCH):
      pick = rng.integers(0, len(labeled_x), BATCH)
      step(tf.constant(train_x[order[start:start + BATCH]]),
           tf.constant(labeled_x[pick]), tf.constant(labeled_y[pick]))
    curve.append(error(splits.validation))
    logging.info("Epoch %d: validation error %.4f", epoch, curve[-1])
  test = error(splits.test)
  row = {"num_labeled": FLAGS.num_labeled, "seed": FLAGS.seed,
         "epochs": FLAGS.epochs, "validation_curve": curve,
         "test_error": test, "hardware": common.hardware(),
         "command": common.command_line()}
  common.append_results("reference_curve", [row])


if __name__ == "__main__":
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  app.run(main)
