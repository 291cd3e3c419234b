"""A GRPOTrainer that shows the model each prompt's face and audio.

TRL's GRPOTrainer forwards only image keys to the model. This subclass reads each row's `faces` /
`aus` / `audio` (or whatever `media_loader` returns for the row), turns them into model inputs with
the `AffectLLMProcessor`, and passes those inputs to generation, to the old / reference log-prob
passes and to the loss pass. Everything else (sampling, rewards, advantages, loss) is TRL's.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import torch
from accelerate.utils import DistributedType
from trl import GRPOTrainer
from trl.data_utils import is_conversational
from trl.trainer.utils import RepeatSampler

from affect_llm.modeling.modeling_affect_llm import MEDIA_KEYS
from affect_llm.modeling.processing_affect_llm import AffectLLMProcessor
from affect_llm.modeling.training_modes import unwrap_peft
from affect_llm.training.cached_features import (
    encode_cached_prompts,
    has_cached_features,
    trim_padding,
)
from affect_llm.training.collators import render_prompt

MEDIA_COLUMNS = ("faces", "aus", "audio")
# Per completion row: which of the batch's distinct clips it shows (rows of one prompt share one).
CLIP_INDEX = "media_clip_index"


def default_media_loader(row: dict[str, Any]) -> dict[str, Any]:
    """A row's in-memory media: `faces` (T, H, W, 3), `aus` (T, 17) and `audio` (16 kHz waveform)."""
    media = {key: row.get(key) for key in MEDIA_COLUMNS}
    if isinstance(media["audio"], str):
        raise ValueError(
            f"sample {row.get('id', '?')}: `audio` is a path; pass media_loader= to load waveforms"
        )
    return media


class EpochRepeatSampler(RepeatSampler):
    """TRL's `RepeatSampler` with `set_epoch`, so a run resumed at epoch e sees epoch e's order.

    TRL seeds the sampler's generator once and lets each epoch draw the next permutation, but a
    resumed run builds a fresh sampler: without `set_epoch` every resumed epoch replays epoch 0's
    order. `set_epoch(e)` reseeds and draws the e permutations an unbroken run drew before epoch
    e, so the order (and the trained weights) match a run that was never stopped.
    """

    def set_epoch(self, epoch: int) -> None:
        if not self.shuffle or self.seed is None:
            return
        self.generator.manual_seed(self.seed)
        for _ in range(epoch):
            torch.randperm(self.num_samples, generator=self.generator)


class AffectGRPOTrainer(GRPOTrainer):
    """GRPO for AffectLLM: like `trl.GRPOTrainer`, with per-row face / audio inputs.

    `processing_class` must be an `AffectLLMProcessor`; prompts carry `<|face|>` / `<|audio|>`
    placeholders in the user turn. `media_loader(row) -> {"faces", "aus", "audio"}` maps a dataset
    row to arrays (default: the row's own columns of those names); it may instead return cached
    encoder outputs (`face_features` / `audio_features`, (steps, dim) each, see
    `AffectLLMModel.encode_media`), and the encoders then never run. Not handled yet: vLLM
    generation and tool calling. With PEFT and `beta > 0` the reference log-probs come from the
    same model with its adapters disabled, not from a second copy (see `_drop_fresh_reference_adapter`).
    """

    def __init__(
        self,
        *args,
        media_loader: Callable[[dict[str, Any]], dict[str, Any]] = default_media_loader,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        if not isinstance(self.processing_class, AffectLLMProcessor):
            raise TypeError("AffectGRPOTrainer needs an AffectLLMProcessor as processing_class")
        if self.use_vllm or self.tools:
            raise NotImplementedError("AffectGRPOTrainer does not support vLLM or tools yet")
        self.media_loader = media_loader
        self._drop_fresh_reference_adapter()
        # Sampling a placeholder token would ask the model for media it was not given.
        config = self.model.config
        suppress = sorted({config.face_token_id, config.audio_token_id})
        self.generation_kwargs["suppress_tokens"] = suppress
        self.generation_config.suppress_tokens = suppress
        self._batch_media: list[dict[str, Any]] | None = None
        self._batch_keys: list[Any] = []
        self._active_media: dict[str, torch.Tensor] | None = None
        self._cores: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _drop_fresh_reference_adapter(self) -> None:
        """Remove the frozen "ref" adapter TRL adds for a PEFT model when `beta > 0`, if unneeded.

        TRL copies the "default" adapter into "ref" so a pretrained adapter keeps its start as the
        reference. Ours are fresh (`add_lora`: LoRA B = 0, `modules_to_save` copies equal to the
        originals), so disabling the adapters gives the same reference without the copy, and
        without the frozen `modules_to_save.ref.*` weights that ZeRO-3's checkpoint save leaves out
        (PEFT then fails with `KeyError: 'modules_to_save.ref...'`). A trained adapter keeps "ref".
        """
        model = self.model
        if not hasattr(model, "peft_config") or "ref" not in model.peft_config:
            return
        params = dict(model.named_parameters())
        for name, param in params.items():
            if ".default." not in name:
                continue
            if ".lora_B." in name or ".lora_embedding_B." in name:
                fresh = not param.detach().any()
            elif ".modules_to_save.default." in name:
                original = params.get(
                    name.replace(".modules_to_save.default.", ".original_module.")
                )
                fresh = original is not None and torch.equal(param.detach(), original.detach())
            else:
                continue
            if not fresh:
                return
        model.delete_adapter("ref")
        model.set_adapter("default")

    @contextmanager
    def _media(self, media: dict[str, torch.Tensor] | None):
        """Make `media` the inputs every forward pass of the current batch receives."""
        previous, self._active_media = self._active_media, media
        try:
            yield
        finally:
            self._active_media = previous

    def _get_train_sampler(self, dataset=None):
        # TRL's sampler, resumable past an epoch boundary (see EpochRepeatSampler)
        return EpochRepeatSampler(
            data_source=self.train_dataset if dataset is None else dataset,
            mini_repeat_count=self.num_generations,
            batch_size=self.args.generation_batch_size // self.num_generations,
            repeat_count=self.num_iterations * self.args.steps_per_generation,
            shuffle=self.shuffle_dataset,
            seed=self.args.seed,
        )

    def _set_signature_columns_if_needed(self):
        # Keep the media columns when `remove_unused_columns=True`.
        if self._signature_columns is None:
            self._signature_columns = ["prompt", *MEDIA_COLUMNS, "id"]

    def _tokenize_prompts(self, prompts: list):
        """Render prompts, expand placeholders, and prepare this batch's media tensors.

        TRL repeats each prompt `num_generations` times; rows sharing an `id` are preprocessed
        once and their tensors indexed out, so a clip is decoded / featurised once per batch.
        """
        if self._batch_media is None:
            raise RuntimeError("media for the batch were not set; call through training_step")
        first: dict[Any, int] = {}
        inverse = [first.setdefault(key, len(first)) for key in self._batch_keys]
        first_rows = [inverse.index(u) for u in range(len(first))]
        unique_texts = [render_prompt(self.processing_class, prompts[i]) for i in first_rows]
        unique_media = [self._batch_media[i] for i in first_rows]
        if any(has_cached_features(m) for m in unique_media):
            ids, media = encode_cached_prompts(self.processing_class, unique_texts, unique_media)
        else:
            encoded = self.processing_class(
                text=unique_texts,
                faces=[m.get("faces") for m in unique_media],
                aus=[m.get("aus") for m in unique_media],
                audio=[m.get("audio") for m in unique_media],
                return_tensors="pt",
                padding=True,
            )
            ids = [
                row[mask.bool()].tolist()
                for row, mask in zip(encoded["input_ids"], encoded["attention_mask"])
            ]
            media = {k: v for k, v in encoded.items() if k in MEDIA_KEYS}
            media = self._encode_frozen(
                {k: v.to(self.accelerator.device) for k, v in media.items()}
            )
        device = self.accelerator.device
        index = torch.tensor(inverse, device=device)
        prompt_ids = [ids[i] for i in inverse]
        media = {k: v.to(device)[index] for k, v in media.items()}
        media[CLIP_INDEX] = index
        self._active_media = media
        with torch.no_grad():  # generation reads the projected tokens, computed once per clip
            return prompt_ids, None, self._project(self.model, media)

    def _project(self, model, media: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Each distinct clip of the rows' media through the encoders (if not run yet) and the
        projectors once; every row gets its clip's projected tokens.

        A prompt's `num_generations` completions show one clip: the projector (and a trainable
        AU / prosody encoder) runs once for them, not once per completion, in every pass. Called
        on the pass's `model`, so the loss pass trains the projectors and a reference pass with
        adapters disabled uses the original ones.
        """
        if CLIP_INDEX not in media:
            return media
        plugin = self.accelerator.state.deepspeed_plugin
        if (plugin is not None and plugin.zero_stage == 3) or self._under_fsdp():
            # ZeRO-3 gathers a module's weights when its forward runs, and nn.MultiheadAttention
            # reads its out_proj weight without calling it: outside the model's own forward that
            # weight stays a shard (FSDP: see `_under_fsdp`). There the model projects every row.
            return {k: v for k, v in media.items() if k != CLIP_INDEX}
        index = media[CLIP_INDEX]
        unique, inverse = torch.unique(index, return_inverse=True)
        rows = torch.arange(len(index), device=index.device)
        first = torch.full_like(unique, len(index)).scatter_reduce(0, inverse, rows, "amin")
        core = self._core(model)
        out = {}
        with self.accelerator.autocast():
            for name in ("face", "audio"):
                keys = (
                    f"{name}_values",
                    f"{name}_mask",
                    f"{name}_features",
                    f"{name}_features_mask",
                )
                inputs = [media[k][first] if media.get(k) is not None else None for k in keys]
                if inputs[0] is None and inputs[2] is None:
                    continue
                output = getattr(core, f"get_{name}_features")(*inputs, return_dict=True)
                if output.present.all():
                    out[f"projected_{name}_tokens"] = output.pooler_output[inverse]
                else:  # rows without this modality: the model keeps their placeholders as text
                    out.update({k: media[k] for k in keys if media.get(k) is not None})
        return out

    def _core(self, model) -> torch.nn.Module:
        """The `AffectLLMModel` inside `model` (DDP / DeepSpeed / PEFT wrappers removed).

        Remembered per model: accelerate's `unwrap_model` walks every module of the model (the
        encoder towers included) on each call, a few ms each, twice per step.
        """
        core = self._cores.get(model)
        if core is None:
            core = self._cores[model] = unwrap_peft(self.accelerator.unwrap_model(model)).model
        return core

    def _under_fsdp(self) -> bool:
        """FSDP2 gathers a sharded unit's weights in that unit's forward, and the weights of the
        modules it does not wrap on their own (convolutions, projectors, norms) in the whole
        model's forward. An encoder or projector called by itself reads those as DTensor shards
        ("got mixed torch.Tensor and DTensor"), so under FSDP the model encodes and projects
        every row itself, as under ZeRO-3 (`_project`)."""
        return self.accelerator.distributed_type == DistributedType.FSDP

    def _encode_frozen(self, media: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Run each frozen encoder once on the batch's distinct clips and keep its outputs.

        Generation and every log-prob pass then read the cached features, so an encoder runs once
        per clip per step rather than once per completion and pass. Trainable encoders (the
        from-scratch AU / prosody ones) keep their raw inputs: the loss must reach them. Under
        FSDP the raw inputs are kept for every encoder (see `_under_fsdp`).
        """
        if self._under_fsdp():
            return media
        core = self._core(self.model)
        out: dict[str, torch.Tensor] = {}
        for name in ("face", "audio"):
            values, mask = media.get(f"{name}_values"), media.get(f"{name}_mask")
            if values is None:
                continue
            encoder = getattr(core, f"{name}_encoder")
            if any(p.requires_grad for p in encoder.parameters()):
                out[f"{name}_values"], out[f"{name}_mask"] = values, mask
                continue
            with torch.no_grad(), self.accelerator.autocast():
                encoded = core.encode_media(**{f"{name}_values": values, f"{name}_mask": mask})
            feats, feats_mask = trim_padding(
                encoded[f"{name}_features"], encoded[f"{name}_features_mask"]
            )
            out[f"{name}_features"], out[f"{name}_features_mask"] = feats, feats_mask
        return out

    def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        if not is_conversational(inputs[0]) and not isinstance(inputs[0]["prompt"], str):
            raise ValueError("prompts must be text or chat messages")
        self._batch_media = [self.media_loader(row) for row in inputs]
        # rows of one prompt (TRL repeats it per generation) share an id; without ids, no sharing
        self._batch_keys = [row.get("id", ("row", i)) for i, row in enumerate(inputs)]
        try:
            with self._media(None):
                output = super()._generate_and_score_completions(inputs)
                media = self._active_media or {}
        finally:
            self._batch_media = None
        output.update(media)
        return output

    def _compute_loss(self, model, inputs):
        media = {k: inputs[k] for k in (*MEDIA_KEYS, CLIP_INDEX) if k in inputs}
        with self._media(media):
            return super()._compute_loss(model, inputs)

    def _get_per_token_logps_and_entropies(
        self,
        model,
        input_ids,
        attention_mask,
        logits_to_keep,
        batch_size=None,
        compute_entropy=False,
        compute_aux_loss=False,
        **image_kwargs,
    ):
        """TRL's chunked log-prob pass, with the batch's projected face / audio tokens sliced
        per chunk."""
        media = self._project(model, self._active_media or {})
        batch_size = batch_size or input_ids.size(0)
        all_logps, all_entropies, all_aux = [], [], []
        for start in range(0, input_ids.size(0), batch_size):
            end = min(start + batch_size, input_ids.size(0))
            ids, mask = input_ids[start:end], attention_mask[start:end]
            model_inputs = {"input_ids": ids, "attention_mask": mask}
            model_inputs.update({k: v[start:end] for k, v in media.items()})
            if compute_aux_loss:
                model_inputs["output_router_logits"] = True
            labels = ids.masked_fill(mask == 0, -100)
            labels[:, :-logits_to_keep] = -100
            with self.accelerator.autocast():
                outputs = model(**model_inputs, labels=labels, fused_lm_head=True)
            all_logps.append(outputs.log_probs[:, -logits_to_keep:])
            if compute_entropy:
                all_entropies.append(outputs.entropy[:, -logits_to_keep:])
            if compute_aux_loss:
                all_aux.append(outputs.aux_loss)
        logps = torch.cat(all_logps, dim=0)
        entropies = torch.cat(all_entropies, dim=0) if compute_entropy else None
        aux_loss = torch.stack(all_aux).mean() if compute_aux_loss else None
        return logps, entropies, aux_loss

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        """TRL's logging, plus (with `log_completions`) sample completions as TensorBoard text.

        TRL sends its completion tables to wandb / trackio only; this adds the same samples to
        TensorBoard when `report_to` includes it.
        """
        super().log(logs, start_time)
        if self.log_completions and self.accelerator.is_main_process:
            writer = _tensorboard_writer(self)
            if writer is not None:
                writer.add_text("completions", completion_table(self._logs), self.state.global_step)


def _tensorboard_writer(trainer):
    from transformers.integrations import TensorBoardCallback

    for callback in trainer.callback_handler.callbacks:
        if isinstance(callback, TensorBoardCallback):
            return callback.tb_writer
    return None


def completion_table(logs: dict[str, Any], limit: int = 8) -> str:
    """A Markdown table of the latest prompts, completions and per-reward values."""
    from affect_llm.rewards import completion_text

    prompts, completions = list(logs["prompt"])[-limit:], list(logs["completion"])[-limit:]
    rewards = {name: list(values)[-limit:] for name, values in logs["rewards"].items()}
    header = ["prompt", "completion", *rewards]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for i, (prompt, completion) in enumerate(zip(prompts, completions)):
        cells = [completion_text(prompt)[-80:], completion_text(completion)]
        cells += [f"{values[i]:.3f}" if i < len(values) else "" for values in rewards.values()]
        lines.append(
            "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"
        )
    return "\n".join(lines)
