#!/usr/bin/env python3
"""tinyllama.py OUT [--seed N]: a tiny llama-architecture GGUF that llama.cpp loads.

Random F32 weights (the text it generates is garbage, but it runs): 2 layers,
n_embd 64, 4 heads (2 KV heads), n_ff 128, context 256, and a SentencePiece
("llama") vocabulary of <unk>, <s>, </s>, the 256 byte tokens <0x00>..<0xFF>
(so any text tokenizes) and a few word pieces.  Written by hand (GGUF v3,
standard library only): header, key/values, tensor infos, data aligned to 32.
"""
import argparse
import random
import struct
import sys

ALIGN = 32
# GGUF value types
U32, I32, F32, BOOL, STR, ARR = 4, 5, 6, 7, 8, 9
# ggml tensor type
GGML_F32 = 0
# llama.cpp token types
NORMAL, UNKNOWN, CONTROL, BYTE = 1, 2, 3, 6

N_EMBD, N_HEAD, N_HEAD_KV, N_FF, N_LAYER, N_CTX = 64, 4, 2, 128, 2, 256


def gstr(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def kv(key, typ, val):
    out = gstr(key) + struct.pack("<I", typ)
    if typ == U32:
        out += struct.pack("<I", val)
    elif typ == I32:
        out += struct.pack("<i", val)
    elif typ == F32:
        out += struct.pack("<f", val)
    elif typ == BOOL:
        out += struct.pack("<?", val)
    elif typ == STR:
        out += gstr(val)
    else:
        raise ValueError(typ)
    return out


def kv_arr(key, etyp, vals):
    out = gstr(key) + struct.pack("<IIQ", ARR, etyp, len(vals))
    for v in vals:
        if etyp == STR:
            out += gstr(v)
        elif etyp == F32:
            out += struct.pack("<f", v)
        elif etyp == I32:
            out += struct.pack("<i", v)
        else:
            raise ValueError(etyp)
    return out


def vocab():
    toks = [("<unk>", UNKNOWN), ("<s>", CONTROL), ("</s>", CONTROL)]
    toks += [("<0x%02X>" % b, BYTE) for b in range(256)]
    for w in ("\u2581the", "\u2581a", "\u2581hello", "\u2581world", "he", "ll", "o", "\u2581"):
        toks.append((w, NORMAL))
    return toks


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    rnd = random.Random(a.seed)
    toks = vocab()
    n_vocab = len(toks)
    head_dim = N_EMBD // N_HEAD
    n_kv = head_dim * N_HEAD_KV

    tensors = [("token_embd.weight", (N_EMBD, n_vocab)), ("output_norm.weight", (N_EMBD,)),
               ("output.weight", (N_EMBD, n_vocab))]
    for i in range(N_LAYER):
        b = "blk.%d." % i
        tensors += [(b + "attn_norm.weight", (N_EMBD,)), (b + "attn_q.weight", (N_EMBD, N_EMBD)),
                    (b + "attn_k.weight", (N_EMBD, n_kv)), (b + "attn_v.weight", (N_EMBD, n_kv)),
                    (b + "attn_output.weight", (N_EMBD, N_EMBD)), (b + "ffn_norm.weight", (N_EMBD,)),
                    (b + "ffn_gate.weight", (N_EMBD, N_FF)), (b + "ffn_up.weight", (N_EMBD, N_FF)),
                    (b + "ffn_down.weight", (N_FF, N_EMBD))]

    kvs = [
        kv("general.architecture", STR, "llama"),
        kv("general.name", STR, "tinyllama-random"),
        kv("general.file_type", U32, 0),
        kv("general.alignment", U32, ALIGN),
        kv("llama.context_length", U32, N_CTX),
        kv("llama.embedding_length", U32, N_EMBD),
        kv("llama.block_count", U32, N_LAYER),
        kv("llama.feed_forward_length", U32, N_FF),
        kv("llama.attention.head_count", U32, N_HEAD),
        kv("llama.attention.head_count_kv", U32, N_HEAD_KV),
        kv("llama.attention.layer_norm_rms_epsilon", F32, 1e-5),
        kv("llama.rope.dimension_count", U32, head_dim),
        kv("llama.vocab_size", U32, n_vocab),
        kv("tokenizer.ggml.model", STR, "llama"),
        kv_arr("tokenizer.ggml.tokens", STR, [t for t, _ in toks]),
        kv_arr("tokenizer.ggml.scores", F32, [0.0 if ty != NORMAL else -float(i) for i, (_, ty) in enumerate(toks)]),
        kv_arr("tokenizer.ggml.token_type", I32, [ty for _, ty in toks]),
        kv("tokenizer.ggml.unknown_token_id", U32, 0),
        kv("tokenizer.ggml.bos_token_id", U32, 1),
        kv("tokenizer.ggml.eos_token_id", U32, 2),
        kv("tokenizer.ggml.add_bos_token", BOOL, True),
        kv("tokenizer.ggml.add_eos_token", BOOL, False),
    ]

    infos = b""
    offset = 0
    sizes = []
    for name, shape in tensors:
        n = 1
        for d in shape:
            n *= d
        nbytes = 4 * n
        infos += gstr(name) + struct.pack("<I", len(shape)) + b"".join(struct.pack("<Q", d) for d in shape)
        infos += struct.pack("<IQ", GGML_F32, offset)
        sizes.append((name, n))
        offset += (nbytes + ALIGN - 1) // ALIGN * ALIGN

    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs)) + b"".join(kvs) + infos
    head += b"\0" * (-len(head) % ALIGN)
    with open(a.out, "wb") as f:
        f.write(head)
        for name, n in sizes:
            if name.endswith("norm.weight"):
                vals = [1.0] * n
            else:
                vals = [rnd.gauss(0.0, 0.05) for _ in range(n)]
            data = struct.pack("<%df" % n, *vals)
            f.write(data + b"\0" * (-len(data) % ALIGN))
    return 0


if __name__ == "__main__":
    sys.exit(main())
