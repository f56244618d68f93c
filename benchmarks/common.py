"""Shared by the benchmark scripts: hardware string, results rows, the
plain-TensorFlow check of an exported SavedModel, the scripts' main."""

import json
import os
import platform
import subprocess
import sys
import tempfile

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS_DIR = os.path.join(REPO, "results")

# Runs in a fresh interpreter that cannot import aae_tf.
CLASSIFY_SCRIPT = """
import sys
import numpy as np
import tensorflow as tf
assert "aae_tf" not in sys.modules
model = tf.saved_model.load(sys.argv[1])
images = np.load(sys.argv[2])
labels = np.load(sys.argv[3])
classify = model.signatures["classify"]
probs = np.concatenate([classify(images=tf.constant(images[i:i + 1000]))
                        ["probabilities"].numpy()
                        for i in range(0, len(images), 1000)])
if len(sys.argv) > 4:  # Cluster names: cluster k -> digit.
  predicted = np.load(sys.argv[4])[np.argmax(probs, 1)]
else:
  predicted = np.argmax(probs, 1)
print(float(np.mean(predicted != labels)))
"""


def command_main(main, program=None):
  """The absl main `main` with the command line's handling of a run's
  errors: a user error, a full disk or a stop by Ctrl-C / SIGTERM is one
  line on stderr and the shell's exit status, not a traceback (a stopped
  run resumes with the same command and --resume). With `program` (an
  aae_tf.cli.Program whose flags the script takes), configuration fields in
  those lines are named as its flags."""
  def wrapped(argv):
    from aae_tf import cli, errors  # pylint: disable=g-import-not-at-top
    run = lambda: main(argv)
    if program is not None:
      run = cli.speaking_flags(program, run)
    errors.run_command(os.path.basename(sys.argv[0]), run)
  return wrapped


def _usable_cores() -> list:
  """The CPU cores this process may run on (all of them unless pinned)."""
  if hasattr(os, "sched_getaffinity"):
    return sorted(os.sched_getaffinity(0))
  return list(range(os.cpu_count() or 1))


def hardware() -> str:
  """The CPU and the cores this process may use (a run pinned with taskset
  to fewer cores than the machine has says so)."""
  cpu = platform.processor() or platform.machine()
  total = os.cpu_count()
  usable = len(_usable_cores())
  cores = (f"{total} CPU cores" if usable == total
           else f"{usable} of {total} CPU cores (affinity)")
  return f"{cpu}, {cores}, no GPU"


def command_line() -> str:
  """The command that reproduces this run, with `taskset -c` when pinned."""
  cores = _usable_cores()
  pin = ("" if len(cores) == os.cpu_count()
         else "taskset -c " + ",".join(str(c) for c in cores) + " ")
  return pin + "python " + " ".join(
      os.path.relpath(a, REPO) if a.endswith(".py") else a for a in sys.argv)


def saved_model_error(saved_model: str, images: np.ndarray,
                      labels: np.ndarray, names=None) -> float:
  """Test error of the SavedModel's `classify`, computed by plain TF."""
  with tempfile.TemporaryDirectory() as tmp:
    paths = [os.path.join(tmp, n) for n in ("x.npy", "y.npy", "names.npy")]
    np.save(paths[0], images)
    np.save(paths[1], labels)
    args = [sys.executable, "-c", CLASSIFY_SCRIPT, saved_model, *paths[:2]]
    if names is not None:
      np.save(paths[2], names)
      args.append(paths[2])
    env = dict(os.environ, PYTHONPATH="", TF_CPP_MIN_LOG_LEVEL="2")
    out = subprocess.run(args, cwd=tmp, env=env, capture_output=True,
                         text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def append_results(name: str, rows: list) -> None:
  """Adds rows to results/<name>.json and rewrites results/<name>.md from
  it (`tables.py`: the best row per question, the reading, every run)."""
  import tables  # pylint: disable=g-import-not-at-top
  os.makedirs(RESULTS_DIR, exist_ok=True)
  path = os.path.join(RESULTS_DIR, f"{name}.json")
  previous = []
  if os.path.exists(path):
    with open(path) as f:
      previous = json.load(f)
  with open(path, "w") as f:
    json.dump(previous + rows, f, indent=2)
  tables.write(name)


def epoch_curve(save_path: str, tag: str, timing=None) -> list:
  """Per-epoch values of `tag` from a run's event files, in step order:
  [{"epoch", "step", "value", "train_seconds"}].

  train_seconds sums the time between successive epoch ends within one
  invocation (from its first summary, the hyperparameters written when
  training starts, for the first epoch), so the idle time
  between the sessions of a resumed run is not counted. `timing` (an
  earlier curve of the same run) supplies epochs and times instead.
  """
  import glob  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  points = {}
  files = sorted(glob.glob(os.path.join(save_path, "tensorboard",
                                        "events.out.tfevents.*")))
  for path in files:
    start = None
    previous = None
    for event in tf.compat.v1.train.summary_iterator(path):
      if not event.summary.value:
        continue  # The file-version record's time is not the run's.
      start = event.wall_time if start is None else start
      for value in event.summary.value:
        if value.tag != tag:
          continue
        seconds = event.wall_time - (previous or start)
        previous = event.wall_time
        points[event.step] = (float(tf.make_ndarray(value.tensor)), seconds)
  out, total = [], 0.0
  for epoch, step in enumerate(sorted(points), start=1):
    value, seconds = points[step]
    total += seconds
    out.append({"epoch": epoch, "step": int(step), "value": value,
                "train_seconds": round(total, 1)})
  if timing is not None:
    times = {p["step"]: p for p in timing}
    out = [dict(p, epoch=times[p["step"]]["epoch"],
                train_seconds=times[p["step"]]["train_seconds"])
           for p in out if p["step"] in times]
  return out


def time_to_reach(curve: list, thresholds) -> dict:
  """Minutes of training until the curve's value is first <= each
  threshold (None: not reached)."""
  out = {}
  for threshold in thresholds:
    hit = next((p for p in curve if p["value"] <= threshold), None)
    out[f"{threshold:g}"] = (None if hit is None else
                             round(hit["train_seconds"] / 60.0, 1))
  return out


def throughput_model(mode: str):
  """(training mode, ModelConfig) of each model the throughput benchmarks
  time: "unsupervised", "semisupervised", "conv" or "maae"."""
  from aae_tf import config as config_lib  # pylint: disable=g-import-not-at-top
  if mode == "semisupervised":
    return mode, config_lib.ModelConfig(ncode=10)
  if mode == "conv":
    return "unsupervised", config_lib.ModelConfig(
        ncode=5, architecture="conv", posterior="deterministic",
        discriminator_units=(500, 500))
  if mode == "maae":
    return "unsupervised", config_lib.ModelConfig(num_discriminators=3)
  return "unsupervised", config_lib.ModelConfig()
