"""Writes the mini benchmark fixtures: a few rows of each dataset in its real layouts.

python tests/data/mini_benchmarks/make_fixtures.py   (rewrites every file it owns; see README.md)

Names, labels and subtitles are real rows of the public files where we have them (MERTools
MERBench/dataset npz and transcription CSVs, declare-lab/MELD CSVs); the npz files have the real
key names and value types (MELD/IEMOCAP `emo` an int index, MOSI val numpy float64, MOSEI float32,
SIMS v2 Python float, MER `emo` a str and `val` -10 when unknown). Every clip is a symlink to one of
the four bundled clips in affect_llm/resources/samples/.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parents[2] / "affect_llm" / "resources" / "samples"
CLIPS = ("hopper_happy", "hopper_sad", "hopper_angry", "hopper_surprise")
OWNED = (
    "merbench",
    "mer2023",
    "mer2024",
    "meld",
    "iemocap",
    "mosi",
    "mosei",
    "sims",
    "simsv2",
    "ovmerd",
    "dfew",
)


def clip(path: Path, number: int, suffix: str = ".mp4") -> None:
    path = path.with_suffix(suffix)
    path.parent.mkdir(parents=True, exist_ok=True)
    target = SAMPLES / f"{CLIPS[number % len(CLIPS)]}.mp4"
    path.symlink_to(os.path.relpath(target, path.parent))


def write_csv(
    path: Path, header: list[str] | None, rows: list[list[object]], crlf: bool = False
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n" if crlf else "\n")
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8"))


def savez(path: Path, **arrays: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)


def corpus(**splits: dict) -> dict:
    return {f"{k}_corpus": v for k, v in splits.items()}


# ----------------------------------------------------------------------------- processed layout
# MERTools MERBench/dataset/<ds>-process: the folders AffectGPT's MER-UniBench evaluation reads.

MER2023_TEST1 = {  # real test1_corpus rows and subtitles
    "sample_00001998": (
        "worried",
        0.0,
        "If you're really feeling unwell, you should go to the hospital immediately.",
    ),
    "sample_00003564": (
        "happy",
        2.0,
        "What's the trouble with this? You are helping the little puppy. I'm also very happy that you trust us so much.",
    ),
    "sample_00003845": (
        "happy",
        1.25,
        "Go ahead, as long as you get it back, it's fine. I, your little undercover, have been through thick and thin for you.",
    ),
    "sample_00000733": (
        "neutral",
        -0.5,
        "They all lack the ability to analyze independently, always feeling the need to add some external supplementary symbols.",
    ),
}
MER2023_TRAIN = {
    "sample_00002721": ("neutral", -0.25, ""),
    "sample_00005854": (
        "angry",
        -2.5,
        "Out of all the jerks and bosses, why did you choose Brother Da?",
    ),
    "sample_00003358": ("sad", -2.5, "It doesn't really matter anymore, what about the future?"),
}
MER2024_TEST1 = {
    "sample_00004001": "happy",
    "sample_00004017": "worried",
    "sample_00004023": "surprise",
    "sample_00004035": "sad",
}
# meld-process/label.npz: emo indexes [anger, joy, sadness, neutral, disgust, fear, surprise]
MELD_TEST = [  # (dialogue, utterance, emo index, Emotion, Sentiment, Utterance, Speaker, Season, Episode, StartTime, EndTime)
    (
        0,
        0,
        6,
        "surprise",
        "positive",
        "Why do all you\u2019re coffee mugs have numbers on the bottom?",
        "Mark",
        3,
        19,
        "00:14:38,127",
        "00:14:40,378",
    ),
    (
        0,
        1,
        0,
        "anger",
        "negative",
        "Oh. That\u2019s so Monica can keep track. That way if one on them is missing, she can be like, \u2018Where\u2019s number 27?!\u2019",
        "Rachel",
        3,
        19,
        "00:14:40,629",
        "00:14:47,385",
    ),
    (
        0,
        2,
        3,
        "neutral",
        "neutral",
        "Y'know what?",
        "Rachel",
        3,
        19,
        "00:14:56,353",
        "00:14:57,520",
    ),
    (1, 1, 1, "joy", "positive", "Push!", "Joey", 1, 23, "0:10:46,146", "0:10:46,833"),
]
MELD_DEV = [
    (
        0,
        0,
        2,
        "sadness",
        "negative",
        "Oh my God, he\u2019s lost it. He\u2019s totally lost it.",
        "Phoebe",
        4,
        7,
        "00:20:57,256",
        "00:21:00,049",
    )
]
# iemocap-process/label_4way.npz: whole_corpus only, emo indexes [happy, sad, neutral, angry]
IEMOCAP = {
    "Ses05F_impro01_F000": 2,
    "Ses05F_impro01_F017": 3,
    "Ses05F_impro03_F000": 0,
    "Ses05F_impro02_F001": 1,
    "Ses01F_impro01_F000": 2,
}
IEMOCAP_TEXT = {
    "Ses05F_impro01_F000": "Hi, I need an ID.",
    "Ses05F_impro01_F017": "Isn't there anything you can do?  Just call over and ask them if I can go to the front of the line in the other line.",
}
MOSI_TEST = {
    "k5Y_838nuGo_1": (-1.6, "WHICH I WAS NOT EXCITED TO SEE"),
    "k5Y_838nuGo_2": (1.2, "AND IT ACTUALLY SURPRISED ME"),
    "k5Y_838nuGo_3": (0.8, "AND I HAVE TO ADMIT I I LIKE SHREK I DO"),
    "k5Y_838nuGo_4": (1.0, "I LIKE THE FIRST TWO SHREKS QUITE A BIT"),
}
MOSI_TRAIN = {"OQvJTdtJ2H4_1": (-1.0, "IT COULDVE BEEN BETTER")}
MOSEI_TEST = {
    "uogwnZGb-iE_2": (1.3333334, "and i really enjoyed it"),
    "uogwnZGb-iE_4": (-0.33333334, "the ending was a little weak"),
    "uogwnZGb-iE_5": (0.0, "it came out last friday"),
    "uogwnZGb-iE_6": (1.0, "so i would recommend it"),
}
SIMS_TEST = {
    "video_0003_0006": (-1.0, "Before we got married, didn't we both agree this thing?"),
    "video_0010_0038": (-0.8, "Your mother said that Leier will influence Fang Yifan to study."),
    "video_0023_0007": (1.0, "Do you think I can do it?"),
    "video_0021_0005": (-0.2, ""),
}
SIMSV2_TEST = {
    "video_0001_0003": (
        -1.0,
        "I don't want to marry into any wealthy family. Aren't we already a wealthy family?",
    ),
    "video_0001_0006": (
        -1.0,
        "Enough, it's always the same thing every time, I don't want to hear it anymore.",
    ),
    "video_0001_0009": (0.4, "Speaking of speeches, I can't help but think of my alma mater."),
    "video_0001_0017": (
        1.0,
        "Come to my godmother's company and become the CEO, yes, yes, with an annual salary of one billion.",
    ),
}
OVMERD = {
    "samplenew3_00000010": "['happy', 'excited', 'proud']",
    "samplenew3_00000052": "['sad', 'disappointed', 'helpless']",
    "samplenew3_00000077": "['angry', 'annoyed']",
    "samplenew3_00000101": "['surprised', 'curious']",
    "samplenew3_00000129": "",
}
OVMERD_TEXT = {
    "samplenew3_00000010": "Oh, this is wonderful news! I am so glad it finally works.",
    "samplenew3_00000052": "I am sorry. I really thought we would make it this time.",
    "samplenew3_00000077": "No! This is completely unacceptable. Fix it right now!",
    "samplenew3_00000101": "What? You did all of this in one night?",
    "samplenew3_00000129": "Fine.",
}


def transcription(path: Path, texts: dict[str, str]) -> None:
    """name,chinese,english with CRLF line ends and no BOM, as MERBench ships them."""
    write_csv(
        path, ["name", "chinese", "english"], [[n, "", t] for n, t in texts.items()], crlf=True
    )


def processed(root: Path) -> None:
    ds = root / "mer2023-dataset-process"
    savez(
        ds / "label-6way.npz",
        **corpus(
            train={n: {"emo": e, "val": v} for n, (e, v, _) in MER2023_TRAIN.items()},
            test1={n: {"emo": e, "val": v} for n, (e, v, _) in MER2023_TEST1.items()},
            test2={"sample_00005474": {"emo": "happy", "val": 2.0}},
            test3={"samplenew_00006611": {"emo": "sad", "val": -10}},
        ),
    )
    transcription(
        ds / "transcription-engchi-polish.csv",
        {n: t for n, (_, _, t) in {**MER2023_TEST1, **MER2023_TRAIN}.items()},
    )
    for i, name in enumerate(MER2023_TEST1):
        clip(ds / "video" / name, i)

    ds = root / "mer2024-dataset-process"
    savez(
        ds / "label-6way.npz",
        **corpus(
            train={"sample_00000001": {"emo": "angry", "val": -10}},
            test1={n: {"emo": e, "val": -10} for n, e in MER2024_TEST1.items()},
        ),
    )
    transcription(ds / "transcription_merge.csv", {n: "" for n in MER2024_TEST1})
    for i, name in enumerate(MER2024_TEST1):
        clip(ds / "video" / name, i)

    ds = root / "meld-process"
    test = {f"test_dia{d}_utt{u}": {"emo": e, "val": -10} for d, u, e, *_ in MELD_TEST}
    savez(
        ds / "label.npz",
        **corpus(
            train={"train_dia0_utt0": {"emo": 3, "val": -10}},
            val={f"val_dia{d}_utt{u}": {"emo": e, "val": -10} for d, u, e, *_ in MELD_DEV},
            test=test,
        ),
    )
    transcription(
        ds / "transcription-engchi-polish.csv",
        {f"test_dia{r[0]}_utt{r[1]}": r[5].replace("\u2019", "'") for r in MELD_TEST},
    )
    for i, name in enumerate(test):
        clip(ds / "subvideo" / name, i)

    ds = root / "iemocap-process"
    savez(
        ds / "label_4way.npz", whole_corpus={n: {"emo": e, "val": -10} for n, e in IEMOCAP.items()}
    )
    transcription(ds / "transcription-engchi-polish.csv", IEMOCAP_TEXT)
    for i, name in enumerate(IEMOCAP):
        clip(ds / "subvideo-tgt" / name, i)

    for folder, test, train, kind in (
        ("cmumosi-process", MOSI_TEST, MOSI_TRAIN, np.float64),
        ("cmumosei-process", MOSEI_TEST, {}, np.float32),
        ("sims-process", SIMS_TEST, {}, np.float64),
        ("simsv2-process", SIMSV2_TEST, {}, float),
    ):
        ds = root / folder
        savez(
            ds / "label.npz",
            **corpus(
                train={n: {"emo": 0, "val": kind(v)} for n, (v, _) in train.items()},
                val={},
                test={n: {"emo": 0, "val": kind(v)} for n, (v, _) in test.items()},
            ),
        )
        transcription(ds / "transcription-engchi-polish.csv", {n: t for n, (_, t) in test.items()})
        for i, name in enumerate(test):
            clip(ds / ("video" if folder.startswith("sims") else "subvideo") / name, i)

    ds = root / "ovmerdplus-process"
    write_csv(ds / "ovlabel.csv", ["name", "openset"], [[n, o] for n, o in OVMERD.items()])
    write_csv(ds / "subtitle_eng.csv", ["name", "sentence"], list(map(list, OVMERD_TEXT.items())))
    for i, name in enumerate(OVMERD):
        clip(ds / "video" / name, i)


# ------------------------------------------------------------------------------ original layouts


def original(root: Path) -> None:
    # MER2023 release (dataset-release/): train-label.csv + train/, test1/ clips; no test labels.
    ds = root / "mer2023"
    write_csv(
        ds / "train-label.csv",
        ["name", "discrete", "valence"],
        [[n, e, v] for n, (e, v, _) in MER2023_TRAIN.items()],
    )
    for i, name in enumerate(MER2023_TRAIN):
        clip(ds / "train" / name, i)
    for i, name in enumerate(MER2023_TEST1):
        clip(ds / "test1" / name, i)
    # MER2024 release: label-disdim.csv is the labelled training set.
    ds = root / "mer2024"
    write_csv(
        ds / "label-disdim.csv",
        ["name", "discrete", "valence"],
        [["sample_00000001", "angry", "-2.5"], ["sample_00000007", "happy", "1.5"]],
    )
    for i, name in enumerate(["sample_00000001", "sample_00000007", *MER2024_TEST1]):
        clip(ds / "video" / name, i)

    # MELD.Raw: {dev,test}_sent_emo.csv (UTF-8, CRLF, quoted), clips in three split folders that
    # share stems. The 2019 MELD.Raw copy has U+0092 for apostrophes (cp1252 read as Latin-1).
    ds = root / "meld"
    header = [
        "Sr No.",
        "Utterance",
        "Speaker",
        "Emotion",
        "Sentiment",
        "Dialogue_ID",
        "Utterance_ID",
        "Season",
        "Episode",
        "StartTime",
        "EndTime",
    ]
    raw2019 = str.maketrans({"\u2019": "\u0092", "\u2018": "\u0091"})
    for name, rows in (("test", MELD_TEST), ("dev", MELD_DEV)):
        write_csv(
            ds / f"{name}_sent_emo.csv",
            header,
            [
                [i + 1, r[5].translate(raw2019), r[6], r[3], r[4], r[0], r[1], *r[7:]]
                for i, r in enumerate(rows)
            ],
            crlf=True,
        )
    for i, (d, u, *_) in enumerate(MELD_TEST):
        clip(ds / "output_repeated_splits_test" / f"dia{d}_utt{u}", i)
    clip(ds / "dev_splits_complete" / "dia0_utt0", 3)  # same stem as a test clip, another clip
    clip(ds / "train_splits" / "dia0_utt0", 2)

    # IEMOCAP_full_release: tab-separated EmoEvaluation summary lines, 3-letter codes.
    ds = root / "iemocap" / "IEMOCAP_full_release" / "Session5"
    codes = {
        "Ses05F_impro01_F000": "neu",
        "Ses05F_impro01_M000": "fru",
        "Ses05F_impro01_F017": "ang",
        "Ses05F_impro03_F000": "exc",
        "Ses05F_impro02_F001": "sad",
    }
    dialogs: dict[str, list[str]] = {}
    for i, (name, code) in enumerate(codes.items()):
        dialog = name.rsplit("_", 1)[0]
        start = 6.29 + 3 * len(dialogs.get(dialog, []))
        turn = f"[{start:.4f} - {start + 1.94:.4f}]\t{name}\t{code}\t[2.5000, 2.5000, 2.5000]"
        dialogs.setdefault(dialog, []).append(f"{turn}\nC-E2:\tNeutral;\t()\n")
        clip(ds / "sentences" / "video" / dialog / name, i)
    for dialog, turns in dialogs.items():
        path = ds / "dialog" / "EmoEvaluation" / f"{dialog}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n" + "\n".join(turns)
        )

    # MMSA: CMU-MOSI and CMU-MOSEI label.csv have different column orders; CH-SIMS label.csv;
    # CH-SIMS v2 labels in meta.csv; clips Raw/{video_id}/{clip_id}.mp4 (CH-SIMS clip ids 4 digits).
    mosi_cols = [
        "video_id",
        "clip_id",
        "text",
        "label",
        "label_T",
        "label_A",
        "label_V",
        "annotation",
        "mode",
    ]
    mosei_cols = [
        "video_id",
        "clip_id",
        "text",
        "label",
        "annotation",
        "mode",
        "label_T",
        "label_A",
        "label_V",
    ]

    def annotation(v: float) -> str:
        return "Positive" if v > 0 else "Negative" if v < 0 else "Neutral"

    for folder, label_file, cols, test, train, pad in (
        ("mosi", "label.csv", mosi_cols, MOSI_TEST, MOSI_TRAIN, False),
        ("mosei", "label.csv", mosei_cols, MOSEI_TEST, {}, False),
        ("sims", "label.csv", mosi_cols, SIMS_TEST, {}, True),
        ("simsv2", "meta.csv", mosi_cols, SIMSV2_TEST, {}, True),
    ):
        rows = []
        for mode, part in (("test", test), ("train", train)):
            for i, (name, (valence, text)) in enumerate(part.items()):
                video_id, clip_id = name.rsplit("_", 1)
                values = {
                    "video_id": video_id,
                    "clip_id": clip_id if pad else int(clip_id),
                    "text": text,
                    "label": valence,
                    "label_T": valence if pad else "",
                    "label_A": valence if pad else "",
                    "label_V": valence if pad else "",
                    "annotation": annotation(valence),
                    "mode": mode,
                }
                rows.append([values[c] for c in cols])
                clip(root / folder / "Raw" / video_id / clip_id, i)
        write_csv(root / folder / label_file, cols, rows)

    # OV-MERD+ release: ovlabel.csv (name, openset; one empty openset) + subtitle_eng.csv + video/.
    ds = root / "ovmerd"
    write_csv(ds / "ovlabel.csv", ["name", "openset"], [[n, o] for n, o in OVMERD.items()])
    write_csv(ds / "subtitle_eng.csv", ["name", "sentence"], list(map(list, OVMERD_TEXT.items())))
    for i, name in enumerate(OVMERD):
        clip(ds / "video" / name, i)

    # DFEW: split CSVs video_name,label (1-7, unpadded names); original clips unpadded (1.mp4).
    ds = root / "dfew"
    for fold, rows in ((1, [[1, 1], [2, 2], [3, 4]]), (2, [[4, 5], [5, 6], [6, 7]])):
        write_csv(
            ds / "EmoLabel_DataSplit" / "test(single-labeled)" / f"set_{fold}.csv",
            ["video_name", "label"],
            rows,
        )
    for number in range(1, 7):
        clip(ds / "Clip" / "original" / str(number), number)


def main() -> None:
    for name in OWNED:
        shutil.rmtree(HERE / name, ignore_errors=True)
    processed(HERE / "merbench")
    original(HERE)


if __name__ == "__main__":
    main()
