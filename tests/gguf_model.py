"""Write llama-architecture GGUF models with seeded random weights, for tests and benchmarks.

No weights can be downloaded here, so the tests make their own model: a byte-level BPE vocab
(GPT-2's byte-to-unicode map, a few merges, ChatML control tokens) and a ChatML chat
template. It runs on the real llama.cpp runtime; what it says is noise, but its shape, its
tokenizer and its grammar-constrained output are real. `real_shape=True` writes a model with
a 0.5B model's compute cost (Qwen2-0.5B-like shapes, Q8_0) for benchmarks.
"""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np

CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")


def _byte_symbols() -> list[str]:
    """GPT-2's reversible map of the 256 byte values to printable characters."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    symbols = dict(zip(printable, printable, strict=True))
    extra = 0
    for byte in range(256):
        if byte not in symbols:
            symbols[byte] = 256 + extra
            extra += 1
    return [chr(symbols[byte]) for byte in range(256)]


def write_model(
    path: Path,
    *,
    n_embd: int = 64,
    n_layer: int = 2,
    n_head: int = 4,
    n_ff: int = 128,
    n_ctx: int = 4096,
    extra_vocab: int = 0,
    quantize: bool = False,
    seed: int = 7,
    chat_template: str | None = CHATML,
) -> Path:
    """Write the model and return its path."""
    symbols = _byte_symbols()
    merges = [("Ġ", "t"), ("h", "e"), ("i", "n"), ("e", "r"), ("Ġ", "a"), ("o", "n"), ("r", "e")]
    tokens = [*symbols, *(a + b for a, b in merges)]
    tokens += [f"<|filler_{n}|>" for n in range(extra_vocab)]  # pads to a real vocab size
    tokens += list(SPECIALS)
    vocab = len(tokens)
    types = [gguf.TokenType.NORMAL] * (vocab - len(SPECIALS) - extra_vocab)
    types += [gguf.TokenType.UNUSED] * extra_vocab + [gguf.TokenType.CONTROL] * len(SPECIALS)

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_context_length(n_ctx)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(n_embd // n_head)
    writer.add_vocab_size(vocab)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0 if quantize else gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges([f"{a} {b}" for a, b in merges])
    writer.add_bos_token_id(tokens.index("<|endoftext|>"))
    writer.add_eos_token_id(tokens.index("<|im_end|>"))
    writer.add_add_bos_token(False)
    if chat_template is not None:  # None: a base model, as Gemma 3 270M ships
        writer.add_chat_template(chat_template)

    rng = np.random.default_rng(seed)

    def tensor(name: str, *shape: int, ones: bool = False) -> None:
        data = (
            np.ones(shape, np.float32)
            if ones
            else (rng.standard_normal(shape, dtype=np.float32) * 0.02)
        )
        if quantize and len(shape) == 2:
            writer.add_tensor(
                name,
                gguf.quants.quantize(data, gguf.GGMLQuantizationType.Q8_0),
                raw_dtype=gguf.GGMLQuantizationType.Q8_0,
            )
        else:
            writer.add_tensor(name, data)

    tensor("token_embd.weight", vocab, n_embd)
    tensor("output_norm.weight", n_embd, ones=True)
    tensor("output.weight", vocab, n_embd)
    for layer in range(n_layer):
        block = f"blk.{layer}"
        tensor(f"{block}.attn_norm.weight", n_embd, ones=True)
        for kind in ("q", "k", "v", "output"):
            tensor(f"{block}.attn_{kind}.weight", n_embd, n_embd)
        tensor(f"{block}.ffn_norm.weight", n_embd, ones=True)
        tensor(f"{block}.ffn_gate.weight", n_ff, n_embd)
        tensor(f"{block}.ffn_up.weight", n_ff, n_embd)
        tensor(f"{block}.ffn_down.weight", n_embd, n_ff)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def write_real_shaped_model(path: Path) -> Path:
    """About a 0.5B instruct model's cost per token (n_embd 896, 24 layers, 151k vocab, Q8_0)."""
    return write_model(
        path,
        n_embd=896,
        n_layer=24,
        n_head=14,
        n_ff=4864,
        n_ctx=32768,
        extra_vocab=151_000,
        quantize=True,
    )
