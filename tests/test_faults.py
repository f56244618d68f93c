"""Faults a real machine has: two runs on one SAVE_PATH, a lock left by a
killed process, a write that fails part-way, a damaged or missing newest
checkpoint. (The command line's error lines are checked for length in
test_cli's `assert_user_error`, over all its error cases.)"""

import dataclasses
import errno
import glob
import json
import logging
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from conftest import (REPO, TINY_VALIDATION, fit_tiny, make_tiny_splits,
                      small_config)
from aae_tf import checkpoint_files, run_lock, training
from aae_tf import trainer as trainer_lib
from aae_tf.errors import MAX_LINE, CheckpointError, OutputError

SCRIPT = os.path.join(REPO, "experiment", "aae_mnist.py")
NO_SPACE = ("{{function_node __wrapped__SaveV2_dtypes_3_device_/job:localhost/"
            "replica:0/task:0/device:CPU:0}} {}; No space left on device "
            "[Op:SaveV2]")


def _config(path, max_epoch):
  return small_config(path, max_epoch=max_epoch, deterministic=True)


def _weights(model):
  return [v.numpy() for net in model.networks.values() for v in net.variables]


def _assert_same(a, b):
  assert len(a) == len(b) and a
  for x, y in zip(a, b):
    np.testing.assert_array_equal(x, y)


def _newest_checkpoint_weights(save_path):
  """Network variables of the newest checkpoint, by name."""
  path = tf.train.latest_checkpoint(os.path.join(save_path, "checkpoints"))
  reader = tf.train.load_checkpoint(path)
  return {n: reader.get_tensor(n) for n, _ in tf.train.list_variables(path)
          if n.split("/")[0] in ("encoder", "decoder", "discriminator")}


# -- One writer per SAVE_PATH. --


def _cli(save, data, *extra):
  return [sys.executable, SCRIPT, "--train", "--maxepoch", "2",
          "--checkpoint_every", "1", "--bsize", "10", "--deterministic",
          "--noxla", "--data_dir", data, "--noverify_checksums",
          "--validation_size", str(TINY_VALIDATION), "--save_path",
          str(save), *extra]


def _env(root):
  return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
              AAE_TF_CACHE=str(root / "cache"))


def _snapshot(folder):
  """Every file under `folder` with its size and modification time."""
  out = {}
  for root, _, files in os.walk(folder):
    for name in files:
      stat = os.stat(os.path.join(root, name))
      out[os.path.join(root, name)] = (stat.st_size, stat.st_mtime_ns)
  return out


@pytest.mark.slow
def test_second_writer_is_refused_and_the_first_run_is_intact(
    tmp_path, tiny_idx_dir):
  """A second --train on a folder being trained refuses at once, naming the
  first process, and writes nothing; the first ends as a run alone does."""
  shared, alone = tmp_path / "shared", tmp_path / "alone"
  first = subprocess.Popen(_cli(shared, tiny_idx_dir), env=_env(tmp_path),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True)
  reference = subprocess.Popen(_cli(alone, tiny_idx_dir), env=_env(tmp_path),
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
  lock = shared / run_lock.LOCK_FILENAME
  deadline = time.time() + 300
  while not lock.exists() and time.time() < deadline:
    time.sleep(0.02)
  # Hold the first run still while it holds the lock.
  first.send_signal(signal.SIGSTOP)
  try:
    assert json.loads(lock.read_text())["pid"] == first.pid
    before = _snapshot(shared)
    second = subprocess.run(_cli(shared, tiny_idx_dir), env=_env(tmp_path),
                            capture_output=True, text=True, timeout=600)
    after = _snapshot(shared)
  finally:
    first.send_signal(signal.SIGCONT)
  assert second.returncode == 1, second.stderr
  assert "Traceback" not in second.stderr
  lines = [l for l in second.stderr.splitlines() if "error:" in l]
  assert len(lines) == 1, second.stderr
  assert f"pid {first.pid}" in lines[0] and "since" in lines[0]
  assert after == before  # It wrote nothing.
  _, stderr = first.communicate(timeout=600)
  assert first.returncode == 0, stderr
  assert reference.wait(timeout=600) == 0
  assert not lock.exists()  # Released at exit.
  a, b = _newest_checkpoint_weights(alone), _newest_checkpoint_weights(shared)
  assert a.keys() == b.keys() and a
  for name in a:
    np.testing.assert_array_equal(a[name], b[name], err_msg=name)


HOLD = """
import sys, time
from aae_tf import run_lock
run_lock.RunLock(sys.argv[1]).acquire()
print("held", flush=True)
time.sleep(600)
"""


def test_lock_of_a_killed_process_does_not_block(tmp_path, caplog):
  save = str(tmp_path / "run")
  holder = subprocess.Popen([sys.executable, "-c", HOLD, save],
                            stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=REPO))
  try:
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(OutputError, match=f"pid {holder.pid} on ") as e:
      run_lock.RunLock(save).acquire()
    assert len(str(e.value)) < MAX_LINE
  finally:
    holder.send_signal(signal.SIGKILL)
    holder.wait()
  assert os.path.exists(os.path.join(save, run_lock.LOCK_FILENAME))
  caplog.set_level(logging.WARNING, logger="absl")
  with run_lock.RunLock(save):  # The dead holder's lock is replaced.
    record = json.loads(open(os.path.join(
        save, run_lock.LOCK_FILENAME)).read())
    assert record["pid"] == os.getpid()
  assert f"stale lock of pid {holder.pid}" in caplog.text
  assert not os.path.exists(os.path.join(save, run_lock.LOCK_FILENAME))


def test_lock_naming_a_dead_pid_does_not_block(tmp_path):
  dead = subprocess.Popen([sys.executable, "-c", "pass"])
  dead.wait()
  os.makedirs(tmp_path / "run")
  (tmp_path / "run" / run_lock.LOCK_FILENAME).write_text(json.dumps(
      {"pid": dead.pid, "host": os.uname().nodename, "since": "earlier"}))
  with run_lock.RunLock(str(tmp_path / "run")):
    pass


def test_lock_is_released_on_an_error(tmp_path):
  save = str(tmp_path / "run")
  with pytest.raises(RuntimeError):
    with run_lock.RunLock(save):
      raise RuntimeError("boom")
  assert os.listdir(save) == []


def test_lock_without_flock_checks_host_and_pid(tmp_path, monkeypatch):
  """Where the filesystem cannot flock: a holder on this host is live while
  its pid is; one on another host is assumed live."""
  monkeypatch.setattr(run_lock, "_flock", lambda fd: None)
  save = tmp_path / "run"
  with run_lock.RunLock(str(save)):
    with pytest.raises(OutputError, match=f"pid {os.getpid()}"):
      run_lock.RunLock(str(save)).acquire()
  (save / run_lock.LOCK_FILENAME).write_text(json.dumps(
      {"pid": 1, "host": "elsewhere", "since": "earlier"}))
  with pytest.raises(OutputError, match="pid 1 on elsewhere"):
    run_lock.RunLock(str(save)).acquire()


def test_lock_without_hard_links(tmp_path, monkeypatch):
  """Where the filesystem has no hard links the lock is created in place."""

  def no_link(src, dst):
    raise OSError(errno.EPERM, "Operation not permitted", src)

  monkeypatch.setattr(run_lock.os, "link", no_link)
  save = str(tmp_path / "run")
  with run_lock.RunLock(save):
    assert os.listdir(save) == [run_lock.LOCK_FILENAME]
    with pytest.raises(OutputError, match=f"pid {os.getpid()}"):
      run_lock.RunLock(save).acquire()
  assert os.listdir(save) == []


# -- Writes that fail clean up. --


def _fail_part_way(monkeypatch, checkpoint):
  """Makes `checkpoint`'s next write leave what a full disk leaves (its
  temporary folder and a partial index) and fail as TensorFlow does."""

  def write(prefix, options=None):
    del options
    os.makedirs(prefix + "_temp")
    part = os.path.join(prefix + "_temp", "part-00000-of-00001.data-00000-"
                        "of-00001.tempstate123")
    with open(part, "wb") as f:
      f.write(b"\0" * 1000)
    with open(prefix + ".index", "wb") as f:
      f.write(b"\0" * 10)
    raise tf.errors.ResourceExhaustedError(None, None, NO_SPACE.format(part))

  monkeypatch.setattr(checkpoint, "_write", write)


def test_failed_checkpoint_write_leaves_no_partial_files(tmp_path,
                                                          monkeypatch):
  from aae_tf import commands, run_dir  # pylint: disable=g-import-not-at-top
  from aae_tf.modes import build_model  # pylint: disable=g-import-not-at-top
  splits = make_tiny_splits()
  fit_tiny(_config(tmp_path / "run", 1), splits)
  directory = tmp_path / "run" / "checkpoints"
  good = sorted(os.listdir(directory))
  config = _config(tmp_path / "run", 2)
  run_dir.prepare_save_path(config)
  trainer = trainer_lib.Trainer(build_model(config), config, steps_per_epoch=5)
  trainer.restore()
  _fail_part_way(monkeypatch, trainer.checkpoint)
  with pytest.raises(OutputError) as e:
    trainer.fit(splits)
  message = str(e.value)
  assert "Could not write ckpt-2" in message
  assert "No space left on device (needs about" in message
  assert "ckpt-1 is kept" in message and "{{" not in message
  assert len(message) < MAX_LINE + len(str(directory))
  assert "SaveV2" in e.value.detail  # The full cause, for the log.
  assert sorted(os.listdir(directory)) == good
  # The run's figures still work, from the checkpoint kept.
  written = commands.generate(run_dir.run_config(config), "latest")
  assert os.path.getsize(written) > 0


def test_failed_figure_write_keeps_the_previous_file(tmp_path, monkeypatch):
  from aae_tf import figures, outputs  # pylint: disable=g-import-not-at-top
  path = tmp_path / "generate_im.png"
  path.write_bytes(b"previous")

  def no_space(src, dst):
    raise OSError(28, "No space left on device", src)

  monkeypatch.setattr(outputs.os, "replace", no_space)
  with pytest.raises(OutputError, match="Could not write generate_im.png to "
                     ".*No space left on device .*free"):
    figures.save_image_grid(str(path), np.zeros((4, 28, 28, 1)), 2, 2)
  assert os.listdir(tmp_path) == ["generate_im.png"]
  assert path.read_bytes() == b"previous"


def test_failed_export_keeps_the_previous_saved_model(tmp_path, monkeypatch):
  from aae_tf import export  # pylint: disable=g-import-not-at-top
  model, _ = fit_tiny(_config(tmp_path / "run", 1), make_tiny_splits())
  target = export.export_saved_model(model, str(tmp_path / "run"))
  before = _snapshot(target)

  def fail(module, path, signatures=None):
    del module, signatures
    os.makedirs(os.path.join(path, "variables"))
    (tmp_path / "run" / "saved_model.tmp" / "variables" / "x").write_bytes(
        b"partial")
    raise OSError(28, "No space left on device")

  monkeypatch.setattr(export.tf.saved_model, "save", fail)
  with pytest.raises(OutputError, match="SavedModel.*previous one is kept"):
    export.export_saved_model(model, str(tmp_path / "run"))
  assert not (tmp_path / "run" / "saved_model.tmp").exists()
  assert _snapshot(target) == before


# -- Damaged and missing checkpoints. --


def _truncate(path):
  data = glob.glob(path + ".data-*")[0]
  with open(data, "r+b") as f:
    f.truncate(os.path.getsize(data) // 2)


@pytest.mark.slow
def test_resume_falls_back_past_a_truncated_checkpoint(tmp_path, caplog):
  """The newest checkpoint cannot be read: training restores the previous
  one, says so, and ends where an uninterrupted run does."""
  splits = make_tiny_splits()
  straight = _weights(fit_tiny(_config(tmp_path / "a", 3), splits)[0])
  fit_tiny(_config(tmp_path / "b", 2), splits)
  directory = str(tmp_path / "b" / "checkpoints")
  _truncate(os.path.join(directory, "ckpt-2"))
  caplog.set_level(logging.INFO, logger="absl")
  model, trainer = fit_tiny(_config(tmp_path / "b", 3), splits)
  assert "Skipping checkpoint" in caplog.text and "ckpt-2" in caplog.text
  assert "Restored" in caplog.text and "ckpt-1 (step 5" in caplog.text
  assert int(trainer.epoch.numpy()) == 3
  _assert_same(straight, _weights(model))
  # Every checkpoint is whole again.
  assert checkpoint_files.complete(directory, "ckpt") == [1, 2, 3]
  assert checkpoint_files.problem(os.path.join(directory, "ckpt-2")) == (
      None, None)


@pytest.fixture
def two_checkpoints(tmp_path):
  """A run with ckpt-1 and ckpt-2; its config and checkpoint folder."""
  config = _config(tmp_path / "run", 2)
  fit_tiny(config, make_tiny_splits())
  return config, str(tmp_path / "run" / "checkpoints")


def test_load_names_the_missing_files(two_checkpoints):
  config, directory = two_checkpoints
  for f in glob.glob(os.path.join(directory, "ckpt-2.*")):
    os.remove(f)
  with pytest.raises(CheckpointError) as e:
    training.restore_model(config, "2")
  message = str(e.value)
  assert ("Checkpoint 2 in" in message and
          "is missing ckpt-2.index, ckpt-2.data-*" in message and
          message.endswith("checkpoints on disk: 1."))
  assert len(message) < MAX_LINE + len(directory)
  # `latest` is the newest one that can be read.
  training.restore_model(config, "latest")


def test_load_names_a_missing_data_file(two_checkpoints):
  config, directory = two_checkpoints
  os.remove(glob.glob(os.path.join(directory, "ckpt-1.data-*"))[0])
  with pytest.raises(CheckpointError,
                     match=r"is missing ckpt-1.data-00000-of-00001; "
                     r"checkpoints on disk: 2\.$"):
    training.restore_model(config, "1")


def test_load_of_a_damaged_checkpoint(two_checkpoints):
  config, directory = two_checkpoints
  _truncate(os.path.join(directory, "ckpt-2"))
  with pytest.raises(CheckpointError, match=r"Checkpoint 2 in .* cannot be "
                     r"read \(.*\); checkpoints on disk: 1, 2\.$"):
    training.restore_model(config, "2")
  with pytest.raises(CheckpointError, match="No checkpoint 5 in .*; "
                     "available: 1, 2"):
    training.restore_model(config, "5")


def test_no_readable_checkpoint_is_an_error(two_checkpoints, tmp_path):
  config, directory = two_checkpoints
  for n in (1, 2):
    _truncate(os.path.join(directory, f"ckpt-{n}"))
  with pytest.raises(CheckpointError, match="No checkpoint in .* can be "
                     "read .newest: ckpt-2 cannot be read"):
    fit_tiny(dataclasses.replace(config, train=dataclasses.replace(
        config.train, max_epoch=3)), make_tiny_splits())


@pytest.fixture
def small_disk(tmp_path):
  """Mounts a tmpfs of a given size (root only); unmounts it afterwards."""
  mounted = []

  def mount(size_bytes):
    target = tmp_path / "disk"
    target.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o",
                             f"size={size_bytes}", "tmpfs", str(target)],
                            capture_output=True)
    if result.returncode != 0:
      pytest.skip("cannot mount a small filesystem here")
    mounted.append(target)
    return target

  if os.geteuid() != 0:
    pytest.skip("mounting a small filesystem needs root")
  yield mount
  for target in mounted:
    subprocess.run(["umount", str(target)], check=False)


@pytest.mark.slow
def test_full_disk_during_a_checkpoint(tmp_path, tiny_idx_dir, small_disk):
  """On a disk that fills up while the second checkpoint is written: one
  short line, no partial files, and --generate works from the first."""
  env = _env(tmp_path)
  measured = tmp_path / "measured"
  subprocess.run(_cli(measured, tiny_idx_dir, "--maxepoch", "1"), env=env,
                 check=True, capture_output=True, timeout=600)
  size = checkpoint_files.size_on_disk(str(measured / "checkpoints" /
                                           "ckpt-1"))
  save = small_disk(int(1.5 * size) + 2**20) / "run"
  result = subprocess.run(_cli(save, tiny_idx_dir), env=env,
                          capture_output=True, text=True, timeout=600)
  assert result.returncode == 1, result.stderr
  assert "Traceback" not in result.stderr
  lines = [l for l in result.stderr.splitlines() if "error:" in l]
  assert len(lines) == 1, result.stderr
  assert "Could not write ckpt-2" in lines[0]
  assert "No space left on device (needs about" in lines[0]
  assert "ckpt-1 is kept" in lines[0] and "Op:" not in lines[0]
  assert len(lines[0]) <= MAX_LINE + len(str(save))
  directory = save / "checkpoints"
  assert sorted(os.listdir(directory)) == [
      "checkpoint", "ckpt-1.data-00000-of-00001", "ckpt-1.index"]
  generate = subprocess.run(
      [sys.executable, SCRIPT, "--generate", "--load", "latest",
       "--save_path", str(save)], env=env, capture_output=True, text=True,
      timeout=600)
  assert generate.returncode == 0, generate.stderr
  assert os.path.getsize(save / "generate_im.png") > 0


# -- One short line on the command line; the whole cause in the log. --


def _exit_of(fn, capsys):
  from aae_tf.errors import run_command  # pylint: disable=g-import-not-at-top
  with pytest.raises(SystemExit) as e:
    run_command("prog", fn)
  return e.value.code, capsys.readouterr().err


def test_run_command_prints_one_line_and_logs_the_cause(capsys, caplog):
  caplog.set_level(logging.DEBUG, logger="absl")

  def fail():
    raise OutputError("Could not write x to /y: No space left on device.",
                      detail="{{function_node x}} the whole\nTensorFlow text")

  code, err = _exit_of(fail, capsys)
  assert code == 1
  assert err == ("prog: error: Could not write x to /y: No space left on "
                 "device.\n")
  assert "the whole\nTensorFlow text" in caplog.text


def test_run_command_turns_a_file_error_into_one_line(capsys):
  def fail():
    raise OSError(28, "No space left on device", "/run/generate_im.png")

  code, err = _exit_of(fail, capsys)
  assert code == 1 and "Traceback" not in err
  assert err == ("prog: error: Could not read or write /run/generate_im.png: "
                 "No space left on device.\n")

  def bug():
    raise KeyError("not a file error")

  with pytest.raises(KeyError):  # A bug keeps its traceback.
    _exit_of(bug, capsys)
