"""The pieces of the budget recipe: weight average, hidden noise, per-image
virtual adversarial radius, a schedule that ends with the run, the plan and
time-left lines."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from aae_tf import averaging
from aae_tf import config as config_lib
from aae_tf import data as data_lib
from aae_tf import errors
from aae_tf import trainer as trainer_lib
from aae_tf import training
from aae_tf.networks import MLPEncoder
from conftest import fit_tiny, make_tiny_splits, small_config


class _Net(tf.keras.Model):
  """One scalar weight, for hand-checked averages."""

  def __init__(self):
    super().__init__()
    self.w = self.add_weight(shape=(), initializer="zeros", name="w")


def test_weight_average_values_after_known_updates():
  net = _Net()
  average = averaging.WeightAverage({"net": net}, decay=0.1)
  # decay 0.1 is below (1 + t) / (10 + t) for every t >= 1: d_t = 0.1.
  for value in (1.0, 3.0):
    net.w.assign(value)
    average.update()
  # 0.1 * 0 + 0.9 * 1 = 0.9, then 0.1 * 0.9 + 0.9 * 3 = 2.79.
  assert float(average.shadow_variables[0]) == pytest.approx(2.79)
  assert int(average.updates) == 2


def test_weight_average_early_updates_follow_the_weights():
  net = _Net()
  average = averaging.WeightAverage({"net": net}, decay=0.999)
  net.w.assign(1.0)
  average.update()  # d_1 = 2 / 11.
  assert float(average.shadow_variables[0]) == pytest.approx(9 / 11)


def test_swapped_holds_the_average_and_restores_the_weights():
  net = _Net()
  average = averaging.WeightAverage({"net": net}, decay=0.1)
  net.w.assign(1.0)
  average.update()
  net.w.assign(5.0)
  with average.swapped():
    assert float(net.w) == pytest.approx(0.9)
  assert float(net.w) == 5.0


def test_weight_average_resumes_exactly(tmp_path):
  net = _Net()
  average = averaging.WeightAverage({"net": net}, decay=0.5)
  for value in (1.0, 2.0, 3.0):
    net.w.assign(value)
    average.update()
  path = tf.train.Checkpoint(average=average.checkpoint()).save(
      str(tmp_path / "ckpt"))
  other = averaging.WeightAverage({"net": _Net()}, decay=0.5)
  tf.train.Checkpoint(average=other.checkpoint()).restore(path)
  assert float(other.shadow_variables[0]) == float(average.shadow_variables[0])
  assert int(other.updates) == 3


def _averaged_config(path, max_epoch):
  config = small_config(path, max_epoch=max_epoch, deterministic=True,
                        weight_average_decay=0.9)
  return dataclasses.replace(config, model=dataclasses.replace(
      config.model, hidden_noise_std=0.1))


@pytest.mark.slow
def test_averaged_run_resumes_to_the_same_average(tmp_path):
  splits = make_tiny_splits()
  _, straight = fit_tiny(_averaged_config(tmp_path / "a", 3), splits)
  fit_tiny(_averaged_config(tmp_path / "b", 1), splits)
  _, resumed = fit_tiny(_averaged_config(tmp_path / "b", 3), splits)
  for a, b in zip(straight.average.shadow_variables,
                  resumed.average.shadow_variables):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
  # The checkpoint restored for figures and export holds the average.
  model = training.restore_model(_averaged_config(tmp_path / "b", 3), "latest")
  for a, b in zip(model.encoder.trainable_variables,
                  resumed.average.shadows["encoder"]):
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_hidden_noise_acts_at_training_time_only():
  encoder = MLPEncoder(2, (16, 16), posterior="deterministic",
                       hidden_noise_std=1.0)
  images = tf.random.uniform([4, 28, 28, 1])
  clean = encoder(images, training=False)["mean"]
  np.testing.assert_array_equal(clean, encoder(images, training=False)["mean"])
  assert not np.allclose(clean, encoder(images, training=True)["mean"])
  plain = MLPEncoder(2, (16, 16), posterior="deterministic")
  plain(images)
  plain.set_weights(encoder.get_weights())
  np.testing.assert_allclose(clean, plain(images)["mean"], rtol=1e-6)


def test_neighbor_distances_on_a_line():
  # One bright pixel of 0, 51, 153, 255: points 0, 0.2, 0.6, 1 on a line.
  images = np.zeros([4, 2, 2], np.uint8)
  images[:, 0, 0] = [0, 51, 153, 255]
  np.testing.assert_allclose(data_lib.neighbor_distances(images, 1, block=3),
                             [0.2, 0.2, 0.4, 0.4], atol=1e-6)
  np.testing.assert_allclose(data_lib.neighbor_distances(images, 2, block=3),
                             [0.6, 0.4, 0.4, 0.8], atol=1e-6)
  with pytest.raises(ValueError, match="k must be"):
    data_lib.neighbor_distances(images, 4)


def test_per_image_radius_reaches_the_batches(tmp_path):
  from aae_tf.modes import build_model  # pylint: disable=g-import-not-at-top
  config = small_config(tmp_path, num_labeled=10)
  config = dataclasses.replace(
      config, mode="semisupervised", train=dataclasses.replace(
          config.train, vat_weight=1.0, vat_radius_scale=0.5,
          vat_radius_neighbor=1, labeled_batch_size=10)).validate()
  model = build_model(config)
  train = make_tiny_splits().train
  batch = next(iter(model.train_dataset(train, seed=0)))
  # Signed pixels: twice the [0, 1] distance, times the scale.
  expected = 0.5 * 2.0 * data_lib.neighbor_distances(train.images, 1)
  assert batch["vat_radius"].shape == [10]
  assert set(np.round(batch["vat_radius"].numpy(), 5)) <= set(
      np.round(expected, 5))
  loss, _ = model._virtual_adversarial(batch)
  assert np.isfinite(float(loss))


@pytest.mark.parametrize("max_epoch", [1, 3, 7])
@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_annealed_rate_ends_with_any_run(max_epoch, kind):
  opt = config_lib.OptimizerConfig(learning_rate=0.1, decay_epochs=(),
                                   anneal=kind, anneal_start=0.5,
                                   anneal_final=0.01)
  steps = 10
  schedule = trainer_lib.learning_rate_schedule(opt, steps, max_epoch)
  last = max_epoch * steps - 1
  start = int(0.5 * max_epoch * steps)
  assert float(schedule(0)) == pytest.approx(0.1)
  assert float(schedule(start)) == pytest.approx(0.1)
  assert float(schedule(last)) == pytest.approx(0.001)
  middle = float(schedule((start + last) / 2))
  assert middle == pytest.approx(0.1 * (1 - 0.99 / 2), rel=1e-5)
  rates = [float(schedule(s)) for s in range(last + 1)]
  assert all(a >= b for a, b in zip(rates, rates[1:]))


@pytest.mark.parametrize("anneal,decay", [("none", ()), ("linear", ()),
                                           ("none", (1,))])
def test_warmup_rises_to_the_rate(anneal, decay):
  opt = config_lib.OptimizerConfig(learning_rate=0.1, decay_epochs=decay,
                                   anneal=anneal, anneal_start=0.5,
                                   warmup_epochs=0.35)
  schedule = trainer_lib.learning_rate_schedule(opt, 10, max_epoch=2)
  # ceil(3.5) = 4 steps of warm-up: 1/4, 2/4, 3/4, then all of the rate.
  rates = [float(schedule(s)) for s in range(20)]
  assert rates[:5] == pytest.approx([0.025, 0.05, 0.075, 0.1, 0.1])
  after = {"linear": 0.1 * (1 - 4 / 9), "none": 0.01 if decay else 0.1}
  assert rates[14] == pytest.approx(after[anneal], rel=1e-5)  # Untouched.


def test_no_warmup_keeps_the_schedule():
  opt = config_lib.OptimizerConfig(learning_rate=0.1, decay_epochs=())
  assert trainer_lib.learning_rate_schedule(opt, 10) == 0.1


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_clip_norm_caps_the_update(kind):
  """A gradient of norm 5 (3, 4 over two variables) capped at 1: plain SGD
  moves the variables by the learning rate times the unit direction."""
  opt = config_lib.OptimizerConfig(kind=kind, learning_rate=0.1, momentum=0.0,
                                   decay_epochs=(), clip_norm=1.0)
  optimizer = trainer_lib.make_optimizer(opt, 0.1, "test")
  a, b = tf.Variable([0.0]), tf.Variable([0.0])
  optimizer.apply_gradients([(tf.constant([3.0]), a), (tf.constant([4.0]), b)])
  if kind == "sgd":
    assert float(a[0]) == pytest.approx(-0.06) and float(b[0]) == pytest.approx(
        -0.08)
  else:  # Adam's first step is the rate times the sign, clipped or not.
    assert float(a[0]) == pytest.approx(-0.1, rel=1e-3)
  uncapped = trainer_lib.make_optimizer(
      dataclasses.replace(opt, kind="sgd", clip_norm=None), 0.1, "free")
  c = tf.Variable([0.0])
  uncapped.apply_gradients([(tf.constant([3.0]), c)])
  assert float(c[0]) == pytest.approx(-0.3)


def test_clip_norm_must_be_positive(tmp_path):
  config = small_config(tmp_path)
  optimizers = {k: dataclasses.replace(o, clip_norm=0.0)
                for k, o in config.train.optimizers.items()}
  bad = dataclasses.replace(config, train=dataclasses.replace(
      config.train, optimizers=optimizers))
  with pytest.raises(errors.ConfigError, match="clip_norm of .* positive"):
    bad.validate()


def test_time_left_line():
  line = trainer_lib.time_left_line(2, 10, [50.0, 20.0])
  assert line == "Epoch 2/10 took 20 s; about 3 min left."
  long_run = trainer_lib.time_left_line(1, 5000, [20.0])
  assert "about 27.8 h left" in long_run and "--maxepoch" in long_run


def test_plan_line(tmp_path):
  config = dataclasses.replace(
      small_config(tmp_path, num_labeled=100, recipe="budget", max_epoch=40),
      mode="semisupervised")
  assert training.plan_line(config, 500, 0) == (
      f"Plan: semisupervised, recipe budget, 100 labels, 40 epochs of 500 "
      f"steps; SAVE_PATH {tmp_path}")
  assert ", from epoch 3;" in training.plan_line(config, 500, 3)


@pytest.mark.slow
def test_saved_model_exports_the_average(tmp_path):
  splits = make_tiny_splits()
  config = _averaged_config(tmp_path / "run", 1)
  run = training.train_and_evaluate(config, splits)
  images = tf.constant(data_lib.to_model_images(splits.test.images[:4]))
  exported = tf.saved_model.load(run.saved_model).signatures["encode"](
      images=images)["codes"]
  raw = run.model.encode(images)
  with run.trainer.averaged():
    averaged = run.model.encode(images)
  np.testing.assert_allclose(exported, averaged, rtol=1e-5, atol=1e-6)
  assert not np.allclose(raw, averaged)
