"""Benchmark (not a test): minutes of training until the validation error
with 100 labels first reaches 5, 3 and 2%, per recipe.

  python benchmarks/time_to_accuracy.py --data_dir /path/to/mnist

Each recipe's seconds per epoch are measured here, side by side in this one
process (the second of three epochs: the first compiles, the last writes the
end-of-run summaries), and multiplied by the epochs its 100-label runs in
results/classify_mnist.json needed (the median over those runs; none when
fewer than half of them got there).
"""

import os
import re
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags

import common  # pylint: disable=g-import-not-at-top

flags.DEFINE_list("recipes", ["paper", "paper_plus", "budget"],
                  "The recipes to compare.")
flags.DEFINE_list("thresholds", ["0.05", "0.03", "0.02"],
                  "Validation errors to reach.")
flags.DEFINE_string("data_dir", None, "Folder with the four MNIST IDX files.")
FLAGS = flags.FLAGS

TIMED_EPOCHS = 3  # The second one is timed.
NUM_LABELED = 100
# The 100-label rows of results/classify_mnist.json that ran each recipe's
# own settings (any draw or run seed), by their names under today's defaults
# (tables.todays_tag); paper_plus's first rows spelled it out flag by flag,
# budget rows may pass its 100-label VAT or a --maxepoch of their own.
RUNS = {"paper": r"semisupervised100_paper",
        "paper_plus": r"semisupervised100_(paper_plus|paper_vat0\.1_eps1_"
                      r"balance10)",
        "budget": r"semisupervised100_budget(_vat0\.6_vatramp5)?(_\d+ep)?"}
SEEDS = r"(_seed\d+)?(_labels\d+)?"
# The JSON field of each split's per-epoch error.
_CURVES = {"validation": "validation_curve", "test": "curve"}


def seconds_per_epoch(recipe: str, splits) -> float:
  """The wall time of one steady epoch of `recipe` with 100 labels,
  validation included."""
  import dataclasses  # pylint: disable=g-import-not-at-top
  from aae_tf import recipes, training  # pylint: disable=g-import-not-at-top
  ends = []
  with tempfile.TemporaryDirectory() as tmp:
    config = recipes.make_config("semisupervised", os.path.join(tmp, recipe),
                                 recipe, num_labeled=NUM_LABELED)
    config = dataclasses.replace(config, train=dataclasses.replace(
        config.train, max_epoch=TIMED_EPOCHS, progress_bar=False,
        test_every_epochs=0))
    training.train_and_evaluate(config, splits, export_model=False,
                                on_epoch_end=lambda _: ends.append(
                                    time.monotonic()))
  return ends[1] - ends[0]


def epochs_to_reach(recipe: str, rows: list, thresholds,
                    split: str = "validation") -> dict:
  """Per threshold: the median epoch at which the recipe's runs first had
  that error on `split` ("validation", or "test" for rows recorded before
  the validation curve was kept), and how many of them reached it."""
  pattern = re.compile(RUNS[recipe] + "(?P<seeds>" + SEEDS + ")$")
  # One curve per draw and run seed: the longest (a run carried on later
  # has a row per length).
  import tables  # pylint: disable=g-import-not-at-top
  by_seeds = {}
  for index, row in enumerate(rows):
    match = pattern.match(tables.todays_tag(row, index))
    points = row.get(_CURVES[split])
    if match and points:
      curve = [p["value"] for p in points]
      key = match.group("seeds")
      if len(curve) > len(by_seeds.get(key, [])):
        by_seeds[key] = curve
  curves = list(by_seeds.values())
  out = {}
  for threshold in thresholds:
    # A run that never got there counts as later than every run that did.
    hits = sorted(next((i + 1 for i, v in enumerate(c) if v <= threshold),
                       float("inf")) for c in curves)
    middle = hits[(len(hits) - 1) // 2] if hits else float("inf")
    out[f"{threshold:g}"] = {
        "median_epoch": None if middle == float("inf") else middle,
        "runs": len(hits), "reached": sum(h < float("inf") for h in hits)}
  return out


def main(argv):
  del argv
  import json  # pylint: disable=g-import-not-at-top
  from aae_tf import mnist  # pylint: disable=g-import-not-at-top
  thresholds = [float(t) for t in FLAGS.thresholds]
  with open(os.path.join(common.RESULTS_DIR, "classify_mnist.json")) as f:
    runs = json.load(f)
  splits = mnist.load_mnist(FLAGS.data_dir)
  rows = []
  for recipe in FLAGS.recipes:
    seconds = seconds_per_epoch(recipe, splits)
    split = "validation"
    reach = epochs_to_reach(recipe, runs, thresholds)
    if not any(v["runs"] for v in reach.values()):
      split = "test"  # Older rows kept only their test curve.
      reach = epochs_to_reach(recipe, runs, thresholds, split)
    minutes = {k: (None if v["median_epoch"] is None else
                   round(v["median_epoch"] * seconds / 60.0, 1))
               for k, v in reach.items()}
    rows.append({"recipe": recipe, "seconds_per_epoch": round(seconds, 1),
                 "epochs_to": reach, "minutes_to": minutes, "split": split,
                 "hardware": common.hardware(),
                 "command": common.command_line()})
  common.append_results("time_to_accuracy", rows)


if __name__ == "__main__":
  app.run(common.command_main(main))
