"""Interrupted and resumed runs end where uninterrupted ones do."""

import dataclasses
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from conftest import REPO, TINY_VALIDATION, fit_tiny, make_tiny_splits, small_config


def _config(path, max_epoch):
  config = small_config(path, max_epoch=max_epoch, deterministic=True)
  # Dropout and input noise draw random numbers too: they must resume exactly.
  return dataclasses.replace(config, model=dataclasses.replace(
      config.model, keep_prob=0.8, input_noise_std=0.3))


def _weights(model):
  return [v.numpy() for net in model.networks.values() for v in net.variables]


def test_resumed_run_matches_uninterrupted(tmp_path):
  splits = make_tiny_splits()
  straight = _weights(fit_tiny(_config(tmp_path / "a", 3), splits)[0])
  fit_tiny(_config(tmp_path / "b", 1), splits)
  resumed = _weights(fit_tiny(_config(tmp_path / "b", 3), splits)[0])
  assert len(straight) == len(resumed)
  for a, b in zip(straight, resumed):
    np.testing.assert_array_equal(a, b)


def _checkpoint_weights(save_path):
  """Network variables of the newest checkpoint, by name."""
  reader = tf.train.load_checkpoint(os.path.join(save_path, "checkpoints"))
  names = [n for n, _ in tf.train.list_variables(
      os.path.join(save_path, "checkpoints"))
           if n.split("/")[0] in ("encoder", "decoder", "discriminator")
           and "OPTIMIZER_SLOT" not in n]
  return {n: reader.get_tensor(n) for n in names}


def test_sigkill_then_resume_matches_uninterrupted(tmp_path, tiny_idx_dir):
  script = os.path.join(REPO, "experiment", "aae_mnist.py")
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
             AAE_TF_CACHE=str(tmp_path / "cache"))

  def command(save):
    return [sys.executable, script, "--train", "--maxepoch", "6",
            "--checkpoint_every", "1", "--bsize", "10", "--deterministic",
            "--dropout", "0.8", "--noise", "--data_dir", tiny_idx_dir,
            "--noverify_checksums", "--validation_size",
            str(TINY_VALIDATION), "--save_path", str(save)]

  subprocess.run(command(tmp_path / "straight"), env=env, check=True,
                 capture_output=True, timeout=600)
  killed = tmp_path / "killed"
  proc = subprocess.Popen(command(killed), env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
  deadline = time.time() + 300
  first = killed / "checkpoints" / "ckpt-1.index"
  while not first.exists() and time.time() < deadline:
    time.sleep(0.05)
  time.sleep(0.3)  # Somewhere in a later epoch or checkpoint write.
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  assert proc.returncode == -signal.SIGKILL, "run ended before the kill"
  subprocess.run(command(killed), env=env, check=True, capture_output=True,
                 timeout=600)
  a = _checkpoint_weights(tmp_path / "straight")
  b = _checkpoint_weights(killed)
  assert a.keys() == b.keys() and a
  for name in a:
    np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_partial_checkpoint_write_is_ignored(tmp_path):
  """A write killed midway leaves files that `latest` never points at."""
  splits = make_tiny_splits()
  fit_tiny(_config(tmp_path / "run", 1), splits)
  directory = tmp_path / "run" / "checkpoints"
  # What a kill during the save of epoch 2 can leave: data and index files
  # without the state file update that would name them.
  (directory / "ckpt-2.index").write_bytes(b"\x00" * 10)
  (directory / "ckpt-2.data-00000-of-00001").write_bytes(b"partial")
  assert tf.train.latest_checkpoint(str(directory)).endswith("ckpt-1")
  _, trainer = fit_tiny(_config(tmp_path / "run", 2), splits)
  assert int(trainer.epoch.numpy()) == 2
  assert trainer.manager.latest_checkpoint.endswith("ckpt-2")
  tf.train.load_checkpoint(trainer.manager.latest_checkpoint)  # Whole again.


def test_failed_checkpoint_write_keeps_the_previous_one(tmp_path, monkeypatch):
  """A full disk stops training with an answer and loses nothing saved."""
  from aae_tf import app, trainer as trainer_lib  # pylint: disable=g-import-not-at-top
  from aae_tf.errors import OutputError  # pylint: disable=g-import-not-at-top
  from aae_tf.models import build_model  # pylint: disable=g-import-not-at-top
  splits = make_tiny_splits()
  fit_tiny(_config(tmp_path / "run", 1), splits)
  config = _config(tmp_path / "run", 2)
  app.prepare_save_path(config)
  trainer = trainer_lib.Trainer(build_model(config), config, steps_per_epoch=5)
  trainer.restore()

  def no_space(*args, **kwargs):
    raise OSError(28, "No space left on device")

  monkeypatch.setattr(trainer.manager, "save", no_space)
  with pytest.raises(OutputError, match="No space left.*ckpt-1"):
    trainer.fit(splits)
  assert tf.train.latest_checkpoint(
      str(tmp_path / "run" / "checkpoints")).endswith("ckpt-1")
