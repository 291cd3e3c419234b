"""The chat session: one clip, streamed answers, multi-turn history, missing modalities, bad files."""

from __future__ import annotations

import pytest
from chat_helpers import CLIP, no_face_clip, silent_film

from affect_llm.chat.session import (
    ChatConfig,
    ChatEngine,
    Conversation,
    default_question,
    modality_messages,
    parse_reply,
)
from affect_llm.errors import InputError
from affect_llm.perception import MediaError


@pytest.fixture(scope="module")
def conversation(tiny_engine) -> Conversation:
    return tiny_engine.open_clip(CLIP)


def test_first_turn_carries_media_placeholders_and_cue_text(tiny_engine, conversation):
    prompt, message = tiny_engine.prompt_text(conversation, "What does she feel?")
    assert prompt.count("<|face|>") == 1 and prompt.count("<|audio|>") == 1
    assert "Facial action units: At the peak expression" in prompt
    assert "Voice: The voice is" in prompt
    assert prompt.rstrip().endswith("<|im_start|>assistant")
    assert message["content"][-1]["text"].endswith("What does she feel?")


def test_stream_yields_pieces_that_make_the_recorded_reply(tiny_engine):
    conversation = tiny_engine.open_clip(CLIP)
    pieces = list(tiny_engine.stream(conversation))
    assert len(pieces) > 1  # streamed, not one block at the end
    reply = conversation.replies[-1]
    assert "".join(pieces) == reply.text
    assert conversation.messages[0]["content"][-1]["text"].endswith(default_question())
    assert conversation.messages[1] == {"role": "assistant", "content": reply.text}


def test_follow_up_sees_the_whole_history_and_the_same_clip(tiny_engine):
    conversation = tiny_engine.open_clip(CLIP)
    first = tiny_engine.ask(conversation, "Which emotions?")
    second = tiny_engine.ask(conversation, "Why?")
    assert [m["role"] for m in conversation.messages] == ["user", "assistant"] * 2
    prompt, _ = tiny_engine.prompt_text(conversation, "Anything else?")
    assert prompt.count("<|face|>") == 1  # media once, in the first turn
    for text in ("Which emotions?", "Why?", "Anything else?", first.text, second.text):
        assert text in prompt
    inputs = tiny_engine.processor(
        text=[prompt], **{k: [v] for k, v in tiny_engine.media(conversation.clip).items()}
    )
    assert "face_values" in inputs and tiny_engine.processor.audio_input_key in inputs


def test_sampling_is_seeded_so_runs_repeat():
    engine = ChatEngine(ChatConfig(max_new_tokens=10, temperature=0.9, seed=3))
    answers = [engine.ask(engine.open_clip(CLIP)).text for _ in range(2)]
    assert answers[0] == answers[1]


def test_clip_without_face_says_so_and_still_answers(tiny_engine, tmp_path):
    conversation = tiny_engine.open_clip(no_face_clip(tmp_path / "scenery.mp4"))
    messages = modality_messages(conversation.clip)
    assert any(m.startswith("No face in this clip") for m in messages)
    assert any("voice" in m for m in messages)
    prompt, _ = tiny_engine.prompt_text(conversation, "Feelings?")
    assert "<|face|>" not in prompt and "<|audio|>" in prompt
    assert tiny_engine.ask(conversation).text == conversation.messages[-1]["content"]


def test_clip_without_audio_says_so_and_still_answers(tiny_engine, tmp_path):
    conversation = tiny_engine.open_clip(silent_film(tmp_path / "silent.mp4"))
    messages = modality_messages(conversation.clip)
    assert any(m.startswith("No sound in this clip") for m in messages)
    prompt, _ = tiny_engine.prompt_text(conversation, "Feelings?")
    assert "<|audio|>" not in prompt and "<|face|>" in prompt
    reply = tiny_engine.ask(conversation)
    assert conversation.messages[-1] == {"role": "assistant", "content": reply.text}


@pytest.mark.parametrize("content", [b"", b"not a video at all" * 100])
def test_unreadable_file_raises_media_error(tiny_engine, tmp_path, content):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(content)
    with pytest.raises(MediaError):
        tiny_engine.open_clip(bad)
    with pytest.raises(MediaError, match="no such file"):
        tiny_engine.open_clip(tmp_path / "missing.mp4")


def test_parse_reply_places_labels_on_the_wheel():
    reply = parse_reply("<think>Brows pulled together.</think>\n<answer>worried, happy</answer>")
    assert reply.think == "Brows pulled together."
    assert reply.labels == ("worried", "happy")
    assert reply.wheel_nodes["worried"] == {"level1": "scared", "level2": "anxious"}
    assert reply.wheel_nodes["happy"] == {"level1": "happy", "level2": "joyful"}


def test_missing_checkpoint_directory_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match=r"folder has no config\.json"):
        ChatEngine(ChatConfig(model=str(tmp_path)))


def test_subtitle_becomes_a_cue_line(tiny_engine):
    conversation = tiny_engine.open_clip(CLIP, subtitle="I did not expect that at all!")
    prompt, _ = tiny_engine.prompt_text(conversation, "Feelings?")
    assert "Subtitle: I did not expect that at all!" in prompt
    assert "text" not in conversation.clip.missing


def test_a_reader_that_stops_early_does_not_block_the_next_answer(tiny_engine):
    first = tiny_engine.open_clip(CLIP)
    stream = tiny_engine.stream(first)
    next(stream)
    stream.close()  # e.g. a browser tab closed mid-answer
    second = tiny_engine.open_clip(CLIP)
    assert tiny_engine.ask(second).text == second.messages[-1]["content"]
    assert first.messages == []  # an unfinished answer does not join the history


def test_saved_checkpoint_reading_face_crops_and_whisper_audio(tmp_path):
    from affect_llm.modeling.tiny import tiny_model_and_processor

    model, processor = tiny_model_and_processor(face="clip", audio="whisper")
    model.save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    engine = ChatEngine(ChatConfig(model=str(tmp_path), max_new_tokens=6, temperature=0.0))
    assert engine.processor.face_encoder_type == "clip"
    conversation = engine.open_clip(CLIP)
    media = engine.media(conversation.clip)
    assert media["aus"] is None and media["faces"].shape[1:] == (224, 224, 3)
    engine.ask(conversation)
    assert len(engine.ask(conversation, "Why?").text) > 0
