"""The training loop end to end on tiny data (library level)."""

import glob
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

from aae_tf import run_dir, training, export, trainer as trainer_lib
from aae_tf import config as config_lib
from aae_tf import data as data_lib
from aae_tf.errors import OutputError, TrainingError
from aae_tf.modes import build_model
from conftest import fit_tiny, small_config

# Every test trains a tiny run.
pytestmark = pytest.mark.slow


def _tags(save_path):
  acc = event_accumulator.EventAccumulator(
      os.path.join(save_path, trainer_lib.SUMMARY_DIR),
      size_guidance={event_accumulator.TENSORS: 0})
  acc.Reload()
  return acc


def test_fit_writes_checkpoint_and_summaries(tmp_path, tiny_splits):
  config = small_config(tmp_path / "run")
  model, trainer = fit_tiny(config, tiny_splits)
  assert trainer.manager.latest_checkpoint.endswith("ckpt-1")
  assert int(trainer.step.numpy()) == 5
  tags = set(_tags(config.save_path).Tags()["tensors"])
  for tag in ("train/reconstruction/loss", "train/discriminator/loss",
              "train/generator/loss", "train/discriminator/accuracy",
              "learning_rate/reconstruction",
              "validation/reconstruction_loss", "images/prior_samples",
              "images/latent", "codes/encoder_dim0", "codes/prior_dim1",
              "stability/objective_std", "test/reconstruction_loss",
              "validation/reconstruction_error", "test/reconstruction_error"):
    assert tag in tags, tag
  assert any(t.startswith("images/reconstructions") for t in tags)


def test_evaluation_and_summary_cadence_keep_the_last_epoch(tmp_path,
                                                           tiny_splits):
  """--eval_every 2 and --summary_every 3 over 5 epochs: validation metrics
  after epochs 2, 4 and 5 (the last), summaries after 3 and 5, test metrics
  only after the last by default."""
  config = small_config(tmp_path / "run", max_epoch=5, eval_every_epochs=2,
                        summary_every_epochs=3)
  fit_tiny(config, tiny_splits)
  acc = _tags(config.save_path)
  steps = lambda tag: [e.step for e in acc.Tensors(tag)]  # pylint: disable=unnecessary-lambda-assignment
  assert steps("validation/reconstruction_loss") == [10, 20, 25]
  assert steps("test/reconstruction_loss") == [25]
  assert steps("codes/encoder_dim0") == [15, 25]


def test_test_every_gives_a_test_curve(tmp_path, tiny_splits):
  """--test_every 2 over 3 epochs: test metrics after epochs 2 and 3."""
  config = small_config(tmp_path / "run", max_epoch=3, test_every_epochs=2)
  fit_tiny(config, tiny_splits)
  acc = _tags(config.save_path)
  assert [e.step for e in acc.Tensors("test/reconstruction_loss")] == [10, 15]
  assert len(acc.Tensors("validation/reconstruction_loss")) == 3


def test_one_pass_evaluation_matches_per_batch_means(tmp_path, tiny_splits):
  """The compiled evaluation pass weights each batch by its size."""
  from aae_tf import data as data_lib  # pylint: disable=g-import-not-at-top
  config = small_config(tmp_path / "run", eval_batch_size=3)  # 10 = 3+3+3+1.
  _, trainer = fit_tiny(config, tiny_splits)
  expected, count = 0.0, 0
  for batch in data_lib.eval_dataset(tiny_splits.validation, 3):
    n = int(batch["label"].shape[0])
    expected += float(trainer._eval_fn(batch)["reconstruction_loss"]) * n
    count += n
  got = trainer.evaluate(tiny_splits.validation)["reconstruction_loss"]
  assert got == pytest.approx(expected / count, rel=1e-5)


def test_logged_reconstruction_error_is_the_tables_one(tmp_path, tiny_splits):
  """validation/reconstruction_error of the loop and the results tables'
  `evaluation.reconstruction_error` are one figure."""
  from aae_tf import evaluation  # pylint: disable=g-import-not-at-top
  config = small_config(tmp_path / "run", eval_batch_size=3)
  model, trainer = fit_tiny(config, tiny_splits)
  logged = trainer.evaluate(tiny_splits.validation)["reconstruction_error"]
  table = evaluation.reconstruction_error(model, tiny_splits.validation, 4)
  assert logged == pytest.approx(table, rel=1e-5)


def test_resume_continues_from_checkpoint(tmp_path, tiny_splits):
  config = small_config(tmp_path / "run", max_epoch=1)
  fit_tiny(config, tiny_splits)
  longer = small_config(tmp_path / "run", max_epoch=2)
  _, trainer = fit_tiny(longer, tiny_splits)
  assert int(trainer.epoch.numpy()) == 2
  assert int(trainer.step.numpy()) == 10
  assert sorted(os.path.basename(p) for p in
                glob.glob(os.path.join(config.save_path, "checkpoints",
                                       "*.index"))) == ["ckpt-1.index",
                                                        "ckpt-2.index"]


def test_other_configuration_is_refused(tmp_path, tiny_splits):
  fit_tiny(small_config(tmp_path / "run"), tiny_splits)
  other = small_config(tmp_path / "run",
                       optimizers=config_lib.adam_optimizers(1e-3))
  with pytest.raises(OutputError, match="another configuration"):
    run_dir.prepare_save_path(other)


def test_nan_stops_training_and_keeps_checkpoint(tmp_path, tiny_splits):
  config = small_config(tmp_path / "run")
  fit_tiny(config, tiny_splits)
  longer = small_config(tmp_path / "run", max_epoch=2)
  model = build_model(longer)
  original = model._reconstruction
  model._reconstruction = lambda batch: (original(batch)[0] * np.nan, {})
  trainer = trainer_lib.Trainer(model, longer, steps_per_epoch=5)
  trainer.restore()
  with pytest.raises(TrainingError, match="NaN or Inf.*ckpt-1"):
    trainer.fit(tiny_splits)
  assert trainer.manager.latest_checkpoint.endswith("ckpt-1")


def _switch_off_first_layer(model):
  """Every unit of the encoder's first ReLU layer off for every image."""
  first = model.encoder.hidden[0]
  first.kernel.assign(tf.zeros_like(first.kernel))
  first.bias.assign(-tf.ones_like(first.bias))


def test_training_problem_is_a_constant_encoder(tmp_path, tiny_splits):
  model = build_model(small_config(tmp_path / "run"))
  images = tf.constant(data_lib.to_model_images(
      tiny_splits.validation.images[:8]))
  model.encoder_outputs(images, training=False)  # Builds the encoder.
  assert model.training_problem(images) is None
  _switch_off_first_layer(model)
  assert "same outputs for every validation image (mean, stddev)" in (
      model.training_problem(images))
  # Identical images cannot tell a constant encoder from a working one.
  same = tf.repeat(images[:1], 8, axis=0)
  assert model.training_problem(same) is None


def test_dead_encoder_stops_training(tmp_path, tiny_splits):
  config = small_config(tmp_path / "run")
  fit_tiny(config, tiny_splits)
  longer = small_config(tmp_path / "run", max_epoch=4)
  model = build_model(longer)
  trainer = trainer_lib.Trainer(model, longer, steps_per_epoch=5)
  trainer.restore()
  _switch_off_first_layer(model)
  # Stuck at the end of epochs 2 and 3: the second stops the run, unsaved.
  assert trainer_lib.STUCK_EPOCHS == 2
  with pytest.raises(TrainingError,
                     match=r"in epoch 3 \(step 15\): the encoder gives the "
                     "same outputs.*2 epochs in a row.*new --save_path.*"
                     "--warmup_epochs"):
    trainer.fit(tiny_splits)
  assert trainer.manager.latest_checkpoint.endswith("ckpt-2")
  assert int(trainer.epoch.numpy()) == 2


RELOAD_SCRIPT = """
import json, sys
import numpy as np
import tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
images = np.load(sys.argv[2])
codes = loaded.signatures["encode"](images=tf.constant(images))["codes"]
decoded = loaded.signatures["decode"](codes=codes)["images"]
sampled = loaded.signatures["sample"](count=tf.constant(3))
default = loaded.signatures["serving_default"](images=tf.constant(images))
assert "aae_tf" not in sys.modules
json.dump({"codes": codes.numpy().tolist(), "decoded": decoded.numpy().tolist(),
           "sample_shape": list(sampled["images"].shape),
           "default": default["codes"].numpy().tolist(),
           "signatures": sorted(loaded.signatures)}, sys.stdout)
"""


def test_saved_model_reloads_without_aae_tf(tmp_path, tiny_splits):
  config = small_config(tmp_path / "run")
  model, _ = fit_tiny(config, tiny_splits)
  path = export.export_saved_model(model, config.save_path)
  images = (tiny_splits.test.images[:4, :, :, None] / 127.5 - 1).astype(
      np.float32)
  np.save(tmp_path / "images.npy", images)
  script = tmp_path / "reload.py"
  script.write_text(RELOAD_SCRIPT)
  env = dict(os.environ, PYTHONPATH="", TF_CPP_MIN_LOG_LEVEL="2")
  out = subprocess.run([sys.executable, str(script), path,
                        str(tmp_path / "images.npy")], cwd=tmp_path, env=env,
                       capture_output=True, text=True, check=True)
  result = json.loads(out.stdout)
  assert result["signatures"] == ["decode", "encode", "sample",
                                  "serving_default"]
  expected_codes = model.encode(images).numpy()
  np.testing.assert_allclose(result["codes"], expected_codes, atol=1e-5)
  np.testing.assert_allclose(result["default"], expected_codes, atol=1e-5)
  np.testing.assert_allclose(result["decoded"],
                             model.decode(expected_codes).numpy(), atol=1e-5)
  assert result["sample_shape"] == [3, 28, 28, 1]


def test_saved_model_rejects_wrong_shape(tmp_path, tiny_splits):
  config = small_config(tmp_path / "run")
  model, _ = fit_tiny(config, tiny_splits)
  loaded = tf.saved_model.load(export.export_saved_model(model,
                                                         config.save_path))
  encode, decode = loaded.signatures["encode"], loaded.signatures["decode"]
  # The signature names the expected shape and dtype (checked by the
  # signature's binding or, when that passes, by its own assertions).
  bad = (TypeError, ValueError, tf.errors.InvalidArgumentError)
  expected = r"\(None, 28, 28, 1\)|\[\?,28,28,1\]"
  for shape in ([2, 28, 28], [2, 28, 28, 3], [2, 28, 28, 1, 1],
                [2, 784]):  # The last: the flattened images of old exports.
    with pytest.raises(bad, match=expected):
      encode(images=tf.zeros(shape))
  with pytest.raises(bad, match="float"):
    encode(images=tf.zeros([2, 28, 28, 1], tf.int32))
  with pytest.raises(bad, match=r"\(None, 2\)|\[\?,2\]"):
    decode(codes=tf.zeros([2, 3]))


def test_restored_model_equals_trained_and_exported(tmp_path, tiny_splits):
  """--generate and --viz see exactly the trained weights."""
  config = small_config(tmp_path / "run")
  model, _ = fit_tiny(config, tiny_splits)
  restored = training.restore_model(config, "latest")
  for name, net in model.networks.items():
    trained = net.trainable_variables
    again = restored.networks[name].trainable_variables
    assert len(trained) == len(again) > 0
    for a, b in zip(trained, again):
      np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
  loaded = tf.saved_model.load(export.export_saved_model(model,
                                                         config.save_path))
  images = tf.random.uniform([6, 28, 28, 1], -1, 1)
  np.testing.assert_allclose(
      loaded.signatures["encode"](images=images)["codes"],
      restored.encode(images), atol=1e-5)
  codes = tf.random.normal([6, 2])
  np.testing.assert_allclose(loaded.signatures["decode"](codes=codes)["images"],
                             restored.decode(codes), atol=1e-5)
