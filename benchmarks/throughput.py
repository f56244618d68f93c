"""Benchmark (not a test): training throughput of each mode against the plain
TensorFlow 2 step a user would write and against this machine's float32
matrix-product ceiling.

Reference: `reference_steps.py`, a per-step `tf.function(jit_compile=True)`
on a constant batch (the semi-supervised mode against a semi-supervised one,
the others against the unsupervised one). It and the compiled step loop are
timed after every epoch of the full loop (`--pairs` back-to-back pairs,
alternating which goes first), so the three rates are interleaved in the same
run; each column is the median over the epochs after the first, with its
range.

In one run: (1) the best float32 matmul rate over a few sizes
(`profiling.matmul_ceiling`); (2) for each mode, the FLOPs of one
training step (all phases, forward and backward) read from XLA's HLO before
and after optimisation (`profiling.hlo_flops`); (3) the compiled
multi-step loop's images/s alone and images/s through the
real training loop (`training.train_and_evaluate`: data pipeline, summaries, validation and
checkpoints at their default cadence), over the epochs after the first
(which includes tracing and XLA compilation); (4) the SavedModel's
encode / classify rate at batch 1,000. Fraction = images/s * FLOPs per image
/ ceiling.

  python benchmarks/throughput.py --data_dir /path/to/mnist --maxepoch 3
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags
from absl import logging

import common  # pylint: disable=g-import-not-at-top

flags.DEFINE_list("modes", ["unsupervised", "semisupervised", "conv", "maae"],
                  "Modes to measure.")
flags.DEFINE_integer("maxepoch", 4, "Epochs per mode (>= 2); every epoch after "
                     "the first is one repeat.")
flags.DEFINE_integer("train_size", None, "Train on the first N images.")
flags.DEFINE_string("data_dir", None, "Folder with the MNIST IDX files.")
flags.DEFINE_string("out_dir", "runs/bench_throughput", "Where runs go.")
flags.DEFINE_integer("pairs", 3, "Timings of the reference and of the step loop "
                     "after each epoch, in pairs whose order alternates "
                     "(reference first, then step loop first, ...), so that a "
                     "drift in the machine's speed cancels in the ratios.",
                     lower_bound=1)
FLAGS = flags.FLAGS
EXPORT_BATCH = 1000
EXPORT_REPEATS = 20
STEP_LOOP_STEPS = 100
REFERENCE_STEPS = 100
UPDATE_STEPS = 100


def step_flops(trainer, batch) -> dict:
  """Per-step FLOPs: XLA-executed dots/convolutions and the traced graph's."""
  import profiling  # pylint: disable=g-import-not-at-top
  compiler_ir = profiling.step_compiler_ir(trainer, batch)
  requested = profiling.hlo_flops(compiler_ir(stage="hlo"))["total"]
  optimized = compiler_ir(stage="optimized_hlo")
  executed = profiling.hlo_flops(optimized)["total"]
  dots = profiling.hlo_dots(optimized)
  dots_flops = profiling.dots_flops(dots)
  return {"executed": executed, "requested": requested,
          "entry_fusions": profiling.entry_fusions(optimized),
          # Share of the executed FLOPs in plain products, and how fast
          # those products alone run here.
          "dots_share": dots_flops / executed if executed else 0.0,
          "dots_alone_rate": profiling.dots_alone_rate(dots) if dots else 0.0}


def config_for(mode: str):
  from aae_tf import config as config_lib  # pylint: disable=g-import-not-at-top
  train_mode, model = common.throughput_model(mode)
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


def export_rate(saved_model: str, signature: str, image_shape) -> float:
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  fn = tf.saved_model.load(saved_model).signatures[signature]
  images = tf.random.uniform((EXPORT_BATCH,) + tuple(image_shape), -1, 1)
  fn(images=images)
  start = time.perf_counter()
  for _ in range(EXPORT_REPEATS):
    fn(images=images)
  return EXPORT_BATCH * EXPORT_REPEATS / (time.perf_counter() - start)


def export_flops(model, signature: str) -> float:
  """XLA-executed FLOPs per image of the exported function's computation."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import profiling  # pylint: disable=g-import-not-at-top
  fn = model.classify if signature == "classify" else model.encode
  compiled = tf.function(lambda images: fn(images), jit_compile=True)  # pylint: disable=unnecessary-lambda
  images = tf.zeros((EXPORT_BATCH,) + model.image_shape)
  return profiling.xla_flops(compiled, images)["total"] / EXPORT_BATCH


def updates_alone_seconds(trainer, steps: int = UPDATE_STEPS) -> float:
  """Seconds per step of the phases' optimiser updates alone: each phase's
  Adam applies a gradient to exactly its variables, in one compiled loop.
  Element-wise and bound by memory traffic (every parameter, its two moments
  and its gradient are read and written), so no FLOPs are counted for it.
  Changes the trainer's weights: use a throw-away trainer."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  phases = trainer.phases

  @tf.function(jit_compile=True)
  def update(scale):
    for phase in phases:
      variables = phase.variables
      phase.optimizer.apply_gradients(
          [(tf.fill(tf.shape(v), scale), v) for v in variables])

  @tf.function
  def loop(count):
    for i in tf.range(count):
      update(1e-3 * tf.cast(i % 2 * 2 - 1, tf.float32))

  loop(tf.constant(2))
  start = time.perf_counter()
  loop(tf.constant(steps))
  phases[0].variables[0].numpy()  # Waits for the last update.
  return (time.perf_counter() - start) / steps


def step_loop_rate(trainer, iterator) -> float:
  """Images/s of the compiled multi-step loop alone."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  start = time.perf_counter()
  trainer._loop_fn(iterator, tf.constant(STEP_LOOP_STEPS))  # pylint: disable=protected-access
  trainer.step.numpy()
  elapsed = time.perf_counter() - start
  return STEP_LOOP_STEPS * trainer.config.train.batch_size / elapsed


def reference(mode: str, batch_size: int, labeled_size: int):
  """(time() -> images/s, the executed FLOPs and ENTRY fusions of its
  optimised HLO) of the mode's plain reference step."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import reference_steps  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(0)
  x = tf.constant(rng.uniform(-1, 1, (batch_size, 784)), tf.float32)
  if mode == "semisupervised":
    step, sync = reference_steps.semisupervised_step()
    labeled = tf.constant(rng.uniform(-1, 1, (labeled_size, 784)), tf.float32)
    labels = tf.constant(np.arange(labeled_size) % 10, tf.int32)
    args = (x, labeled, labels)
  else:
    step, sync = reference_steps.unsupervised_step()
    args = (x,)
  step(*args)  # Trace and compile.
  sync.numpy()
  import profiling  # pylint: disable=g-import-not-at-top
  optimized = step.experimental_get_compiler_ir(*args)(stage="optimized_hlo")
  hlo = {"executed": profiling.hlo_flops(optimized)["total"],
         "entry_fusions": profiling.entry_fusions(optimized)}

  def rate() -> float:
    start = time.perf_counter()
    for _ in range(REFERENCE_STEPS):
      step(*args)
    sync.numpy()
    return REFERENCE_STEPS * batch_size / (time.perf_counter() - start)

  return rate, hlo


def median_range(values) -> tuple:
  import numpy as np  # pylint: disable=g-import-not-at-top
  return float(np.median(values)), float(min(values)), float(max(values))


def main(argv):
  del argv
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import profiling  # pylint: disable=g-import-not-at-top
  from aae_tf import training, trainer as trainer_lib  # pylint: disable=g-import-not-at-top
  from aae_tf.modes import build_model  # pylint: disable=g-import-not-at-top
  best = profiling.matmul_ceiling()
  ceiling = best["flops_per_s"]
  logging.info("float32 matmul ceiling: %.1f GFLOP/s (%s)", ceiling / 1e9, best)
  rows = []
  for mode in FLAGS.modes:
    config = config_for(mode)
    if os.path.exists(config.save_path):
      raise SystemExit(f"{config.save_path} exists; choose a new --out_dir.")
    splits = training.load_data(config)
    steps = training.steps_per_epoch(config, len(splits.train.labels))
    probe = trainer_lib.Trainer(build_model(config), config, steps)
    dataset = probe.model.train_dataset(splits.train, 0)
    flops = step_flops(probe, next(iter(dataset)))
    per_image = flops["executed"] / config.train.batch_size
    requested = flops["requested"] / config.train.batch_size
    updates = updates_alone_seconds(
        trainer_lib.Trainer(build_model(config), config, steps))
    iterator = iter(dataset.repeat())
    probe._loop_fn(iterator, tf.constant(5))  # pylint: disable=protected-access
    reference_rate, reference_hlo = reference(
        mode, config.train.batch_size, config.train.labeled_batch_size)
    # The most this step could reach here even if every product ran at the
    # ceiling: products plus the optimiser updates, nothing else.
    step = flops["executed"]
    bound = step / (step / ceiling + updates) / ceiling
    stamps, paused, references, loops, pairs = [], [], [], [], []

    def between_epochs(_):
      """Times the reference and the step loop after each epoch (FLAGS.pairs
      pairs, alternating which goes first); that time is taken out of the
      full loop's."""
      stamps.append(time.perf_counter())
      epoch_pairs = []
      for i in range(FLAGS.pairs):
        if i % 2 == 0:
          ref_rate = reference_rate()
          loop_rate = step_loop_rate(probe, iterator)
        else:
          loop_rate = step_loop_rate(probe, iterator)
          ref_rate = reference_rate()
        epoch_pairs.append((ref_rate, loop_rate))
      pairs.append(epoch_pairs)
      references.append(median_range([r for r, _ in epoch_pairs])[0])
      loops.append(median_range([l for _, l in epoch_pairs])[0])
      paused.append(time.perf_counter() - stamps[-1])

    saved_model = training.train_and_evaluate(
        config, on_epoch_end=between_epochs).saved_model
    # Epochs 2.. (the first includes tracing and XLA compilation).
    epoch_images = steps * config.train.batch_size
    full = [epoch_images / (stamps[i] - stamps[i - 1] - paused[i - 1])
            for i in range(1, len(stamps))]
    ratios_full = [f / r for f, r in zip(full, references[1:])]
    # One ratio per pair, each pair timed back to back.
    ratios_loop = [l / r for epoch_pairs in pairs[1:] for r, l in epoch_pairs]
    rate = median_range(full)[0]
    loop_rate = median_range(loops[1:])[0]
    ref = median_range(references[1:])
    full_ratio, loop_ratio = median_range(ratios_full), median_range(
        ratios_loop)
    signature = "classify" if mode == "semisupervised" else "encode"
    model = training.restore_model(config, "latest")
    exported = export_rate(saved_model, signature, model.image_shape)
    export_fraction = exported * export_flops(model, signature) / ceiling
    fraction = rate * per_image / ceiling
    loop_fraction = loop_rate * per_image / ceiling
    row = {"mode": mode, "reference_images_per_s": ref[0],
           "reference_range": ref[1:], "full_over_reference": full_ratio,
           "step_loop_over_reference": loop_ratio,
           "full_loop_samples": full, "step_loop_samples": loops[1:],
           "reference_samples": references[1:],
           "pairs": [[list(p) for p in e] for e in pairs[1:]],
           "executed_flops_per_image": per_image,
           # The same products as the reference's, and how many more fused
           # kernels (the bookkeeping beside them).
           "reference_executed_flops_per_image":
               reference_hlo["executed"] / config.train.batch_size,
           "entry_fusions": flops["entry_fusions"],
           "reference_entry_fusions": reference_hlo["entry_fusions"],
           "requested_flops_per_image": requested,
           "train_images_per_s": rate, "step_loop_images_per_s": loop_rate,
           "ceiling_flops": ceiling, "ceiling_matmul": best,
           "fraction": fraction, "step_loop_fraction": loop_fraction,
           "dots_share": flops["dots_share"],
           "dots_alone_fraction": flops["dots_alone_rate"] / ceiling,
           "updates_alone_s_per_step": updates, "bound_fraction": bound,
           "export_signature": signature, "export_images_per_s": exported,
           "export_fraction": export_fraction,
           "train_images": len(splits.train.labels),
           "hardware": common.hardware(), "command": common.command_line()}
    rows.append(row)
    logging.info("%s: %.1f MFLOP/image, %.0f images/s (step loop %.0f), "
                 "%.0f%% of %.1f GFLOP/s", mode, per_image / 1e6, rate,
                 loop_rate, 100 * fraction, ceiling / 1e9)
    logging.info("%s optimised HLO: %.2f MFLOP/image and %d ENTRY fusions; "
                 "reference %.2f MFLOP/image and %d", mode, per_image / 1e6,
                 flops["entry_fusions"],
                 row["reference_executed_flops_per_image"] / 1e6,
                 reference_hlo["entry_fusions"])
  common.append_results("throughput", rows)


if __name__ == "__main__":
  app.run(common.command_main(main))
