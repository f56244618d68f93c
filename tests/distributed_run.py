"""Trains a tiny AAE under a tf.distribute strategy (run by test_distribute).

  python distributed_run.py default|mirrored|multi_worker SAVE_PATH OUT.npz

`mirrored` splits the host CPU into two logical devices. Prior samples and
posteriors are made deterministic so that runs with one and two replicas see
the same numbers and must end with the same losses and weights.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import dataclasses  # pylint: disable=g-import-not-at-top

import numpy as np
import tensorflow as tf

STEPS = 4


def main(kind: str, save_path: str, out: str) -> None:
  if kind == "mirrored":
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
  elif kind == "multi_worker":
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
  else:
    strategy = tf.distribute.get_strategy()

  from aae_tf import distribute, trainer as trainer_lib  # pylint: disable=g-import-not-at-top
  from aae_tf.modes import build_model  # pylint: disable=g-import-not-at-top
  from conftest import make_tiny_splits, small_config  # pylint: disable=g-import-not-at-top

  config = small_config(save_path, jit_compile=False)
  config = dataclasses.replace(config, model=dataclasses.replace(
      config.model, posterior="deterministic"))
  with strategy.scope():
    model = build_model(config)
  # The same "prior sample" for an example whatever its replica: a fixed
  # function of its label, so one and two replicas compute the same losses.
  model.prior_for = lambda n, labels: tf.sin(
      tf.cast(labels, tf.float32)[:, None] * tf.constant([1.0, 2.0]))
  trainer = trainer_lib.Trainer(model, config, steps_per_epoch=STEPS,
                                strategy=strategy)
  splits = make_tiny_splits()
  dataset = model.train_dataset(splits.train, seed=0)
  iterator = iter(distribute.distribute(strategy, dataset))
  losses = []
  for _ in range(STEPS):
    trainer._loop_fn(iterator, tf.constant(1))  # pylint: disable=protected-access
    losses.append([float(trainer.metrics[k].result())
                   for k in sorted(trainer.metrics)])
    for metric in trainer.metrics.values():
      metric.reset_state()
  trainer.save(1)
  weights = {f"{name}/{i}": v.numpy() for name, net in model.networks.items()
             for i, v in enumerate(net.trainable_variables)}
  handler = trainer.preemption
  np.savez(out, losses=np.array(losses), chief=trainer.chief,
           replicas=strategy.num_replicas_in_sync,
           preemption_to_interrupt_manager=handler is not None and (
               handler._checkpoint_or_checkpoint_manager  # pylint: disable=protected-access
               is trainer.interrupt_manager), **weights)


if __name__ == "__main__":
  main(*sys.argv[1:4])
