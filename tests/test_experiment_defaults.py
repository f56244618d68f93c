"""The command line's per-mode configuration, read in-process (no training):
the recipes' presets, with explicit flags over them (aae_tf.cli)."""

from absl import flags
import pytest

from aae_tf import cli as cli_lib
from aae_tf import recipes


@pytest.fixture(scope="module")
def cli():
  """The MNIST command line's flags, defined once on their own FlagValues."""
  flag_values = flags.FlagValues()
  cli_lib.define_flags(cli_lib.MNIST, flag_values)
  return flag_values


def _config(cli, tmp_path, *args):
  cli.unparse_flags()
  cli(["aae_mnist.py", "--save_path", str(tmp_path), *args])
  return cli_lib.config_from_flags(cli_lib.MNIST, cli,
                                   cli_lib.check_action(cli_lib.MNIST, cli))


@pytest.mark.parametrize("args,keep_prob,batch_statistics,gen_lr", [
    (["--train"], 1.0, False, 2e-4),
    (["--train_semisupervised", "--recipe", "seed", "--num_labeled", "1000"],
     0.5, False, 1e-4),
    (["--train_semisupervised", "--recipe", "seed"], 1.0, False, 1e-4),
    (["--train_semisupervised", "--recipe", "seed", "--num_labeled", "100",
      "--dropout", "0.8"], 0.8, False, 1e-4),
    (["--train_clustering"], 1.0, False, 0.1),
    (["--train_clustering", "--recipe", "seed"], 1.0, True, 1e-4),
    (["--train_clustering", "--recipe", "seed", "--noy_batch_statistics"],
     1.0, False, 1e-4),
    (["--train_dimreduction"], 1.0, False, 1e-5),
    (["--train_semisupervised", "--num_labeled", "100"], 1.0, False, 0.1),
])
def test_mode_defaults(cli, tmp_path, args, keep_prob, batch_statistics,
                       gen_lr):
  config = _config(cli, tmp_path, *args)
  assert config.model.keep_prob == keep_prob
  assert config.model.y_batch_statistics == batch_statistics
  assert config.train.optimizers["generator"].learning_rate == gen_lr


MODE_ARGS = {"unsupervised": ["--train"], "label": ["--train", "--label"],
             "supervised": ["--train_supervised"],
             "semisupervised": ["--train_semisupervised"],
             "clustering": ["--train_clustering"],
             "dimreduction": ["--train_dimreduction"]}


def test_recipe_flag_offers_every_recipe(cli):
  assert tuple(cli["recipe"].parser.enum_values) == recipes.RECIPES


@pytest.mark.parametrize("recipe", recipes.RECIPES)
@pytest.mark.parametrize("mode", list(MODE_ARGS))
@pytest.mark.parametrize("num_labeled", [None, 100])
def test_cli_and_python_api_agree(cli, tmp_path, mode, recipe, num_labeled):
  """The same mode and recipe give the same configuration from the command
  line as from `recipes.make_config`."""
  if num_labeled is not None and mode in ("unsupervised", "supervised",
                                          "clustering"):
    pytest.skip("No labels in this mode.")
  labels = [] if num_labeled is None else ["--num_labeled", str(num_labeled)]
  from_cli = _config(cli, tmp_path, *MODE_ARGS[mode], "--recipe", recipe,
                     *labels)
  from_python = recipes.make_config(mode, str(tmp_path), recipe,
                                    num_labeled=num_labeled)
  assert from_cli == from_python


def test_explicit_flags_override_the_recipe(cli, tmp_path):
  config = _config(cli, tmp_path, "--train_semisupervised", "--recipe",
                   "paper", "--lr", "0.05", "--gen_lr", "0.02",
                   "--lr_decay_epochs", "10", "--bsize", "50",
                   "--optimizers", "y_generator:adam:0.001:0.5",
                   "--nonoise", "--ncode", "4")
  opts = config.train.optimizers
  assert opts["reconstruction"].learning_rate == 0.05
  assert opts["reconstruction"].kind == "sgd"
  assert opts["reconstruction"].momentum == 0.9  # Still the recipe's.
  assert opts["generator"].learning_rate == 0.02
  assert all(o.decay_epochs == (10,) for o in opts.values())
  assert (opts["y_generator"].kind, opts["y_generator"].learning_rate,
          opts["y_generator"].momentum) == ("adam", 0.001, 0.5)
  assert config.train.batch_size == 50
  assert config.model.input_noise_std == 0.0 and config.model.ncode == 4
  # Not given: the recipe's values.
  assert config.model.pixel_range == "unit"
  assert config.model.posterior == "deterministic"


def test_noise_flag_follows_the_pixel_range(cli, tmp_path):
  seed = _config(cli, tmp_path, "--train", "--noise")
  paper = _config(cli, tmp_path, "--train", "--recipe", "paper", "--noise")
  assert seed.model.input_noise_std == pytest.approx(0.6)  # On [-1, 1].
  assert paper.model.input_noise_std == pytest.approx(0.3)  # On [0, 1].
  assert _config(cli, tmp_path, "--train", "--noise_std",
                 "0.1").model.input_noise_std == 0.1


def test_beyond_the_paper_flags_reach_the_configuration(cli, tmp_path):
  """--vat, --vat_epsilon and --consistency set the training fields; a
  virtual_adversarial optimiser override names that phase alone."""
  config = _config(cli, tmp_path, "--train_semisupervised", "--recipe",
                   "paper", "--num_labeled", "100", "--vat", "0.5",
                   "--vat_epsilon", "2", "--optimizers",
                   "virtual_adversarial:adam:0.001:0.9")
  assert (config.train.vat_weight, config.train.vat_epsilon) == (0.5, 2.0)
  assert config.train.consistency_weight == 0.0
  opt = config.train.optimizers["virtual_adversarial"]
  assert (opt.kind, opt.learning_rate, opt.momentum) == ("adam", 0.001, 0.9)
  assert config.train.optimizers["classification"].kind == "sgd"
  default = _config(cli, tmp_path, "--train_semisupervised", "--recipe",
                    "paper", "--num_labeled", "100")
  assert default.train.vat_weight == 0.0
  assert default.train.class_balance_weight == 0.0
  plus_off = _config(cli, tmp_path, "--train_semisupervised", "--recipe",
                     "paper_plus", "--num_labeled", "100", "--vat", "0")
  assert plus_off.train.vat_weight == 0.0  # A flag given wins over a preset.
  assert plus_off.train.class_balance_weight == 10.0
  balanced = _config(cli, tmp_path, "--train_clustering", "--recipe", "paper",
                     "--class_balance", "0.3")
  assert balanced.train.class_balance_weight == 0.3


def test_plateau_flags_reach_the_configuration(cli, tmp_path):
  config = _config(cli, tmp_path, "--train_clustering", "--lr_plateau_patience",
                   "2", "--lr_plateau_metric", "validation/cluster_error")
  assert config.train.lr_plateau_patience == 2
  assert config.train.lr_plateau_metric == "validation/cluster_error"
  default = _config(cli, tmp_path, "--train_clustering")
  assert default.train.lr_plateau_patience is None
  assert default.train.lr_plateau_metric == "validation/reconstruction_loss"


def test_information_and_naming_flags_reach_the_configuration(cli, tmp_path):
  config = _config(cli, tmp_path, "--train_clustering", "--ncluster", "10",
                   "--information", "0.3", "--information_marginal", "2",
                   "--cluster_naming", "train")
  assert config.train.information_weight == 0.3
  assert config.train.information_marginal_weight == 2.0
  assert config.train.cluster_naming_split == "train"
  default = _config(cli, tmp_path, "--train_clustering")
  # The default recipe names clusters on the validation split, the paper's.
  assert (default.train.information_weight,
          default.train.information_marginal_weight,
          default.train.cluster_naming_split) == (0.0, 4.0, "validation")
