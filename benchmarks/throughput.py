"""Benchmark (not a test): training throughput of each mode against this
machine's float32 matrix-product ceiling (issue 5).

In one run: (1) the best float32 matmul rate over a few sizes; (2) for each
mode, the FLOPs of one training step (all phases, forward and backward),
counted by TensorFlow's profiler on the traced step; (3) images/s through the
real training loop (`app.train`: data pipeline, summaries, validation and
checkpoints at their default cadence), over the epochs after the first
(which includes tracing and XLA compilation); (4) the SavedModel's
encode / classify rate at batch 1,000. Fraction = images/s * FLOPs per image
/ ceiling.

  python benchmarks/throughput.py --data_dir /path/to/mnist --maxepoch 3
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags
from absl import logging

import common  # pylint: disable=g-import-not-at-top

flags.DEFINE_list("modes", ["unsupervised", "semisupervised", "conv", "maae"],
                  "Modes to measure.")
flags.DEFINE_integer("maxepoch", 3, "Epochs per mode (>= 2).")
flags.DEFINE_integer("train_size", None, "Train on the first N images.")
flags.DEFINE_string("data_dir", None, "Folder with the MNIST IDX files.")
flags.DEFINE_string("out_dir", "runs/bench_throughput", "Where runs go.")
FLAGS = flags.FLAGS
MATMUL_SIZES = ((128, 1000, 1000), (512, 1000, 1000), (1024, 1024, 1024),
                (2048, 2048, 2048))
MATMUL_SECONDS = 2.0
EXPORT_BATCH = 1000
EXPORT_REPEATS = 20
HEADER = """# Training throughput against the float32 matmul ceiling (issue 5)

Ceiling: the best float32 matrix-product rate measured in the same run. FLOPs per image: TensorFlow's
profiler on one traced training step (every phase, forward and backward) divided by the batch size.
Images/s: the real training loop over the epochs after the first.

| mode | FLOPs/image (M) | train images/s | ceiling (GFLOP/s) | fraction of ceiling | export images/s (batch 1000) | export fraction | hardware | command |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
"""


def matmul_ceiling() -> float:
  """Best float32 matmul rate in FLOP/s over MATMUL_SIZES."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  best = 0.0
  for m, k, n in MATMUL_SIZES:
    a, b = tf.random.normal([m, k]), tf.random.normal([k, n])
    fn = tf.function(lambda a, b: tf.reduce_sum(tf.matmul(a, b)))
    fn(a, b).numpy()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < MATMUL_SECONDS:
      fn(a, b).numpy()
      count += 1
    best = max(best, 2.0 * m * k * n * count / (time.perf_counter() - start))
  return best


def step_flops(trainer, dataset) -> float:
  """FLOPs of one traced (non-XLA) training step."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tensorflow.python.profiler import model_analyzer, option_builder  # pylint: disable=g-import-not-at-top,g-direct-tensorflow-import
  graph = tf.function(trainer._train_step).get_concrete_function(  # pylint: disable=protected-access
      dataset.element_spec).graph
  options = option_builder.ProfileOptionBuilder.float_operation()
  options["output"] = "none"
  return float(model_analyzer.profile(graph, options=options).total_float_ops)


def config_for(mode: str):
  from aae_tf import config as config_lib  # pylint: disable=g-import-not-at-top
  model = config_lib.ModelConfig()
  train_mode = "unsupervised"
  if mode == "semisupervised":
    train_mode, model = mode, config_lib.ModelConfig(ncode=10)
  elif mode == "conv":
    model = config_lib.ModelConfig(ncode=5, architecture="conv",
                                   posterior="deterministic",
                                   discriminator_units=(500, 500))
  elif mode == "maae":
    model = config_lib.ModelConfig(num_discriminators=3)
  return config_lib.ExperimentConfig(
      save_path=os.path.abspath(os.path.join(FLAGS.out_dir, mode)),
      mode=train_mode,
      data=config_lib.DataConfig(data_dir=FLAGS.data_dir,
                                 max_train_examples=FLAGS.train_size),
      model=model,
      train=config_lib.TrainConfig(max_epoch=FLAGS.maxepoch,
                                   progress_bar=False,
                                   num_labeled=1000 if mode == "semisupervised"
                                   else None)).validate()


def export_rate(saved_model: str, signature: str, size: int) -> float:
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  fn = tf.saved_model.load(saved_model).signatures[signature]
  images = tf.random.uniform([EXPORT_BATCH, size], -1, 1)
  fn(images=images)
  start = time.perf_counter()
  for _ in range(EXPORT_REPEATS):
    fn(images=images)
  return EXPORT_BATCH * EXPORT_REPEATS / (time.perf_counter() - start)


def export_flops(model, signature: str) -> float:
  """FLOPs per image of the exported function's computation."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tensorflow.python.profiler import model_analyzer, option_builder  # pylint: disable=g-import-not-at-top,g-direct-tensorflow-import
  fn = model.classify if signature == "classify" else model.encode
  graph = tf.function(fn).get_concrete_function(
      tf.TensorSpec([EXPORT_BATCH, model.image_size])).graph
  options = option_builder.ProfileOptionBuilder.float_operation()
  options["output"] = "none"
  return float(model_analyzer.profile(graph, options=options)
               .total_float_ops) / EXPORT_BATCH


def main(argv):
  del argv
  from aae_tf import app as aae_app, trainer as trainer_lib  # pylint: disable=g-import-not-at-top
  from aae_tf.models import build_model  # pylint: disable=g-import-not-at-top
  ceiling = matmul_ceiling()
  logging.info("float32 matmul ceiling: %.1f GFLOP/s", ceiling / 1e9)
  lines, rows = [], []
  for mode in FLAGS.modes:
    config = config_for(mode)
    if os.path.exists(config.save_path):
      raise SystemExit(f"{config.save_path} exists; choose a new --out_dir.")
    splits = aae_app.load_data(config)
    steps = aae_app.steps_per_epoch(config, len(splits.train.labels))
    probe = trainer_lib.Trainer(build_model(config), config, steps)
    flops = step_flops(probe, probe.model.train_dataset(splits.train, 0))
    per_image = flops / config.train.batch_size
    stamps = []
    saved_model = aae_app.train(
        config, on_epoch_end=lambda _: stamps.append(time.perf_counter()))
    # Epochs 2.. (the first includes tracing and XLA compilation).
    images = (len(stamps) - 1) * steps * config.train.batch_size
    rate = images / (stamps[-1] - stamps[0])
    signature = "classify" if mode == "semisupervised" else "encode"
    model = aae_app.restore_model(config, "latest")
    exported = export_rate(saved_model, signature, model.image_size)
    export_fraction = exported * export_flops(model, signature) / ceiling
    fraction = rate * per_image / ceiling
    row = {"mode": mode, "flops_per_image": per_image,
           "train_images_per_s": rate, "ceiling_flops": ceiling,
           "fraction": fraction, "export_signature": signature,
           "export_images_per_s": exported,
           "export_fraction": export_fraction,
           "hardware": common.hardware(), "command": common.command_line()}
    rows.append(row)
    logging.info("%s: %.1f MFLOP/image, %.0f images/s, %.0f%% of %.1f GFLOP/s",
                 mode, per_image / 1e6, rate, 100 * fraction, ceiling / 1e9)
    lines.append(f"| {mode} | {per_image / 1e6:.1f} | {rate:.0f} | "
                 f"{ceiling / 1e9:.1f} | {100 * fraction:.0f}% | "
                 f"{exported:.0f} ({signature}) | {100 * export_fraction:.0f}% "
                 f"| {common.hardware()} | `{common.command_line()}` |")
  common.append_results("throughput", rows, lines, HEADER)
  print("\n".join(HEADER.splitlines()[-2:] + lines))  # pylint: disable=print-function


if __name__ == "__main__":
  app.run(main)
