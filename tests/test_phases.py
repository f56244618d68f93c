"""Each phase trains exactly its variables; the step runs them in order."""

import os

import numpy as np
import pytest
import tensorflow as tf

from aae_tf import config as config_lib
from aae_tf import training
from aae_tf.errors import ConfigError
import profiling
from aae_tf import trainer as trainer_lib
from aae_tf.modes import build_model
from aae_tf.phases import run_phases
from conftest import small_config

EXPECTED = {
    "reconstruction": {"encoder", "decoder"},
    "discriminator": {"discriminator"},
    "generator": {"encoder"},
}


def _snapshot(model):
  return {name: [v.numpy().copy() for v in net.trainable_variables]
          for name, net in model.networks.items()}


def _changed(before, after):
  return {name for name in before
          if any(not np.array_equal(a, b)
                 for a, b in zip(before[name], after[name]))}


@pytest.fixture
def trainer(tmp_path):
  config = small_config(tmp_path, jit_compile=True)  # The XLA step.
  return trainer_lib.Trainer(build_model(config), config, steps_per_epoch=5)


def test_phase_order_and_names(trainer):
  assert [p.name for p in trainer.phases] == list(EXPECTED)
  assert [p.role for p in trainer.phases] == list(EXPECTED)
  assert [p.weight for p in trainer.phases] == [1.0, 6.0, 6.0]
  assert [p.objective for p in trainer.phases] == [False, True, False]
  assert trainer.objective_key == "discriminator/loss"
  assert len({id(p.optimizer) for p in trainer.phases}) == 3


@pytest.mark.parametrize("index", range(3))
def test_phase_updates_exactly_its_variables(trainer, index):
  phase = trainer.phases[index]
  batch = {"image": tf.random.uniform([10, 28, 28, 1], -1, 1),
           "label": tf.zeros([10], tf.int32)}
  before = _snapshot(trainer.model)
  run_phases([phase], batch)
  assert _changed(before, _snapshot(trainer.model)) == EXPECTED[phase.name]


@pytest.mark.slow
def test_step_outputs(trainer):
  batch = {"image": tf.random.uniform([10, 28, 28, 1], -1, 1),
           "label": tf.zeros([10], tf.int32)}
  out = trainer._step_fn(batch)
  assert set(out) == {"reconstruction/loss", "discriminator/loss",
                      "discriminator/accuracy", "generator/loss"}
  assert all(np.isfinite(v.numpy()) for v in out.values())
  assert all(int(p.optimizer.iterations.numpy()) == 1 for p in trainer.phases)


def test_learning_rate_schedule():
  opt = config_lib.OptimizerConfig(learning_rate=1e-3, decay_epochs=(2, 3))
  schedule = trainer_lib.learning_rate_schedule(opt, steps_per_epoch=10)
  values = [float(schedule(s)) for s in (0, 19, 20, 29, 30)]
  np.testing.assert_allclose(values, [1e-3, 1e-3, 1e-4, 1e-4, 1e-5], rtol=1e-6)


def test_separate_generator_and_discriminator_learning_rates(tmp_path):
  config = small_config(tmp_path, optimizers=config_lib.adam_optimizers(
      1e-3, generator=5e-4, discriminator=1e-5))
  trainer = trainer_lib.Trainer(build_model(config), config, steps_per_epoch=5)
  rates = {name: float(np.asarray(opt.learning_rate))
           for name, opt in trainer.optimizers.items()}
  assert rates == pytest.approx({"reconstruction": 1e-3, "generator": 5e-4,
                                 "discriminator": 1e-5})


def test_bce_decoder_maps_sigmoid_to_unit_range(tmp_path):
  import dataclasses  # pylint: disable=g-import-not-at-top
  config = small_config(tmp_path)
  config = dataclasses.replace(config, model=dataclasses.replace(
      config.model, reconstruction="bce", posterior="deterministic"))
  model = build_model(config)
  assert model.decoder.out.activation.__name__ == "linear"
  images = model.decode(tf.random.normal([4, 2]) * 10).numpy()
  assert images.min() >= -1.0 and images.max() <= 1.0
  out = run_phases(trainer_lib.Trainer(model, config, 5).phases[:1],
                   {"image": tf.zeros([4, 28, 28, 1]), "label": tf.zeros([4], tf.int32)})
  # Targets of 0.5 everywhere: BCE summed over 784 pixels is >= 784 log 2.
  assert float(out["reconstruction/loss"]) >= 784 * np.log(2) - 1e-3


def test_bce_run_is_evaluated_on_the_loss_it_trains(tmp_path, tiny_splits):
  """Held-out reconstruction_loss (logged, and watched by the plateau
  schedule) of a BCE run is its binary cross-entropy, not squared error."""
  import dataclasses  # pylint: disable=g-import-not-at-top
  from aae_tf import data as data_lib, losses  # pylint: disable=g-import-not-at-top
  config = small_config(tmp_path)
  config = dataclasses.replace(config, model=dataclasses.replace(
      config.model, reconstruction="bce", posterior="deterministic"))
  model = build_model(config)
  trainer = trainer_lib.Trainer(model, config, 5)
  images = data_lib.to_model_images(tiny_splits.validation.images)
  logits = model.decoder(model.encode(images))
  expected = float(losses.bce_reconstruction_loss(images, logits))
  got = trainer.evaluate(tiny_splits.validation)["reconstruction_loss"]
  assert got == pytest.approx(expected, rel=1e-5)
  assert got > 784 * 0.1  # Not the squared error of [-1, 1] pixels.


@pytest.mark.slow
def test_balanced_training_skips_a_phase_far_ahead(tmp_path):
  """A phase whose last loss is below its threshold is not updated, and the
  skip is counted."""
  config = small_config(tmp_path, balance_discriminator_below=1e9,
                        balance_generator_below=-1.0, jit_compile=True)
  trainer = trainer_lib.Trainer(build_model(config), config, steps_per_epoch=5)
  disc, gen = trainer.phases[1], trainer.phases[2]
  assert "discriminator/skipped" in trainer.metrics
  batch = {"image": tf.random.uniform([10, 28, 28, 1], -1, 1),
           "label": tf.zeros([10], tf.int32)}
  model = trainer.model
  # First step: no previous loss (inf), so both phases update.
  out = trainer._step_fn(batch)
  assert float(out["discriminator/skipped"]) == 0.0
  before = _snapshot(model)
  out = trainer._step_fn(batch)
  # The discriminator's last loss is below 1e9: skipped; the generator's is
  # never below -1: updated.
  assert float(out["discriminator/skipped"]) == 1.0
  assert float(out["generator/skipped"]) == 0.0
  changed = _changed(before, _snapshot(model))
  assert "discriminator" not in changed and "encoder" in changed
  assert int(disc.optimizer.iterations.numpy()) == 1
  assert int(gen.optimizer.iterations.numpy()) == 2


def test_learning_rate_drops_on_plateau(tmp_path):
  config = small_config(tmp_path, lr_plateau_patience=2,
                        optimizers=config_lib.adam_optimizers(
                            1e-3, decay_epochs=()))
  trainer = trainer_lib.Trainer(build_model(config), config, steps_per_epoch=5)
  opt = trainer.optimizers["generator"]
  metric = "validation/reconstruction_loss"  # The default.
  for value in (5.0, 4.0, 4.5, 4.2):  # Two epochs without improvement.
    trainer._update_plateau({metric: value})
  assert float(np.asarray(opt.learning_rate)) == pytest.approx(2e-4)
  for value in (3.0, 3.5, 3.1):
    trainer._update_plateau({metric: value})
  assert float(np.asarray(opt.learning_rate)) == pytest.approx(4e-5)
  # The plateau state is part of the checkpoint.
  assert "lr_scale" in dict(trainer.checkpoint._trackable_children())


def test_plateau_watches_the_chosen_metric(tmp_path):
  config = small_config(tmp_path, lr_plateau_patience=1,
                        lr_plateau_metric="validation/error",
                        optimizers=config_lib.adam_optimizers(
                            1e-3, decay_epochs=()))
  trainer = trainer_lib.Trainer(build_model(config), config, steps_per_epoch=5)
  opt = trainer.optimizers["generator"]
  # The reconstruction loss worsens; the watched error improves: no drop.
  trainer._update_plateau({"validation/error": 0.5,
                           "validation/reconstruction_loss": 1.0})
  trainer._update_plateau({"validation/error": 0.4,
                           "validation/reconstruction_loss": 2.0})
  assert float(np.asarray(opt.learning_rate)) == pytest.approx(1e-3)
  trainer._update_plateau({"validation/error": 0.45,
                           "validation/reconstruction_loss": 0.1})
  assert float(np.asarray(opt.learning_rate)) == pytest.approx(2e-4)


def test_unknown_plateau_metric_fails_before_training(tmp_path, tiny_splits):
  config = small_config(tmp_path / "run", lr_plateau_patience=1,
                        lr_plateau_metric="validation/cluster_error")
  with pytest.raises(ConfigError, match=r"cluster_error.*reconstruction_loss"):
    training.train_and_evaluate(config, tiny_splits)
  assert not os.path.exists(config.save_path)  # Nothing written.
  trainer = trainer_lib.Trainer(build_model(config), config, steps_per_epoch=5)
  with pytest.raises(ConfigError, match="cluster_error"):
    trainer.fit(tiny_splits)  # The Trainer alone checks it too.
  assert int(trainer.step.numpy()) == 0  # Not one step was trained.


def test_plateau_metric_must_be_a_validation_metric(tmp_path):
  with pytest.raises(ValueError, match="validation metric"):
    config_lib.validate(small_config(tmp_path, lr_plateau_patience=1,
                                     lr_plateau_metric="test/error"))


@pytest.mark.slow
def test_step_compiler_ir_counts_the_step_products(trainer):
  batch = {"image": tf.random.uniform([10, 28, 28, 1], -1, 1),
           "label": tf.zeros([10], tf.int32)}
  before = _snapshot(trainer.model)
  flops = profiling.hlo_flops(
      profiling.step_compiler_ir(trainer, batch)(stage="optimized_hlo"))
  # The encoder's first layer alone: 10 x 784 x 32 multiply-adds forward.
  assert flops["dot"] > 2 * 10 * 784 * 32
  assert not _changed(before, _snapshot(trainer.model))  # Nothing trained.


def test_ramp_up_factor_hand_values():
  from aae_tf.phases import ramp_up_factor
  values = [float(ramp_up_factor(tf.constant(s, tf.int64), 100.0))
            for s in (0, 50, 100, 250)]
  np.testing.assert_allclose(values, [np.exp(-5.0), np.exp(-1.25), 1.0, 1.0],
                             rtol=1e-6)
