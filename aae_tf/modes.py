"""Adversarial autoencoder modes: networks, prior and the ordered phase list.

Every mode offers the training loop, the summaries, the figures and the export
one small interface: `networks`, `phases()`, `train_dataset`, `eval_metrics`,
`epoch_metrics`, `encode`, `decode`, `reconstruct` and `generate`. Which
groups of phases a step runs (reconstruction, code adversary, label adversary,
classification, the unlabeled regularisers of y, the cluster heads) follows
from the configuration (`phase_groups`); a mode's class says only what its
networks read and write. The networks are built in `networks`, the labeled
pipeline in `data`, the metrics in `evaluation`, the SavedModel's signatures
in `export`.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Optional, Tuple

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from aae_tf import data as data_lib
from aae_tf import evaluation
from aae_tf import losses
from aae_tf import networks as networks_lib
from aae_tf.config import CATEGORICAL_MODES, ExperimentConfig
from aae_tf.errors import ConfigError
from aae_tf.phases import Batch, Phase
from aae_tf.priors import Prior, build_prior


def one_hot_with_unlabeled(labels: tf.Tensor, num_classes: int) -> tf.Tensor:
  """One-hot over num_classes + 1: the extra class marks unlabeled (-1)."""
  labels = tf.cast(labels, tf.int32)
  index = tf.where(labels < 0, num_classes, labels)
  return tf.one_hot(index, num_classes + 1)


def phase_groups(config: ExperimentConfig) -> Tuple[str, ...]:
  """The groups of phases a training step runs, in order.

  Every mode reconstructs and has a code adversary; the modes with a
  categorical y add its adversary (and the class-balance and information
  terms their weights turn on), the labeled classification when labels
  train y (`config.classifies`) and the regularisers of y that need no
  labels (consistency, virtual adversarial training: each on when weighted);
  dimensionality reduction ends with the cluster heads' margin.
  """
  groups = ("reconstruction", "code_adversary")
  if config.mode in CATEGORICAL_MODES:
    groups += ("label_adversary",)
    if config.classifies:
      groups += ("classification",)
    groups += ("unlabeled",)
  if config.mode == "dimreduction":
    groups += ("cluster_heads",)
  return groups


class AdversarialAutoencoder:
  """The paper's Figure 1: reconstruction, discriminator, generator phases.

  Subclasses change what the decoder and the discriminator see through
  `decoder_inputs` and `critic_inputs`, and may add networks and the phases
  of further groups (`phase_builders`); which groups a step runs is
  `phase_groups(config)`'s choice.
  """

  def __init__(self, config: ExperimentConfig):
    model = config.model
    self.config = config
    self.ncode = model.ncode
    self.image_shape = tuple(model.image_shape)
    self.num_classes = model.num_classes
    self.prior: Prior = build_prior(config.prior, model.ncode)
    self.rng = tf.random.Generator.from_seed(config.train.seed)
    self.bce = model.reconstruction == "bce"
    self.unit_pixels = model.pixel_range == "unit"
    self.encoder, self.decoder = networks_lib.build_autoencoder(
        model, self.encoder_classes)
    self.discriminators = networks_lib.build_code_discriminators(model)
    n = len(self.discriminators)
    self.ensemble = networks_lib.build_soft_ensemble(model)
    self.encoder(tf.zeros((1,) + self.image_shape))
    self.decoder(tf.zeros([1, model.ncode + self.decoder_label_size]))
    for disc in self.discriminators:
      disc(tf.zeros([1, model.ncode + self.critic_label_size]))
    if self.ensemble is not None:
      self.ensemble(tf.zeros([n]))
    # Compiled inference for figures, summaries and evaluation.
    self.encode_fn = tf.function(self.encode, reduce_retracing=True)
    self.decode_fn = tf.function(self.decode, reduce_retracing=True)
    self.reconstruct_fn = tf.function(self.reconstruct, reduce_retracing=True)
    self.generate_fn = tf.function(self.generate, reduce_retracing=True)

  @property
  def networks(self) -> Dict[str, keras.Model]:
    nets = {"encoder": self.encoder, "decoder": self.decoder}
    nets.update({d.name: d for d in self.discriminators})
    if self.ensemble is not None:
      nets["ensemble"] = self.ensemble
    return nets

  @property
  def inference_networks(self) -> Dict[str, keras.Model]:
    """The networks that encode, classify, decode and sample (the weight
    average's; discriminators only train)."""
    return {"encoder": self.encoder, "decoder": self.decoder}

  # -- Hooks. --

  @property
  def encoder_classes(self) -> int:
    """Size of the encoder's categorical head (y); 0: none."""
    return 0

  @property
  def decoder_label_size(self) -> int:
    """Extra decoder inputs beside the code."""
    return 0

  @property
  def critic_label_size(self) -> int:
    """Extra discriminator inputs beside the code."""
    return 0

  @property
  def code_phase_prefix(self) -> str:
    """Prefix of the code adversary's phase names ("z_" beside a label
    adversary)."""
    return ""

  @property
  def reconstruction_networks(self) -> List[keras.Model]:
    """What the reconstruction phase trains."""
    return [self.encoder, self.decoder]

  def code_generator_variables(self) -> list:
    """What the code generator phase trains: the encoder (and the soft
    ensemble's temperature)."""
    extra = [self.ensemble] if self.ensemble is not None else []
    return [v for net in [self.encoder] + extra
            for v in net.trainable_variables]

  def decoder_inputs(self, codes, labels=None):
    """What the decoder reads: the code (plus a label in some modes)."""
    del labels
    return codes

  def critic_inputs(self, codes, labels=None):
    """What the discriminator reads: the code (plus a label in some modes)."""
    del labels
    return codes

  def prior_for(self, n, labels=None) -> tf.Tensor:
    """Prior samples that the discriminator calls real."""
    del labels
    return self.sample_prior(n)

  # -- The model's functions (TensorFlow, traceable). --

  def encoder_outputs(self, images, training: bool) -> Dict[str, tf.Tensor]:
    """The encoder's outputs for images in [-1, 1] (converted to the
    networks' pixel range)."""
    if self.unit_pixels:
      images = data_lib.signed_to_unit(images)
    return self.encoder(images, training=training)

  def encode(self, images, training: bool = False) -> tf.Tensor:
    """The posterior mean: the code used for figures and export."""
    return self.encoder_outputs(images, training)["mean"]

  def sample_code(self, images, training: bool = True) -> tf.Tensor:
    """A posterior sample (reparameterised) or the deterministic code."""
    return self._sample(self.encoder_outputs(images, training))

  def _sample(self, out: Dict[str, tf.Tensor]) -> tf.Tensor:
    if "stddev" not in out:
      return out["mean"]
    return out["mean"] + out["stddev"] * self.rng.normal(tf.shape(out["mean"]))

  def decode(self, codes, labels=None, training: bool = False) -> tf.Tensor:
    """Images in [-1, 1], whatever the decoder's output range."""
    return self._to_images(self.decoder(self.decoder_inputs(codes, labels),
                                        training=training))

  def _to_images(self, out: tf.Tensor) -> tf.Tensor:
    """The decoder's output (logits, [0, 1] or [-1, 1]) as images in
    [-1, 1]."""
    if self.bce:
      return data_lib.unit_to_signed(tf.sigmoid(out))
    return data_lib.unit_to_signed(out) if self.unit_pixels else out

  def _reconstruction_cost(self, images, out: tf.Tensor) -> tf.Tensor:
    """The configured training cost of decoder output `out` for `images`
    in [-1, 1], on the networks' pixel range."""
    if self.bce:
      return losses.bce_reconstruction_loss(images, out)
    if self.unit_pixels:
      images = data_lib.signed_to_unit(images)
    return losses.reconstruction_loss(images, out)

  def reconstruction_loss(self, images, codes, labels=None,
                          training: bool = True) -> tf.Tensor:
    """The configured reconstruction cost of decoding `codes` (images in
    [-1, 1])."""
    out = self.decoder(self.decoder_inputs(codes, labels), training=training)
    return self._reconstruction_cost(images, out)

  def posterior_mean(self, images, labels=None) -> tuple:
    """(code, decoder labels) of the posterior mean (not training)."""
    return self.encode(images), labels

  def reconstruct(self, images, labels=None) -> tf.Tensor:
    return self.decode(*self.posterior_mean(images, labels))

  def sample_prior(self, n, labels: Optional[tf.Tensor] = None) -> tf.Tensor:
    return self.prior.sample(self.rng, n, labels)

  def random_labels(self, n) -> tf.Tensor:
    return self.rng.uniform([n], 0, self.num_classes, dtype=tf.int32)

  def generate(self, n) -> tf.Tensor:
    """Images decoded from prior samples (random labels where needed)."""
    return self.decode(self.sample_prior(n), self.random_labels(n))

  # -- Phases. --

  def _reconstruction(self, batch: Batch):
    images = batch["image"]
    return self.reconstruction_loss(images, self.sample_code(images),
                                    batch["label"]), {}

  def _discriminator(self, batch: Batch):
    """Mean over the code discriminators, each with its own prior batch."""
    labels = batch["label"]
    fake_inputs = self.critic_inputs(self.sample_code(batch["image"]), labels)
    n = tf.shape(fake_inputs)[0]
    total, accuracy = 0.0, 0.0
    for disc in self.discriminators:
      real = disc(self.critic_inputs(self.prior_for(n, labels), labels),
                  training=True)
      fake = disc(fake_inputs, training=True)
      total += losses.discriminator_loss(real, fake)
      accuracy += losses.discriminator_accuracy(real, fake)
    count = len(self.discriminators)
    return total / count, {"accuracy": accuracy / count}

  def _generator(self, batch: Batch):
    """The encoder's adversarial loss, combined over the discriminators."""
    labels = batch["label"]
    fake_inputs = self.critic_inputs(self.sample_code(batch["image"]), labels)
    each = tf.stack([losses.generator_loss(d(fake_inputs, training=True))
                     for d in self.discriminators])
    combine = self.config.model.combine
    if len(self.discriminators) == 1 or combine == "mean":
      return tf.reduce_mean(each), {}
    if combine == "max":
      return tf.reduce_max(each), {}
    penalty = self.config.train.soft_lambda_penalty
    return self.ensemble(each) - penalty * self.ensemble.temperature, {}

  def phases(self) -> List[Phase]:
    """The step's phases in order (`phase_groups`); optimisers are the
    trainer's."""
    builders = self.phase_builders()
    return [phase for group in phase_groups(self.config)
            for phase in builders[group]()]

  def phase_builders(self) -> Dict[str, Callable[[], List[Phase]]]:
    """Phase group name -> the method that lists its phases."""
    return {"reconstruction": self.reconstruction_phases,
            "code_adversary": self.code_adversary_phases}

  def reconstruction_phases(self) -> List[Phase]:
    return [Phase("reconstruction", self._reconstruction,
                  self.reconstruction_networks, "reconstruction",
                  self.config.train.encw)]

  def code_adversary_phases(self) -> List[Phase]:
    """The code discriminator(s), then the encoder as their generator."""
    train = self.config.train
    prefix = self.code_phase_prefix
    nets = [self.encoder] + ([self.ensemble] if self.ensemble else [])
    return [
        Phase(f"{prefix}discriminator", self._discriminator,
              self.discriminators, "discriminator", train.disw,
              objective=True, metrics=("accuracy",),
              skip_below=train.balance_discriminator_below),
        Phase(f"{prefix}generator", self._generator, nets, "generator",
              train.genw, select=self.code_generator_variables,
              skip_below=train.balance_generator_below),
    ]

  # -- Data and evaluation. --

  def train_split(self, train: data_lib.Split) -> data_lib.Split:
    """The training examples as this mode sees them."""
    return train

  def train_extras(self, train: data_lib.Split) -> Dict[str, np.ndarray]:
    """Per-example arrays the phases read beside each image (default:
    none)."""
    del train
    return {}

  def train_dataset(self, train: data_lib.Split, seed: int) -> tf.data.Dataset:
    return data_lib.train_dataset(self.train_split(train),
                                  self.config.train.batch_size, seed=seed,
                                  extras=self.train_extras(train))

  def eval_metrics(self, batch: Batch) -> Dict[str, tf.Tensor]:
    """Per-batch held-out metrics (means), from the posterior mean: the
    reconstruction cost the model trains on (`reconstruction_loss`) and the
    reconstruction error every results table reports
    (`losses.reconstruction_error`)."""
    images = batch["image"]
    codes, labels = self.posterior_mean(images, batch["label"])
    out = self.decoder(self.decoder_inputs(codes, labels), training=False)
    return {"reconstruction_loss": self._reconstruction_cost(images, out),
            "reconstruction_error": losses.reconstruction_error(
                images, self._to_images(out))}

  def epoch_metrics(self, splits: data_lib.MnistSplits) -> Dict[str, float]:
    """Host-side metrics computed once per epoch (default: none)."""
    del splits
    return {}

  def training_problem(self, images: tf.Tensor) -> Optional[str]:
    """Why training cannot go on, judged on held-out `images` in [-1, 1]
    (inference mode), or None: an encoder whose every output is the same
    for all of them, when the images differ (a layer of ReLUs all off, for
    example, which no gradient turns back on)."""
    if _spread(images) == 0.0:
      return None  # Identical images say nothing.
    outputs = self.encoder_outputs(images, training=False)
    if any(_spread(v) > 0.0 for v in outputs.values()):
      return None
    return ("the encoder gives the same outputs for every validation image "
            f"({', '.join(sorted(outputs))}), as when every unit of one of "
            "its ReLU layers is off for every image")


def _spread(batch: tf.Tensor) -> float:
  """The largest range, over the batch, of any one entry of `batch`."""
  return float(tf.reduce_max(tf.reduce_max(batch, 0) -
                             tf.reduce_min(batch, 0)))


class LabelRegularizedAAE(AdversarialAutoencoder):
  """The paper's Figure 3: the discriminator also sees a one-hot label.

  The label has an extra class for unlabeled images. A labeled image's real
  sample comes from its digit's prior component, an unlabeled one's from the
  whole prior. `train.num_labeled` images (balanced over digits) keep labels.
  """

  @property
  def critic_label_size(self):
    return self.num_classes + 1

  def critic_inputs(self, codes, labels=None):
    return tf.concat([codes, one_hot_with_unlabeled(labels, self.num_classes)],
                     axis=1)

  def prior_for(self, n, labels=None):
    return self.sample_prior(n, labels)

  def train_split(self, train):
    keep = data_lib.balanced_indices(train.labels,
                                     self.config.train.num_labeled,
                                     self.config.train.labeled_draw_seed)
    return data_lib.mask_labels(train, keep)

  def generate(self, n):
    """Samples in component order: sample i comes from component i*K // n,
    so a K-row grid shows component r in row r."""
    components = tf.range(n) * self.prior.num_components // n
    return self.decode(self.sample_prior(n, components))


class SupervisedAAE(AdversarialAutoencoder):
  """The paper's Figure 6: the decoder reads the code and a one-hot label,
  so that the code carries style only."""

  @property
  def decoder_label_size(self):
    return self.num_classes

  def decoder_inputs(self, codes, labels=None):
    return tf.concat([codes, tf.one_hot(tf.cast(labels, tf.int32),
                                        self.num_classes)], axis=1)


class CategoricalAAE(AdversarialAutoencoder):
  """The paper's Figure 8: style z (Gaussian prior) and a categorical y,
  each with its own discriminator; the decoder reconstructs from
  (z, softmax(y)). With labels (`config.classifies`) y is the digit and a
  labeled minibatch trains it (semi-supervised classification, section 5);
  without, y's categories are clusters (section 6), each named after the
  digit of the naming image (`train.cluster_naming_split`) most sure of it.
  """

  def __init__(self, config: ExperimentConfig):
    self.y_discriminator = networks_lib.build_y_discriminator(config.model)
    super().__init__(config)
    self.y_discriminator(self.y_critic_inputs(tf.zeros([1, self.num_classes])))
    self.classify_fn = tf.function(self.classify, reduce_retracing=True)
    self._vat_radii = None  # Per training image, computed on first use.

  @property
  def encoder_classes(self):
    return self.config.model.num_classes

  @property
  def decoder_label_size(self):
    return self.num_classes

  @property
  def code_phase_prefix(self):
    return "z_"

  @property
  def networks(self):
    return {**super().networks, "y_discriminator": self.y_discriminator}

  def code_generator_variables(self):
    """The trunk and the code heads: y has its own generator phase."""
    extra = list(self.ensemble.trainable_variables) if self.ensemble else []
    return self.encoder.code_variables() + extra

  def decoder_inputs(self, codes, labels=None):
    """`labels` here are class probabilities y, [N, num_classes]."""
    return tf.concat([codes, labels], axis=1)

  def classify(self, images, training: bool = False) -> tf.Tensor:
    """Class probabilities softmax(y), [N, num_classes]."""
    return tf.nn.softmax(self.encoder_outputs(images, training)["logits"])

  def posterior_mean(self, images, labels=None):
    del labels  # y comes from the encoder.
    out = self.encoder_outputs(images, training=False)
    return out["mean"], tf.nn.softmax(out["logits"])

  def y_critic_inputs(self, y: tf.Tensor) -> tf.Tensor:
    """What the y discriminator sees: y, and with `y_batch_statistics` also
    the batch's mean of y next to every row."""
    if not self.config.model.y_batch_statistics:
      return y
    usage = tf.reduce_mean(y, axis=0, keepdims=True)
    return tf.concat([y, tf.broadcast_to(usage, tf.shape(y))], axis=1)

  def _y_critic(self, y: tf.Tensor) -> tf.Tensor:
    """The y discriminator's logits for y (training)."""
    return self.y_discriminator(self.y_critic_inputs(y), training=True)

  def sample_categorical(self, n) -> tf.Tensor:
    return tf.one_hot(self.random_labels(n), self.num_classes)

  def generate(self, n):
    return self.decode(self.sample_prior(n), self.sample_categorical(n))

  def _reconstruction(self, batch):
    images = batch["image"]
    out = self.encoder_outputs(images, training=True)
    return self.reconstruction_loss(images, self._sample(out),
                                    tf.nn.softmax(out["logits"])), {}

  def _y_discriminator(self, batch):
    y = self.classify(batch["image"], training=True)
    real = self._y_critic(self.sample_categorical(tf.shape(y)[0]))
    fake = self._y_critic(y)
    return (losses.discriminator_loss(real, fake),
            {"accuracy": losses.discriminator_accuracy(real, fake)})

  def _y_generator(self, batch):
    fake = self._y_critic(self.classify(batch["image"], training=True))
    return losses.generator_loss(fake), {}

  def _classification(self, batch):
    logits = self.encoder_outputs(batch["labeled_image"], True)["logits"]
    labels = tf.cast(batch["labeled_label"], tf.int32)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels, logits=logits))
    return loss, {"error": losses.classification_error(labels, logits)}

  def _consistency(self, batch):
    """Two training-mode passes (input noise, dropout) of the unlabeled
    batch: the first is the target of the second."""
    images = batch["image"]
    target = self.encoder_outputs(images, True)["logits"]
    logits = self.encoder_outputs(images, True)["logits"]
    return losses.consistency_loss(target, logits), {}

  def _virtual_adversarial(self, batch):
    """q(y|x) of the unlabeled batch against its virtual adversarial
    perturbation; inference-mode passes (no input noise or dropout), in the
    encoder's own pixel range, so the radius is in those units: vat_epsilon,
    or each image's own (`train_extras`)."""
    cfg = self.config.train
    images = batch["image"]
    if self.unit_pixels:
      images = data_lib.signed_to_unit(images)
    epsilon = (batch["vat_radius"][:, None, None, None]
               if cfg.vat_radius_scale > 0 else cfg.vat_epsilon)
    # No noise or dropout; batch norm (if any) on the batch's statistics,
    # as in the other training phases.
    logits_fn = lambda x: self.encoder(x, training=False,
                                       batch_statistics=True)["logits"]
    loss = losses.virtual_adversarial_loss(
        logits_fn, images, self.rng.normal(tf.shape(images)),
        epsilon, cfg.vat_xi, cfg.vat_power_iterations)
    return loss, {}

  def train_extras(self, train):
    """With a per-image VAT radius: "vat_radius", vat_radius_scale times the
    distance of each training image to its vat_radius_neighbor-th nearest
    one, in the encoder's pixel units (computed once)."""
    cfg = self.config.train
    if not (cfg.vat_weight > 0 and cfg.vat_radius_scale > 0):
      return {}
    if self._vat_radii is None or len(self._vat_radii) != len(train):
      unit = data_lib.neighbor_distances(train.images, cfg.vat_radius_neighbor)
      scale = cfg.vat_radius_scale * (1.0 if self.unit_pixels else 2.0)
      self._vat_radii = (scale * unit).astype(np.float32)
      logging.info("Virtual adversarial radius per image: median %.3f, "
                   "range %.3f-%.3f.", np.median(self._vat_radii),
                   self._vat_radii.min(), self._vat_radii.max())
    return {"vat_radius": self._vat_radii}

  def _class_balance(self, batch):
    """The unlabeled batch's mean q(y|x) against the uniform distribution
    (training-mode pass, like the y generator's)."""
    logits = self.encoder_outputs(batch["image"], True)["logits"]
    return losses.class_balance_loss(logits), {}

  def _information(self, batch):
    """The information term of q(y|x) on the unlabeled batch (training-mode
    pass, like the y generator's)."""
    logits = self.encoder_outputs(batch["image"], True)["logits"]
    return losses.information_loss(
        logits, self.config.train.information_marginal_weight), {}

  def label_adversary_phases(self):
    train = self.config.train
    phases = [
        Phase("y_discriminator", self._y_discriminator, [self.y_discriminator],
              "discriminator", train.ydisw, metrics=("accuracy",)),
        Phase("y_generator", self._y_generator, [self.encoder], "generator",
              train.ygenw, select=self.encoder.class_variables),
    ]
    if train.class_balance_weight > 0:  # Beyond the paper; off by default.
      phases.append(Phase("class_balance", self._class_balance,
                          [self.encoder], "generator",
                          train.class_balance_weight,
                          select=self.encoder.class_variables))
    if train.information_weight > 0:  # Beyond the paper; off by default.
      phases.append(Phase("information", self._information, [self.encoder],
                          "generator", train.information_weight,
                          select=self.encoder.class_variables))
    return phases

  def classification_phases(self):
    """The labeled minibatch's cross-entropy."""
    train = self.config.train
    return [Phase("classification", self._classification, [self.encoder],
                  "classification", train.clsw, metrics=("error",),
                  select=self.encoder.class_variables,
                  every=train.classify_every)]

  def unlabeled_phases(self):
    """The regularisers of q(y|x) that need no labels, each on when
    weighted (beyond the paper; off by default)."""
    train = self.config.train
    phases = []
    if train.consistency_weight > 0:
      phases.append(Phase("consistency", self._consistency, [self.encoder],
                          "classification", train.consistency_weight,
                          select=self.encoder.class_variables,
                          ramp_up_epochs=train.consistency_rampup_epochs))
    if train.vat_weight > 0:
      phases.append(Phase("virtual_adversarial", self._virtual_adversarial,
                          [self.encoder], "classification", train.vat_weight,
                          select=self.encoder.class_variables,
                          ramp_up_epochs=train.vat_rampup_epochs))
    return phases

  def phase_builders(self):
    return {**super().phase_builders(),
            "label_adversary": self.label_adversary_phases,
            "classification": self.classification_phases,
            "unlabeled": self.unlabeled_phases}

  def train_dataset(self, train, seed):
    """All training images; when labels train y, each batch zipped with a
    labeled minibatch (`data.with_labeled_batches`)."""
    unlabeled = super().train_dataset(train, seed)
    if not self.config.classifies:
      return unlabeled
    cfg = self.config.train
    return data_lib.with_labeled_batches(
        unlabeled, train, cfg.num_labeled, cfg.labeled_batch_size,
        cfg.labeled_draw_seed, seed, cfg.labeled_with_replacement)

  def eval_metrics(self, batch):
    metrics = super().eval_metrics(batch)
    if self.config.classifies:
      logits = self.encoder_outputs(batch["image"], False)["logits"]
      metrics["error"] = losses.classification_error(batch["label"], logits)
    return metrics

  def epoch_metrics(self, splits):
    """With clusters learned: `evaluation.clustering_metrics`, named on
    `train.cluster_naming_split`."""
    if not self.config.learns_clusters:
      return {}
    return evaluation.clustering_metrics(
        self.classify_fn, splits, self.config.train.cluster_naming_split,
        self.config.train.eval_batch_size)

  def decode_cluster_heads(self) -> tf.Tensor:
    """Each category's head (paper Figure 9): decoded with the style z at
    zero and y one-hot, category k in row k, [num_classes, H, W, C]."""
    return self.decode_fn(tf.zeros([self.num_classes, self.ncode]),
                          tf.eye(self.num_classes))


class DimensionReductionAAE(CategoricalAAE):
  """Paper section 7: the representation is a cluster head plus a style.

  The encoder gives a style z (Gaussian prior) and cluster probabilities y
  (categorical prior); each cluster has a learned head, a row of W
  [num_classes, ncode]. The decoder reads z + y W, which is also the
  low-dimensional representation (`represent`). A further phase pushes
  every two heads at least `model.cluster_head_margin` apart. With
  `train.num_labeled` set (and 10 classes) a labeled minibatch trains y as in
  the semi-supervised AAE; without it the clusters are learned unsupervised.
  """

  def __init__(self, config: ExperimentConfig):
    self.cluster_heads = networks_lib.build_cluster_heads(config.model)
    super().__init__(config)
    self.cluster_heads(tf.zeros([1, self.num_classes]))
    self.represent_fn = tf.function(self.represent, reduce_retracing=True)

  @property
  def decoder_label_size(self):
    return 0  # The decoder reads the ncode-D representation.

  @property
  def reconstruction_networks(self):
    return [self.encoder, self.decoder, self.cluster_heads]

  @property
  def networks(self):
    return {**super().networks, "cluster_heads": self.cluster_heads}

  @property
  def inference_networks(self):
    return {**super().inference_networks,
            "cluster_heads": self.cluster_heads}

  def decoder_inputs(self, codes, labels=None):
    """`labels` are cluster probabilities y, [N, num_classes]."""
    return codes + self.cluster_heads(labels)

  def represent(self, images) -> tf.Tensor:
    """z + y W from the posterior mean, [N, ncode]."""
    codes, y = self.posterior_mean(images)
    return codes + self.cluster_heads(y)

  def _head_penalty(self, batch):
    del batch  # The heads alone.
    return losses.cluster_head_penalty(
        self.cluster_heads.heads, self.config.model.cluster_head_margin), {}

  def cluster_heads_phases(self):
    return [Phase("cluster_heads", self._head_penalty, [self.cluster_heads],
                  "cluster_heads", self.config.train.headw)]

  def phase_builders(self):
    return {**super().phase_builders(),
            "cluster_heads": self.cluster_heads_phases}


MODES = {"unsupervised": AdversarialAutoencoder,
         "label": LabelRegularizedAAE,
         "supervised": SupervisedAAE,
         "semisupervised": CategoricalAAE,
         "clustering": CategoricalAAE,
         "dimreduction": DimensionReductionAAE}


def set_seeds(seed: int, deterministic: bool = False) -> None:
  """Seeds Python, NumPy, TensorFlow and Keras; optionally deterministic ops."""
  keras.utils.set_random_seed(seed)
  if deterministic:
    tf.config.experimental.enable_op_determinism()


def build_model(config: ExperimentConfig):
  """The mode named by `config.mode`, seeded, with built networks."""
  set_seeds(config.train.seed, config.train.deterministic)
  try:
    cls = MODES[config.mode]
  except KeyError:
    raise ConfigError(f"Unknown mode {config.mode!r}: choose one of "
                      f"{', '.join(MODES)}.") from None
  return cls(config)
