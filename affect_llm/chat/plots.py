"""Pictures of what the model was given and what it answered (matplotlib, Agg backend).

Face-crop strip, AU-intensity timeline with the peak frame marked, waveform with its loudness and
prosody, and the emotion wheel with the answer's level-1 and level-2 nodes highlighted. Each function
returns an RGB uint8 array, ready for `gr.Image` or `PIL.Image.fromarray(...).save`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from affect_llm.action_units import ACTIVE_INTENSITY_THRESHOLD, AU_NAMES, OPENFACE_INTENSITY_AUS
from affect_llm.perception import ClipPerception

HIGHLIGHT = "#d62728"
_LEVEL1_COLOURS = ("#f4a582", "#92c5de", "#b8e186", "#fdb863", "#c2a5cf", "#f1b6da", "#80cdc1")


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    # A bare Figure draws with the Agg canvas and never touches pyplot's global state (thread-safe).
    return Figure(figsize=(width, height), dpi=100)


def figure_to_array(figure) -> np.ndarray:
    """Render a matplotlib figure to an RGB uint8 array."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def _message(figure, text: str) -> np.ndarray:
    axis = figure.add_subplot()
    axis.axis("off")
    axis.text(0.5, 0.5, text, ha="center", va="center", wrap=True, fontsize=11, color="#555555")
    return figure_to_array(figure)


def face_strip(clip: ClipPerception, title: str = "Face crops the model saw") -> np.ndarray:
    """The sampled face crops in time order; frames with no face show the dimmed frame, peak in red."""
    figure = _figure(10, 1.9)
    if clip.face_crops is None or clip.face_present is None:
        return _message(figure, f"No pictures: {clip.missing.get('video', 'no video')}")
    count = len(clip.face_crops)
    peak = clip.au_summary.peak_index if clip.au_summary else None
    peak_time = clip.au_summary.peak_time if clip.au_summary else None
    figure.suptitle(title, fontsize=10, y=0.98)
    for index in range(count):
        axis = figure.add_subplot(1, count, index + 1)
        axis.set_xticks([])
        axis.set_yticks([])
        time = float(clip.timestamps[index]) if clip.timestamps is not None else None
        if clip.face_present[index]:
            axis.imshow(clip.face_crops[index])
        else:
            axis.imshow((clip.frames[index] * 0.35).astype(np.uint8))
            axis.text(0.5, 0.5, "no face", color="white", ha="center", transform=axis.transAxes)
        is_peak = peak is not None and time is not None and np.isclose(time, peak_time)
        for spine in axis.spines.values():
            spine.set_color(HIGHLIGHT if is_peak else "#999999")
            spine.set_linewidth(3 if is_peak else 0.5)
        label = f"{time:.1f} s" if time is not None else ""
        axis.set_xlabel(label + (" (peak)" if is_peak else ""), fontsize=8)
    figure.subplots_adjust(left=0.01, right=0.99, bottom=0.15, top=0.85, wspace=0.05)
    return figure_to_array(figure)


def au_timeline(clip: ClipPerception, top: int = 6) -> np.ndarray:
    """Intensity over time of the AUs that matter most, the active threshold and the peak frame."""
    figure = _figure(10, 3.0)
    if clip.aus is None or len(clip.aus.values) == 0:
        return _message(figure, f"No facial action units: {clip.missing.get('aus', 'none found')}")
    values, times = clip.aus.values, clip.aus.timestamps
    measured = [OPENFACE_INTENSITY_AUS.index(code) for code in clip.aus.measured]
    order = sorted(measured, key=lambda i: -values[:, i].max())[:top]
    axis = figure.add_subplot()
    for column in order:
        code = OPENFACE_INTENSITY_AUS[column]
        axis.plot(
            times, values[:, column], marker="o", markersize=3, label=f"{code} {AU_NAMES[code]}"
        )
    axis.axhline(ACTIVE_INTENSITY_THRESHOLD, color="#777777", linestyle=":", linewidth=1)
    summary = clip.au_summary
    if summary is not None and summary.peak_time is not None:
        axis.axvline(summary.peak_time, color=HIGHLIGHT, linestyle="--", linewidth=1.5)
        axis.annotate(
            f"peak {summary.peak_time:.1f} s",
            (summary.peak_time, axis.get_ylim()[1]),
            color=HIGHLIGHT,
            fontsize=9,
            ha="left",
            va="top",
            xytext=(4, -2),
            textcoords="offset points",
        )
    source = " (estimated from landmarks)" if clip.aus.source == "landmarks" else ""
    axis.set_title(f"Action-unit intensity{source}", fontsize=10)
    axis.set_xlabel("time (s)", fontsize=9)
    axis.set_ylabel("intensity (0-5)", fontsize=9)
    axis.tick_params(labelsize=8)
    axis.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    figure.subplots_adjust(left=0.07, right=0.76, bottom=0.17, top=0.88)
    return figure_to_array(figure)


def waveform(clip: ClipPerception, sample_rate: int = 16000) -> np.ndarray:
    """The 16 kHz waveform with its loudness (dBFS) over time and the prosody summary as a caption."""
    figure = _figure(10, 2.6)
    if clip.audio is None or clip.audio.size == 0:
        return _message(figure, f"No sound: {clip.missing.get('audio', 'no audio track')}")
    audio = clip.audio
    axis = figure.add_subplot()
    times = np.arange(audio.size) / sample_rate
    step = max(1, audio.size // 4000)  # enough points for the shape, few enough to draw quickly
    axis.plot(times[::step], audio[::step], color="#1f77b4", linewidth=0.5)
    axis.set_xlim(0, times[-1] if audio.size > 1 else 1)
    axis.set_xlabel("time (s)", fontsize=9)
    axis.set_ylabel("amplitude", fontsize=9)
    axis.tick_params(labelsize=8)
    hop = sample_rate // 100
    frames = audio[: audio.size // hop * hop].reshape(-1, hop)
    if len(frames):
        loudness = 20 * np.log10(np.sqrt((frames**2).mean(axis=1)) + 1e-9)
        twin = axis.twinx()
        twin.plot(
            np.arange(len(frames)) * hop / sample_rate, loudness, color="#ff7f0e", linewidth=1
        )
        twin.set_ylabel("loudness (dBFS)", fontsize=9, color="#ff7f0e")
        twin.set_ylim(max(loudness.min(), -80), 0)
        twin.tick_params(labelsize=8)
    caption = clip.prosody_text or ""
    axis.set_title(_wrap(caption, 120), fontsize=8.5)
    figure.subplots_adjust(left=0.07, right=0.92, bottom=0.18, top=0.8)
    return figure_to_array(figure)


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def _highlighted(labels: Iterable[str], wheel: str) -> tuple[set[str], set[tuple[str, str]]]:
    from affect_llm.taxonomy import get_taxonomy

    tree = get_taxonomy().trees[wheel]
    level1, level2 = set(), set()
    for label in labels:
        node = get_taxonomy().describe(label)[wheel]
        if node["level1"]:
            level1.add(node["level1"])
        if node["level2"]:
            # Level-2 names can repeat under different level-1 nodes: mark the one under level1.
            parents = [p for p, children in tree.items() if node["level2"] in children]
            parent = (
                node["level1"] if node["level1"] in parents else parents[0] if parents else None
            )
            if parent:
                level2.add((parent, node["level2"]))
    return level1, level2


def wheel_picture(labels: Sequence[str], wheel: str = "wheel1") -> np.ndarray:
    """The emotion wheel as two rings (level 1 inside, level 2 outside), the answer's nodes in red."""
    from affect_llm.taxonomy import get_taxonomy

    tree = get_taxonomy().trees[wheel]
    level1, level2 = _highlighted(labels, wheel)
    figure = _figure(6.4, 6.4)
    axis = figure.add_subplot(projection="polar")
    axis.set_axis_off()
    total = sum(len(children) for children in tree.values())
    width = 2 * np.pi / total
    start = 0.0
    for number, (parent, children) in enumerate(tree.items()):
        colour = _LEVEL1_COLOURS[number % len(_LEVEL1_COLOURS)]
        span = width * len(children)
        hit = parent in level1
        axis.bar(
            start + span / 2,
            0.9,
            width=span,
            bottom=0.25,
            color=HIGHLIGHT if hit else colour,
            edgecolor="white",
            linewidth=1.5,
            align="center",
        )
        _ring_text(axis, start + span / 2, 0.7, parent, 9, hit, tangential=True)
        for index, child in enumerate(children):
            angle = start + width * (index + 0.5)
            child_hit = (parent, child) in level2
            axis.bar(
                angle,
                1.15,
                width=width,
                bottom=1.15,
                color=HIGHLIGHT if child_hit else colour,
                alpha=1.0 if child_hit else 0.55,
                edgecolor="white",
                linewidth=0.8,
                align="center",
            )
            _ring_text(axis, angle, 1.72, child, 6.5, child_hit, tangential=False)
        start += span
    axis.set_ylim(0, 2.3)
    shown = ", ".join(labels) if labels else "no emotion word found in the answer"
    figure.suptitle(f"{wheel}: {_wrap(shown, 70)}", fontsize=10)
    figure.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.92)
    return figure_to_array(figure)


def _ring_text(axis, angle: float, radius: float, text: str, size: float, hit: bool, tangential):
    degrees = np.degrees(angle)
    if tangential:
        rotation = degrees - 90
        if 180 < degrees % 360 < 360:
            rotation += 180
    else:
        rotation = degrees if not 90 < degrees % 360 < 270 else degrees + 180
    axis.text(
        angle,
        radius,
        text,
        rotation=rotation,
        ha="center",
        va="center",
        fontsize=size,
        fontweight="bold" if hit else "normal",
        color="white" if hit else "#222222",
    )


__all__ = ["au_timeline", "face_strip", "figure_to_array", "waveform", "wheel_picture"]
