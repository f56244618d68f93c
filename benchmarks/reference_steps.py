"""The plain TensorFlow 2 steps a user would write instead of this package:
the yardstick of `throughput.py`.

Each is written from the paper's description, with the same shapes, losses
and optimisers as the mode it stands for: Keras `Sequential` MLPs, one Adam
(beta1 0.5) per phase, one `tf.function(jit_compile=True)` called from Python
once per step on a constant batch. No data pipeline, metrics, summaries or
checkpoints.
"""

import keras
import tensorflow as tf

HIDDEN = (1000, 1000)
LEARNING_RATE = 2e-4
BETA1 = 0.5
LEAKY_SLOPE = 0.2


def _mlp(outputs: int, leaky: bool = False, activation=None):
  layers = []
  for units in HIDDEN:
    if leaky:
      layers += [keras.layers.Dense(units),
                 keras.layers.LeakyReLU(LEAKY_SLOPE)]
    else:
      layers.append(keras.layers.Dense(units, activation="relu"))
  layers.append(keras.layers.Dense(outputs, activation=activation))
  return keras.Sequential(layers)


def _adam():
  return keras.optimizers.Adam(LEARNING_RATE, beta_1=BETA1)


def _apply(tape, loss, optimizer, variables):
  optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))


def _gan_losses(real_logits, fake_logits):
  bce = tf.nn.sigmoid_cross_entropy_with_logits
  disc = (tf.reduce_mean(bce(labels=tf.ones_like(real_logits),
                             logits=real_logits)) +
          tf.reduce_mean(bce(labels=tf.zeros_like(fake_logits),
                             logits=fake_logits)))
  return disc


def _generator_loss(fake_logits):
  return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
      labels=tf.ones_like(fake_logits), logits=fake_logits))


def _recon(x, out):
  return 0.5 * tf.reduce_mean(tf.reduce_sum(tf.square(out - x), axis=1))


def unsupervised_step(ncode: int = 2, image_size: int = 784):
  """The paper's MNIST AAE (Gaussian posterior): reconstruction,
  discriminator, generator. Returns (step(images), a variable to sync on)."""
  encoder = _mlp(2 * ncode)
  decoder = _mlp(image_size, activation="tanh")
  critic = _mlp(1, leaky=True)
  opts = [_adam() for _ in range(3)]

  def code(x):
    mean, raw = tf.split(encoder(x, training=True), 2, axis=1)
    return mean + tf.nn.softplus(raw) * tf.random.normal(tf.shape(mean))

  @tf.function(jit_compile=True)
  def step(x):
    with tf.GradientTape() as tape:
      loss = _recon(x, decoder(code(x), training=True))
    _apply(tape, loss, opts[0],
           encoder.trainable_variables + decoder.trainable_variables)
    with tf.GradientTape() as tape:
      z = code(x)
      loss = _gan_losses(critic(tf.random.normal(tf.shape(z))), critic(z))
    _apply(tape, loss, opts[1], critic.trainable_variables)
    with tf.GradientTape() as tape:
      loss = _generator_loss(critic(code(x)))
    _apply(tape, loss, opts[2], encoder.trainable_variables)

  x = tf.zeros([1, image_size])
  decoder(code(x))
  critic(code(x))
  return step, encoder.trainable_variables[0]


def semisupervised_step(ncode: int = 10, classes: int = 10,
                        image_size: int = 784):
  """The paper's semi-supervised AAE written the same plain way: one trunk
  with z (Gaussian) and y heads, a decoder of [z, y], z and y critics;
  phases reconstruction, z critic, z generator, y critic, y generator,
  classification (on a second, labeled constant batch)."""
  trunk = keras.Sequential([keras.layers.Dense(u, activation="relu")
                            for u in HIDDEN])
  z_head = keras.layers.Dense(2 * ncode)
  y_head = keras.layers.Dense(classes)
  decoder = _mlp(image_size, activation="tanh")
  z_critic, y_critic = _mlp(1, leaky=True), _mlp(1, leaky=True)
  opts = [_adam() for _ in range(6)]

  def encode(x):
    h = trunk(x, training=True)
    mean, raw = tf.split(z_head(h), 2, axis=1)
    z = mean + tf.nn.softplus(raw) * tf.random.normal(tf.shape(mean))
    return z, y_head(h)

  def z_vars():
    return trunk.trainable_variables + z_head.trainable_variables

  def y_vars():
    return trunk.trainable_variables + y_head.trainable_variables

  @tf.function(jit_compile=True)
  def step(x, labeled, labels):
    with tf.GradientTape() as tape:
      z, logits = encode(x)
      out = decoder(tf.concat([z, tf.nn.softmax(logits)], 1), training=True)
      loss = _recon(x, out)
    _apply(tape, loss, opts[0], z_vars() + y_head.trainable_variables +
           decoder.trainable_variables)
    with tf.GradientTape() as tape:
      z, _ = encode(x)
      loss = _gan_losses(z_critic(tf.random.normal(tf.shape(z))), z_critic(z))
    _apply(tape, loss, opts[1], z_critic.trainable_variables)
    with tf.GradientTape() as tape:
      loss = _generator_loss(z_critic(encode(x)[0]))
    _apply(tape, loss, opts[2], z_vars())
    with tf.GradientTape() as tape:
      y = tf.nn.softmax(encode(x)[1])
      prior = tf.one_hot(tf.random.uniform([tf.shape(x)[0]], 0, classes,
                                           tf.int32), classes)
      loss = _gan_losses(y_critic(prior), y_critic(y))
    _apply(tape, loss, opts[3], y_critic.trainable_variables)
    with tf.GradientTape() as tape:
      loss = _generator_loss(y_critic(tf.nn.softmax(encode(x)[1])))
    _apply(tape, loss, opts[4], y_vars())
    with tf.GradientTape() as tape:
      loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
          labels=labels, logits=encode(labeled)[1]))
    _apply(tape, loss, opts[5], y_vars())

  x = tf.zeros([1, image_size])
  z, logits = encode(x)
  decoder(tf.concat([z, logits], 1))
  z_critic(z)
  y_critic(logits)
  return step, trunk.trainable_variables[0]
