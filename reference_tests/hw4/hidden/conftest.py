"""Puts this folder on ``sys.path`` for the hidden-only helpers beside the hidden tests
(``hw4_hidden_refs``), which never ship with the student bundle."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
