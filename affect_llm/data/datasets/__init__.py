"""Readers for public emotion datasets, in the layouts researchers download (see docs/data.md).

One module per benchmark family, each exporting `SPECS` (`spec.DatasetSpec`: name, reader, the
layouts it detects, name aliases, build options); `registry.FAMILIES` lists the modules. A reader
returns SourceItems: the dataset's labels and the media matched to each item. The MER-UniBench
datasets are read from either layout, detected from the files on disk:

- "processed": MERTools `MERBench/dataset/<ds>-process/` folders (what AffectGPT evaluates on):
  `label.npz` / `label-6way.npz` / `label_4way.npz` corpora `{name: {"emo", "val"}}`, subtitles in
  `transcription-engchi-polish.csv`, clips named by the corpus name;
- "original": the dataset's own release (MELD.Raw CSVs, MMSA `label.csv`, IEMOCAP EmoEvaluation, ...).

Item ids are MER-UniBench's names in both layouts (`test_dia0_utt0`, `k5Y_838nuGo_1`,
`video_0003_0006`), so results of the two layouts and AffectGPT's prediction files line up;
`prediction_aliases` lists the other names a prediction file may use for an item.
A file or folder that is not what a layout needs is an InputError (one line); a row that cannot be
used is an item with an `error`; two clips that could both be an item's are an error, never a pick.
"""

from affect_llm.data.datasets.dfew import DFEW_CLASSES, dfew_items
from affect_llm.data.datasets.emer import EMER_FILES, emer_items, emotion_words
from affect_llm.data.datasets.iemocap import (
    IEMOCAP_CLASSES,
    IEMOCAP_EMO_INDEX,
    IEMOCAP_FOUR_CLASSES,
    iemocap_items,
)
from affect_llm.data.datasets.mafw import MAFW_CLASSES, mafw_items
from affect_llm.data.datasets.meld import MELD_CLASSES, MELD_EMO_INDEX, MELD_SPLITS, meld_items
from affect_llm.data.datasets.mer import MER_CLASSES, mer_items
from affect_llm.data.datasets.mer_caption_plus import mer_caption_plus_items
from affect_llm.data.datasets.merr import MERR_FILES, merr_items
from affect_llm.data.datasets.mmsa import MMSA_COLUMNS, MMSA_MODES, mmsa_items, mmsa_name
from affect_llm.data.datasets.ovmerd import ovmerd_items
from affect_llm.data.datasets.r1_omni import r1_omni_items
from affect_llm.data.datasets.reading import NO_VALENCE, SUBTITLE_FILES, repair_text
from affect_llm.data.datasets.registry import (
    DATASETS,
    FAMILIES,
    dataset_spec,
    dataset_specs,
    describe_layout,
    prediction_aliases,
    read_dataset,
)
from affect_llm.data.datasets.spec import BuildOption, DatasetSpec, Layout, LayoutRule

__all__ = [
    "DATASETS",
    "DFEW_CLASSES",
    "EMER_FILES",
    "FAMILIES",
    "IEMOCAP_CLASSES",
    "IEMOCAP_EMO_INDEX",
    "IEMOCAP_FOUR_CLASSES",
    "MAFW_CLASSES",
    "MELD_CLASSES",
    "MELD_EMO_INDEX",
    "MELD_SPLITS",
    "MERR_FILES",
    "MER_CLASSES",
    "MMSA_COLUMNS",
    "MMSA_MODES",
    "NO_VALENCE",
    "SUBTITLE_FILES",
    "BuildOption",
    "DatasetSpec",
    "Layout",
    "LayoutRule",
    "dataset_spec",
    "dataset_specs",
    "describe_layout",
    "dfew_items",
    "emer_items",
    "emotion_words",
    "iemocap_items",
    "mafw_items",
    "meld_items",
    "mer_caption_plus_items",
    "mer_items",
    "merr_items",
    "mmsa_items",
    "mmsa_name",
    "ovmerd_items",
    "prediction_aliases",
    "r1_omni_items",
    "read_dataset",
    "repair_text",
]
