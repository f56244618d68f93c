"""What a user watches: a real TensorBoard server, HParams, the projector,
saved_model_cli and the run's figures."""

import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest
from PIL import Image

from aae_tf import training
from conftest import small_config, write_idx_dir

# Every test reads a trained run (TensorBoard, saved_model_cli).
pytestmark = pytest.mark.slow

SERVER_START_SECONDS = 120


@pytest.fixture(scope="module")
def run(tmp_path_factory):
  root = tmp_path_factory.mktemp("monitoring")
  config = small_config(root / "run", max_epoch=2)
  config = dataclasses.replace(config, data=dataclasses.replace(
      config.data, data_dir=write_idx_dir(root / "mnist"), source="idx"))
  training.train_and_evaluate(config)
  return config.save_path


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _get(url):
  with urllib.request.urlopen(url, timeout=10) as response:
    return json.loads(response.read())


@pytest.fixture(scope="module")
def tensorboard(run):
  port = _free_port()
  binary = shutil.which("tensorboard") or os.path.join(
      os.path.dirname(sys.executable), "tensorboard")
  proc = subprocess.Popen(
      [binary, "--logdir", run, "--host", "127.0.0.1", "--port", str(port),
       "--load_fast", "false", "--reload_interval", "1"],
      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  base = f"http://127.0.0.1:{port}"
  deadline = time.time() + SERVER_START_SECONDS
  while True:
    try:
      tags = _get(f"{base}/data/plugin/scalars/tags")
      if tags:
        break
    except OSError:
      pass
    if time.time() > deadline or proc.poll() is not None:
      proc.kill()
      pytest.fail("TensorBoard did not serve the run in time")
    time.sleep(0.5)
  yield base
  proc.terminate()
  proc.wait(timeout=30)


def test_tensorboard_serves_scalars_and_images(tensorboard):
  scalars = _get(f"{tensorboard}/data/plugin/scalars/tags")
  tags = scalars["tensorboard"]
  for tag in ("train/reconstruction/loss", "train/generator/loss",
              "train/discriminator/loss", "validation/reconstruction_loss"):
    assert tag in tags, sorted(tags)
  query = urllib.parse.urlencode({"run": "tensorboard",
                                  "tag": "train/reconstruction/loss"})
  series = _get(f"{tensorboard}/data/plugin/scalars/scalars?{query}")
  assert len(series) >= 2 and all(len(point) == 3 for point in series)
  images = _get(f"{tensorboard}/data/plugin/images/tags")["tensorboard"]
  assert "images/prior_samples" in images and "images/latent" in images


def test_tensorboard_lists_hparams_and_projector(tensorboard):
  listing = _get(f"{tensorboard}/data/plugins_listing")
  assert listing["hparams"]["enabled"]
  assert "tensorboard" in _get(f"{tensorboard}/data/plugin/projector/runs")


def test_projector_metadata(run):
  logdir = os.path.join(run, "tensorboard")
  with open(os.path.join(logdir, "metadata.tsv")) as f:
    labels = f.read().split()
  assert len(labels) == 20 and set(labels) <= set("0123456789")
  with open(os.path.join(logdir, "projector_config.pbtxt")) as f:
    assert "metadata.tsv" in f.read()


def test_saved_model_cli_lists_signatures(run):
  binary = shutil.which("saved_model_cli") or os.path.join(
      os.path.dirname(sys.executable), "saved_model_cli")
  out = subprocess.run([binary, "show", "--dir",
                        os.path.join(run, "saved_model"), "--all"],
                       capture_output=True, text=True, check=True,
                       env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")).stdout
  for signature in ("encode", "decode", "sample", "serving_default"):
    assert f"signature_def['{signature}']" in out
  assert "shape: (-1, 28, 28, 1)" in out and "dtype: DT_FLOAT" in out
  assert "dtype: DT_INT32" in out  # sample(count)


def test_run_figures_are_written(run):
  with Image.open(os.path.join(run, "loss_curves.png")) as image:
    assert image.size[0] > 300 and image.size[1] > 200
