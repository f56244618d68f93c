"""The command line, run as a user would (subprocesses on tiny data)."""

import glob
import json
import os
import re
import subprocess
import sys

from absl import flags
import pytest

from conftest import REPO, TINY_VALIDATION, command_config, mnist_flag_values
from aae_tf.errors import MAX_LINE

SCRIPT = os.path.join(REPO, "experiment", "aae_mnist.py")
TINY = ["--bsize", "10", "--noverify_checksums",
        "--validation_size", str(TINY_VALIDATION)]


def run_cli(*args, cwd=None):
  return run_clis([args], cwd=cwd)[0]


def run_clis(arg_lists, cwd=None):
  """Runs the command line once per argument list, all at the same time
  (each start is mostly single-threaded imports); results in order."""
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", AAE_TF_CACHE=os.path.join(
      cwd or REPO, ".cache_unused"))
  processes = [subprocess.Popen([sys.executable, SCRIPT, *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, cwd=cwd, env=env)
               for args in arg_lists]
  results = []
  for process, args in zip(processes, arg_lists):
    stdout, stderr = process.communicate(timeout=600)
    results.append(subprocess.CompletedProcess(
        [SCRIPT, *args], process.returncode, stdout, stderr))
  return results




def shown_length(line):
  """The length of an error line with pytest's temporary folder of a test
  shortened to /tmp/x (a user's own paths are as long as they make them)."""
  return len(re.sub(r"\S*/pytest-of-[^/]+/pytest-\d+/(popen-gw\d+/)?"
                    r"[^/\s']+", "/tmp/x", line))


def assert_user_error(result, pattern):
  """One short error line holding `pattern`, no traceback, non-zero exit."""
  assert result.returncode != 0, result.stderr
  assert "Traceback" not in result.stderr, result.stderr
  assert pattern in result.stderr, result.stderr
  lines = [l for l in result.stderr.splitlines() if "error:" in l]
  assert len(lines) == 1, result.stderr
  assert shown_length(lines[0]) <= MAX_LINE, lines[0]


@pytest.mark.parametrize("dist_type,manifolds", [
    ("gaussian", ["manifold.png"]),  # The fast tier's one end-to-end run.
    pytest.param("gmm", [f"manifold_{k}.png" for k in range(10)],
                 marks=pytest.mark.slow)])
def test_train_generate_viz(tmp_path, tiny_idx_dir, dist_type, manifolds):
  save = str(tmp_path / "run")
  common = ["--save_path", save, "--data_dir", tiny_idx_dir, *TINY]
  result = run_cli("--train", "--maxepoch", "1", "--dist_type", dist_type,
                   *common, cwd=tmp_path)
  assert result.returncode == 0, result.stderr
  train_log = result.stderr
  assert os.path.exists(os.path.join(save, "config.json"))
  assert os.path.exists(os.path.join(save, "checkpoints", "ckpt-1.index"))
  assert glob.glob(os.path.join(save, "tensorboard", "events.out.tfevents.*"))
  assert os.path.exists(os.path.join(save, "saved_model", "saved_model.pb"))
  # Nothing is written to the working directory.
  assert sorted(os.listdir(tmp_path)) == ["mnist", "run"]

  if dist_type == "gaussian":
    result = run_cli("--generate", "--load", "1", *common, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert os.path.getsize(os.path.join(save, "generate_im.png")) > 0

  result = run_cli("--viz", "--load", "latest", *common, cwd=tmp_path)
  assert result.returncode == 0, result.stderr
  for name in ["latent.png", *manifolds]:
    assert os.path.getsize(os.path.join(save, name)) > 0, name
  if dist_type == "gmm":  # Slow tier: what else this run shows.
    _records_its_data_source(save, tiny_idx_dir, train_log)
    assert_user_error(run_cli("--generate", "--supervise", "--load", "1",
                              *common), "--supervise samples a supervised")


@pytest.mark.slow
def test_generate_without_run(tmp_path):
  assert_user_error(run_cli("--generate", "--load", "3", "--save_path",
                            str(tmp_path / "none")), "No run in")


@pytest.mark.slow
def test_missing_checkpoint_and_conflicting_flag(tmp_path, tiny_idx_dir):
  save = str(tmp_path / "run")
  common = ["--save_path", save, "--data_dir", tiny_idx_dir, *TINY]
  assert run_cli("--train", "--maxepoch", "1", *common).returncode == 0
  results = run_clis([
      ["--generate", "--load", "7", *common],
      ["--generate", "--load", "one", *common],
      ["--generate", "--load", "1", "--dist_type", "gmm", *common],
      # Another configuration in the same SAVE_PATH is refused, not
      # overwritten.
      ["--train", "--maxepoch", "1", "--lr", "0.1", *common]])
  for result, pattern in zip(results, [
      "No checkpoint 7", "--load takes an epoch number", "contradicts the run",
      "another configuration"]):
    assert_user_error(result, pattern)
  # Damaged and missing checkpoint files: tests/test_faults.py.


BAD_FLAGS = [
    (["--train", "--lr", "-1"], "learning rate of reconstruction must be "
     "positive"),
    (["--train", "--bsize", "0"], "--bsize must be positive"),
    (["--train", "--maxepoch", "0"], "--maxepoch must be positive"),
    (["--train", "--dropout", "0"], "--dropout is a keep probability"),
    (["--train", "--ncode", "0"], "--ncode must be positive"),
    (["--train", "--dist_type", "gmm", "--ncode", "3"], "even"),
    (["--train", "--dist_type", "cauchy"], "dist_type"),
    (["--train", "--generate"], "exactly one"),
    ([], "exactly one"),
    (["--generate"], "needs --load"),
    (["--train", "--load", "3"], "--load is for"),
    (["--viz", "--load", "1", "--ncode", "4"], "--viz needs --ncode 2"),
    (["--train", "--lr_decay_epochs", "a,b"], "--lr_decay_epochs"),
    (["--train", "--eval_every", "0"], "--eval_every must be positive"),
    (["--train", "--summary_every", "-1"], "--summary_every must be positive"),
    (["--train", "--test_every", "-1"], "--test_every must be 0"),
    (["--train", "--optimizers", "generator:sgd:0.1"], "KEY:KIND:LR:MOMENTUM"),
    (["--train", "--optimizers", "decoder:sgd:0.1:0.9"],
     "Unknown phases or roles"),
    (["--train", "--recipe", "fast"], "recipe"),
    (["--train", "--gen_lr", "-1"],
     "learning rate of generator must be positive"),
    (["--train", "--arch", "conv"], "--posterior deterministic"),
    (["--train_semisupervised", "--arch", "conv", "--posterior",
      "deterministic"], "no class head"),
]


@pytest.fixture(scope="module")
def cli():
  """The command line's flags, defined once on their own FlagValues."""
  return mnist_flag_values()


def config_error(cli, tmp_path, args):
  """The error the command line reports for these flags, found in-process
  (no TensorFlow start-up): the flag parser's or the configuration's; None
  when the flags are accepted."""
  from aae_tf.errors import AAEError  # pylint: disable=g-import-not-at-top
  try:
    command_config(cli, [*args, "--save_path", str(tmp_path / "x")])
  except (flags.Error, AAEError) as e:
    return str(e)
  return None


@pytest.mark.parametrize("index", range(len(BAD_FLAGS)),
                         ids=[" ".join(args) or "none" for args, _ in BAD_FLAGS])
def test_bad_flags(cli, tmp_path, index):
  args, pattern = BAD_FLAGS[index]
  error = config_error(cli, tmp_path, args)
  assert error is not None and pattern in error, error


@pytest.mark.slow
def test_bad_flags_end_the_command_with_one_line(tmp_path):
  """A flag the parser refuses and a configuration the checks refuse, as a
  user sees them: one line on stderr, no traceback, a failing status."""
  results = run_clis([["--train", "--dist_type", "cauchy"],
                      ["--train", "--bsize", "0"]], cwd=tmp_path)
  assert_user_error(results[0], "dist_type")
  assert_user_error(results[1], "--bsize must be positive")
  assert "aae_mnist.py: error: " in results[1].stderr
  assert not os.listdir(tmp_path)


@pytest.mark.slow
def test_unwritable_save_path(tmp_path, tiny_idx_dir):
  blocker = tmp_path / "file"
  blocker.write_text("not a folder")
  assert_user_error(run_cli("--train", "--data_dir", tiny_idx_dir, *TINY,
                            "--save_path", str(blocker / "run")),
                    "Cannot write to SAVE_PATH")


@pytest.mark.slow
def test_corrupt_data(tmp_path, tiny_idx_dir):
  path = os.path.join(tiny_idx_dir, "train-images-idx3-ubyte.gz")
  with open(path, "r+b") as f:
    f.truncate(os.path.getsize(path) // 2)
  assert_user_error(run_cli("--train", "--data_dir", tiny_idx_dir, *TINY,
                            "--save_path", str(tmp_path / "run")),
                    "train-images-idx3-ubyte")


@pytest.mark.slow
def test_checksum_mismatch_names_the_file(tmp_path, tiny_idx_dir):
  assert_user_error(run_cli("--train", "--data_dir", tiny_idx_dir,
                            "--save_path", str(tmp_path / "run")),
                    "SHA-256")


@pytest.mark.parametrize("args,pattern", [
    (["--train_supervised", "--label"], "--label goes with --train"),
    (["--generate", "--load", "1", "--label"], "--label goes with --train"),
    (["--viz", "--load", "1", "--label"], "--label goes with --train"),
    (["--interpolate", "--load", "1", "--label"], "--label goes with --train"),
    (["--traverse", "--load", "1", "--label"], "--label goes with --train"),
    (["--train", "--supervise"], "--supervise goes with --generate"),
    (["--train_semisupervised", "--num_labeled", "15"], "multiple of 10"),
    (["--train_semisupervised", "--num_labeled", "0"], "must be positive"),
    (["--train_clustering", "--ncluster", "1"],
     "--ncluster must be at least 2"),
    (["--train_dimreduction", "--num_labeled", "20", "--ncluster", "16"],
     "--ncluster must be 10"),
    (["--train_dimreduction", "--cluster_margin", "0"], "cluster_margin"),
    (["--train_semisupervised", "--train_supervised"], "exactly one"),
])
def test_bad_mode_flags(cli, tmp_path, args, pattern):
  error = config_error(cli, tmp_path, args)
  assert error is not None and pattern in error, error


def _one_error_line(result):
  lines = [l for l in result.stderr.splitlines() if "error:" in l]
  assert result.returncode == 1, result.stderr
  assert "Traceback" not in result.stderr, result.stderr
  assert len(lines) == 1, result.stderr
  assert shown_length(lines[0]) <= MAX_LINE, lines[0]
  return lines[0]


@pytest.mark.slow
def test_named_data_dir_is_used_or_refused(tmp_path, tiny_idx_dir):
  """A --data_dir that is absent, empty or incomplete ends the run with one
  line naming it and the missing files; nothing else is trained on."""
  cases = {"absent": "does not exist", "empty": "lacks", "partial": "lacks"}
  (tmp_path / "empty").mkdir()
  (tmp_path / "partial").mkdir()
  name = "train-images-idx3-ubyte.gz"
  os.link(os.path.join(tiny_idx_dir, name), tmp_path / "partial" / name)
  results = run_clis([["--train", "--data_dir", str(tmp_path / folder),
                       "--save_path", str(tmp_path / f"run_{folder}"), *TINY]
                      for folder in cases])
  for (folder, missing), result in zip(cases.items(), results):
    line = _one_error_line(result)
    assert str(tmp_path / folder) in line and missing in line
    assert "t10k-labels-idx1-ubyte" in line
    assert not (tmp_path / f"run_{folder}").exists()


def _records_its_data_source(save, tiny_idx_dir, train_log):
  """The run's config.json and the first line of its log name the data it
  read; TensorFlow's start-up notes and library INFO lines are not shown
  (with --verbosity 1 they are: TensorFlow starts before the flags are
  checked, so a refused command shows them quickly)."""
  with open(os.path.join(save, "config.json")) as f:
    assert json.load(f)["data"]["used_source"] == f"idx:{tiny_idx_dir}"
  assert f"from idx:{tiny_idx_dir}" in train_log.splitlines()[0], train_log
  noises = ("cuInit", "oneDNN", "Sharding callback", "absl::InitializeLog")
  for noise in noises:
    assert noise not in train_log
  verbose = run_cli("--train", "--bsize", "0", "--verbosity", "1")
  # Which start-up notes TensorFlow prints depends on the CPU (oneDNN's on
  # some, not on others).
  assert verbose.returncode == 1
  assert any(noise in verbose.stderr for noise in noises), verbose.stderr


COUNT_CASES = [
    (["--train_semisupervised", "--num_labeled", "100", "--labeled_bsize",
      "10"], ["100", "50"]),
    (["--train_semisupervised", "--num_labeled", "20"], ["100", "20"]),
    (["--train", "--train_size", "60"], ["60", "50"]),
]


@pytest.mark.slow
def test_counts_larger_than_the_data_are_refused(tmp_path, tiny_idx_dir):
  results = run_clis([[*args, "--data_dir", tiny_idx_dir, "--save_path",
                       str(tmp_path / f"run{i}"), *TINY]
                      for i, (args, _) in enumerate(COUNT_CASES)])
  for i, ((_, numbers), result) in enumerate(zip(COUNT_CASES, results)):
    line = _one_error_line(result)
    for number in numbers:
      assert number in line
    assert not (tmp_path / f"run{i}").exists()
