"""A GRPOTrainer that shows the model each prompt's media: AffectLLM's faces and audio, or the
video and audio of a pretrained Qwen2.5-Omni / Qwen2.5-VL / Qwen2-Audio backbone.

TRL's GRPOTrainer forwards only image keys to the model. This subclass loads each row's media
(`media_loader`), turns them into model inputs with the processor (AffectLLM's, or the family's
through `encode_prompts`), and carries those inputs with the batch, as TRL carries `pixel_values`:
generation, the old / reference log-prob passes and the loss pass all read them from the batch,
never from state kept between methods. Sampling, rewards, advantages and the loss are TRL's.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from accelerate.utils import DistributedType, gather_object
from trl import GRPOTrainer
from trl.data_utils import is_conversational
from trl.models.utils import disable_gradient_checkpointing
from trl.trainer.utils import nanstd, pad, use_adapter

from affect_llm.modeling.backbones import MEDIA_INPUT_KEYS
from affect_llm.modeling.families import family_of_processor
from affect_llm.modeling.model_io import MEDIA_KEYS, RAW_AUDIO_KEYS, RAW_FACE_KEYS
from affect_llm.modeling.processing_affect_llm import AffectLLMProcessor
from affect_llm.modeling.training_modes import unwrap_peft
from affect_llm.training.backbone_grpo import (
    AUDIO_IN_VIDEO,
    TOKEN_TYPES,
    collate_rows,
    completion_token_types,
    encode_rows,
    generation_fields,
    media_token_ids,
)
from affect_llm.training.cached_features import (
    encode_cached_prompts,
    has_cached_features,
    trim_padding,
)
from affect_llm.training.collators import render_prompt
from affect_llm.training.grpo_support import (
    MEDIA_COLUMNS,
    EpochRepeatSampler,
    completion_table,
    default_media_loader,
    image_token_id_for_trl,
    tensorboard_writer,
)

# Per completion row: which of the batch's distinct clips it shows (rows of one prompt share one).
CLIP_INDEX = "media_clip_index"


@dataclass(frozen=True)
class WithMedia:
    """A log-prob pass's model together with the media of the batch it scores."""

    model: Any
    media: dict[str, Any]


class AffectGRPOTrainer(GRPOTrainer):
    """GRPO with per-row media: like `trl.GRPOTrainer`, for AffectLLM and the backbone families.

    AffectLLM: `processing_class` is an `AffectLLMProcessor`; prompts carry `<|face|>` /
    `<|audio|>` placeholders in the user turn. `media_loader(row) -> {"faces", "aus", "audio"}`
    maps a dataset row to arrays (default: the row's own columns of those names); it may instead
    return cached encoder outputs (`face_features` / `audio_features`, (steps, dim) each, see
    `AffectLLMModel.encode_media`), and the encoders then never run.

    A backbone family (`family_of_processor`): `processing_class` is the family's processor, rows
    have plain chat prompts, and `media_loader(row)` returns the media dict of
    `affect_llm.modeling.backbones` (frames with their true fps, 16 kHz audio; `BackboneMedia`).
    Prompts are rendered in the family's chat template and encoded with their media; the video
    and audio reach generation and every log-prob pass. Not handled yet: vLLM
    generation and tool calling. With PEFT and `beta > 0` the reference log-probs come from the
    same model with its adapters disabled, not from a second copy (see `_drop_fresh_reference_adapter`).
    """

    def __init__(
        self,
        *args,
        media_loader: Callable[[dict[str, Any]], dict[str, Any]] = default_media_loader,
        **kwargs,
    ):
        model = kwargs.get("model", args[0] if args else None)
        with image_token_id_for_trl(getattr(model, "config", None)):
            super().__init__(*args, **kwargs)
        self.family = family_of_processor(self.processing_class)
        if self.family is None and not isinstance(self.processing_class, AffectLLMProcessor):
            raise TypeError(
                "AffectGRPOTrainer needs an AffectLLMProcessor or a backbone family's processor"
            )
        if self.use_vllm or self.tools or self.rollout_func is not None:
            raise NotImplementedError(
                "AffectGRPOTrainer does not support vLLM, tools or rollout_func yet"
            )
        self.media_loader = media_loader
        self._drop_fresh_reference_adapter()
        # Sampling a placeholder token would ask the model for media it was not given.
        if self.family is None:
            config = self.model.config
            suppress = sorted({config.face_token_id, config.audio_token_id})
        else:
            suppress = media_token_ids(self.processing_class)
        self.generation_kwargs["suppress_tokens"] = suppress
        self.generation_config.suppress_tokens = suppress
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

    def _encode_batch(self, rows: list[dict[str, Any]]) -> tuple[list[list[int]], dict[str, Any]]:
        """(prompt token ids, media) of a generation batch: the one channel its media travel in.

        The media are the processor's outputs, one entry per completion row: generation, the
        old / reference log-prob passes and (through the batch TRL buffers) the loss pass all
        read them from here.
        """
        if self.family is not None:
            return encode_rows(self.processing_class, self.family, rows, self.media_loader)
        return self._encode_affect(rows)

    def _encode_affect(self, rows: list[dict[str, Any]]) -> tuple[list[list[int]], dict[str, Any]]:
        """AffectLLM prompts rendered, placeholders expanded, media as per-row tensors.

        TRL repeats each prompt `num_generations` times; rows sharing an `id` are loaded and
        preprocessed once and their tensors indexed out, so a clip is decoded / featurised once
        per batch, and `CLIP_INDEX` lets every pass project it once (`_project`).
        """
        # rows of one prompt share an id; without ids, no sharing
        keys = [row.get("id", ("row", i)) for i, row in enumerate(rows)]
        first: dict[Any, int] = {}
        inverse = [first.setdefault(key, len(first)) for key in keys]
        first_rows = [inverse.index(u) for u in range(len(first))]
        unique_texts = [render_prompt(self.processing_class, rows[i]["prompt"]) for i in first_rows]
        unique_media = [self.media_loader(rows[i]) for i in first_rows]
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
        media = {k: v.to(device)[index] for k, v in media.items()}
        media[CLIP_INDEX] = index
        return [ids[i] for i in inverse], media

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
            for name, raw_keys in (("face", RAW_FACE_KEYS), ("audio", RAW_AUDIO_KEYS)):
                keys = (*raw_keys, f"{name}_features", f"{name}_features_mask")
                inputs = {k: media[k][first] for k in keys if media.get(k) is not None}
                if not any(not k.endswith("_mask") for k in inputs):
                    continue
                output = getattr(core, f"get_{name}_features")(**inputs, return_dict=True)
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
        for name, keys in (("face", RAW_FACE_KEYS), ("audio", RAW_AUDIO_KEYS)):
            raw = {k: media[k] for k in keys if media.get(k) is not None}
            if not any(not k.endswith("_mask") for k in raw):
                continue
            encoder = getattr(core, f"{name}_encoder")
            if any(p.requires_grad for p in encoder.parameters()):
                out.update(raw)
                continue
            with torch.no_grad(), self.accelerator.autocast():
                encoded = core.encode_media(**raw)
            feats, feats_mask = trim_padding(
                encoded[f"{name}_features"], encoded[f"{name}_features_mask"]
            )
            out[f"{name}_features"], out[f"{name}_features_mask"] = feats, feats_mask
        return out

    def _media_of(self, batch: dict[str, Any]) -> dict[str, Any]:
        """The media entries of a (buffered) batch."""
        keys = (
            (*MEDIA_KEYS, CLIP_INDEX)
            if self.family is None
            else (*MEDIA_INPUT_KEYS, AUDIO_IN_VIDEO)
        )
        return {k: batch[k] for k in keys if k in batch}

    def _generate_completions(
        self, prompt_ids: list[list[int]], media: dict[str, Any], num_generations: int
    ) -> list[list[int]]:
        """Sampled completion ids, the media given to the model as TRL gives it images (the
        `multimodal_fields` of `_generate_single_turn`: ZeRO-3 gathering and EOS masking are
        TRL's)."""
        if self.family is None:
            with torch.no_grad():  # generation reads the projected tokens, computed once per clip
                fields = self._project(self.model, media)
        else:
            fields = generation_fields(media, list(range(len(prompt_ids))), self.accelerator.device)
        return self._generate_single_turn(prompt_ids, None, fields, num_generations)[0]

    def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        """TRL's generate-and-score step with the batch's media in one channel.

        The media are encoded once (`_encode_batch`), given to generation and to the old /
        reference log-prob passes, and returned in the batch like TRL's `pixel_values`, so the
        loss pass reads them from the same place. Rewards, advantages and logging follow TRL.
        """
        if not is_conversational(inputs[0]) and not isinstance(inputs[0]["prompt"], str):
            raise ValueError("prompts must be text or chat messages")
        device = self.accelerator.device
        mode = "train" if self.model.training else "eval"
        prompts = [row["prompt"] for row in inputs]
        prompt_ids_list, media = self._encode_batch(inputs)
        num_generations = self.num_generations if mode == "train" else self.num_generations_eval
        completion_ids_list = self._generate_completions(prompt_ids_list, media, num_generations)
        if is_conversational(inputs[0]):
            contents = self._tokenizer.batch_decode(completion_ids_list, skip_special_tokens=True)
            completions = [[{"role": "assistant", "content": c}] for c in contents]
        else:
            completions = self._tokenizer.batch_decode(
                completion_ids_list, skip_special_tokens=True
            )
        self._log_lengths(mode, prompt_ids_list, completion_ids_list)

        def padded(rows, value, side):
            tensors = [torch.tensor(row, dtype=torch.long) for row in rows]
            return pad(
                tensors,
                padding_value=value,
                padding_side=side,
                pad_to_multiple_of=self.pad_to_multiple_of,
            ).to(device)

        pad_id = self._tokenizer.pad_token_id
        prompt_ids = padded(prompt_ids_list, pad_id, "left")
        prompt_mask = padded([[1] * len(r) for r in prompt_ids_list], 0, "left")
        completion_ids = padded(completion_ids_list, pad_id, "right")
        completion_mask = padded([[1] * len(r) for r in completion_ids_list], 0, "right")
        if self.mask_truncated_completions:
            eos_and_pad = [*self.eos_token_ids, pad_id]
            truncated = torch.tensor(
                [not ids or ids[-1] not in eos_and_pad for ids in completion_ids_list],
                device=device,
            )
            completion_mask = completion_mask * (~truncated).unsqueeze(1).int()
        num_items_in_batch = self.accelerator.gather(completion_mask.sum()).sum()
        input_ids = torch.cat([prompt_ids, completion_ids], dim=1)
        attention_mask = torch.cat([prompt_mask, completion_mask], dim=1)
        logits_to_keep = completion_ids.size(1)
        token_types = completion_token_types(media, prompt_mask, logits_to_keep)
        extra = {} if token_types is None else {TOKEN_TYPES: token_types}
        batch_size = (
            self.args.per_device_train_batch_size
            if mode == "train"
            else self.args.per_device_eval_batch_size
        )

        def logps(model):
            return self._get_per_token_logps_and_entropies(
                WithMedia(model, media),
                input_ids,
                attention_mask,
                logits_to_keep,
                batch_size=batch_size,
                **extra,
            )[0]

        with (
            torch.no_grad(),
            disable_gradient_checkpointing(self.model, self.args.gradient_checkpointing_kwargs),
        ):
            generate_every = self.args.steps_per_generation * self.num_iterations
            old_logps = None
            if self.args.gradient_accumulation_steps % generate_every != 0:
                old_logps = logps(self.model)
            ref_logps = None
            if self.beta != 0.0:
                if self.ref_model is not None:
                    ref_logps = logps(self.ref_model)
                else:  # PEFT: adapters off (or a trained adapter's frozen "ref" copy)
                    unwrapped = self.accelerator.unwrap_model(self.model)
                    name = "ref" if "ref" in unwrapped.peft_config else None
                    with use_adapter(unwrapped, adapter_name=name):
                        ref_logps = logps(self.model)

        rewards_per_func = self._calculate_rewards(
            inputs, prompts, completions, completion_ids_list
        )
        advantages = self._advantages(mode, rewards_per_func, num_generations, len(prompts))
        self._logs["prompt"].extend(gather_object(prompts))
        self._logs["completion"].extend(gather_object(completions))
        self._flush_reward_logs(mode, len(prompts))

        output = {
            "prompt_ids": prompt_ids,
            "prompt_mask": prompt_mask,
            "completion_ids": completion_ids,
            "completion_mask": completion_mask,
            "advantages": advantages,
            "num_items_in_batch": num_items_in_batch,
            **extra,
            **media,
        }
        if old_logps is not None:
            output["old_per_token_logps"] = old_logps
        if ref_logps is not None:
            output["ref_per_token_logps"] = ref_logps
        return output

    def _flush_reward_logs(self, mode: str, rows: int) -> None:
        """TRL's flush of what reward functions logged (`log_extra` / `log_metric`), gathered
        in one key order on every rank."""
        for column in sorted(set(gather_object(list(self._pending_extra_logs)))):
            values = self._pending_extra_logs.get(column, [None] * rows)
            self._logs["extra"][column].extend(gather_object(values))
        self._pending_extra_logs.clear()
        device = self.accelerator.device
        for name in sorted(set(gather_object(list(self._pending_metrics)))):
            values = self._pending_metrics.get(name, [])
            stats = torch.tensor([sum(values), len(values)], dtype=torch.float32, device=device)
            total, count = self.accelerator.gather(stats).view(-1, 2).sum(dim=0).tolist()
            self._metrics[mode][name].append(total / count)
        self._pending_metrics.clear()

    def _log_lengths(self, mode: str, prompt_ids: list, completion_ids: list) -> None:
        """TRL's token count and completion-length metrics."""
        device = self.accelerator.device
        prompt_lengths = self.accelerator.gather(
            torch.tensor([len(ids) for ids in prompt_ids], device=device)
        )
        lengths = self.accelerator.gather(
            torch.tensor([len(ids) for ids in completion_ids], device=device)
        )
        if mode == "train":
            self.state.num_input_tokens_seen += (prompt_lengths.sum() + lengths.sum()).item()
        metrics = self._metrics[mode]
        metrics["num_tokens"] = [self.state.num_input_tokens_seen]
        metrics["completions/mean_length"].append(lengths.float().mean().item())
        metrics["completions/min_length"].append(lengths.float().min().item())
        metrics["completions/max_length"].append(lengths.float().max().item())
        eos_and_pad = [*self.eos_token_ids, self._tokenizer.pad_token_id]
        truncated = self.accelerator.gather(
            torch.tensor(
                [not ids or ids[-1] not in eos_and_pad for ids in completion_ids], device=device
            )
        )
        metrics["completions/clipped_ratio"].append(truncated.float().mean().item())
        ended = lengths[~truncated]
        ended = ended if len(ended) else torch.zeros(1, device=device)
        metrics["completions/mean_terminated_length"].append(ended.float().mean().item())
        metrics["completions/min_terminated_length"].append(ended.float().min().item())
        metrics["completions/max_terminated_length"].append(ended.float().max().item())

    def _advantages(
        self, mode: str, rewards_per_func: torch.Tensor, num_generations: int, local_rows: int
    ) -> torch.Tensor:
        """Group-normalised advantages of this process's rows, and TRL's reward metrics."""
        device = rewards_per_func.device
        weights = self.reward_weights.to(device).unsqueeze(0)
        unscorable = torch.isnan(rewards_per_func).all(dim=1)
        if self.multi_objective_aggregation == "normalize_then_sum":
            grouped = rewards_per_func.view(-1, num_generations, len(self.reward_funcs))
            mean_k = torch.nanmean(grouped, dim=1, keepdim=True)
            std_k = nanstd(grouped, dim=1, keepdim=True) if num_generations > 1 else 0 * mean_k
            scaled = ((grouped - mean_k) / (std_k + 1e-4)).view(-1, len(self.reward_funcs))
            rewards = (scaled * weights).nansum(dim=1)
            rewards[unscorable] = torch.nan
            std = nanstd(rewards).expand_as(rewards) if rewards.numel() > 1 else 0 * rewards
            advantages = (rewards - torch.nanmean(rewards)) / (std + 1e-4)
        else:  # sum_then_normalize
            rewards = (rewards_per_func * weights).nansum(dim=1)
            rewards[unscorable] = torch.nan
            mean = torch.nanmean(rewards.view(-1, num_generations), dim=1)
            mean = mean.repeat_interleave(num_generations)
            if self.scale_rewards == "batch":
                std = nanstd(rewards).expand_as(rewards) if rewards.numel() > 1 else 0 * rewards
            elif num_generations > 1:
                std = nanstd(rewards.view(-1, num_generations), dim=1)
                std = std.repeat_interleave(num_generations)
            else:
                std = torch.zeros_like(rewards)
            advantages = rewards - mean
            if self.scale_rewards != "none":
                advantages = advantages / (std + 1e-4)
        advantages = torch.nan_to_num(advantages, nan=0.0)
        zero_std = torch.isclose(std, torch.zeros_like(std))
        rank = self.accelerator.process_index
        local = advantages[rank * local_rows : (rank + 1) * local_rows]
        metrics = self._metrics[mode]
        for i, name in enumerate(self.reward_func_names):
            metrics[f"rewards/{name}/mean"].append(torch.nanmean(rewards_per_func[:, i]).item())
            metrics[f"rewards/{name}/std"].append(nanstd(rewards_per_func[:, i]).item())
            self._logs["rewards"][name].extend(rewards_per_func[:, i].tolist())
        logged = (rewards_per_func * weights).nansum(dim=1)
        logged[unscorable] = torch.nan
        metrics["reward"].append(torch.nanmean(logged).item())
        metrics["reward_std"].append(nanstd(logged).item())
        metrics["frac_reward_zero_std"].append(zero_std.float().mean().item())
        self._logs["advantages"].extend(advantages.tolist())
        return local

    def _compute_loss(self, model, inputs):
        # the batch's media ride with the model to the log-prob pass (TRL's loss forwards only
        # its image keys)
        return super()._compute_loss(WithMedia(model, self._media_of(inputs)), inputs)

    def _get_per_token_logps_and_entropies(
        self,
        model,
        input_ids,
        attention_mask,
        logits_to_keep,
        batch_size=None,
        compute_entropy=False,
        compute_aux_loss=False,
        mm_token_type_ids=None,
        **image_kwargs,
    ):
        """TRL's chunked log-prob pass, with each chunk's media: AffectLLM's projected face /
        audio tokens sliced by row, a family's processor outputs concatenated over the chunk's
        rows (`collate_rows`: patches by each row's grids, audio features by row)."""
        media: dict[str, Any] = {}
        if isinstance(model, WithMedia):
            model, media = model.model, model.media
        if any(v is not None for v in image_kwargs.values()):
            raise NotImplementedError("AffectGRPOTrainer does not take image inputs")
        if self.family is None:
            media = self._project(model, media)
        device = input_ids.device
        batch_size = batch_size or input_ids.size(0)
        all_logps, all_entropies, all_aux = [], [], []
        for start in range(0, input_ids.size(0), batch_size):
            end = min(start + batch_size, input_ids.size(0))
            ids, mask = input_ids[start:end], attention_mask[start:end]
            model_inputs = {"input_ids": ids, "attention_mask": mask}
            if self.family is None:
                model_inputs.update({k: v[start:end] for k, v in media.items()})
            else:
                model_inputs.update(collate_rows(media, start, end, device))
            if mm_token_type_ids is not None:
                model_inputs[TOKEN_TYPES] = mm_token_type_ids[start:end]
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
            writer = tensorboard_writer(self)
            if writer is not None:
                writer.add_text("completions", completion_table(self._logs), self.state.global_step)
