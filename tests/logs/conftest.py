"""tests/logs: the helpers in logs_harness.py are imported by name from this directory."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
