"""The error every reader raises for bad user input, so commands can print it as one line (exit 2).

It lives at the bottom layer so data readers, evaluation and commands all share one class.
"""

from __future__ import annotations


class InputError(Exception):
    """A user file or folder that cannot be used: missing, unreadable, or not in a known layout.

    The message is one line naming the file (and line or key) and what was expected.
    """
