"""A local Hugging Face causal LM used as a label extractor or a judge, with fixed prompts.

AffectGPT extracts labels with a sampling LLM; here decoding is greedy by default, so the optional
LLM extractor is repeatable too. Any `AutoModelForCausalLM` directory works; nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Sequence

from affect_llm.taxonomy import parse_label_list

# Worded after AffectGPT's reason-to-openset prompt, so the LLM extractor is comparable with it.
EXTRACTOR_PROMPT = (
    "Please assume the role of an expert in the field of emotions. We provide clues that may be "
    "related to the emotions of the character. Based on the provided clues, please identify the "
    "emotional states of the main character. Please separate different emotional categories with "
    "commas and output only the clearly identifiable emotional categories in a list format. If "
    "none are identified, please output an empty list.\nInput: {text}\nOutput:"
)


class LocalLLM:
    """Greedy (or seeded sampling) batched generation with a local causal LM."""

    def __init__(
        self,
        path: str,
        device: str = "cpu",
        max_new_tokens: int = 64,
        batch_size: int = 8,
        do_sample: bool = False,
        seed: int = 0,
        trust_remote_code: bool = False,
    ):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from affect_llm.hub import model_folder
        from affect_llm.remote_code import check_chat_template, check_model_folder, load_pretrained

        path = model_folder(path, "--judge-model")  # a folder or a hub id; else one line, exit 2
        self.path = path
        trust = trust_remote_code
        check_model_folder(path, trust_remote_code=trust, option="local LLM")
        self.tokenizer = load_pretrained(
            AutoTokenizer.from_pretrained, path, trust_remote_code=trust, option="local LLM"
        )
        check_chat_template(self.tokenizer, path, option="local LLM")
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = load_pretrained(
            AutoModelForCausalLM.from_pretrained, path, trust_remote_code=trust, option="local LLM"
        )
        self.model.to(device).eval()
        self.device = device
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.do_sample = do_sample
        self.seed = seed

    def _prompt(self, text: str) -> str:
        if getattr(self.tokenizer, "chat_template", None):
            messages = [{"role": "user", "content": text}]
            return self.tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=True
            )
        return text

    def complete(self, prompts: Sequence[str]) -> list[str]:
        """One completion per prompt (in order)."""
        import torch
        from transformers import set_seed

        outputs: list[str] = []
        for start in range(0, len(prompts), self.batch_size):
            batch = [self._prompt(p) for p in prompts[start : start + self.batch_size]]
            inputs = self.tokenizer(batch, return_tensors="pt", padding=True).to(self.device)
            set_seed(self.seed)
            with torch.no_grad():
                generated = self.model.generate(
                    **inputs,
                    max_new_tokens=self.max_new_tokens,
                    do_sample=self.do_sample,
                    pad_token_id=self.tokenizer.pad_token_id,
                )
            new = generated[:, inputs["input_ids"].shape[1] :]
            outputs.extend(
                t.strip() for t in self.tokenizer.batch_decode(new, skip_special_tokens=True)
            )
        return outputs

    def extract_labels(self, responses: Sequence[str]) -> list[list[str]]:
        """Label lists read from free-text answers by the LLM (AffectGPT-style extraction)."""
        completions = self.complete([EXTRACTOR_PROMPT.format(text=r) for r in responses])
        return [parse_list_output(c) for c in completions]


def parse_list_output(completion: str) -> list[str]:
    """The label list in an extractor completion: its first bracketed list, else its first line."""
    start, end = completion.find("["), completion.find("]")
    text = completion[start : end + 1] if 0 <= start < end else completion.strip().split("\n")[0]
    return [label.lower() for label in parse_label_list(text)]
