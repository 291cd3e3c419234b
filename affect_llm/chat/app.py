"""The Gradio demo: upload a clip (or pick a bundled one), see what the model saw, stream its answer.

The page shows the sampled face crops, the AU-intensity timeline with the peak frame, the waveform
with prosody, the streaming `<think>` reasoning, the answer's labels on an emotion-wheel picture and a
chat for follow-up questions. One `ChatEngine` (the model) serves every browser tab; each tab keeps
its own `Conversation` in a `gr.State`.
"""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from affect_llm.chat import plots
from affect_llm.chat.session import (
    DEFAULT_WHEEL,
    ChatEngine,
    Conversation,
    Reply,
    default_question,
    modality_messages,
    parse_reply,
)
from affect_llm.parsing import think_text
from affect_llm.perception import MediaError

logger = logging.getLogger(__name__)
SAMPLES_DIR = Path(str(resources.files("affect_llm") / "resources" / "samples"))
WHEELS = ("wheel1", "wheel2", "wheel3", "wheel4", "wheel5")

CSS = """
#status .error { color: #b00020; font-weight: 600; }
#status .note { color: #8a5300; }
#labels table { font-size: 0.95em; }
"""


def bundled_samples() -> list[str]:
    """Names of the clips shipped in `affect_llm/resources/samples`."""
    return sorted(p.name for p in SAMPLES_DIR.glob("*.mp4"))


def _status(lines: list[str], kind: str = "note") -> str:
    return "\n".join(f'<p class="{kind}">{html.escape(line)}</p>' for line in lines)


def labels_markdown(reply: Reply | None, wheel: str) -> str:
    """The answer's labels with their level-1 / level-2 nodes on `wheel`, as a Markdown table."""
    if reply is None:
        return ""
    if not reply.labels:
        return "No emotion label found in the answer."
    from affect_llm.taxonomy import get_taxonomy

    taxonomy = get_taxonomy()
    rows = ["| label | level 1 | level 2 |", "|---|---|---|"]
    for label in reply.labels:
        node = taxonomy.describe(label)[wheel]
        rows.append(f"| **{label}** | {node['level1'] or '-'} | {node['level2'] or '-'} |")
    return "\n".join(rows)


def _reasoning(text: str) -> str:
    """What the reasoning box shows: the `<think>` block, else the text before any `<answer>`."""
    think = think_text(text)
    if think is None:
        think = text.split("<answer>", 1)[0]
    return think.strip()


def _shown_reply(conversation: Conversation | None) -> Reply | None:
    """The reply the panels show: the clip's analysis, or a later answer that names emotions."""
    if conversation is None or not conversation.replies:
        return None
    revised = [r for r in conversation.replies[1:] if r.answer is not None and r.labels]
    return revised[-1] if revised else conversation.replies[0]


def build_demo(engine: ChatEngine):
    """The Blocks app around one loaded engine (not launched)."""
    import gradio as gr

    def analyse(video: str | None, subtitle: str, wheel: str) -> Iterator[tuple]:
        # outputs: state, status, faces, aus, wave, reasoning, answer, labels, wheel, chat, prompt
        empty = (None, "", None, None, None, "", "", "", None, [], "")
        if not video:
            yield (
                None,
                _status(["Upload a clip or pick a bundled one first."], "error"),
                *empty[2:],
            )
            return
        name = Path(video).name
        yield (None, _status([f"Reading {name}..."]), *empty[2:])
        try:
            conversation = engine.open_clip(video, subtitle=subtitle)
        except Exception as error:  # a corrupt upload must not take the app down
            if not isinstance(error, MediaError):
                logger.exception("reading %s failed", video)
            message = f"Could not read {name}: {error}. Try another file."
            yield (None, _status([message], "error"), *empty[2:])
            return
        clip = conversation.clip
        notes = modality_messages(clip)
        status = _status(notes) if notes else _status([f"{name}: face and voice found."])
        strip_title = (
            "Face crops (the model reads their action units)"
            if engine.processor.face_encoder_type == "au"
            else "Face crops the model saw"
        )
        pictures = (
            plots.face_strip(clip, strip_title),
            plots.au_timeline(clip),
            plots.waveform(clip),
        )
        question = default_question()
        prompt, _ = engine.prompt_text(conversation, question)
        chat = [{"role": "user", "content": f"[{name}] {question}"}]
        yield (conversation, status, *pictures, "", "", "", None, chat, prompt)
        text = ""
        same = gr.skip()  # unchanged outputs are not re-sent (the plots are large PNGs)
        try:
            for piece in engine.stream(conversation, question):
                text += piece
                reply_chat = [*chat, {"role": "assistant", "content": text}]
                yield (same,) * 5 + (_reasoning(text), same, same, same, reply_chat, same)
        except Exception as error:
            logger.exception("generation failed on %s", name)
            failure = _status([*notes, f"Generation failed: {error}"], "error")
            yield (same, failure, same, same, same, _reasoning(text), "", "", None, chat, same)
            return
        reply = conversation.replies[-1]
        yield (
            same,
            same,
            same,
            same,
            same,
            _reasoning(reply.text),
            (reply.answer if reply.answer is not None else reply.text).strip(),
            labels_markdown(reply, wheel),
            plots.wheel_picture(reply.labels, wheel),
            [*chat, {"role": "assistant", "content": reply.text}],
            same,
        )

    def follow_up(question: str, conversation: Conversation | None, history: list, wheel: str):
        # outputs: question box, chat, reasoning, answer, labels, wheel picture. The panels keep
        # the clip's analysis unless a follow-up answer names emotions again (a revised answer).
        keep = (gr.skip(),) * 4
        question = question.strip()
        if not question:
            yield "", history, *keep
            return
        chat = [*history, {"role": "user", "content": question}]
        if conversation is None:
            note = "Analyse a clip first (upload one or pick a bundled one), then ask about it."
            yield "", [*chat, {"role": "assistant", "content": note}], *keep
            return
        text = ""
        try:
            for piece in engine.stream(conversation, question):
                text += piece
                yield "", [*chat, {"role": "assistant", "content": text}], *keep
        except Exception as error:
            logger.exception("generation failed on a follow-up")
            failed = f"{text}\n\n(generation failed: {error})"
            yield question, [*chat, {"role": "assistant", "content": failed}], *keep
            return
        reply = conversation.replies[-1]
        chat = [*chat, {"role": "assistant", "content": reply.text}]
        if reply.answer is None or not reply.labels:
            yield "", chat, *keep
            return
        yield (
            "",
            chat,
            _reasoning(reply.text),
            reply.answer.strip(),
            labels_markdown(reply, wheel),
            plots.wheel_picture(reply.labels, wheel),
        )

    def redraw_wheel(conversation: Conversation | None, wheel: str):
        shown = _shown_reply(conversation)
        if shown is None:
            return gr.skip(), gr.skip()
        return labels_markdown(shown, wheel), plots.wheel_picture(shown.labels, wheel)

    def pick_sample(name: str | None):
        return str(SAMPLES_DIR / name) if name else gr.skip()

    with gr.Blocks(title="affect-llm demo", analytics_enabled=False) as demo:
        gr.Markdown(
            "## affect-llm: emotions in a video clip, and why\n"
            f"Model: {engine.description}. Everything the model was given is shown below: the face "
            "crops, the action units, the voice and the exact prompt."
        )
        conversation_state = gr.State(None)
        with gr.Row():
            with gr.Column(scale=2):
                video = gr.Video(label="Clip", sources=["upload"], elem_id="clip", height=300)
                sample = gr.Dropdown(
                    bundled_samples(),
                    value=None,
                    label="...or pick a bundled clip",
                    elem_id="sample",
                )
                subtitle = gr.Textbox(
                    label="Subtitle / transcript (optional)", lines=1, elem_id="subtitle"
                )
                run = gr.Button("Analyse clip", variant="primary", elem_id="analyse")
                status = gr.HTML(elem_id="status")
            with gr.Column(scale=3):
                reasoning = gr.Textbox(
                    label="Reasoning (<think>)", lines=7, max_lines=14, elem_id="reasoning"
                )
                answer = gr.Textbox(label="Answer", lines=1, elem_id="answer")
                with gr.Row():
                    labels = gr.Markdown(elem_id="labels")
                    wheel = gr.Radio(list(WHEELS), value=DEFAULT_WHEEL, label="Emotion wheel")
                wheel_image = _image(gr, "Labels on the emotion wheel", "wheel-picture", 420)
        faces = _image(gr, "Sampled face crops (peak frame in red)", "face-strip", None)
        aus = _image(gr, "Action-unit intensity (peak frame dashed)", "au-timeline", None)
        wave = _image(gr, "Waveform, loudness and prosody", "waveform", None)
        chatbot = gr.Chatbot(label="Conversation", elem_id="chat", height=320)
        with gr.Row():
            question = gr.Textbox(
                placeholder="Ask a follow-up question about this clip", show_label=False,
                elem_id="question", scale=5,
            )  # fmt: skip
            ask = gr.Button("Ask", elem_id="ask", scale=1)
        with gr.Accordion("Prompt sent to the model", open=False):
            prompt = gr.Textbox(show_label=False, lines=8, elem_id="prompt")

        sample.change(pick_sample, sample, video)
        run.click(
            analyse,
            [video, subtitle, wheel],
            [
                conversation_state, status, faces, aus, wave, reasoning, answer, labels,
                wheel_image, chatbot, prompt,
            ],
            concurrency_id="model",
        )  # fmt: skip
        follow_outputs = [question, chatbot, reasoning, answer, labels, wheel_image]
        inputs = [question, conversation_state, chatbot, wheel]
        # Every event that runs perception or the model waits in one queue (one model in memory).
        ask.click(follow_up, inputs, follow_outputs, concurrency_id="model")
        question.submit(follow_up, inputs, follow_outputs, concurrency_id="model")
        wheel.change(redraw_wheel, [conversation_state, wheel], [labels, wheel_image])
    return demo


def _image(gr, label: str, elem_id: str, height: int | None):
    return gr.Image(
        label=label,
        elem_id=elem_id,
        type="numpy",
        format="png",
        interactive=False,
        height=height,
        buttons=["download"],
    )


def launch_demo(
    engine: ChatEngine, host: str = "127.0.0.1", port: int | None = None, **kwargs: Any
) -> None:
    """Serve the demo until interrupted (blocks)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    demo = build_demo(engine)
    demo.queue(default_concurrency_limit=1).launch(
        server_name=host,
        server_port=port,
        allowed_paths=[str(SAMPLES_DIR)],
        show_error=True,
        css=CSS,
        footer_links=[],
        **kwargs,
    )


__all__ = ["build_demo", "bundled_samples", "labels_markdown", "launch_demo", "parse_reply"]
