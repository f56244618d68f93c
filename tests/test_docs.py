"""The README, docs/ and results/ stay short, in sync and runnable: sizes,
the README's sections, the results tables as written from their JSON, and
every command's flags."""

import glob
import os
import re

from absl import flags
import pytest

import tables
from conftest import REPO, command_config, mnist_flag_values

README = os.path.join(REPO, "README.md")
DOCS = sorted(glob.glob(os.path.join(REPO, "docs", "*.md"))) + [
    os.path.join(REPO, "benchmarks", "README.md")]
SECTIONS = ["Install", "Quick start", "Modes", "Results", "Using a trained model",
            "Tests"]
# Flags every absl script has.
ABSL_FLAGS = {"helpfull", "helpshort", "verbosity", "flagfile"}


def _read(path):
  with open(path) as f:
    return f.read()


def test_readme_is_short_and_in_order():
  text = _read(README)
  assert len(text.encode()) < 12 * 1024
  headings = re.findall(r"^## (.+)$", text, re.M)
  assert [h for h in headings if h in SECTIONS] == SECTIONS
  assert headings.index("Install") == 0
  # The test command CI runs (.ci/run) is the README's.
  assert "pip install -r requirements.txt && python -m pytest -q" in text
  assert "pip install -r requirements.txt && python -m pytest -q" in _read(
      os.path.join(REPO, ".ci", "run"))


def test_no_issue_numbers():
  paths = [README, *DOCS, *glob.glob(os.path.join(REPO, "results", "*.md")),
           *glob.glob(os.path.join(REPO, "benchmarks", "**", "*.py"),
                      recursive=True),
           *glob.glob(os.path.join(REPO, "tests", "*.py"))]
  pattern = re.compile(r"\bissues? \d+" + "|" + r"\bIssues? \d+")
  found = [(os.path.relpath(p, REPO), m.group(0)) for p in paths
           for m in pattern.finditer(_read(p))]
  assert not found


@pytest.mark.parametrize("name", sorted(tables.TABLES))
def test_results_tables_are_written_from_their_json(name):
  """results/<name>.md is what tables.py writes from its JSON (run
  `python benchmarks/tables.py` after editing either), under 20 KB."""
  path = os.path.join(REPO, "results", f"{name}.md")
  rows = tables.read_rows(tables.TABLES[name])
  text = _read(path)
  assert text == tables.markdown(tables.TABLES[name], rows,
                                 tables.reading(path))
  assert len(text.encode()) < 20 * 1024
  assert "(No reading yet.)" not in text
  reading = tables.reading(path)
  assert len(re.findall(r"[.!?](?:\s|$)", reading)) <= 3, reading


def test_every_results_page_is_short():
  for path in glob.glob(os.path.join(REPO, "results", "*.md")):
    assert os.path.getsize(path) < 20 * 1024, path


def _commands(paths, program):
  """Every `python PROGRAM ...` command in the files' code blocks and inline
  code, as argument lists."""
  out = []
  for path in paths:
    text = _read(path).replace("\\\n", " ")
    for match in re.finditer(r"python (" + re.escape(program) + r")((?: [^`\n#|]*)?)",
                             text):
      args = match.group(2).split()
      out.append((os.path.relpath(path, REPO), args))
  return out


def _script_flags(relative):
  """Flag names a benchmark script defines (and the command line's, for the
  ones that take them)."""
  source = _read(os.path.join(REPO, relative))
  names = set(re.findall(r"DEFINE_\w+\(\s*\"(\w+)\"", source))
  if "cli.define_flags(cli.MNIST)" in source:
    from aae_tf import cli  # pylint: disable=g-import-not-at-top
    names |= {f.name for f in cli.MNIST.flags}
  return names | ABSL_FLAGS


def test_benchmark_commands_name_flags_the_scripts_define():
  paths = [README, *DOCS, *glob.glob(os.path.join(REPO, "results", "*.md"))]
  scripts = sorted({os.path.relpath(p, REPO) for p in glob.glob(
      os.path.join(REPO, "benchmarks", "**", "*.py"), recursive=True)})
  checked = 0
  for script in scripts:
    known = _script_flags(script)
    for path, args in _commands(paths, script):
      for arg in args:
        if not arg.startswith("--"):
          continue
        name = arg[2:].split("=")[0]
        assert name in known or (name.startswith("no") and name[2:] in known), (
            path, script, arg)
      checked += 1
  assert checked >= 10


@pytest.fixture(scope="module")
def cli():
  """The command line's flags, defined once on their own FlagValues."""
  return mnist_flag_values()


def test_command_line_examples_parse_and_build(cli, tmp_path):
  """Every `python experiment/aae_mnist.py ...` in the README and docs/, and
  every mode of the README's table: its flags exist, parse, and make a valid
  configuration."""
  commands = _commands([README, *DOCS], "experiment/aae_mnist.py")
  modes = re.search(r"^## Modes$(.*?)^## ", _read(README), re.M | re.S).group(1)
  commands += [("README.md", cell.split()) for cell in
               re.findall(r"^\| [^|]+ \| `(--train[^`]*)`", modes, re.M)]
  assert len(commands) >= 12
  for path, args in commands:
    args = [a for a in args if a != "\\"]
    if "--helpfull" in args:
      continue
    action, config = command_config(cli, args)
    if action.startswith("train"):
      assert config.train.max_epoch > 0, (path, args)
