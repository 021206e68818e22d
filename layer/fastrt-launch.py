"""Start fastrt from this layer, as ``python -m fastrt`` would, wherever the layer is unpacked.

Executed (never imported) by the layer's ``bootstrap`` and ``fastrt`` executables as
``<python> /opt/fastrt-launch.py [HANDLER]``. It only makes fastrt importable; fastrt then builds
``sys.path`` the way the managed runtime does (contract §1.1). That rules out the obvious
shortcuts, which users would see: PYTHONPATH (its presence changes the §1.1 rules and it is
inherited by child processes) and ``python -I`` (drops the user's PYTHONPATH).

Python parses and compiles this script at every cold start (a script has no cached bytecode),
so it stays two statements long; the rest is ``fastrt.start.launch_layer``.
"""

import sys

# sys.path[0], this script's directory, names the layer's python dir while fastrt is imported.
sys.path[0] = __file__.rpartition("/")[0] + "/python"
from fastrt.start import launch_layer  # noqa: E402

launch_layer(__file__, sys.argv)
