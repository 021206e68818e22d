"""The fastrt bench: cold start and per-invocation cost of fastrt against the runtimes a user would
otherwise use (the seed's bash bootstrap, AWS's awslambdaric) and against two floors.

``python -m bench --help`` (or ``fastrt bench``) for the options; README.md shows the latest table.
"""
