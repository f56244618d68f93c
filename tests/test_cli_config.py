"""The command line's table of flags (aae_tf.cli), in-process: the fields it
names exist, its errors speak of flags, CelebA comes from its recipe."""

import dataclasses
import os
import re

from absl import flags
import pytest

from aae_tf import cli
from aae_tf import config as config_lib
from aae_tf import recipes
from aae_tf import run_dir
from aae_tf.errors import ConfigError

PROGRAMS = [cli.MNIST, cli.CELEBA]


def _flag_values(program):
  flag_values = flags.FlagValues()
  cli.define_flags(program, flag_values)
  return flag_values


@pytest.fixture(scope="module")
def mnist():
  return _flag_values(cli.MNIST)


@pytest.fixture(scope="module")
def celeba():
  return _flag_values(cli.CELEBA)


def _parse(flag_values, tmp_path, *args):
  flag_values.unparse_flags()
  flag_values(["prog", "--save_path", str(tmp_path), *args])
  return flag_values


def _config(program, flag_values, tmp_path, *args):
  _parse(flag_values, tmp_path, *args)
  return cli.config_from_flags(program, flag_values,
                               cli.check_action(program, flag_values))


def _error(program, flag_values, tmp_path, *args):
  with pytest.raises(ConfigError) as e:
    _config(program, flag_values, tmp_path, *args)
  return cli.translate(program, str(e.value))


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.name)
def test_every_field_of_the_table_exists(program):
  config = config_lib.ExperimentConfig(save_path="/tmp/x")
  for f in program.flags:
    for field in (f.field, f.speaks_for):
      if field:
        obj = config
        for part in field.split("."):
          assert hasattr(obj, part), (f.name, field)
          obj = getattr(obj, part)
    assert not (f.field and f.speaks_for), f.name


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.name)
def test_help_texts_carry_no_tags_or_figures(program):
  for f in program.flags:
    assert not re.search(r"seed 00\d|issue|#\d|\d+(\.\d+)?%", f.help), f.name


def test_choices_are_the_library_lists(mnist):
  for name, choices in [("dist_type", config_lib.PRIORS),
                        ("posterior", config_lib.POSTERIORS),
                        ("reconstruction", config_lib.RECONSTRUCTIONS),
                        ("combine", config_lib.COMBINES),
                        ("strategy", config_lib.STRATEGIES),
                        ("data_source", config_lib.DATA_SOURCES),
                        ("anneal", config_lib.ANNEALS),
                        ("cluster_naming", config_lib.NAMING_SPLITS),
                        ("recipe", recipes.RECIPES)]:
    assert tuple(mnist[name].parser.enum_values) == choices, name


@pytest.mark.parametrize("args,message", [
    (["--train", "--bsize", "0"], "--bsize must be positive, got 0."),
    (["--train", "--ncode", "0"], "--ncode must be positive, got 0."),
    (["--train", "--dropout", "0"], "--dropout is a keep probability"),
    (["--train", "--eval_every", "0"], "--eval_every must be positive"),
    (["--train", "--validation_size", "0"], "--validation_size must be"),
    (["--train", "--train_size", "0"], "--train_size must be positive"),
    (["--train", "--vat", "1"], "--vat acts on the categorical code"),
    (["--train", "--consistency", "-1"], "--consistency must be >= 0"),
    (["--train", "--maae", "--ndisc", "0"], "--ndisc must be at least 1"),
    (["--train", "--arch", "conv"], "--arch conv has a deterministic code: "
     "it needs --posterior deterministic."),
    (["--train", "--arch", "conv", "--posterior", "deterministic",
      "--noise"], "takes no --dropout or --noise_std"),
    (["--train_clustering", "--ncluster", "1"],
     "--ncluster must be at least 2, got 1."),
    (["--train_semisupervised", "--num_labeled", "15"],
     "--num_labeled is balanced over the 10 digits"),
    (["--train", "--seed", "-1"], "(--labeled_seed, else --seed) must be"),
    (["--train", "--units", "1200,x"], "--units takes whole layer widths, "
     "got 1200,x."),
    (["--train", "--units", "0"], "--units must be a non-empty list of "
     "positive sizes, got (0,)."),
])
def test_errors_name_fields_and_the_command_line_flags(mnist, tmp_path,
                                                       args, message):
  assert message in _error(cli.MNIST, mnist, tmp_path, *args)


def test_units_set_the_width_of_every_mlp(mnist, tmp_path):
  config = _config(cli.MNIST, mnist, tmp_path, "--train_clustering",
                   "--recipe", "paper", "--units", "1200,1200")
  model = config.model
  assert (model.encoder_units, model.decoder_units,
          model.discriminator_units) == ((1200, 1200),) * 3
  paper = _config(cli.MNIST, mnist, tmp_path, "--train_clustering",
                  "--recipe", "paper").model
  assert paper.encoder_units == (3000, 3000)  # The recipe's, untouched.


def test_clip_norm_caps_every_phase(mnist, tmp_path):
  def caps(*args):
    config = _config(cli.MNIST, mnist, tmp_path, "--train_clustering", *args)
    return {opt.clip_norm for opt in config.train.optimizers.values()}
  assert caps() == {recipes.BUDGET_CLIP_NORM["clustering"]}
  assert caps("--clip_norm", "10") == {10.0}
  assert caps("--clip_norm", "0") == {None}
  assert "must be positive" in _error(cli.MNIST, mnist, tmp_path,
                                      "--train_clustering", "--clip_norm",
                                      "-1")


def test_warmup_reaches_every_phase(mnist, tmp_path):
  def warmups(*args):
    config = _config(cli.MNIST, mnist, tmp_path, "--train_clustering", *args)
    return {opt.warmup_epochs for opt in config.train.optimizers.values()}
  assert warmups() == {0.0}
  assert warmups("--warmup_epochs", "0.5") == {0.5}
  assert warmups("--ncluster", "10") == {
      recipes.BUDGET_CLUSTER_WARMUP[10]}
  assert warmups("--ncluster", "10", "--warmup_epochs", "0") == {0.0}
  assert "warmup_epochs of" in _error(cli.MNIST, mnist, tmp_path,
                                      "--train_clustering", "--warmup_epochs",
                                      "-1")


def test_clustering_run_length_follows_the_count_unless_given(mnist,
                                                              tmp_path):
  def epochs(*args):
    return _config(cli.MNIST, mnist, tmp_path, "--train_clustering",
                   *args).train.max_epoch
  assert epochs() == recipes.BUDGET_CLUSTER_EPOCHS[16]
  assert epochs("--ncluster", "30") == recipes.BUDGET_CLUSTER_EPOCHS[30]
  assert epochs("--ncluster", "30", "--maxepoch", "12") == 12


def test_library_errors_name_fields(tmp_path):
  config = recipes.make_config("unsupervised", str(tmp_path))
  with pytest.raises(ConfigError, match="train.batch_size must be positive"):
    dataclasses.replace(config, train=dataclasses.replace(
        config.train, batch_size=0)).validate()
  assert cli.translate(cli.MNIST, "model.ncode, model.ncodes, --model.ncode"
                       ) == "--ncode, model.ncodes, --model.ncode"


def test_action_checks(mnist, tmp_path):
  for args, message in [([], "Choose exactly one of --train\\[_supervised"),
                        (["--generate"], "--generate needs --load"),
                        (["--train", "--load", "3"], "--load is for"),
                        (["--viz", "--load", "1", "--ncode", "4"],
                         "--viz needs --ncode 2")]:
    _parse(mnist, tmp_path, *args)
    with pytest.raises(ConfigError, match=message):
      cli.check_action(cli.MNIST, mnist)


def test_figure_commands_read_the_saved_configuration(mnist, tmp_path):
  trained = _config(cli.MNIST, mnist, tmp_path, "--train", "--ncode", "4",
                    "--dist_type", "gmm", "--bsize", "10")
  trained.save(os.path.join(str(tmp_path), config_lib.CONFIG_FILENAME))
  # Flags not given: the saved model's fields, the flags' data settings.
  flag_values = _parse(mnist, tmp_path, "--generate", "--load", "1",
                       "--bsize", "20", "--data_dir", "/data")
  config = cli.config_from_flags(cli.MNIST, flag_values, "generate")
  explicit = cli.explicit_fields(cli.MNIST, flag_values)
  assert "train.batch_size" in explicit and "model.ncode" not in explicit
  run = run_dir.run_config(config, explicit)
  assert (run.model.ncode, run.prior.dist_type) == (4, "gmm")
  assert run.train.batch_size == 10 and run.data.data_dir == "/data"
  # A model field given that contradicts the run is refused.
  flag_values = _parse(mnist, tmp_path, "--generate", "--load", "1",
                       "--ncode", "2")
  config = cli.config_from_flags(cli.MNIST, flag_values, "generate")
  with pytest.raises(ConfigError) as e:
    run_dir.run_config(config, cli.explicit_fields(cli.MNIST, flag_values))
  assert cli.translate(cli.MNIST, str(e.value)).startswith(
      "--ncode 2 contradicts the run")


def _old_celeba_config(save_path, arch="celeba_conv", ncode=None, ndisc=1,
                       lr=2e-4, bsize=128, maxepoch=20, data_dir=None,
                       max_images=None):
  """The configuration aae_celeba.py wrote by hand before it used a
  recipe."""
  return config_lib.ExperimentConfig(
      save_path=save_path,
      data=config_lib.DataConfig(dataset="celeba", data_dir=data_dir,
                                 max_images=max_images),
      model=config_lib.ModelConfig(
          ncode=ncode or {"celeba_conv": 15, "conv": 50}[arch],
          image_shape=(32, 32, 3), architecture=arch,
          posterior={"celeba_conv": "gaussian", "conv": "deterministic"}[arch],
          num_discriminators=ndisc, discriminator_units=(500, 500),
          combine="mean"),
      train=config_lib.TrainConfig(
          batch_size=bsize, max_epoch=maxepoch,
          optimizers=config_lib.adam_optimizers(lr, decay_epochs=()),
          checkpoint_every_epochs=1))


@pytest.mark.parametrize("args,old", [
    ([], {}),
    (["--arch", "conv"], dict(arch="conv")),
    (["--maae", "--ndisc", "2", "--lr", "1e-3", "--bsize", "4",
      "--maxepoch", "1", "--data_dir", "/faces", "--max_images", "5"],
     dict(ndisc=2, lr=1e-3, bsize=4, maxepoch=1, data_dir="/faces",
          max_images=5)),
    (["--ndisc", "2", "--ncode", "8"], dict(ncode=8)),  # --ndisc needs --maae.
])
def test_celeba_recipe_is_the_old_configuration(celeba, tmp_path, args, old):
  config = _config(cli.CELEBA, celeba, tmp_path, "--train", *args)
  expected = _old_celeba_config(str(tmp_path), **old)
  # Only the recipe's name is new (and may change on resumption).
  assert config.train.recipe == "seed"
  assert dataclasses.replace(config, train=dataclasses.replace(
      config.train, recipe="")) == expected
  if len(args) <= 2:  # No flag over the recipe but --arch.
    assert config == recipes.make_config(
        "unsupervised", str(tmp_path), dataset="celeba",
        architecture=old.get("arch"))


def test_celeba_has_its_own_recipes(tmp_path):
  with pytest.raises(ConfigError, match="Unknown CelebA recipe"):
    recipes.make_config("unsupervised", str(tmp_path), "paper",
                        dataset="celeba")
  with pytest.raises(ConfigError, match="mode must be unsupervised"):
    recipes.make_config("semisupervised", str(tmp_path), dataset="celeba")
  assert not cli.CELEBA.has("label") and "viz" not in cli.CELEBA.actions


def test_pairs_take_digit_pairs():
  from aae_tf import commands  # pylint: disable=g-import-not-at-top
  assert commands.parse_pairs("0-4, 7-8") == [(0, 4), (7, 8)]
  for bad in ("0-x", "0-4-5", "10-1"):
    with pytest.raises(ConfigError, match="--pairs takes digit pairs"):
      commands.parse_pairs(bad)
