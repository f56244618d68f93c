"""Convolutional (multi-adversarial) AAE on 32x32 CelebA.

  python experiment/aae_celeba.py --train --data_dir /path/to/celeba \
      --maae --ndisc 3 --save_path runs/celeba_maae
  python experiment/aae_celeba.py --generate --load latest --save_path runs/celeba_maae

The flags, the configuration they build (the CelebA recipe of
aae_tf/recipes.py) and the actions are aae_tf/cli.py's.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags

from aae_tf import cli  # pylint: disable=g-import-not-at-top

cli.define_flags(cli.CELEBA)
flags.adopt_module_key_flags(cli)  # --help lists them.

if __name__ == "__main__":
  app.run(cli.main(cli.CELEBA))
