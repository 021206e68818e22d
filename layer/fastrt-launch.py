"""Start fastrt from this layer, as ``python -m fastrt`` would, wherever the layer is unpacked.

Executed (never imported) by the layer's ``bootstrap`` and ``fastrt`` scripts as
``<python> /opt/fastrt-launch.py [HANDLER]``. It only makes fastrt importable; fastrt then builds
``sys.path`` the way the managed runtime does (contract §1.1). That rules out the obvious
shortcuts, which users would see: PYTHONPATH (its presence changes the §1.1 rules and it is
inherited by child processes) and ``python -I`` (drops the user's PYTHONPATH).
"""

import os
import sys

layer_root = os.path.dirname(os.path.abspath(__file__))
layer_python = os.path.join(layer_root, "python")

# Only fastrt itself is found here: sys.path[0] (this script's directory) names the layer's python
# dir while the package is imported, then becomes "" as under `python -c`, which fastrt's sys.path
# set-up replaces with the task root. Its submodules come from the package's own __path__.
sys.path[0] = layer_python
from fastrt.__main__ import main  # noqa: E402

sys.path[0] = ""

if layer_root != "/opt":
    # Unpacked elsewhere (tests, local runs): where fastrt finds the layer directories of §1.1.
    os.environ["FASTRT_LAYER_ROOT"] = layer_root
if os.environ.get("PYTHONPATH"):
    # With PYTHONPATH set the managed runtime keeps /opt/python off sys.path (§1.1); fastrt's own
    # dependencies (orjson, urllib3) must still import, so the layer goes last, shadowing nothing.
    sys.path.append(layer_python)

main(sys.argv)
