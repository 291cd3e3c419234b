"""No network unless asked: the toolkit switches off the usage pings of the libraries it drives.

TRL's trainers report each run to the Hugging Face Hub through `huggingface_hub.send_telemetry`,
and Gradio reports demo launches; neither is something a user of this toolkit asked for. Model and
dataset downloads the user names are untouched. An explicit setting in the environment (e.g.
HF_HUB_DISABLE_TELEMETRY=0) always wins.
"""

from __future__ import annotations

import os
import sys

DEFAULTS = {
    "HF_HUB_DISABLE_TELEMETRY": "1",  # huggingface_hub / TRL usage pings
    "GRADIO_ANALYTICS_ENABLED": "False",  # the demo's launch analytics
}


def disable_telemetry() -> None:
    """Set the defaults above where the user has not chosen, also if huggingface_hub is loaded."""
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None and os.environ["HF_HUB_DISABLE_TELEMETRY"] == "1":
        constants.HF_HUB_DISABLE_TELEMETRY = True  # read once at import: correct it in place
