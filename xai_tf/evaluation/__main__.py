"""``python -m xai_tf.evaluation ...`` = ``xai-tf evaluate ...``."""
import sys

from xai_tf.evaluation.cli import cli_main

sys.exit(cli_main(sys.argv[1:]))
