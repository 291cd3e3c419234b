"""The emotion wheel: label -> cluster mapping exactly as the AffectGPT / OV-MER reference."""

from __future__ import annotations

import pytest

from affect_llm.taxonomy import (
    WHEEL_LEVELS,
    WHEELS,
    get_taxonomy,
    parse_label_list,
    read_wheel,
    wheel_clusters,
)


def test_tables_are_read_from_the_directory_given(tmp_path):
    """`get_taxonomy(root)` scores with a user's own copy of the tables, not the packaged one."""
    import shutil

    from affect_llm.taxonomy import _resource_dir

    shutil.copytree(_resource_dir(), tmp_path, dirs_exist_ok=True)
    with open(tmp_path / "wheel1.csv", "a", encoding="utf-8") as f:
        f.write("Zorbic,Zorbic,Zorbic\n")
    with open(tmp_path / "format.csv", "a", encoding="utf-8") as f:
        f.write("zorbic,zorbic\n")
    with open(tmp_path / "synonym.csv", "a", encoding="utf-8") as f:
        f.write("zorbic" + "," * 15 + "\n")  # its own synonym root in run 1, nothing else
    custom = get_taxonomy(str(tmp_path))
    assert custom.cluster("zorbic", "wheel1", "level1") == "zorbic"
    assert get_taxonomy().cluster("zorbic", "wheel1", "level1") is None
    assert custom.cluster("happy", "wheel1", "level1") == get_taxonomy().cluster(
        "happy", "wheel1", "level1"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("[happy, joyful]", ["happy", "joyful"]),
        ("['disappointed', 'helpless']", ["disappointed", "helpless"]),
        ('["a", "b"]', ["a", "b"]),
        ("disappointed, hopeless, tired", ["disappointed", "hopeless", "tired"]),
        ("[]", []),
        ("", []),
        (None, []),
        (float("nan"), []),
        (["Already", "parsed"], ["Already", "parsed"]),
        ("[a, b", ["a", "b"]),
        (" [a]", ["[a"]),  # the reference drops a bracket only at the very first character
    ],
)
def test_parse_label_list_follows_the_reference(value, expected):
    assert parse_label_list(value) == expected


def test_blank_cells_repeat_the_value_above(tmp_path):
    path = tmp_path / "wheel.csv"
    path.write_text("level1,level2,level3\nJoy,Proud,Confident\n,,Important\n,Optimistic,Hopeful\n")
    tree = read_wheel(path)
    assert tree == {"joy": {"proud": ["confident", "important"], "optimistic": ["hopeful"]}}


def test_level2_maps_level1_word_to_alphabetically_first_child(tmp_path):
    path = tmp_path / "wheel.csv"
    path.write_text("level1,level2,level3\nJoy,Proud,Confident\n,Optimistic,Hopeful\n")
    level2 = wheel_clusters(read_wheel(path), "level2")
    assert level2["joy"] == "optimistic"
    assert level2["confident"] == "proud"
    assert wheel_clusters(read_wheel(path), "level1")["hopeful"] == "joy"


def test_inflections_and_synonyms_share_a_cluster():
    taxonomy = get_taxonomy()
    for wheel in WHEELS:
        happy = taxonomy.cluster("happy", wheel, "level1")
        assert happy is not None
        assert taxonomy.cluster("Happiness ", wheel, "level1") == happy


def test_unknown_and_neutral_labels_map_to_nothing():
    taxonomy = get_taxonomy()
    for wheel, level in WHEEL_LEVELS:
        assert taxonomy.cluster("blorptastic", wheel, level) is None
        assert taxonomy.cluster("neutral", wheel, level) is None


def test_packed_bits_agree_with_cluster_sets():
    taxonomy = get_taxonomy()
    labels = ["happy", "furious", "anxious", "unknown-word"]
    masks = taxonomy.set_masks(labels)
    for (wheel, level), mask in zip(WHEEL_LEVELS, masks):
        expected = taxonomy.map_labels(labels, wheel, level)
        bits = taxonomy.cluster_bits[(wheel, level)]
        assert mask == sum(1 << bits[c] for c in expected)


def test_describe_gives_both_levels_for_every_wheel():
    description = get_taxonomy().describe("joyful")
    assert set(description) == set(WHEELS)
    assert all(set(levels) == {"level1", "level2"} for levels in description.values())
