"""Benchmark (not a test): does the multi-adversarial AAE reach a steady
state faster than the plain AAE (seed 000 claims about 2x for N = 3)?

For each N in --ndisc and each seed, trains the 2-D Gaussian MNIST AAE and
reads `stability/objective_std` (the standard deviation of the code
discriminator's loss over the last `stability_window` steps) from the event
files. The steady-state step is the first logged step after which that
deviation stays below --threshold for the rest of the run.

  python benchmarks/maae_stability.py --data_dir /path/to/mnist --maxepoch 5
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags
from absl import logging
import numpy as np

import common  # pylint: disable=g-import-not-at-top

flags.DEFINE_list("ndisc", ["1", "3"], "Numbers of discriminators.")
flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds per N.")
flags.DEFINE_integer("maxepoch", 5, "Epochs per run.")
flags.DEFINE_float("threshold", 0.1, "Steady state: windowed deviation of "
                   "the discriminator loss below this, for good.")
flags.DEFINE_integer("steps_per_loop", 20, "Steps between logged values.")
flags.DEFINE_integer("train_size", None, "Train on the first N images.")
flags.DEFINE_string("data_dir", None, "Folder with the MNIST IDX files.")
flags.DEFINE_string("out_dir", "runs/bench_maae", "Where runs go.")
FLAGS = flags.FLAGS


def steady_state_step(steps, values, threshold):
  """First step after which every value is below threshold, or None."""
  above = np.flatnonzero(np.asarray(values) >= threshold)
  if not len(above):
    return int(steps[0])
  last = above[-1]
  return int(steps[last + 1]) if last + 1 < len(steps) else None


def main(argv):
  del argv
  from aae_tf import training, config as config_lib, figures, summaries  # pylint: disable=g-import-not-at-top
  from aae_tf import trainer as trainer_lib  # pylint: disable=g-import-not-at-top
  series, rows = {}, []
  for ndisc in (int(n) for n in FLAGS.ndisc):
    steady, start = [], time.perf_counter()
    for seed in (int(s) for s in FLAGS.seeds):
      config = config_lib.ExperimentConfig(
          save_path=os.path.abspath(os.path.join(
              FLAGS.out_dir, f"n{ndisc}_seed{seed}")),
          data=config_lib.DataConfig(data_dir=FLAGS.data_dir,
                                     max_train_examples=FLAGS.train_size),
          model=config_lib.ModelConfig(num_discriminators=ndisc),
          train=config_lib.TrainConfig(
              max_epoch=FLAGS.maxepoch, seed=seed, progress_bar=False,
              steps_per_loop=FLAGS.steps_per_loop)).validate()
      training.train_and_evaluate(config)
      steps, values = summaries.read_scalars(os.path.join(
          config.save_path, trainer_lib.SUMMARY_DIR))[trainer_lib.STABILITY_TAG]
      series[f"N={ndisc}, seed {seed}"] = (steps, values)
      steady.append(steady_state_step(steps, values, FLAGS.threshold))
    wall = time.perf_counter() - start
    settled = [s for s in steady if s is not None]
    summary = (f"{np.mean(settled):.0f} +- {np.std(settled):.0f}"
               if settled else "never")
    rows.append({"ndisc": ndisc, "seeds": FLAGS.seeds, "steady": steady,
                 "threshold": FLAGS.threshold, "wall_time_s": round(wall),
                 "hardware": common.hardware(),
                 "command": common.command_line()})
    logging.info("N = %d: steady-state step %s", ndisc, summary)
  figures.loss_curves(os.path.join(common.RESULTS_DIR, "maae_stability.png"),
                      series, title="Sliding-window std of the discriminator "
                      "loss", ylabel="standard deviation")
  common.append_results("maae_stability", rows)


if __name__ == "__main__":
  app.run(common.command_main(main))
