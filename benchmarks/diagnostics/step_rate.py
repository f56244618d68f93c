"""Diagnostic (not a test): images/s of one mode's compiled step loop, to compare
two commits of this package in the same sitting (is any mode slower than
before?).

Run it with PYTHONPATH naming the checkout to measure; it works with the
package's two layouts (`aae_tf.app` / `aae_tf.models`,
then `aae_tf.training` / `aae_tf.modes`). Alternate the two checkouts a few
times and compare the medians, e.g.

  for i in 1 2 3; do for tree in /path/old /path/new; do
    PYTHONPATH=$tree taskset -c 0 python benchmarks/diagnostics/step_rate.py \
        --mode conv --data_dir /path/to/mnist; done; done

Prints one JSON line: the mode, the package's location and the images/s of
each repeat (`--steps` steps each, after a warm-up that compiles).

`--overhead` also bounds what the loop around the step costs: the
same compiled loop with the step replaced by a stub that returns the same
outputs (so the data iterator, metric updates and global step remain), and a
loop that only draws batches; each as a share of the real step loop's time
per step, measured in the same process. `--epoch_work` times the per-epoch
work of the full loop (the validation pass, the epoch summaries, a checkpoint)
as shares of one epoch of steps at that rate.
"""

import json
import os
import sys
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags

sys.path.insert(0, os.path.dirname(os.path.dirname(  # benchmarks/: common
    os.path.abspath(__file__))))
import common  # pylint: disable=g-import-not-at-top

flags.DEFINE_enum("mode", "unsupervised",
                  ["unsupervised", "semisupervised", "conv", "maae"],
                  "Which model (as in throughput.py).")
flags.DEFINE_string("data_dir", None, "Folder with the MNIST IDX files.")
flags.DEFINE_integer("steps", 100, "Steps per timed repeat.")
flags.DEFINE_integer("repeats", 3, "Timed repeats.")
flags.DEFINE_bool("overhead", False, "Also time the loop around a stub step "
                  "and the data iterator alone (shares of a real step).")
flags.DEFINE_bool("epoch_work", False, "Also time the validation pass, the "
                  "epoch summaries and a checkpoint (shares of an epoch).")
flags.DEFINE_integer("stub_steps", 2000, "Steps per timed repeat of the "
                     "--overhead loops.")
FLAGS = flags.FLAGS
WARMUP_STEPS = 5


def config_for(mode: str, save_path: str):
  """The models of throughput.py (same fields in both layouts)."""
  from aae_tf import config as config_lib  # pylint: disable=g-import-not-at-top
  train_mode, model = common.throughput_model(mode)
  return config_lib.ExperimentConfig(
      save_path=save_path, mode=train_mode,
      data=config_lib.DataConfig(data_dir=FLAGS.data_dir),
      model=model,
      train=config_lib.TrainConfig(
          progress_bar=False,
          num_labeled=1000 if mode == "semisupervised" else None)).validate()


def main(argv):
  del argv
  import aae_tf  # pylint: disable=g-import-not-at-top
  from aae_tf import trainer as trainer_lib  # pylint: disable=g-import-not-at-top
  package = os.path.dirname(aae_tf.__file__)
  # By file, not by import: an editable install can make the other layout's
  # modules importable from another checkout.
  if os.path.exists(os.path.join(package, "modes.py")):
    from aae_tf import training as loop  # pylint: disable=g-import-not-at-top
    from aae_tf.modes import build_model  # pylint: disable=g-import-not-at-top
  else:  # The older layout.
    from aae_tf import app as loop  # pylint: disable=g-import-not-at-top
    from aae_tf.models import build_model  # pylint: disable=g-import-not-at-top
  config = config_for(FLAGS.mode, tempfile.mkdtemp(prefix="step_rate_"))
  splits = loop.load_data(config)
  steps = loop.steps_per_epoch(config, len(splits.train.labels))
  trainer = trainer_lib.Trainer(build_model(config), config, steps)
  iterator = iter(trainer.model.train_dataset(splits.train, 0).repeat())
  seconds = time_loop(trainer._loop_fn, iterator, FLAGS.steps,  # pylint: disable=protected-access
                      trainer.step)
  rates = [FLAGS.steps * config.train.batch_size / s for s in seconds]
  result = {"mode": FLAGS.mode, "package": package, "images_per_s": rates}
  step_seconds = statistics.median(seconds) / FLAGS.steps
  if FLAGS.epoch_work:
    result.update(epoch_work(trainer, splits, step_seconds * steps))
  if FLAGS.overhead:  # Last: it replaces the trainer's step by a stub.
    result.update(loop_overhead(trainer, iterator, step_seconds))
  print(json.dumps(result))  # pylint: disable=print-function


def timed(fn, warmup) -> list:
  """Seconds of each of --repeats calls of `fn()`, after `warmup()` (which
  compiles)."""
  warmup()
  seconds = []
  for _ in range(FLAGS.repeats):
    start = time.perf_counter()
    fn()
    seconds.append(time.perf_counter() - start)
  return seconds


def time_loop(loop_fn, iterator, steps: int, counter) -> list:
  """`timed` calls of `loop_fn(iterator, steps)`, after a short warm-up;
  `counter.numpy()` waits for the work."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  def run(n):
    loop_fn(iterator, tf.constant(n))
    counter.numpy()

  return timed(lambda: run(steps), lambda: run(WARMUP_STEPS))


def epoch_work(trainer, splits, epoch_seconds: float) -> dict:
  """Median seconds of each kind of per-epoch work of the full loop, and
  its share of `epoch_seconds`."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from aae_tf import summaries  # pylint: disable=g-import-not-at-top
  train = trainer.config.train
  eval_images = summaries.fixed_eval_batch(splits.validation, train)
  writer = tf.summary.create_file_writer(
      os.path.join(trainer.config.save_path, "summaries"))

  def write_summaries():
    with writer.as_default(step=trainer.step):
      summaries.write_epoch_summaries(trainer.model, eval_images,
                                      splits.validation, train)

  work = {"validation_pass": lambda: trainer.epoch_results(
              splits, validation=True, test=False),
          "epoch_summaries": write_summaries,
          "checkpoint": lambda: trainer.save(1)}
  result = {"epoch_of_steps_s": epoch_seconds}
  for name, fn in work.items():
    result[f"{name}_s"] = statistics.median(timed(fn, warmup=fn))
    result[f"{name}_share"] = result[f"{name}_s"] / epoch_seconds
  return result


def loop_overhead(trainer, iterator, step_seconds: float) -> dict:
  """Time per step of the loop around a stub step, and of drawing batches
  alone, as shares of `step_seconds` (the real step loop's)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  keys = [k for phase in trainer.phases for k in phase.output_names]

  def stub(batch, step):
    del step  # One read of the batch, so the iterator's work is not elided.
    value = tf.reduce_mean(tf.cast(batch["image"][:1], tf.float32))
    return {key: value for key in keys}

  trainer._step_fn = tf.function(stub, jit_compile=True)  # pylint: disable=protected-access
  around = tf.function(trainer._train_loop)  # pylint: disable=protected-access
  total = tf.Variable(0.0)

  @tf.function
  def draw(iterator, num_steps):
    for _ in tf.range(num_steps):
      total.assign_add(tf.reduce_mean(tf.cast(next(iterator)["image"][:1],
                                              tf.float32)))

  per_step = {}
  for name, fn, counter in (("around_step", around, trainer.step),
                            ("iterator", draw, total)):
    per_step[name] = statistics.median(
        time_loop(fn, iterator, FLAGS.stub_steps, counter)) / FLAGS.stub_steps
  return {"step_us": 1e6 * step_seconds,
          **{f"{k}_us": 1e6 * v for k, v in per_step.items()},
          **{f"{k}_share": v / step_seconds for k, v in per_step.items()}}


if __name__ == "__main__":
  app.run(main)
