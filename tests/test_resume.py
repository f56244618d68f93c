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

# Every test trains, stops and resumes runs.
pytestmark = pytest.mark.slow


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
  from aae_tf import run_dir, trainer as trainer_lib  # pylint: disable=g-import-not-at-top
  from aae_tf.errors import OutputError  # pylint: disable=g-import-not-at-top
  from aae_tf.modes import build_model  # pylint: disable=g-import-not-at-top
  splits = make_tiny_splits()
  fit_tiny(_config(tmp_path / "run", 1), splits)
  config = _config(tmp_path / "run", 2)
  run_dir.prepare_save_path(config)
  trainer = trainer_lib.Trainer(build_model(config), config, steps_per_epoch=5)
  trainer.restore()

  def no_space(*args, **kwargs):
    raise OSError(28, "No space left on device")

  monkeypatch.setattr(trainer.manager, "save", no_space)
  with pytest.raises(OutputError, match="No space left.*ckpt-1"):
    trainer.fit(splits)
  assert tf.train.latest_checkpoint(
      str(tmp_path / "run" / "checkpoints")).endswith("ckpt-1")


def _cli(save, tiny_idx_dir, max_epoch=4):
  return [sys.executable, os.path.join(REPO, "experiment", "aae_mnist.py"),
          "--train", "--maxepoch", str(max_epoch), "--checkpoint_every", "1",
          "--bsize", "2", "--steps_per_loop", "1", "--deterministic",
          "--dropout", "0.8", "--noise", "--data_dir", tiny_idx_dir,
          "--noverify_checksums", "--validation_size", str(TINY_VALIDATION),
          "--save_path", str(save)]


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory):
  """An uninterrupted run of the command below, and its data folder."""
  from conftest import write_idx_dir  # pylint: disable=g-import-not-at-top
  root = tmp_path_factory.mktemp("straight")
  data = write_idx_dir(root / "mnist")
  subprocess.run(_cli(root / "run", data), env=_env(root), check=True,
                 capture_output=True, timeout=600)
  return root / "run", data


def _env(root):
  return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
              AAE_TF_CACHE=str(root / "cache"))


def test_sigkill_then_resume_matches_uninterrupted(tmp_path, straight_run):
  """A SIGKILL somewhere after the first checkpoint (mid-epoch or
  mid-write): the same command ends with the uninterrupted run's weights,
  bit for bit."""
  straight, data = straight_run
  killed = tmp_path / "killed"
  proc = subprocess.Popen(_cli(killed, data), env=_env(tmp_path),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  deadline = time.time() + 300
  first = killed / "checkpoints" / "ckpt-1.index"
  while not first.exists() and time.time() < deadline:
    time.sleep(0.05)
  time.sleep(0.3)  # Somewhere in a later epoch or checkpoint write.
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  assert proc.returncode == -signal.SIGKILL, "run ended before the kill"
  subprocess.run(_cli(killed, data), env=_env(tmp_path), check=True,
                 capture_output=True, timeout=600)
  a = _checkpoint_weights(straight)
  b = _checkpoint_weights(killed)
  assert a.keys() == b.keys() and a
  for name in a:
    np.testing.assert_array_equal(a[name], b[name], err_msg=name)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_checkpoints_the_step_and_resumes_exactly(tmp_path,
                                                          straight_run,
                                                          signum):
  """SIGINT / SIGTERM mid-run: one line, no traceback, the shell's exit
  status, a checkpoint of the step it stopped at; the same command then
  ends with the uninterrupted run's weights, bit for bit."""
  straight, data = straight_run
  save = tmp_path / "run"
  proc = subprocess.Popen(_cli(save, data), env=_env(tmp_path),
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
  first = save / "checkpoints" / "ckpt-1.index"
  deadline = time.time() + 300
  while not first.exists() and time.time() < deadline:
    time.sleep(0.02)
  proc.send_signal(signum)
  _, stderr = proc.communicate(timeout=300)
  assert proc.returncode == 128 + signum, stderr
  assert "Traceback" not in stderr
  lines = [l for l in stderr.splitlines() if "Run the same command" in l]
  assert len(lines) == 1, stderr
  assert signal.Signals(signum).name in lines[0]
  step = int(lines[0].split("stopped at step ")[1].split()[0])
  interrupted = tf.train.latest_checkpoint(
      str(save / "checkpoints" / "interrupted"))
  assert interrupted.endswith(f"ckpt-{step}")
  assert int(tf.train.load_checkpoint(interrupted).get_tensor(
      "step/.ATTRIBUTES/VARIABLE_VALUE")) == step
  # From the end of epoch 1 (ckpt-1 exists) to before the end of the run.
  assert 25 <= step < 100
  result = subprocess.run(_cli(save, data), env=_env(tmp_path),
                          capture_output=True, text=True, timeout=600)
  assert result.returncode == 0, result.stderr
  assert f"step {step}" in result.stderr  # It resumed there.
  a, b = _checkpoint_weights(straight), _checkpoint_weights(save)
  assert a.keys() == b.keys() and a
  for name in a:
    np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_interrupt_mid_epoch_resumes_at_the_same_batch(tmp_path):
  """A SIGINT after the 7th step (epoch 2 of 5-step epochs) checkpoints step
  7; resuming from it continues with the 8th batch of that epoch and ends
  where the uninterrupted run does."""
  from aae_tf import run_dir, trainer as trainer_lib  # pylint: disable=g-import-not-at-top
  from aae_tf.errors import Interrupted  # pylint: disable=g-import-not-at-top
  from aae_tf.modes import build_model  # pylint: disable=g-import-not-at-top
  splits = make_tiny_splits()

  def config(path):
    return dataclasses.replace(_config(path, 3), train=dataclasses.replace(
        _config(path, 3).train, steps_per_loop=1))

  straight = _weights(fit_tiny(config(tmp_path / "a"), splits)[0])
  run = config(tmp_path / "b")
  run_dir.prepare_save_path(run)
  trainer = trainer_lib.Trainer(build_model(run), run, steps_per_epoch=5)
  loop = trainer._loop_fn
  calls = []

  def loop_then_signal(*args):
    loop(*args)
    calls.append(1)
    if len(calls) == 7:
      os.kill(os.getpid(), signal.SIGINT)

  trainer._loop_fn = loop_then_signal
  # What the process had before (Python's default, or SIG_IGN when started
  # in the background by a shell): fit() must put it back.
  before = signal.getsignal(signal.SIGINT)
  with pytest.raises(Interrupted, match="stopped at step 7 .epoch 2, step 2 "
                     "of 5") as e:
    trainer.fit(splits)
  assert e.value.exit_code == 130
  assert signal.getsignal(signal.SIGINT) is before
  _, resumed = fit_tiny(run, splits)
  assert int(resumed.step.numpy()) == 15
  # The periodic checkpoint of the last epoch supersedes the interrupted one.
  assert not os.path.exists(resumed.interrupt_manager.directory)
  for a, b in zip(straight, _weights(resumed.model)):
    np.testing.assert_array_equal(a, b)
