"""What analysts filter canonical models by, beyond identity: active parameters of mixture-of-experts
models, modality, open weights and release date; and readable labels for creators and families.

Pure Python (no Django), like ``identity``: the ingest services, the rebuild path and the data
migration all call these functions, so one model gets the same attributes whichever way it is filled.

Two kinds of evidence:

* what the identity says (the slug, creator, family, published size): ``from_identity``;
* what a source says about one raw id (``Statement``: OpenRouter's ``created`` and
  ``hugging_face_id``, LiteLLM's ``mode`` and ``supports_vision``...), merged by ``merge``.

Merging is commutative and idempotent (the earliest release date, the most specific modality, open
weights once any source names a weights repository), so a model's attributes do not depend on the
order in which snapshots arrive (invariant 4), and the same bytes twice change nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

__all__ = [
    "MODALITIES",
    "MODALITY_SHORT",
    "Statement",
    "combine",
    "creator_label",
    "family_label",
    "from_identity",
    "merge",
    "merge_modality",
    "modality_of",
]

# Most generic first. A model's modality is the most specific any evidence gives: a chat listing says
# "text", LiteLLM's supports_vision on the same model says "vision", and an embedding endpoint that
# genai-prices lists as chat is still an embedding model.
MODALITIES: tuple[tuple[str, str], ...] = (
    ("text", "Text"),
    ("vision", "Vision (text + image in)"),
    ("multimodal", "Multimodal (+ audio/video in)"),
    ("audio", "Audio (speech, transcription)"),
    ("image", "Image generation"),
    ("video", "Video generation"),
    ("embedding", "Embedding"),
    ("rerank", "Rerank"),
    ("moderation", "Moderation"),
    ("ocr", "OCR / documents"),
)
# Short forms for table cells.
MODALITY_SHORT = {"text": "Text", "vision": "Vision", "multimodal": "Multimodal", "audio": "Audio",
                  "image": "Image gen", "video": "Video gen", "embedding": "Embedding", "rerank": "Rerank",
                  "moderation": "Moderation", "ocr": "OCR"}
_RANK = {key: rank for rank, (key, _) in enumerate(MODALITIES, start=1)}

# LiteLLM's ``mode`` values (OpenRouter lists chat models only) -> modality; chat modes are refined by
# the input modalities the source states.
_MODE_MODALITY = {
    "embedding": "embedding", "image_generation": "image", "image_edit": "image", "audio_transcription": "audio",
    "audio_speech": "audio", "realtime": "audio", "video_generation": "video", "rerank": "rerank",
    "moderation": "moderation", "ocr": "ocr",
}
_CHAT_MODES = frozenset({"chat", "completion", "responses", ""})


@dataclass(frozen=True)
class Statement:
    """What one source says about the model behind one raw id (every field optional)."""

    released_on: date | None = None
    modality: str = ""
    open_weights: bool | None = None


def merge_modality(a: str, b: str) -> str:
    """The more specific of two modalities ("" = nothing known)."""
    return a if _RANK.get(a, 0) >= _RANK.get(b, 0) else b


def merge(statements: Iterable[Statement]) -> Statement:
    """One statement from many: the earliest date, the most specific modality, open once any says so."""
    released: date | None = None
    modality = ""
    open_weights: bool | None = None
    for s in statements:
        if s.released_on is not None and (released is None or s.released_on < released):
            released = s.released_on
        modality = merge_modality(modality, s.modality)
        if s.open_weights is not None:
            open_weights = bool(open_weights) or s.open_weights
    return Statement(released, modality, open_weights)


_CHAT_LIKE = frozenset({"text", "vision", "multimodal"})


def combine(identity_says: Statement, aliases_say: Iterable[Statement]) -> Statement:
    """A canonical model's attributes from its identity and its aliases' statements (each alias one source's
    word about one raw id): the earliest date and open once any says so, as in ``merge``; the modality the
    identity's name gives when it names a kind (embed, whisper, dall-e...), else by majority of the aliases,
    so that one mislabelled entry (LiteLLM once listed gemini/gemini-1.5-flash as an embedding model)
    does not turn a chat model into an embedding one. Text, vision and multimodal count as one kind,
    refined to vision (or multimodal) when enough of its listings say so (``_enough``): a listing
    without a vision flag does not deny vision, and one stray flag does not grant it.
    """
    said = list(aliases_say)
    dates_and_weights = merge([identity_says, *(Statement(s.released_on, "", s.open_weights) for s in said)])
    modality = identity_says.modality
    if modality in ("", *_CHAT_LIKE):
        votes: dict[str, int] = {}
        for s in said:
            if s.modality:
                kind = "chat" if s.modality in _CHAT_LIKE else s.modality
                votes[kind] = votes.get(kind, 0) + 1
        if votes:
            # Most votes; a tie goes to chat, the kind most offerings are, then to the lower-ranked kind.
            kind = max(votes, key=lambda k: (votes[k], k == "chat", -_RANK.get(k, 0)))
            if kind != "chat":
                modality = kind
            else:
                chat = [s.modality for s in said if s.modality in _CHAT_LIKE]
                seeing = [m for m in chat if m != "text"]
                hearing = [m for m in seeing if m == "multimodal"]
                refined = "text"
                if _enough(len(seeing), len(chat)):
                    refined = "multimodal" if _enough(len(hearing), len(seeing)) else "vision"
                modality = merge_modality(modality, refined)
    return Statement(dates_and_weights.released_on, modality, dates_and_weights.open_weights)


def _enough(says: int, of: int) -> bool:
    """Whether ``says`` of ``of`` listings stating more than text is evidence rather than an error: one in
    38 (a LiteLLM provider entry flagging Llama 3.1 8B with supports_vision) is not; two or more and at least
    a fifth are (six of GPT-4o's twelve names); a model with a single listing is taken at its word."""
    return says >= 1 if of == 1 else says >= 2 and says * 5 >= of


def modality_of(mode: str, input_modalities: Iterable[str] = ()) -> str:
    """The modality of an offering from its mode and the kinds of input the source says it takes."""
    if not input_modalities and mode == "chat":
        return "text"  # most rows of every sheet: no need to look further
    mode = (mode or "").strip().lower()
    if mode in _MODE_MODALITY:
        return _MODE_MODALITY[mode]
    if mode not in _CHAT_MODES:
        return ""  # search, vector_store...: not a statement about the model
    inputs = {m.strip().lower() for m in input_modalities}
    if inputs & {"audio", "video"}:
        return "multimodal"
    if "image" in inputs:
        return "vision"
    return "text"


# --- what the identity says ------------------------------------------------------------------------

# Mixture-of-experts models whose ids do not spell the active parameters (billions active per token),
# from each model card. Ids that do ("qwen3-30b-a3b", "ernie-4.5-300b-a47b") are read by _ACTIVE.
_ACTIVE_BY_SLUG_PREFIX: tuple[tuple[str, Decimal], ...] = (
    ("mixtral-8x7b", Decimal("12.9")),
    ("mixtral-8x22b", Decimal("39")),
    ("gpt-oss-120b", Decimal("5.1")),
    ("gpt-oss-safeguard-120b", Decimal("5.1")),
    ("gpt-oss-20b", Decimal("3.6")),
    ("gpt-oss-safeguard-20b", Decimal("3.6")),
    ("llama-4-scout", Decimal("17")),
    ("llama-4-maverick", Decimal("17")),
    ("deepseek-v3", Decimal("37")),
    ("deepseek-r1", Decimal("37")),
    ("dbrx", Decimal("36")),
)
# "-a3b", "-a22b", "-a47b": the active size after the total (Qwen, ERNIE, Nemotron 3 ids).
_ACTIVE = re.compile(r"(?:^|-)\d+(?:\.\d+)?b-a(\d+(?:\.\d+)?)b(?:-|$)")
# A date in the id: a dated snapshot is released on that day ("gpt-4o-2024-08-06", "claude-3-5-sonnet-20241022").
_DATE_DASHED = re.compile(r"(?:^|-)(20[1-3]\d)-([01]\d)-([0-3]\d)(?:-|$)")
_DATE_COMPACT = re.compile(r"(?:^|-)(20[1-3]\d)([01]\d)([0-3]\d)(?:-|$)")

# Slug markers of modality, for models the sources list only as chat (or not at all yet).
_SLUG_MODALITY: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?:^|-)(?:embed|embedding|embeddings|e5|bge|gte)(?:-|$)|text-embedding"), "embedding"),
    (re.compile(r"(?:^|-)rerank(?:-|$)"), "rerank"),
    (re.compile(r"(?:^|-)(?:moderation|omni-moderation)(?:-|$)"), "moderation"),
    (re.compile(r"(?:^|-)(?:whisper|tts|stt|transcribe|speech)(?:-|$)"), "audio"),
    (re.compile(r"(?:^|-)(?:dall-e|flux|sd3|sd3\.5|stable-diffusion|imagen|recraftv\d|gpt-image)(?:-|$)"), "image"),
    (re.compile(r"(?:^|-)(?:vl|vision|pixtral|llava|firellava|internvl3)(?:-|$)"), "vision"),
)

# Whose weights are published, by (creator, family): True open, False closed. A size in the identity
# means published weights (identity gives sizes only for open models); families not listed stay
# unknown rather than guessed. A version floor marks families that opened at some release
# (GLM from 4.5, Grok 1 and 2 only).
_OPEN_FAMILIES: dict[tuple[str, str], bool] = {
    ("meta", "llama"): True, ("meta", "llama-guard"): True, ("meta", "codellama"): True,
    ("google", "gemma"): True, ("openai", "gpt-oss"): True, ("mistral", "mixtral"): True,
    ("deepseek", "deepseek"): True, ("deepseek", "deepseek-coder"): True, ("qwen", "qwq"): True,
    ("moonshot", "kimi"): True, ("minimax", "minimax"): True, ("nvidia", "nemotron"): True,
    ("microsoft", "phi"): True, ("ibm", "granite"): True, ("allenai", "olmo"): True,
    ("openai", "gpt"): False, ("openai", "o-series"): False, ("openai", "dall"): False,
    ("openai", "whisper"): True, ("google", "gemini"): False, ("amazon", "nova"): False,
    ("amazon", "titan"): False, ("ai21", "jurassic"): False, ("moonshot", "moonshot"): False,
}
_CLOSED_CREATORS = frozenset({"anthropic", "voyage", "deepgram", "elevenlabs", "aws-polly", "inflection", "reka",
                              "writer"})


def _version_at_least(version: str, floor: tuple[int, ...]) -> bool:
    parts = re.findall(r"\d+", version)
    return bool(parts) and tuple(int(p) for p in parts[: len(floor)]) >= floor


def _open_weights(slug: str, creator: str, family: str, version: str, parameter_count_b: Decimal | None) -> bool | None:
    if parameter_count_b is not None:
        return True
    if creator in _CLOSED_CREATORS:
        return False
    if (creator, family) == ("zhipu", "glm"):
        return True if _version_at_least(version, (4, 5)) else None
    if (creator, family) == ("xai", "grok"):
        return None if version in ("1", "2") else False
    if (creator, family) == ("qwen", "qwen") and re.search(r"(?:^|-)(?:max|plus|turbo|flash)(?:-|$)", slug):
        return False  # Alibaba's API-only tiers
    return _OPEN_FAMILIES.get((creator, family))


def _release_date(slug: str) -> date | None:
    for pattern in (_DATE_DASHED, _DATE_COMPACT):
        if m := pattern.search(slug):
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                return None
    return None


def active_parameters(slug: str) -> Decimal | None:
    """Billions of parameters active per token for a mixture-of-experts model; None for dense or unknown."""
    if m := _ACTIVE.search(slug):
        return Decimal(m[1])
    if "distill" in slug:
        return None  # deepseek-r1-distill-llama-70b: a dense model taught by a mixture-of-experts one
    for prefix, active in _ACTIVE_BY_SLUG_PREFIX:
        if slug == prefix or slug.startswith(prefix + "-") or slug.startswith(prefix + "."):
            return active
    return None


def from_identity(*, slug: str, creator: str, family: str, version: str,
                  parameter_count_b: Decimal | None) -> tuple[Decimal | None, Statement]:
    """(active parameters, what the identity alone says of release date, modality and open weights)."""
    modality = next((kind for pattern, kind in _SLUG_MODALITY if pattern.search(slug)), "")
    return active_parameters(slug), Statement(
        released_on=_release_date(slug), modality=modality,
        open_weights=_open_weights(slug, creator, family, version, parameter_count_b))


# --- readable labels --------------------------------------------------------------------------------

_CREATOR_NAMES = {
    "openai": "OpenAI", "anthropic": "Anthropic", "google": "Google", "meta": "Meta", "mistral": "Mistral AI",
    "deepseek": "DeepSeek", "qwen": "Qwen (Alibaba)", "xai": "xAI", "zhipu": "Zhipu AI (Z.ai)",
    "moonshot": "Moonshot AI", "minimax": "MiniMax", "nvidia": "NVIDIA", "microsoft": "Microsoft", "ibm": "IBM",
    "amazon": "Amazon", "cohere": "Cohere", "ai21": "AI21 Labs", "perplexity": "Perplexity", "voyage": "Voyage AI",
    "stability": "Stability AI", "deepgram": "Deepgram", "bytedance": "ByteDance", "baidu": "Baidu",
    "allenai": "Ai2", "nousresearch": "Nous Research", "black-forest-labs": "Black Forest Labs",
    "togethercomputer": "Together", "xiaomi": "Xiaomi", "01-ai": "01.AI", "zero-one-ai": "01.AI",
    "elevenlabs": "ElevenLabs", "baai": "BAAI", "arcee-ai": "Arcee AI", "aws-polly": "Amazon Polly",
}
_FAMILY_NAMES = {
    "gpt": "GPT", "o-series": "o-series", "gpt-oss": "gpt-oss", "glm": "GLM", "qwq": "QwQ", "olmo": "OLMo",
    "llama-guard": "Llama Guard", "deepseek-coder": "DeepSeek Coder", "deepseek": "DeepSeek", "minimax": "MiniMax",
    "phi": "Phi", "ernie": "ERNIE", "flux": "FLUX", "bge": "BGE", "dall": "DALL·E", "sd3": "SD3", "sd3.5": "SD3.5",
    "codellama": "Code Llama",
}


def creator_label(creator: str) -> str:
    """A creator key as people write it ("mistral" -> "Mistral AI"); unknown keys title-cased."""
    if not creator:
        return ""
    return _CREATOR_NAMES.get(creator) or creator.replace("-", " ").title()


def family_label(family: str) -> str:
    if not family:
        return ""
    return _FAMILY_NAMES.get(family) or family[:1].upper() + family[1:]
