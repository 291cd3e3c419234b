"""A saved checkpoint loads in a fresh virtual environment holding exactly what its card lists.

The development environment has affect-llm's whole dependency tree (Pillow, torchvision, ...), so
loading there cannot show that the card's `pip install` line is enough. Here a new virtual
environment (no system site-packages) gets the line of an AU checkpoint's card and loads the three
AU pairs, then gets what a CLIP / SigLIP card adds and loads the six image pairs (and two
checkpoints whose processor_config.json has the first, pre-attribute layout); every pair must
give the saving process's logits, refuse to run its code without `trust_remote_code`, and the
cards' snippets must run. pip installs from this machine's configured sources (offline here:
/opt/wheels and the file:// indexes); torch is the bulk of the time.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import venv
from pathlib import Path

import pytest
from conftest import ENCODER_PAIRS
from packaging.requirements import Requirement
from test_affect_save_load import RELOAD, _card_snippet, _isolated_env, _save_case

from affect_llm.modeling.requirements import BASE_PACKAGES, FACE_PACKAGES

README = Path(__file__).resolve().parents[2] / "README.md"
FIRST_LAYOUT = Path(__file__).parent / "fixtures" / "processor_config_v1"


LOAD_PROCESSOR = (
    "import sys; from transformers import AutoProcessor; "
    "AutoProcessor.from_pretrained(sys.argv[1], trust_remote_code=True)"
)


def card_pins(directory: Path) -> list[str]:
    """The requirements of the card's `pip install` line, each pinned to its lower bound: the
    versions the checkpoint was saved with, so the logits can match exactly."""
    card = (directory / "README.md").read_text(encoding="utf-8")
    found = re.findall(r"^pip install (.+)$", card, re.M)
    assert len(found) == 1, f"{directory}: one `pip install` line expected in the card, got {found}"
    pins = []
    for text in shlex.split(found[0]):
        requirement = Requirement(text)
        (bound,) = requirement.specifier
        assert bound.operator == ">=", text
        pins.append(f"{requirement.name}=={bound.version}")
    return pins


def start_pip(python: Path, requirements: list[str], log: Path) -> subprocess.Popen | None:
    """`pip install` into the venv of `python`, running while the caller goes on."""
    if not requirements:
        return None
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    command = [sys.executable, "-m", "pip", "--python", str(python), "install"]
    # no .pyc compilation of torch's thousands of modules: the load compiles what it imports
    command += ["--no-compile", "--disable-pip-version-check", "--quiet", *requirements]
    with open(log, "w") as output:
        return subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL
        )


def finish_pip(process: subprocess.Popen | None, log: Path) -> None:
    if process is not None:
        assert process.wait(timeout=1200) == 0, log.read_text()[-3000:]


def run_in(python: Path, script: str, args: list[str], tmp_path: Path):
    """`python -I -c script args` in the card's venv, away from this checkout and its packages."""
    return subprocess.run(
        [str(python), "-I", "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env=_isolated_env(tmp_path),
        stdin=subprocess.DEVNULL,
    )


def reload_in(python: Path, directories: list[str], snippet: str, tmp_path: Path) -> None:
    """RELOAD (logits, classes, the refusal without trust_remote_code) and the card's snippet."""
    script = RELOAD + f"\nif True:\n{textwrap.indent(snippet, '    ')}"
    result = run_in(python, script, directories, tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert f"reloaded {len(directories)}" in result.stdout


@pytest.mark.slow
def test_every_encoder_pair_loads_with_exactly_what_its_card_lists(tmp_path, request):
    saved = {pair: tmp_path / "-".join(pair) for pair in ENCODER_PAIRS}
    _save_case(saved["au", "prosody"], "au", "prosody")
    au_pins = card_pins(saved["au", "prosody"])
    # the venv holds torch and its CUDA libraries (GBs here): removed at the end, pass or fail
    python = Path(tempfile.mkdtemp(prefix="card-venv-")) / "bin" / "python"
    request.addfinalizer(lambda: shutil.rmtree(python.parents[1], ignore_errors=True))
    log = tmp_path / "pip.log"
    started = time.perf_counter()
    venv.create(python.parents[1], symlinks=True, with_pip=False)  # pip runs from outside
    pip = start_pip(python, au_pins, log)  # torch's install overlaps the other 8 saves
    for (face, audio), directory in saved.items():
        if not directory.exists():
            _save_case(directory, face, audio)
    finish_pip(pip, log)
    installed = time.perf_counter()
    au = [str(d) for (face, _), d in saved.items() if face == "au"]
    image = [str(d) for (face, _), d in saved.items() if face != "au"]
    image_pins = card_pins(Path(image[0]))
    assert all(card_pins(Path(d)) == au_pins for d in au)
    assert all(card_pins(Path(d)) == image_pins for d in image)
    assert set(au_pins) <= set(image_pins), (au_pins, image_pins)
    # checkpoints whose processor_config.json has the first layout (before sub-processor
    # attributes) load in the same venv with the same logits
    for face, audio, group in (("au", "whisper", au), ("siglip", "hubert", image)):
        first = tmp_path / f"{face}-{audio}-first-layout"
        shutil.copytree(saved[face, audio], first)
        shutil.copyfile(FIRST_LAYOUT / f"{face}_{audio}.json", first / "processor_config.json")
        group.append(str(first))

    reload_in(python, au, _card_snippet(saved["au", "prosody"], "au"), tmp_path)
    # an image checkpoint where only the AU card's packages are: the error names what to install
    without_pillow = run_in(python, LOAD_PROCESSOR, [image[0]], tmp_path)
    assert without_pillow.returncode != 0
    assert "needs Pillow: pip install pillow" in without_pillow.stderr, without_pillow.stderr[
        -2000:
    ]
    pip = start_pip(python, sorted(set(image_pins) - set(au_pins)), log)
    finish_pip(pip, log)
    reload_in(python, image, _card_snippet(saved["clip", "whisper"], "clip"), tmp_path)
    print(
        f"venv with the AU card's line (8 saves alongside): {installed - started:.0f} s; "
        f"the rest (loading 9 pairs in it): {time.perf_counter() - installed:.0f} s"
    )


def test_readme_names_every_package_a_card_can_list():
    """The README's "Share a model" paragraph promises what the cards say; it names each package."""
    section = README.read_text(encoding="utf-8").split("## Share a model", 1)[1].split("\n## ")[0]
    for package in {*BASE_PACKAGES, *(p for extra in FACE_PACKAGES.values() for p in extra)}:
        assert f"`{package}`" in section, package
