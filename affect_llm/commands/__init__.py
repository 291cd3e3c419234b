"""Sub-commands of the `affect-llm` CLI: each module exposes `register(subparsers)`.

Their library imports sit inside the function that runs the command, on purpose: `affect-llm
--help` and the scoring commands must start without loading torch (see cli.py).
"""
