"""Training under tf.distribute: two replicas match one; workers agree."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from aae_tf import training, distribute
from aae_tf.errors import ConfigError
from conftest import REPO, small_config

SCRIPT = os.path.join(REPO, "tests", "distributed_run.py")


def _run(kind, save_path, out, env=None):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(env or {}))
  return subprocess.Popen([sys.executable, SCRIPT, kind, str(save_path),
                           str(out)], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)


def _finish(proc, timeout=600):
  out, err = proc.communicate(timeout=timeout)
  assert proc.returncode == 0, err[-3000:]
  return out


def _weights(npz):
  return {k: npz[k] for k in npz.files
          if k not in ("losses", "chief", "replicas")}


@pytest.mark.slow
def test_two_replicas_match_one_device(tmp_path):
  one, two = tmp_path / "one.npz", tmp_path / "two.npz"
  procs = [_run("default", tmp_path / "a", one),
           _run("mirrored", tmp_path / "b", two)]
  for proc in procs:
    _finish(proc)
  a, b = np.load(one), np.load(two)
  assert int(a["replicas"]) == 1 and int(b["replicas"]) == 2
  np.testing.assert_allclose(a["losses"], b["losses"], rtol=1e-4, atol=1e-5)
  wa, wb = _weights(a), _weights(b)
  assert wa.keys() == wb.keys()
  for key in wa:
    np.testing.assert_allclose(wa[key], wb[key], rtol=1e-4, atol=1e-5,
                               err_msg=key)


def _free_ports(n):
  sockets = [socket.socket() for _ in range(n)]
  for s in sockets:
    s.bind(("127.0.0.1", 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports


@pytest.mark.slow
def test_two_workers_agree_and_chief_checkpoint_restores(tmp_path):
  workers = [f"127.0.0.1:{p}" for p in _free_ports(2)]
  save = tmp_path / "run"
  procs = []
  for index in range(2):
    tf_config = {"cluster": {"worker": workers},
                 "task": {"type": "worker", "index": index}}
    procs.append(_run("multi_worker", save, tmp_path / f"w{index}.npz",
                      env={"TF_CONFIG": json.dumps(tf_config)}))
  for proc in procs:
    _finish(proc)
  w0, w1 = np.load(tmp_path / "w0.npz"), np.load(tmp_path / "w1.npz")
  assert bool(w0["chief"]) and not bool(w1["chief"])
  assert int(w0["replicas"]) == 2
  # TensorFlow's preemption handler checkpoints into the interrupt folder.
  assert bool(w0["preemption_to_interrupt_manager"])
  assert bool(w1["preemption_to_interrupt_manager"])
  for key, value in _weights(w0).items():
    np.testing.assert_array_equal(value, w1[key], err_msg=key)
  # Only the chief wrote to SAVE_PATH; its checkpoint restores without a
  # strategy.
  assert sorted(os.listdir(save / "checkpoints")) == [
      "checkpoint", "ckpt-1.data-00000-of-00001", "ckpt-1.index"]
  config = small_config(save)
  config.model.posterior = "deterministic"
  config.save(str(save / "config.json"))
  restored = training.restore_model(config, "latest")
  for name, net in restored.networks.items():
    for i, v in enumerate(net.trainable_variables):
      np.testing.assert_array_equal(v.numpy(), w0[f"{name}/{i}"])


def test_strategy_names():
  assert distribute.make_strategy("default") is tf.distribute.get_strategy()
  assert distribute.is_chief(tf.distribute.get_strategy())
  with pytest.raises(ConfigError, match="Unknown strategy"):
    distribute.make_strategy("tpu")


def test_training_options_shard_by_data_without_autotuning():
  dataset = tf.data.Dataset.range(6).batch(2).prefetch(tf.data.AUTOTUNE)
  tuned = distribute.with_training_options(dataset)
  options = tuned.options()
  assert options.autotune.enabled is False
  assert (options.experimental_distribute.auto_shard_policy ==
          tf.data.experimental.AutoShardPolicy.DATA)
  # Options change how the pipeline runs, never what it yields.
  assert [b.tolist() for b in tuned.as_numpy_iterator()] == [[0, 1], [2, 3],
                                                             [4, 5]]
