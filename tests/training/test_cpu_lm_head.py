"""On CPU the trainers score only the answer tokens through the LM head, with the same loss and
gradients as scoring every position (TRL's CPU default, 6-9x slower per step).

The spy below wraps the TRL function the fused LM head calls: if a TRL release renames it or
scores every position again, this fails and `affect_llm/training/cpu_lm_head.py` needs a look.
"""

from __future__ import annotations

import pytest
import torch
import trl.trainer.utils as trl_utils
from trl import SFTConfig

from affect_llm.training.config import AffectModelConfig
from affect_llm.training.cpu_lm_head import score_only_labelled_positions_on_cpu
from affect_llm.training.synthetic import media_lookup, synthetic_rows
from affect_llm.training.trainers import build_sft_trainer


@pytest.fixture
def trainer(tmp_path):
    rows, media = synthetic_rows(8, 0)
    args = SFTConfig(
        output_dir=str(tmp_path), per_device_train_batch_size=8, use_cpu=True, report_to=[]
    )
    config = AffectModelConfig(num_face_tokens=4, num_audio_tokens=4, model_seed=0)
    yield build_sft_trainer(config, None, args, None, None, rows, media_lookup(media))
    score_only_labelled_positions_on_cpu()  # what every trainer builder leaves


def loss_grads_and_scored(trainer, batch, monkeypatch) -> tuple[torch.Tensor, dict, list[int]]:
    scored: list[int] = []
    fused = trl_utils._ChunkedLogProbFunction

    class Spy:
        @staticmethod
        def apply(hidden, *args):
            scored.append(len(hidden))
            return fused.apply(hidden, *args)

    monkeypatch.setattr(trl_utils, "_ChunkedLogProbFunction", Spy)
    trainer.model.zero_grad()
    loss = trainer.compute_loss(trainer.model, dict(batch))
    loss.backward()
    grads = {n: p.grad.clone() for n, p in trainer.model.named_parameters() if p.grad is not None}
    monkeypatch.setattr(trl_utils, "_ChunkedLogProbFunction", fused)
    return loss.detach(), grads, scored


def test_cpu_sft_scores_only_the_answer_tokens_with_the_same_loss_and_gradients(
    trainer, monkeypatch
):
    batch = next(iter(trainer.get_train_dataloader()))
    labels = batch["labels"][:, 1:]  # the fused head scores position t against token t + 1
    loss, grads, scored = loss_grads_and_scored(trainer, batch, monkeypatch)
    assert scored == [int((labels != -100).sum())]
    assert scored[0] < labels.numel() / 4  # the prompts are most of each row

    score_only_labelled_positions_on_cpu(False)  # TRL's CPU default: every position
    every_loss, every_grads, every_scored = loss_grads_and_scored(trainer, batch, monkeypatch)
    assert every_scored == [labels.numel()]
    torch.testing.assert_close(loss, every_loss)
    assert grads.keys() == every_grads.keys() and grads
    for name, grad in grads.items():
        torch.testing.assert_close(grad, every_grads[name], msg=name)
