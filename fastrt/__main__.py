"""``python -m fastrt [HANDLER]``: run the handler named here, or by ``_HANDLER``."""

import sys

from fastrt.start import main

if __name__ == "__main__":
    main(sys.argv)
