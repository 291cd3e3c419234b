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
from dataclasses import dataclass
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
from affect_llm.safe_text import inert_markdown, markdown_cell

logger = logging.getLogger(__name__)
SAMPLES_DIR = Path(str(resources.files("affect_llm") / "resources" / "samples"))
WHEELS = ("wheel1", "wheel2", "wheel3", "wheel4", "wheel5")
MAX_UPLOAD_MB = 200  # larger uploads are refused (Gradio's max_file_size, and checked again)
MAX_CLIP_SECONDS = 300  # longer clips are refused before perception reads them

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
        shown = markdown_cell(label).replace("!", "\\!")  # model text: no image, no HTML
        rows.append(f"| **{shown}** | {node['level1'] or '-'} | {node['level2'] or '-'} |")
    return "\n".join(rows)


def _said(role: str, text: str) -> dict[str, str]:
    """A chat message for the page: the Chatbot renders Markdown and HTML, and model text (or a
    file name) must not make the browser fetch anything (`inert_markdown`)."""
    return {"role": role, "content": inert_markdown(text)}


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


@dataclass
class Page:
    """The components the handlers update, by name (handlers return {component: value})."""

    state: Any
    status: Any
    faces: Any
    aus: Any
    wave: Any
    reasoning: Any
    answer: Any
    labels: Any
    wheel_image: Any
    chat: Any
    prompt: Any
    question: Any

    def analysis_outputs(self) -> list:
        """What "Analyse clip" updates, in the order the HTTP API returns them."""
        names = ("state", "status", "faces", "aus", "wave", "reasoning", "answer", "labels")
        return [getattr(self, n) for n in (*names, "wheel_image", "chat", "prompt")]

    def follow_up_outputs(self) -> list:
        names = ("question", "chat", "reasoning", "answer", "labels", "wheel_image")
        return [getattr(self, n) for n in names]


class DemoHandlers:
    """The demo's event handlers around one engine; each returns only what changes."""

    def __init__(self, engine: ChatEngine, page: Page):
        self.engine = engine
        self.page = page
        self.uploads: dict[str, set[str]] = {}  # browser session -> uploaded files it analysed

    def cleared(self, status: str) -> dict:
        """A fresh page for a new clip, with `status` shown."""
        p = self.page
        return {
            p.state: None,
            p.status: status,
            **dict.fromkeys((p.faces, p.aus, p.wave, p.wheel_image)),
            **dict.fromkeys((p.reasoning, p.answer, p.labels, p.prompt), ""),
            p.chat: [],
        }

    def check_upload(self, video: str) -> str | None:
        """Why an uploaded file is refused (too big, too long, not local), or None."""
        path = Path(video)
        if SAMPLES_DIR in path.resolve().parents:
            return None
        if path.stat().st_size > MAX_UPLOAD_MB * 1024 * 1024:
            return f"{path.name} is larger than {MAX_UPLOAD_MB} MB; upload a shorter clip."
        from affect_llm.perception.video import probe

        duration = probe(path).duration
        if duration is not None and duration > MAX_CLIP_SECONDS:
            return (
                f"{path.name} lasts {duration:.0f} s; the demo reads clips up to "
                f"{MAX_CLIP_SECONDS} s. Cut the part you want to ask about."
            )
        return None

    def remember_upload(self, video: str, request: Any) -> None:
        session = getattr(request, "session_hash", None)
        if session and SAMPLES_DIR not in Path(video).resolve().parents:
            self.uploads.setdefault(session, set()).add(str(video))

    def forget_session(self, request: Any = None) -> None:
        """Delete the files a closed browser tab uploaded."""
        for path in self.uploads.pop(getattr(request, "session_hash", None), set()):
            Path(path).unlink(missing_ok=True)

    def forget_all(self) -> None:
        """Delete every upload (the server is stopping)."""
        for session in list(self.uploads):
            for path in self.uploads.pop(session):
                Path(path).unlink(missing_ok=True)

    def analyse(
        self, video: str | None, subtitle: str, wheel: str, request: Any = None
    ) -> Iterator[dict]:
        """Read the clip, show what the model gets, stream the reasoning, then the answer."""
        p = self.page
        if not video:
            yield self.cleared(_status(["Upload a clip or pick a bundled one first."], "error"))
            return
        name = Path(video).name
        yield self.cleared(_status([f"Reading {name}..."]))
        try:
            refused = self.check_upload(video)
            if refused:
                Path(video).unlink(missing_ok=True)
                yield {p.status: _status([refused], "error")}
                return
            self.remember_upload(video, request)
            conversation = self.engine.open_clip(video, subtitle=subtitle)
        except Exception as error:  # a corrupt upload must not take the app down
            if not isinstance(error, MediaError):
                logger.exception("reading %s failed", video)
            yield {
                p.status: _status([f"Could not read {name}: {error}. Try another file."], "error")
            }
            return
        notes = modality_messages(conversation.clip)
        yield {p.state: conversation, **self.clip_panels(conversation, name, notes)}
        yield from self.stream_answer(conversation, name, notes, wheel)

    def clip_panels(self, conversation: Conversation, name: str, notes: list[str]) -> dict:
        """Status, the three pictures of what the model saw, the question and the exact prompt."""
        p, clip = self.page, conversation.clip
        strip_title = getattr(self.engine, "face_strip_title", None) or (
            "Face crops (the model reads their action units)"
            if self.engine.processor.face_encoder_type == "au"
            else "Face crops the model saw"
        )
        prompt, _ = self.engine.prompt_text(conversation, default_question())
        return {
            p.status: _status(notes) if notes else _status([f"{name}: face and voice found."]),
            p.faces: plots.face_strip(clip, strip_title),
            p.aus: plots.au_timeline(clip),
            p.wave: plots.waveform(clip),
            p.chat: [_said("user", f"[{name}] {default_question()}")],
            p.prompt: prompt,
        }

    def stream_answer(
        self, conversation: Conversation, name: str, notes: list[str], wheel: str
    ) -> Iterator[dict]:
        """The reasoning as it streams (unchanged panels are not re-sent), then the answer."""
        p = self.page
        question = default_question()
        chat = [_said("user", f"[{name}] {question}")]
        text = ""
        try:
            for piece in self.engine.stream(conversation, question):
                text += piece
                yield {
                    p.reasoning: _reasoning(text),
                    p.chat: [*chat, _said("assistant", text)],
                }
        except Exception as error:
            logger.exception("generation failed on %s", name)
            failure = _status([*notes, f"Generation failed: {error}"], "error")
            yield {
                p.status: failure,
                p.reasoning: _reasoning(text),
                p.answer: "",
                p.labels: "",
                p.wheel_image: None,
                p.chat: chat,
            }
            return
        reply = conversation.replies[-1]
        yield {
            **self.answer_panels(reply, wheel),
            p.chat: [*chat, _said("assistant", reply.text)],
        }

    def answer_panels(self, reply: Reply, wheel: str) -> dict:
        p = self.page
        return {
            p.reasoning: _reasoning(reply.text),
            p.answer: (reply.answer if reply.answer is not None else reply.text).strip(),
            p.labels: labels_markdown(reply, wheel),
            p.wheel_image: plots.wheel_picture(reply.labels, wheel),
        }

    def follow_up(
        self, question: str, conversation: Conversation | None, history: list, wheel: str
    ) -> Iterator[dict]:
        """A follow-up question; the panels change only when its answer names emotions again."""
        p = self.page
        question = question.strip()
        if not question:
            yield {p.question: "", p.chat: history}
            return
        chat = [*history, _said("user", question)]
        if conversation is None:
            note = "Analyse a clip first (upload one or pick a bundled one), then ask about it."
            yield {p.question: "", p.chat: [*chat, {"role": "assistant", "content": note}]}
            return
        text = ""
        try:
            for piece in self.engine.stream(conversation, question):
                text += piece
                yield {p.question: "", p.chat: [*chat, _said("assistant", text)]}
        except Exception as error:
            logger.exception("generation failed on a follow-up")
            failed = f"{text}\n\n(generation failed: {error})"
            yield {p.question: question, p.chat: [*chat, _said("assistant", failed)]}
            return
        reply = conversation.replies[-1]
        update = {p.question: "", p.chat: [*chat, _said("assistant", reply.text)]}
        if reply.answer is not None and reply.labels:
            update.update(self.answer_panels(reply, wheel))
        yield update

    def redraw_wheel(self, conversation: Conversation | None, wheel: str) -> dict:
        shown = _shown_reply(conversation)
        if shown is None:
            return {}
        p = self.page
        return {
            p.labels: labels_markdown(shown, wheel),
            p.wheel_image: plots.wheel_picture(shown.labels, wheel),
        }


def refuse_urls(gr, video):
    """Make a gr.Video never fetch a URL a client sends in place of an uploaded file.

    (Patched on the instance: a gr.Video subclass would make Gradio write a .pyi stub beside it.)
    """
    from gradio_client.utils import is_http_url_like

    move, async_move = video.move_resource_to_block_cache, video.async_move_resource_to_block_cache

    def check(path) -> None:
        if path is not None and is_http_url_like(str(path)):
            raise gr.Error("The demo does not fetch URLs: upload the clip file instead.")

    def guarded(path):
        check(path)
        return move(path)

    async def async_guarded(path):
        check(path)
        return await async_move(path)

    video.move_resource_to_block_cache = guarded
    video.async_move_resource_to_block_cache = async_guarded
    return video


def build_demo(engine: ChatEngine):
    """The Blocks app around one loaded engine (not launched); `demo.handlers` holds the handlers."""
    import gradio as gr

    # uploads older than an hour are deleted every ten minutes, and all of them at shutdown
    with gr.Blocks(
        title="affect-llm demo", analytics_enabled=False, delete_cache=(600, 3600)
    ) as demo:
        gr.Markdown(
            "## affect-llm: emotions in a video clip, and why\n"
            f"Model: {engine.description}. Everything the model was given is shown below: the face "
            "crops, the action units, the voice and the exact prompt. Clips up to "
            f"{MAX_CLIP_SECONDS} s and {MAX_UPLOAD_MB} MB; uploads are deleted when you close the tab."
        )
        state = gr.State(None)
        with gr.Row():
            with gr.Column(scale=2):
                video = refuse_urls(
                    gr, gr.Video(label="Clip", sources=["upload"], elem_id="clip", height=300)
                )
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
        chat = gr.Chatbot(label="Conversation", elem_id="chat", height=320)
        with gr.Row():
            question = gr.Textbox(
                placeholder="Ask a follow-up question about this clip",
                show_label=False,
                elem_id="question",
                scale=5,
            )
            ask = gr.Button("Ask", elem_id="ask", scale=1)
        with gr.Accordion("Prompt sent to the model", open=False):
            prompt = gr.Textbox(show_label=False, lines=8, elem_id="prompt")

        page = Page(
            state,
            status,
            faces,
            aus,
            wave,
            reasoning,
            answer,
            labels,
            wheel_image,
            chat,
            prompt,
            question,
        )
        handlers = DemoHandlers(engine, page)
        sample.change(lambda name: str(SAMPLES_DIR / name) if name else gr.skip(), sample, video)

        # Every event that runs perception or the model waits in one queue (one model in memory).
        def analyse(video, subtitle, wheel, request):
            yield from handlers.analyse(video, subtitle, wheel, request)

        def forget_session(request):
            handlers.forget_session(request)

        # Gradio passes the request (the browser session) to parameters annotated gr.Request
        analyse.__annotations__ = forget_session.__annotations__ = {"request": gr.Request}
        run.click(
            analyse,
            [video, subtitle, wheel],
            page.analysis_outputs(),
            concurrency_id="model",
            api_name="analyse",
        )
        follow_inputs = [question, state, chat, wheel]
        for event in (ask.click, question.submit):
            event(
                handlers.follow_up, follow_inputs, page.follow_up_outputs(), concurrency_id="model"
            )
        wheel.change(handlers.redraw_wheel, [state, wheel], [labels, wheel_image])
        demo.unload(forget_session)
    demo.handlers = handlers
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
    """Serve the demo until interrupted (blocks); on this machine only unless `host` says so."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    demo = build_demo(engine)
    print(f"affect-llm demo: http://{host}:{port or 7860}/ (Ctrl-C stops it)", flush=True)
    try:
        demo.queue(default_concurrency_limit=1).launch(
            server_name=host,
            server_port=port,
            allowed_paths=[str(SAMPLES_DIR)],
            max_file_size=f"{MAX_UPLOAD_MB}mb",
            show_error=True,
            css=CSS,
            footer_links=[],
            quiet=True,  # no share=True hint: the demo is not meant to be shared publicly
            **kwargs,
        )
    finally:
        demo.handlers.forget_all()  # uploads do not outlive the server


__all__ = [
    "DemoHandlers",
    "Page",
    "build_demo",
    "bundled_samples",
    "labels_markdown",
    "launch_demo",
    "parse_reply",
]
