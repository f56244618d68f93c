"""Every mode and seed system from the command line, run as a user would
(subprocesses on tiny data): train, then a figure command on the run."""

import json
import os

import pytest

from test_cli import TINY, run_cli

# The XLA-compiled step is the command line's default and its own tests'
# (test_cli.py); here every mode's step runs uncompiled, which starts sooner.
TINY = TINY + ["--noxla"]


@pytest.mark.parametrize("train_args,after,outputs", [
    (["--train_supervised"], ["--generate", "--supervise"],
     ["generate_im.png"]),
    (["--train", "--label", "--dist_type", "gmm", "--num_labeled", "20"],
     ["--viz"], ["latent.png"] + [f"manifold_{k}.png" for k in range(10)]),
    (["--train_semisupervised", "--num_labeled", "20", "--labeled_bsize",
      "5", "--maxepoch", "2"], ["--generate"], ["generate_im.png"]),
    (["--train_clustering", "--ncluster", "16"], ["--generate"],
     ["generate_im.png"]),
    (["--train_dimreduction", "--ncluster", "20"], ["--viz"],
     ["latent.png"]),
])
@pytest.mark.slow
def test_other_modes(tmp_path, tiny_idx_dir, train_args, after, outputs):
  save = str(tmp_path / "run")
  common = ["--save_path", save, "--data_dir", tiny_idx_dir, *TINY]
  result = run_cli("--maxepoch", "1", *train_args, *common)
  assert result.returncode == 0, result.stderr
  train_log = result.stderr
  assert os.path.exists(os.path.join(save, "saved_model", "saved_model.pb"))
  result = run_cli(*after, "--load", "latest", *common)
  assert result.returncode == 0, result.stderr
  for name in outputs:
    assert os.path.getsize(os.path.join(save, name)) > 0, name
  with open(os.path.join(save, "config.json")) as f:
    config = json.load(f)
  if "--train_clustering" in train_args:
    # Its default recipe, budget: the paper's SGD on 1200-unit networks.
    assert config["train"]["recipe"] == "budget"
    assert config["model"]["encoder_units"] == [1200, 1200]
    assert config["train"]["optimizers"]["generator"]["kind"] == "sgd"
  if "--train_semisupervised" in train_args:
    # It says what it will do, then each epoch's time and the time left.
    assert ("Plan: semisupervised, recipe budget, 20 labels, 2 epochs of 5 "
            f"steps; SAVE_PATH {save}") in train_log
    for epoch in (1, 2):
      assert f"Epoch {epoch}/2 took " in train_log
    assert " left." in train_log
    # Its default recipe, budget, is the paper's with an annealed end: SGD,
    # deterministic code.
    assert config["train"]["optimizers"]["classification"]["kind"] == "sgd"
    assert config["model"]["posterior"] == "deterministic"
  if "--train_dimreduction" in train_args:
    # Unsupervised dimensionality reduction: slower adversarial phases.
    assert not config["model"]["y_batch_statistics"]
    optimizers = config["train"]["optimizers"]
    assert (optimizers["generator"]["learning_rate"] ==
            optimizers["discriminator"]["learning_rate"] == 1e-5)


@pytest.mark.slow
def test_deterministic_bce_aae_and_interpolation(tmp_path, tiny_idx_dir):
  """Seed 004: deterministic encoder, BCE, N(0, 5^2) prior, own rates."""
  save = str(tmp_path / "run")
  common = ["--save_path", save, "--data_dir", tiny_idx_dir, *TINY]
  result = run_cli("--train", "--maxepoch", "1", "--posterior",
                   "deterministic", "--reconstruction", "bce", "--prior_std",
                   "5", "--gen_lr", "1e-4", "--dis_lr", "5e-5", *common)
  assert result.returncode == 0, result.stderr
  result = run_cli("--interpolate", "--load", "1", "--pairs", "0-4,7-8",
                   *common)
  assert result.returncode == 0, result.stderr
  for name in ("interpolate_0_4.png", "interpolate_7_8.png"):
    assert os.path.getsize(os.path.join(save, name)) > 0
  result = run_cli("--traverse", "--load", "1", *common)
  assert result.returncode == 0, result.stderr
  for name in ("traverse_z0.gif", "traverse_z1.gif"):
    assert os.path.getsize(os.path.join(save, name)) > 0


@pytest.mark.slow
def test_convolutional_aae(tmp_path, tiny_idx_dir):
  """Seed 003's convolutional AAE, with the label given to the decoder
  (the odd scenarios) through --train_supervised."""
  save = str(tmp_path / "run")
  common = ["--save_path", save, "--data_dir", tiny_idx_dir, *TINY]
  result = run_cli("--train_supervised", "--arch", "conv", "--posterior",
                   "deterministic", "--ncode", "5", "--maxepoch", "1", *common)
  assert result.returncode == 0, result.stderr
  result = run_cli("--generate", "--supervise", "--load", "1", *common)
  assert result.returncode == 0, result.stderr
  assert os.path.getsize(os.path.join(save, "generate_im.png")) > 0
  result = run_cli("--traverse", "--load", "1", *common)
  assert result.returncode == 0, result.stderr
  from PIL import Image  # pylint: disable=g-import-not-at-top
  for digit in range(10):
    with Image.open(os.path.join(save, f"traverse_digit{digit}.gif")) as gif:
      assert gif.n_frames > 1
  assert os.path.getsize(os.path.join(save, "same_style.png")) > 0
