"""Named training recipes: the configuration of each mode, as presets.

`make_config(mode, save_path, recipe)` is what both the command line and
Python users start from, so the same mode gets the same model either way:

- "seed": the TF1 seed's Adam settings (beta1 0.5, [-1, 1] pixels, tanh
  decoder, Gaussian posterior, adversarial weights 6), with the per-mode
  changes our measurements kept (results/classify_mnist.md,
  results/cluster_mnist.md).
- "paper": the appendix of Makhzani et al. as far as it can be reconstructed
  (docs/recipes.md): SGD with momentum per phase,
  deterministic q(z|x), [0, 1] pixels with a sigmoid decoder and half the
  summed squared error, Glorot initialisation, ReLU discriminators.
- "paper_plus": the paper recipe with the beyond-the-paper phases our
  measurements kept for the mode (PAPER_PLUS; semi-supervised: virtual
  adversarial training and class balance; clustering: the same two); the
  paper recipe itself where none was measured to help.
- "budget": "paper_plus" made for a run of at most about a hundred epochs:
  every rate constant for the first part of the run, then annealed to zero
  at its last step whatever --maxepoch is, an exponential moving average of
  the weights for evaluation and export (BUDGET), and the per-mode changes
  measured with that schedule (BUDGET_MODES).
- "default": per mode, whichever recipe measured better (DEFAULT_RECIPES,
  with labels DEFAULT_RECIPES_WITH_LABELS; docs/recipes.md says where each
  came from).

CelebA (`dataset="celeba"`, unsupervised only) has the "seed" recipe, its
"default": Adam at a constant rate on the 32x32 convolutional networks of
`architecture` (CELEBA_NETWORKS).
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Optional

from aae_tf import config as config_lib
from aae_tf.config import (DataConfig, ExperimentConfig, ModelConfig,
                           OptimizerConfig, PriorConfig, TrainConfig)
from aae_tf.errors import ConfigError

RECIPES = ("default", "paper", "paper_plus", "budget", "seed")
# The recipe "default" stands for, per mode (docs/recipes.md says why).
DEFAULT_RECIPES = {"unsupervised": "seed", "label": "seed",
                   "supervised": "seed", "semisupervised": "budget",
                   "clustering": "budget", "dimreduction": "seed"}
# Where a mode's runs with --num_labeled default to another recipe.
DEFAULT_RECIPES_WITH_LABELS = {"dimreduction": "budget"}
# Beyond the paper, per mode, for "paper_plus": TrainConfig fields over the
# paper recipe, chosen on validation (docs/recipes.md).
PAPER_PLUS = {"semisupervised": dict(vat_weight=0.1, vat_epsilon=1.0,
                                     class_balance_weight=10.0),
              "clustering": dict(vat_weight=0.1, vat_epsilon=2.0)}
# Clustering's class-balance weight per recipe, by the cluster counts it was
# chosen for on validation; other counts take the nearest one's.
CLUSTER_BALANCE = {"paper_plus": {16: 3.0, 30: 10.0},
                   "budget": {10: 20.0, 16: 5.0, 30: 10.0}}
# "budget" clustering's warm-up (OptimizerConfig.warmup_epochs) by cluster
# count, as CLUSTER_BALANCE: without it 10 clusters can lose their encoder
# in the first epoch (docs/recipes.md).
BUDGET_CLUSTER_WARMUP = {10: 1.0, 16: 0.0, 30: 0.0}
# "budget" clustering's run length in epochs by cluster count, as
# CLUSTER_BALANCE: 30 clusters kept improving past 24 (docs/recipes.md).
BUDGET_CLUSTER_EPOCHS = {10: 24, 16: 24, 30: 30}
# "budget" clustering's style code size (ModelConfig.ncode) by cluster
# count, as CLUSTER_BALANCE: the paper's 5, and 10 for 10 clusters, where
# the larger code parted 3s from 5s (docs/recipes.md).
BUDGET_CLUSTER_NCODE = {10: 10, 16: 5, 30: 5}
# "budget" over "paper_plus": the run's length, where its rates start to
# anneal (a fraction of it) and the weight average's decay per step.
BUDGET = dict(max_epoch=20, anneal="linear", anneal_start=0.5,
              weight_average_decay=0.999)
# "budget" per mode, TrainConfig fields over BUDGET's and paper_plus's: its
# run length, clustering's larger VAT weight and its clusters named on the
# validation split as in the paper (docs/recipes.md). Clustering's run
# length is BUDGET_CLUSTER_EPOCHS's, its class-balance weight
# CLUSTER_BALANCE["budget"]'s; semi-supervised fields are BUDGET_LABELS's.
BUDGET_MODES = {"dimreduction": dict(max_epoch=10),
                "clustering": dict(vat_weight=1.0,
                                   cluster_naming_split="validation")}
# "budget" semi-supervised run length and VAT (weight, radius, epochs over
# which the weight rises), by the numbers of labels they were chosen for on
# validation; other numbers (and all labels) take the nearest one's.
BUDGET_LABELS = {100: dict(max_epoch=20, vat_weight=0.6, vat_epsilon=1.0,
                           vat_rampup_epochs=5.0),
                 1000: dict(max_epoch=50, vat_weight=0.1, vat_epsilon=2.0)}
# "budget" per mode: the global-norm cap of every phase's gradients
# (OptimizerConfig.clip_norm), above the norms of ordinary steps; without it
# a clustering run can turn to NaN within its first epoch (docs/recipes.md).
BUDGET_CLIP_NORM = {"clustering": 50.0}
# "budget" networks per mode: clustering's MLPs narrowed from the paper's
# 3000 units to 1200 (IMSAT's encoder width), an epoch in about a third of
# the time.
BUDGET_UNITS = {"clustering": (1200, 1200)}
DEFAULT_CLUSTERS = 16
# Input noise of --noise, in [0, 1] pixel units (the paper's 0.3; the seed's
# 0.6 on [-1, 1] pixels is the same noise).
NOISE_STD_UNIT = 0.3
CATEGORICAL_MODES = config_lib.CATEGORICAL_MODES
# CelebA's networks, by architecture: the multi-adversarial AAE appendix's
# (Gaussian posterior) and a 32x32 convolutional AAE (deterministic code).
CELEBA_NETWORKS = {"celeba_conv": dict(ncode=15, posterior="gaussian"),
                   "conv": dict(ncode=50, posterior="deterministic")}
CELEBA_ARCHITECTURES = tuple(CELEBA_NETWORKS)
CELEBA_RECIPES = ("default", "seed")


def noise_std(pixel_range: str) -> float:
  """The standard deviation of --noise in the networks' pixel units."""
  return NOISE_STD_UNIT * (2.0 if pixel_range == "signed" else 1.0)


def default_recipe(mode: str, num_labeled: Optional[int]) -> str:
  """The recipe "default" stands for in `mode` (with labels if
  `num_labeled` is given)."""
  if num_labeled is not None and mode in DEFAULT_RECIPES_WITH_LABELS:
    return DEFAULT_RECIPES_WITH_LABELS[mode]
  return DEFAULT_RECIPES[mode]


def num_classes(mode: str, num_labeled: Optional[int],
                num_clusters: Optional[int]) -> int:
  """Categories of y: clusters when they are learned, else the 10 digits."""
  if mode == "clustering" or (mode == "dimreduction" and (
      num_labeled is None or num_clusters is not None)):
    return num_clusters or DEFAULT_CLUSTERS
  return 10


def _nearest(table: Dict[int, object], count: int):
  """`table`'s entry for the measured count nearest `count` (a tie goes to
  the smaller count)."""
  return table[min(table, key=lambda measured: (abs(measured - count),
                                                measured))]


def _by_cluster_count(table: Dict[int, object],
                      num_clusters: Optional[int]):
  """`table`'s entry for the measured cluster count nearest `num_clusters`
  (None: the default count)."""
  return _nearest(table, num_classes("clustering", None, num_clusters))


def cluster_balance_weight(recipe: str, num_clusters: Optional[int]) -> float:
  """Clustering's class-balance weight under `recipe` ("paper_plus" or
  "budget"): the one chosen for the nearest measured cluster count."""
  return _by_cluster_count(CLUSTER_BALANCE[recipe], num_clusters)


def cluster_max_epoch(num_clusters: Optional[int]) -> int:
  """Budget clustering's run length: the one chosen for the nearest
  measured cluster count."""
  return _by_cluster_count(BUDGET_CLUSTER_EPOCHS, num_clusters)


def cluster_ncode(num_clusters: Optional[int]) -> int:
  """Budget clustering's style code size: the one chosen for the nearest
  measured cluster count."""
  return _by_cluster_count(BUDGET_CLUSTER_NCODE, num_clusters)


def cluster_warmup_epochs(num_clusters: Optional[int]) -> float:
  """Budget clustering's warm-up epochs: those chosen for the nearest
  measured cluster count."""
  return _by_cluster_count(BUDGET_CLUSTER_WARMUP, num_clusters)


def budget_label_fields(num_labeled: Optional[int]) -> Dict[str, float]:
  """The semi-supervised fields of the budget recipe for `num_labeled`
  labels: those chosen for the nearest measured number (all labels: the
  largest)."""
  return dict(_nearest(BUDGET_LABELS, num_labeled or max(BUDGET_LABELS)))


def paper_plus_fields(mode: str, num_clusters: Optional[int] = None) -> Dict:
  """TrainConfig fields "paper_plus" sets over the paper recipe for `mode`."""
  fields = dict(PAPER_PLUS.get(mode, {}))
  if mode == "clustering":
    fields["class_balance_weight"] = cluster_balance_weight("paper_plus",
                                                            num_clusters)
  return fields


def make_config(mode: str, save_path: str, recipe: str = "default", *,
                num_labeled: Optional[int] = None,
                num_clusters: Optional[int] = None,
                dataset: str = "mnist",
                architecture: Optional[str] = None,
                validate: bool = True) -> ExperimentConfig:
  """The configuration of `mode` under `recipe`, validated.

  Args:
    mode: One of config.MODES.
    save_path: SAVE_PATH of the run.
    recipe: One of RECIPES (CelebA: CELEBA_RECIPES).
    num_labeled: Labeled training images (None: all); some recipes depend on
      it (the seed recipe's dropout with few labels).
    num_clusters: Categories of y for clustering (default 16).
    dataset: One of config.DATASETS.
    architecture: The networks (config.ARCHITECTURES); None: the recipe's
      (MNIST: the MLPs; CelebA: celeba_conv).
    validate: False leaves validation to the caller, who changes some fields
      first.
  """
  if mode not in config_lib.MODES:
    raise ConfigError(f"Unknown mode {mode!r}: choose one of "
                      f"{', '.join(config_lib.MODES)}.")
  if dataset == "celeba":
    config = _celeba(mode, save_path, recipe, architecture or "celeba_conv")
    return config.validate() if validate else config
  if dataset not in config_lib.DATASETS:
    raise ConfigError(f"Unknown data set {dataset!r}: choose one of "
                      f"{', '.join(config_lib.DATASETS)}.")
  if recipe not in RECIPES:
    raise ConfigError(f"Unknown recipe {recipe!r}: choose one of "
                      f"{', '.join(RECIPES)}.")
  if recipe == "default":
    recipe = default_recipe(mode, num_labeled)
  build = _seed if recipe == "seed" else _paper
  model, train = build(mode, num_labeled)
  if recipe in ("paper_plus", "budget"):
    train = dataclasses.replace(train, **paper_plus_fields(mode, num_clusters))
  if recipe == "budget":
    train = _budget(mode, train, num_clusters, num_labeled)
    if mode in BUDGET_UNITS:
      model = config_lib.with_widths(model, BUDGET_UNITS[mode])
    if mode == "clustering":
      model = dataclasses.replace(model, ncode=cluster_ncode(num_clusters))
  train = dataclasses.replace(train, recipe=recipe)
  model = dataclasses.replace(
      model, num_classes=num_classes(mode, num_labeled, num_clusters))
  train = dataclasses.replace(train, num_labeled=num_labeled)
  if architecture is not None:
    model = dataclasses.replace(model, architecture=architecture)
    if architecture == "conv":  # Its code is deterministic.
      model = dataclasses.replace(model, posterior="deterministic")
  config = ExperimentConfig(save_path=save_path, mode=mode, data=DataConfig(),
                            prior=PriorConfig(), model=model, train=train)
  return config.validate() if validate else config


def _celeba(mode: str, save_path: str, recipe: str,
            architecture: str) -> ExperimentConfig:
  """CelebA's 32x32 colour images: the architecture's networks, Adam at a
  constant 2e-4 for 20 epochs, a checkpoint after every epoch."""
  if recipe not in CELEBA_RECIPES:
    raise ConfigError(f"Unknown CelebA recipe {recipe!r}: choose one of "
                      f"{', '.join(CELEBA_RECIPES)}.")
  if architecture not in CELEBA_NETWORKS:
    raise ConfigError(f"Unknown CelebA architecture {architecture!r} "
                      "(model.architecture): choose one of "
                      f"{', '.join(CELEBA_ARCHITECTURES)}.")
  model = ModelConfig(image_shape=(32, 32, 3), architecture=architecture,
                      discriminator_units=(500, 500),
                      **CELEBA_NETWORKS[architecture])
  train = TrainConfig(batch_size=128, max_epoch=20,
                      optimizers=config_lib.adam_optimizers(2e-4,
                                                            decay_epochs=()),
                      checkpoint_every_epochs=1, recipe="seed")
  return ExperimentConfig(save_path=save_path, mode=mode,
                          data=DataConfig(dataset="celeba"), model=model,
                          train=train)


def _seed(mode: str, num_labeled: Optional[int]):
  """The TF1 seed's settings and the per-mode changes we measured."""
  model = ModelConfig()
  optimizers = config_lib.adam_optimizers()
  if mode in CATEGORICAL_MODES:
    # The seed's semi-supervised rates (1e-4, /10 after 50 and 150 epochs).
    slow = {}
    if mode == "dimreduction" and num_labeled is None:
      # Without labels, y collapsed onto one or two clusters at the full
      # adversarial rate (results/classify_mnist.md).
      slow = dict(generator=1e-5, discriminator=1e-5)
    optimizers = config_lib.adam_optimizers(1e-4, decay_epochs=(50, 150),
                                            **slow)
  if mode in ("semisupervised", "clustering"):
    model = dataclasses.replace(model, ncode=10)  # Dimreduction keeps 2-D.
  if mode == "semisupervised" and num_labeled is not None:
    # Encoder dropout lowered the error with 100 and 1000 labels and slowed
    # training with all of them (results/classify_mnist.md).
    model = dataclasses.replace(model, keep_prob=0.5)
  if mode == "clustering":
    # The y discriminator sees its batch's cluster usage, which kept all
    # clusters in use (results/cluster_mnist.md).
    model = dataclasses.replace(model, y_batch_statistics=True)
  return model, TrainConfig(optimizers=optimizers)


def paper_optimizers(decay_epochs=(50, 1000)) -> Dict[str, OptimizerConfig]:
  """The appendix: SGD, reconstruction 0.01 with momentum 0.9, adversarial
  phases 0.1 with momentum 0.1, classification 0.1 with momentum 0.9 (stable
  in a plain script of the recipe; docs/recipes.md); every rate /10 after
  each decay epoch."""
  decay = tuple(decay_epochs)
  sgd = {"reconstruction": (0.01, 0.9), "discriminator": (0.1, 0.1),
         "generator": (0.1, 0.1), "classification": (0.1, 0.9),
         "cluster_heads": (0.01, 0.9)}
  return {role: OptimizerConfig("sgd", lr, momentum, decay)
          for role, (lr, momentum) in sgd.items()}


def _budget(mode: str, train: TrainConfig, num_clusters: Optional[int],
            num_labeled: Optional[int]) -> TrainConfig:
  """`train` with BUDGET's length, end-of-run annealing (in place of the
  decay epochs) and weight average, the mode's BUDGET_MODES fields and
  gradient cap, clustering's run length, class-balance weight and warm-up
  and semi-supervised run length and VAT by the number of labels."""
  warmup = cluster_warmup_epochs(num_clusters) if mode == "clustering" else 0.0
  optimizers = {
      key: dataclasses.replace(opt, decay_epochs=(), anneal=BUDGET["anneal"],
                               anneal_start=BUDGET["anneal_start"],
                               clip_norm=BUDGET_CLIP_NORM.get(mode),
                               warmup_epochs=warmup)
      for key, opt in train.optimizers.items()}
  fields = dict(max_epoch=BUDGET["max_epoch"],
                weight_average_decay=BUDGET["weight_average_decay"])
  fields.update(BUDGET_MODES.get(mode, {}))
  if mode == "clustering":
    fields["max_epoch"] = cluster_max_epoch(num_clusters)
    fields["class_balance_weight"] = cluster_balance_weight("budget",
                                                            num_clusters)
  if mode == "semisupervised":
    fields.update(budget_label_fields(num_labeled))
  return dataclasses.replace(train, optimizers=optimizers, **fields)


# Phase weights of 1: with SGD the rates set each phase's step size.
_UNIT_WEIGHTS = dict(encw=1.0, disw=1.0, genw=1.0, clsw=1.0, ydisw=1.0,
                     ygenw=1.0)


def _paper(mode: str, num_labeled: Optional[int]):
  """The paper's appendix, per mode."""
  del num_labeled  # The same recipe for every number of labels.
  model = ModelConfig(posterior="deterministic", pixel_range="unit",
                      kernel_initializer="glorot_uniform",
                      leaky_relu_slope=0.0)
  train = TrainConfig(batch_size=100, labeled_batch_size=100,
                      optimizers=paper_optimizers(), **_UNIT_WEIGHTS)
  if mode == "semisupervised":
    model = dataclasses.replace(model, ncode=10,
                                input_noise_std=noise_std("unit"))
    train = dataclasses.replace(train, max_epoch=5000)
  elif mode == "clustering":
    # 3000-unit layers, a 5-D style code, 20% dropout on the input only.
    model = dataclasses.replace(
        config_lib.with_widths(model, (3000, 3000)), ncode=5,
        input_keep_prob=0.8)
    train = dataclasses.replace(train, max_epoch=1500)
  return model, train
