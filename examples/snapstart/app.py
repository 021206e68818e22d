"""SnapStart hooks through snapshot_restore_py (pip install snapshot-restore-py).

Before the snapshot: drop what must not be cloned into every restored environment (here a
"connection"); after restore: open it afresh.
"""

import os

from snapshot_restore_py import register_after_restore, register_before_snapshot

STATE = {"connection": "opened at init", "restored": False}


@register_before_snapshot
def close_before_snapshot():
    STATE["connection"] = None


@register_after_restore
def reopen_after_restore():
    STATE["connection"] = "reopened after restore in pid %d" % os.getpid()
    STATE["restored"] = True


def handler(event, context):
    return STATE
