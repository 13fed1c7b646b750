"""Whisper's text decoder, in numpy, for scoring a grammar's phrases (whisper_engine.py, step 3).

CTranslate2 can score forced text (`align`), but it recomputes the audio's
cross-attention keys and values for every phrase: 277 ms for the 44 phrases
of a yes/no question on 2 cores, against about 80 ms here. This decoder reads
the same model.bin, computes the audio's keys and values once an utterance,
and walks the phrases as a token trie, so that a prefix several phrases share
("no", "no i don't", "no i haven't") is computed once. Its token
probabilities agree with CTranslate2's within 0.1 nats
(tests/speech/test_whisper.py).
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np


class Trie:
    """The phrases' token sequences as a tree: a prefix shared by phrases is one node.

    Node 0 is <|startoftranscript|>, `root` <|notimestamps|>; each phrase is a
    path below the root, and `ends` maps its last node to the phrase."""

    def __init__(self, start: list[int], phrases: list[list[int]]):
        self.token: list[int] = []
        self.parent: list[int] = []
        self.depth: list[int] = []
        self.children: list[dict[int, int]] = []
        self.ends: dict[int, int] = {}
        node = -1
        for t in start:
            node = self._child(node, t)
        self.root = node
        for i, tokens in enumerate(phrases):
            node = self.root
            for t in tokens:
                node = self._child(node, t)
            self.ends.setdefault(node, i)

    def _child(self, parent: int, token: int) -> int:
        if parent >= 0 and token in self.children[parent]:
            return self.children[parent][token]
        n = len(self.token)
        self.token.append(token)
        self.parent.append(parent)
        self.depth.append(self.depth[parent] + 1 if parent >= 0 else 0)
        self.children.append({})
        if parent >= 0:
            self.children[parent][token] = n
        return n

    def path(self, node: int) -> list[int]:
        """The nodes from the start to `node`, inclusive."""
        out = []
        while node >= 0:
            out.append(node)
            node = self.parent[node]
        return out[::-1]


# ---------------------------------------------------------------------------- the decoder in numpy


def _read_ct2(path: Path) -> dict[str, np.ndarray]:
    """The variables of a CTranslate2 model.bin (binary version 6; see ctranslate2/specs/model_spec.py)."""
    types = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}
    buf = path.read_bytes()
    pos = 0

    def unpack(fmt):
        nonlocal pos
        value = struct.unpack_from(fmt, buf, pos)[0]
        pos += struct.calcsize(fmt)
        return value

    def string():
        nonlocal pos
        n = unpack("H")
        s = buf[pos:pos + n - 1].decode()
        pos += n
        return s

    version = unpack("I")
    if version != 6:
        raise ValueError(f"model.bin binary version {version}, expected 6")
    string()          # spec name
    unpack("I")       # spec revision
    out = {}
    for _ in range(unpack("I")):
        name = string()
        shape = [unpack("I") for _ in range(unpack("B"))]
        dtype = types[unpack("B")]
        nbytes = unpack("I")
        out[name] = np.frombuffer(buf, dtype, nbytes // np.dtype(dtype).itemsize, pos).reshape(shape)
        pos += nbytes
    for _ in range(unpack("I")):
        alias, target = string(), string()
        out[alias] = out[target]
    return out


def _layer_norm(x, gamma, beta):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-5) * gamma + beta


def _gelu(x):
    from scipy.special import erf  # exact GELU, as Whisper (scipy comes with noisereduce)

    return 0.5 * x * (1.0 + erf(x * np.float32(1 / math.sqrt(2))))


class Decoder:
    """Whisper's text decoder (pre-norm Transformer, as CTranslate2 stores it), float32.

    Checked against CTranslate2's own forced decoding on the same audio:
    token log-probabilities agree within 0.1 nats (its decoder is int8).
    """

    def __init__(self, model_bin: Path):
        v = _read_ct2(model_bin)
        f32 = lambda name: np.ascontiguousarray(v[name], dtype=np.float32)  # noqa: E731
        self.embeddings = f32("decoder/embeddings/weight")           # (vocabulary, d), also the output projection
        self.positions = f32("decoder/position_encodings/encodings")
        self.heads = int(v["decoder/num_heads"])
        self.final_norm = (f32("decoder/layer_norm/gamma"), f32("decoder/layer_norm/beta"))
        self.layers = []
        i = 0
        while f"decoder/layer_{i}/ffn/linear_0/weight" in v:
            p = f"decoder/layer_{i}/"
            w = lambda name: np.ascontiguousarray(f32(p + name + "/weight").T)  # noqa: E731  (in, out)
            b = lambda name: f32(p + name + "/bias")  # noqa: E731
            ln = lambda name: (f32(p + name + "/layer_norm/gamma"), f32(p + name + "/layer_norm/beta"))  # noqa: E731
            self.layers.append(dict(
                self_norm=ln("self_attention"), qkv=(w("self_attention/linear_0"), b("self_attention/linear_0")),
                self_out=(w("self_attention/linear_1"), b("self_attention/linear_1")),
                cross_norm=ln("attention"), cross_q=(w("attention/linear_0"), b("attention/linear_0")),
                cross_kv=(w("attention/linear_1"), b("attention/linear_1")),
                cross_out=(w("attention/linear_2"), b("attention/linear_2")),
                ffn_norm=ln("ffn"), ffn_in=(w("ffn/linear_0"), b("ffn/linear_0")),
                ffn_out=(w("ffn/linear_1"), b("ffn/linear_1"))))
            i += 1
        self.d = self.embeddings.shape[1]
        self.head_dim = self.d // self.heads
        self.scale = np.float32(1 / math.sqrt(self.head_dim))

    def cross_attention_memory(self, encoded: np.ndarray):
        """Keys (heads, head_dim, T) and values (heads, T, head_dim) of the audio, per layer: once per utterance."""
        out = []
        T, h, hd = encoded.shape[0], self.heads, self.head_dim
        for layer in self.layers:
            w, b = layer["cross_kv"]
            kv = encoded @ w + b
            k = np.ascontiguousarray(kv[:, :self.d].reshape(T, h, hd).transpose(1, 2, 0))
            vv = np.ascontiguousarray(kv[:, self.d:].reshape(T, h, hd).transpose(1, 0, 2))
            out.append((k, vv))
        return out

    def _step(self, tokens, depth, ancestors, cache_k, cache_v, slots, memory):
        """Hidden states of a batch of new nodes at one depth.

        tokens: (B,) token ids; ancestors: (B, depth+1) cache slots of each node's
        path (itself last); slots: (B,) where to store the new keys/values."""
        B, h, hd, d = len(tokens), self.heads, self.head_dim, self.d
        x = self.embeddings[tokens] + self.positions[depth]
        for li, (layer, mem) in enumerate(zip(self.layers, memory)):
            w, b = layer["qkv"]
            qkv = _layer_norm(x, *layer["self_norm"]) @ w + b
            q = qkv[:, :d].reshape(B, h, hd)
            cache_k[li, slots] = qkv[:, d:2 * d].reshape(B, h, hd)
            cache_v[li, slots] = qkv[:, 2 * d:].reshape(B, h, hd)
            k, v = cache_k[li][ancestors], cache_v[li][ancestors]          # (B, S, h, hd)
            a = _softmax(np.einsum("bhd,bshd->bhs", q, k) * self.scale)
            x = self._attended(layer, x, np.einsum("bhs,bshd->bhd", a, v).reshape(B, d), mem)
        return _layer_norm(x, *self.final_norm)

    def _chain(self, tokens, memory):
        """Hidden states of one token sequence, all positions in one pass (causal mask)."""
        L, h, hd, d = len(tokens), self.heads, self.head_dim, self.d
        later = np.triu(np.full((L, L), -np.inf, np.float32), 1)
        x = self.embeddings[tokens] + self.positions[:L]
        for layer, mem in zip(self.layers, memory):
            w, b = layer["qkv"]
            qkv = (_layer_norm(x, *layer["self_norm"]) @ w + b).reshape(L, 3, h, hd).transpose(1, 2, 0, 3)
            q, k, v = qkv[0], qkv[1], qkv[2]                                 # (h, L, hd)
            a = _softmax((q @ k.transpose(0, 2, 1)) * self.scale + later)
            x = self._attended(layer, x, (a @ v).transpose(1, 0, 2).reshape(L, d), mem)
        return _layer_norm(x, *self.final_norm)

    def _attended(self, layer, x, self_attention, mem):
        """The rest of a layer after self-attention: cross-attention to the audio, then the MLP."""
        B, h, hd, d = len(x), self.heads, self.head_dim, self.d
        mem_k, mem_v = mem
        w, b = layer["self_out"]
        x = x + self_attention @ w + b
        w, b = layer["cross_q"]
        q = np.ascontiguousarray((_layer_norm(x, *layer["cross_norm"]) @ w + b).reshape(B, h, hd).transpose(1, 0, 2))
        a = _softmax((q @ mem_k) * self.scale)                               # (h, B, T)
        w, b = layer["cross_out"]
        x = x + (a @ mem_v).transpose(1, 0, 2).reshape(B, d) @ w + b
        w, b = layer["ffn_in"]
        y = _gelu(_layer_norm(x, *layer["ffn_norm"]) @ w + b)
        w, b = layer["ffn_out"]
        return x + y @ w + b

    def _log_probs(self, hidden):
        z = hidden @ self.embeddings.T
        m = z.max(-1, keepdims=True)
        return z - m - np.log(np.exp(z - m).sum(-1, keepdims=True))

    def score_trie(self, trie: Trie, memory, bonus: float, endings: list[int], beam: tuple[float, int]):
        """{phrase index: log P(tokens) + bonus * len + log P(end)} for the phrases the beam reached."""
        beam_nats, beam_width = beam
        n = len(trie.token)
        nl = len(self.layers)
        cache_k = np.zeros((nl, n, self.heads, self.head_dim), np.float32)
        cache_v = np.zeros_like(cache_k)
        score = {trie.root: 0.0}
        finals: dict[int, float] = {}
        # Start tokens (<|startoftranscript|> <|notimestamps|>): one path, no choice.
        frontier = trie.path(trie.root)
        for node in frontier[:-1]:
            self._step(np.array([trie.token[node]]), trie.depth[node], np.array([trie.path(node)]),
                       cache_k, cache_v, np.array([node]), memory)
        frontier = [trie.root]
        while frontier:
            depth = trie.depth[frontier[0]]
            hidden = self._step(np.array([trie.token[i] for i in frontier]), depth,
                                np.array([trie.path(i) for i in frontier]), cache_k, cache_v,
                                np.array(frontier), memory)
            lp = self._log_probs(hidden)
            children = []
            for row, node in enumerate(frontier):
                if node in trie.ends:
                    finals[trie.ends[node]] = score[node] + _logsumexp(lp[row, endings])
                for token, child in trie.children[node].items():
                    score[child] = score[node] + float(lp[row, token]) + bonus
                    children.append(child)
            if not children:
                break
            best = max(max(score[c] for c in children), max(finals.values(), default=-np.inf))
            children = [c for c in children if score[c] >= best - beam_nats]
            children.sort(key=lambda c: -score[c])
            frontier = children[:beam_width]
        return finals

    def score_sequence(self, tokens: list[int], memory, bonus: float, endings: list[int], start: int = 2) -> float:
        """The same score for one token sequence (the free transcription), its
        `start` start tokens first: in one pass, as there is nothing to prune (a
        step a token took 91 ms a turn, median over the neural voice's answers;
        one pass 25 ms)."""
        lp = self._log_probs(self._chain(np.array(tokens), memory)[start - 1:])  # row i predicts tokens[i + start]
        n = len(tokens) - start
        return float(sum(lp[i, t] for i, t in enumerate(tokens[start:]))) + bonus * n + _logsumexp(lp[n, endings])


def _softmax(a):
    a = np.exp(a - a.max(-1, keepdims=True))
    return a / a.sum(-1, keepdims=True)


def _logsumexp(a) -> float:
    a = np.asarray(a, np.float64)
    m = a.max()
    return float(m + np.log(np.exp(a - m).sum()))
