"""benchmarks/bench_grpo.py's command line and step-phase timer (the 0.5B runs are too slow for CI)."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_grpo.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_grpo", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_r1_omni_options_parse(bench, tmp_path):
    options = bench.build_parser().parse_args(
        ["--shapes", "r1-omni", "--growth", "8x32", "all", "--json", str(tmp_path / "f.json")]
    )
    assert options.shapes == "r1-omni"
    assert options.growth == ["8x32", "all"]
    assert options.json == tmp_path / "f.json"
    grid = [(n, t) for n in (8, 16, 32) for t in (32, 64, 128)]  # docs/training.md's nine cells
    assert bench.growth_cells(options.growth) == [*grid, (8, 32)]
    assert bench.growth_cells(["16x64"]) == [(16, 64)]


def test_a_malformed_growth_cell_is_refused(bench, capsys):
    with pytest.raises(SystemExit) as exit_:
        bench.build_parser().parse_args(["--shapes", "r1-omni", "--growth", "8by32"])
    assert exit_.value.code == 2
    assert "expected COMPLETIONSxTOKENS" in capsys.readouterr().err


def test_step_timer_counts_a_nested_call_to_the_inner_phase_only(bench, monkeypatch):
    clock = [0.0]  # a clock that moves only when the fake trainer works: exact figures
    monkeypatch.setattr(time, "perf_counter", lambda: clock[0])

    class Trainer:
        def _tokenize_prompts(self):
            clock[0] += 0.25

        def _generate(self):
            clock[0] += 0.5
            self._tokenize_prompts()  # the timer replaces this attribute on the instance

    trainer = Trainer()
    timer = bench.StepTimer(trainer)
    timer.on_step_begin(None, None, None)
    trainer._generate()
    timer.on_step_end(None, None, None)
    phases = timer.phases[0]
    assert (phases["generation"], phases["encoders"]) == (0.5, 0.25)
    assert phases["rewards"] == phases["log-prob passes"] == 0.0


def test_the_overhead_figure_keeps_each_trainers_fastest_round(bench):
    # a burst of other work slowed plain TRL's first round and AffectLLM's second one
    plain = [{"step_s": 2.3, "phases_s": {}}, {"step_s": 0.40, "phases_s": {}}]
    affect = [{"step_s": 0.41, "phases_s": {}}, {"step_s": 2.2, "phases_s": {}}]
    best_plain, best_affect = bench.best_round(plain), bench.best_round(affect)
    assert best_affect["step_s"] / best_plain["step_s"] == pytest.approx(1.025)
    assert best_plain["rounds_step_s"] == [2.3, 0.40]


def test_every_rounds_plain_decoder_generates_with_a_kv_cache(bench, tmp_path):
    # Trainer sets `config.use_cache = False` on its model; a decoder built from the AffectLLM's
    # own text config object would make every later round of plain TRL generate without a cache.
    config = bench.AffectModelConfig(face_encoder="clip", audio_encoder="whisper")
    model, processor = bench.build_model_and_processor(config)
    options = bench.build_parser().parse_args(["--steps", "1", "--warmup", "0"])
    media = bench._media(options, 1)[0]
    args = bench._args(str(tmp_path), options, options.batch, 4)
    first, _ = bench.plain_trainer(model, processor, media, args)
    second, _ = bench.plain_trainer(model, processor, media, args)
    assert first.model.config.use_cache is False  # what Trainer does
    assert second.model.generation_config.use_cache is True
    assert model.config.get_text_config().use_cache is True
