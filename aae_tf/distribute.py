"""tf.distribute strategies by name, and who writes files in a cluster."""

from __future__ import annotations

import tensorflow as tf

from aae_tf.config import STRATEGIES
from aae_tf.errors import ConfigError


def make_strategy(name: str) -> tf.distribute.Strategy:
  """`default` (one device), `mirrored` (all local GPUs, or the CPU), or
  `multi_worker` (MultiWorkerMirroredStrategy configured by TF_CONFIG)."""
  if name == "default":
    return tf.distribute.get_strategy()
  if name == "mirrored":
    return tf.distribute.MirroredStrategy()
  if name == "multi_worker":
    return tf.distribute.MultiWorkerMirroredStrategy()
  raise ConfigError(f"Unknown strategy {name!r}: choose one of "
                    f"{', '.join(STRATEGIES)}.")


def is_chief(strategy: tf.distribute.Strategy) -> bool:
  """True for the one process that writes checkpoints, summaries, exports.

  In a multi-worker cluster that is the task named `chief`, or worker 0 when
  the cluster has no chief; everywhere else it is the only process.
  """
  resolver = getattr(strategy, "cluster_resolver", None)
  if resolver is None or not resolver.task_type:
    return True
  if resolver.task_type == "chief":
    return True
  has_chief = "chief" in resolver.cluster_spec().as_dict()
  return (not has_chief and resolver.task_type == "worker"
          and resolver.task_id == 0)


def with_training_options(dataset: tf.data.Dataset) -> tf.data.Dataset:
  """The training pipeline's tf.data options: shard by data, no autotuning.

  The trainer makes one iterator per epoch. With tf.data's autotuning on,
  deleting that iterator can wait for the autotuning thread to wake up, which
  stalled epochs by tens of seconds (results/throughput.md).
  """
  options = tf.data.Options()
  options.experimental_distribute.auto_shard_policy = (
      tf.data.experimental.AutoShardPolicy.DATA)
  options.autotune.enabled = False
  return dataset.with_options(options)


def distribute(strategy: tf.distribute.Strategy,
               dataset: tf.data.Dataset) -> tf.data.Dataset:
  """Splits each global batch over the replicas (and workers, by data)."""
  return strategy.experimental_distribute_dataset(
      with_training_options(dataset))
