"""transformers' common model and generation tests, pointed at AffectLLM's tiny configs.

Dropped into a copy of ../shared/transformers_tests as tests/models/affect_llm/ by `run.sh` (see
docs/modeling.md); it imports the mixins relatively, so it only runs from there. Modelled on
transformers' own LLaVA and Qwen2-Audio tests: a Tester builds a tiny random config and inputs, the
test class inherits every common test. Skips are listed with their reasons below.
"""

import unittest

from transformers import is_torch_available
from transformers.models.auto.modeling_auto import (
    MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
    MODEL_MAPPING_NAMES,
)
from transformers.testing_utils import require_torch, torch_device

from affect_llm.modeling.configuration_affect_llm import AffectLLMConfig
from affect_llm.modeling.modeling_affect_llm import (
    AffectLLMForConditionalGeneration,
    AffectLLMModel,
)
from affect_llm.modeling.tiny import (
    TINY_IMAGE_SIZE,
    TINY_WHISPER_SECONDS,
    tiny_audio_config,
    tiny_face_config,
    tiny_text_config,
)

from ...generation.test_utils import GenerationTesterMixin
from ...test_configuration_common import ConfigTester
from ...test_modeling_common import ModelTesterMixin, floats_tensor, ids_tensor

if is_torch_available():
    import torch

# The mixins pick labels, base-model checks and LM-head checks from transformers' own Auto tables,
# which list only in-tree models. Our package registers the same two classes with AutoModel and
# AutoModelForCausalLM (affect_llm.modeling.register_auto_classes); name them in the tables too.
MODEL_MAPPING_NAMES["affect_llm"] = "AffectLLMModel"
MODEL_FOR_CAUSAL_LM_MAPPING_NAMES["affect_llm"] = "AffectLLMForConditionalGeneration"


class AffectLLMModelTester:
    """Tiny AffectLLM config and inputs: `face` / `audio` name the encoder pair (as in tiny.py)."""

    face = "au"
    audio = "prosody"

    def __init__(self, parent, batch_size=3, text_length=7, num_media_tokens=4, vocab_size=99):
        self.parent = parent
        self.batch_size = batch_size
        self.vocab_size = vocab_size
        self.num_media_tokens = num_media_tokens
        self.face_token_id = 3
        self.audio_token_id = 4
        self.pad_token_id = 1
        self.bos_token_id = 2
        text = tiny_text_config(vocab_size, hidden_size=32)
        self.text_config = text
        self.hidden_size = text.hidden_size
        self.num_hidden_layers = text.num_hidden_layers
        self.num_attention_heads = text.num_attention_heads
        self.is_training = True
        # Two text tokens (left padding in the first row), face placeholders, audio placeholders, text.
        self.seq_length = text_length + 2 * num_media_tokens
        self.encoder_seq_length = self.seq_length
        self.num_frames = 4
        # Layers of the audio encoder, for the mixins' hidden-state / attention counts: Whisper's
        # encoder layers, or the prosody encoder's two convolutions.
        audio = tiny_audio_config(self.audio)
        self.audio_config = {"num_hidden_layers": audio.encoder_layers if audio else 2}

    def get_config(self):
        text = tiny_text_config(self.vocab_size, hidden_size=self.hidden_size)
        text.pad_token_id = self.pad_token_id
        text.bos_token_id = self.bos_token_id
        return AffectLLMConfig(
            text_config=text,
            face_config=tiny_face_config(self.face),
            audio_config=tiny_audio_config(self.audio),
            face_encoder_type=self.face,
            audio_encoder_type=self.audio,
            au_hidden_size=32,
            prosody_hidden_size=32,
            num_face_tokens=self.num_media_tokens,
            num_audio_tokens=self.num_media_tokens,
            projector_num_heads=4,
            face_token_id=self.face_token_id,
            audio_token_id=self.audio_token_id,
        )

    def face_inputs(self):
        if self.face == "au":
            values = floats_tensor([self.batch_size, self.num_frames, 17], scale=5.0)
        else:
            size = TINY_IMAGE_SIZE
            values = floats_tensor([self.batch_size, self.num_frames, 3, size, size])
        mask = torch.ones(self.batch_size, self.num_frames, dtype=torch.bool, device=torch_device)
        return {"face_values": values, "face_mask": mask}

    def audio_inputs(self):
        if self.audio == "whisper":
            frames = 100 * TINY_WHISPER_SECONDS
            values = floats_tensor([self.batch_size, 16, frames])
            key = "input_features"
        elif self.audio == "hubert":
            frames = 1600
            values = floats_tensor([self.batch_size, frames])
            key = "input_values"
        else:  # prosody: 8 features per 10 ms frame
            frames = 40
            values = floats_tensor([self.batch_size, frames, 8])
            key = "input_features"
        mask = torch.ones(self.batch_size, frames, dtype=torch.bool, device=torch_device)
        return {key: values, "audio_mask": mask}

    def prepare_config_and_inputs_for_common(self):
        config = self.get_config()
        input_ids = ids_tensor([self.batch_size, self.seq_length], self.vocab_size - 5) + 5
        k = self.num_media_tokens
        input_ids[:, 2 : 2 + k] = self.face_token_id
        input_ids[:, 2 + k : 2 + 2 * k] = self.audio_token_id
        attention_mask = torch.ones_like(input_ids)
        input_ids[0, :2] = self.pad_token_id  # a left-padded row, as in a generation batch
        attention_mask[0, :2] = 0
        inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
        inputs.update(self.face_inputs())
        inputs.update(self.audio_inputs())
        return config, inputs


class ClipWhisperModelTester(AffectLLMModelTester):
    face = "clip"
    audio = "whisper"


class _AffectLLMTestBase(ModelTesterMixin, GenerationTesterMixin):
    all_model_classes = (AffectLLMModel, AffectLLMForConditionalGeneration)
    pipeline_model_mapping = {}
    _is_composite = True
    model_tester_class = AffectLLMModelTester
    # Run `test_can_init_all_missing_weights` (transformers skips it for models added before 2023,
    # read from a copyright line our files do not carry).
    test_can_init_all_missing_weights_before_2023 = True

    def setUp(self):
        self.model_tester = self.model_tester_class(self)
        self.config_tester = ConfigTester(
            self, config_class=AffectLLMConfig, has_text_modality=False
        )

    def test_config(self):
        self.config_tester.run_common_tests()

    @unittest.skip(
        "inputs_embeds cannot carry the face / audio tokens merged from face_values / input_features"
    )
    def test_inputs_embeds_matches_input_ids(self):
        pass


@require_torch
class AffectLLMAUProsodyModelTest(_AffectLLMTestBase, unittest.TestCase):
    """AU intensities + prosody features: the light encoders trained from scratch."""

    model_tester_class = AffectLLMModelTester
    # No audio sub-config to read the width from; our tests/modeling check it (prosody_hidden_size).
    skip_test_audio_features_output_shape = True

    @unittest.skip("the prosody encoder is two convolutions: it has no attention to return")
    def test_get_audio_features_attentions(self):
        pass


@require_torch
class AffectLLMClipWhisperModelTest(_AffectLLMTestBase, unittest.TestCase):
    """CLIP vision tower on face crops + Whisper encoder on log-mel features."""

    model_tester_class = ClipWhisperModelTester
