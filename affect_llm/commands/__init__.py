"""Sub-commands of the `affect-llm` CLI: each module exposes `register(subparsers)`."""
