"""The runners' command lines are built from the option dataclasses (HfArgumentParser)."""

from __future__ import annotations

import pytest
from eval_fixtures import EVAL

from affect_llm.evaluation.common import generation_config, perception_config
from affect_llm.evaluation.generation import GenerationConfig
from affect_llm.evaluation.options import ClosedSetOptions, EmerOptions, MerUniBenchOptions
from affect_llm.options import parse_options


def parse(*argv: str, options=ClosedSetOptions):
    return parse_options(options, ["--out", "o", *argv], "eval/x.py", None)


def test_every_flag_spelling_and_default_of_the_old_command_lines():
    given = parse(
        "--model",
        "a",
        "b",
        "--device",
        "cuda",
        "--dtype",
        "bfloat16",
        "--batch-size",
        "2",
        "--max-new-tokens",
        "5",
        "--do-sample",
        "--temperature",
        "0.7",
        "--top-p",
        "0.9",
        "--num-beams",
        "3",
        "--seed",
        "7",
        "--cues",
        "subtitle",
        "aus",
        "--num-frames",
        "4",
        "--limit",
        "1",
        "--overwrite",
        "--no-progress",
        "--datasets",
        "dfew",
        "--folds",
        "1",
        "2",
        "--predictions",
        "dfew=x.csv",
        "--name",
        "row",
    )
    assert (given.model, given.device, given.dtype) == (["a", "b"], "cuda", "bfloat16")
    assert (given.batch_size, given.max_new_tokens, given.do_sample) == (2, 5, True)
    assert (given.temperature, given.top_p, given.num_beams, given.seed) == (0.7, 0.9, 3, 7)
    assert (given.cues, given.num_frames, given.limit) == (["subtitle", "aus"], 4, 1)
    assert given.overwrite and given.no_progress
    assert (given.datasets, given.folds, given.predictions, given.name) == (
        ["dfew"],
        [1, 2],
        ["dfew=x.csv"],
        "row",
    )
    # the underscore spelling is the same flag; `--cues` alone asks for no cue texts
    assert parse("--max_new_tokens", "9", "--cues").max_new_tokens == 9
    assert parse("--cues").cues == []
    defaults = parse()
    assert (defaults.model, defaults.device, defaults.batch_size, defaults.do_sample) == (
        [],
        "cpu",
        None,
        None,
    )
    assert not defaults.overwrite and not defaults.no_progress and defaults.cues is None
    emer = parse("--judge-model", "j", options=EmerOptions)
    assert (emer.judge_model, emer.judge_max_new_tokens) == ("j", 24)
    mer = parse(
        "--extractor",
        "llm",
        "--extractor-model",
        "m",
        "--data",
        "meld=d",
        options=MerUniBenchOptions,
    )
    assert (mer.extractor, mer.extractor_model, mer.data) == ("llm", "m", ["meld=d"])


def test_yaml_settings_then_the_flags_given():
    from affect_llm.evaluation.common import load_config

    config = load_config(EVAL / "dfew_mafw.yaml")
    gen = generation_config(parse("--seed", "3", "--cues", "aus"), config)
    assert (gen.max_new_tokens, gen.seed, gen.cues) == (16, 3, ("aus",))  # YAML 16, flags 3/aus
    assert generation_config(parse(), {}) == GenerationConfig()
    assert perception_config(parse("--num-frames", "2"), config).num_frames == 2
    assert perception_config(parse(), config).num_frames == 8


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--out", "o", "--batch-sise", "2"],
            "unrecognized arguments: --batch-sise 2 (did you mean '--batch-size'?)",
        ),
        (["--out", "o", "--batch-size", "two"], "invalid int value: 'two'"),
        (["--out", "o", "--datasets", "afew"], "invalid choice: 'afew'"),
        ([], "the following arguments are required: --out"),
    ],
)
def test_a_bad_flag_is_one_line_and_exit_2(argv, message, capsys):
    from affect_llm.evaluation.closed_set import main

    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and message in err and err.count("\n") == 1, err


@pytest.mark.parametrize("section, key", [("generation", "max_tokens"), ("perception", "frames")])
def test_an_unknown_yaml_setting_is_one_line_and_exit_2(tmp_path, capsys, section, key):
    from affect_llm.evaluation.closed_set import main

    config = tmp_path / "run.yaml"
    config.write_text(
        f"datasets:\n  dfew:\n    root: {tmp_path}\n{section}:\n  {key}: 3\n", encoding="utf-8"
    )
    assert main(["--config", str(config), "--out", str(tmp_path / "o"), "--model", "tiny"]) == 2
    err = capsys.readouterr().err
    assert err == f"error: unknown {section} settings: {key}\n"


def test_name_path_values_name_a_known_dataset(tmp_path):
    from affect_llm.evaluation.common import named_paths

    given = named_paths([f"dfew={tmp_path}/a.csv"], "--predictions", ["dfew", "mafw"])
    assert given == {"dfew": str(tmp_path / "a.csv")}
    for bad in ("afew=a.csv", "a.csv"):
        with pytest.raises(
            ValueError,
            match=f"--predictions '{bad}': expected NAME=PATH with NAME one of dfew, mafw",
        ):
            named_paths([bad], "--predictions", ["dfew", "mafw"])
