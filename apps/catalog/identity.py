"""Identity resolution: which canonical model does a source's raw model id name?

Pure Python (no Django, no database, no file IO per call) so it is fast and
testable; ``apps.catalog.services`` wires it to the ``ModelAlias`` table.

Order: the curated table first (exact ``(source, raw_id)``, then ``("*", raw_id)``),
then the rules below, then ``None`` (unresolved, left for a curator).

Principles
----------
* A wrong merge is worse than an unresolved id. A rule fires only when the id
  names family, version, size (for open models) and variant unambiguously; any
  token a rule does not understand leaves the id unresolved (``-versatile``,
  ``-lora``, ``-instruct-1b``, ``:online``, ``-latest`` ...).
* No variant marker, no rule: ``replicate/meta/llama-3-70b`` is the base model
  while ``snowflake/llama3-70b`` is an instruct deployment. Such ids are decided
  per source in ``fixtures/aliases.csv``. The exceptions are releases that exist
  in one variant only (Llama 3.3 70B: instruct only) and families whose official
  un-suffixed name *is* the post-trained model (Qwen3, DeepSeek V3/R1, gpt-oss).
* ``-latest`` / ``-preview`` aliases that a vendor re-points are never resolved
  by rule (``chatgpt-4o-latest``, ``mistral-large-latest``, ``gpt-4-turbo-preview``).
* Dated snapshots:
  - OpenAI: a dated id (``gpt-4o-2024-08-06``, ``gpt-4-0613``) is its own
    canonical model; the undated name (``gpt-4o``) is the moving alias and is a
    canonical model of its own. Snapshots of one version have had different
    prices (gpt-4o-2024-05-13 $5/$15 vs 2024-08-06 $2.50/$10), and OpenAI
    re-points the alias. Charts group them by ``family`` + ``version``.
  - Gemini: a pinned ``-001``/``-002`` and a dated preview are their own models,
    the same way; an undated ``-preview`` resolves only from Gemini 3 on (earlier
    versions had several dated previews, so it is ambiguous).
  - Anthropic: the date is the single release stamp of a version, so
    ``claude-sonnet-4-5-20250929`` and ``claude-sonnet-4-5`` are one model — but
    only when the date is the known snapshot of that version (an unknown date
    stays unresolved). Claude 3.5 Sonnet is the exception: it had two snapshots
    (``20240620`` → ``claude-3-5-sonnet``; ``20241022``/``-v2`` →
    ``claude-3-5-sonnet-20241022``), so an undated 3.5 Sonnet id is ambiguous and
    left to the curated table.
  - Mistral: dated API ids (``mistral-large-2407``) are distinct models; the
    date is the identity (Large 24.02, Large 2 = 24.07, 24.11 ...).
* Serving markers on open-weight models do not change the identity: ``-hf``,
  ``-fp8``/``-fp16``/``-bf16``/``-int8``, Together/DeepInfra ``-turbo`` (FP8),
  ``-tput``, Fireworks ``-basic``, ``-fast``, ``-free`` and the OpenRouter
  offering suffixes ``:free``, ``:beta``, ``:extended``, ``:nitro``, ``:floor``,
  ``:exacto`` (``:online`` changes behaviour and stays unresolved).
  Lower-precision INT4 products (Together ``-lite``, ``-awq``, ``GGUF``) and
  LoRA endpoints stay unresolved.
* A product sold at its own price under its own id is a model of its own, never the
  model it is built on: OpenRouter's ``:thinking`` offerings of a closed model
  (``claude-3.7-sonnet:thinking``), reasoning-effort presets (``o3-mini-high``), OpenAI's
  inference on a customer's fine-tune of a dated snapshot (``ft:gpt-4o-2024-08-06``; an
  undated ``ft:gpt-3.5-turbo`` stays unresolved), Gemini's Live / native-audio /
  computer-use previews, Grok 4.20's reasoning / non-reasoning / multi-agent kinds.
* An undated name of a model released exactly once resolves to that release
  (``mistral-saba`` is 25.02, Codestral Mamba 24.07); a second release would make it
  ambiguous again, so such names are listed one by one (``_ONE_RELEASE``), never inferred.
* Fine-tunes published under a tuner's Hugging Face organisation (``_TUNERS``:
  ``neversleep/llama-3-lumimaid-70b``) resolve with the tuner in the slug, so they
  never meet their base model; a repository name's ``-preview``/``-beta`` is fixed there.
* Pretrained checkpoints resolve only where a source's naming says so, row by row in
  ``fixtures/aliases.csv`` (Fireworks' bare ``qwen2p5-72b`` is ``Qwen/Qwen2.5-72B``);
  OpenRouter rows cite the ``canonical_slug`` / ``hugging_face_id`` they rest on, and a
  test re-reads those hints in every snapshot, so a re-pointed name is caught.
* ``parameter_count_b`` is the published size: the nominal size for dense models
  (70 for 70B) and the total for mixture-of-experts (Mixtral 8x7B 46.7, Llama 4
  Scout 109, DeepSeek V3 671). ``None`` for closed models and moving aliases.

``model_name`` is accepted for the admin and future rules, but the rules decide
on the id alone: display names are free text (llm-prices names one row
"Claude Sonnet 4 and 4.5 ≤200k").
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

__all__ = [
    "DEFAULT_ALIASES_PATH",
    "ModelIdentity",
    "load_curated",
    "normalise_id",
    "resolve",
    "size_class",
]

DEFAULT_ALIASES_PATH = Path(__file__).resolve().parents[2] / "fixtures" / "aliases.csv"

VARIANTS = frozenset({"instruct", "base", "chat", ""})


@dataclass(frozen=True)
class ModelIdentity:
    slug: str  # canonical, e.g. "llama-3-70b-instruct", "gpt-4o", "claude-3-5-sonnet"
    name: str  # display, e.g. "Llama 3 70B Instruct"
    creator: str  # "meta", "openai", "anthropic", "mistral", "google", "deepseek", "qwen"
    family: str  # "llama", "gpt", "o-series", "claude", "gemini", "gemma", "mistral", "mixtral", ...
    version: str  # "3", "3.1", "4o", "3.5", ...
    parameter_count_b: Decimal | None  # 70 for 70B; None when unknown/undisclosed
    variant: str  # "instruct", "base", "chat", "" (closed models)
    rule: str  # the rule that matched (for the admin), or "curated"


# --------------------------------------------------------------------------------------
# Normalisation: strip the routing around the model name, keep the model name itself.
# --------------------------------------------------------------------------------------

# LiteLLM route prefixes (provider keys and the path segments they add before the model).
_ROUTE = re.compile(
    r"""^(?:
        fireworks[-_]ai/accounts/fireworks/(?:models|routers)/
      | accounts/fireworks/models/
      | databricks/databricks-
      | cloudflare/@cf/
      | bedrock/(?:invoke/|converse/)?(?:(?:\*|[a-z]{2}(?:-gov)?-[a-z]+-\d)/)?(?:\d+-month-commitment/)?
      | azure/(?:eu/|us/|global/|global-standard/)?
      | azure_ai/(?:global/)?
      | pinstripes/ps/
      | replicateopenai/
      | (?:together_ai|openrouter|hyperbolic|novita|anyscale|groq|deepinfra|replicate|ollama|snowflake
          |vercel_ai_gateway|perplexity|cerebras|sambanova|nebius|nscale|lambda_ai|ovhcloud|oci|watsonx
          |gmi|gradient_ai|wandb|crusoe|baseten|scaleway|friendliai|mistral|deepseek|gemini|vertex_ai|xai
          |dashscope|meta_llama|github_copilot|heroku|llamagate|tensormesh|publicai|libertai|featherless_ai
          |lemonade|volcengine|tencent|pinstripes|moonshot|minimax|zai|codestral|nvidia_nim|aiml|anthropic
          |openai|bedrock_converse|bedrock_mantle|sagemaker|cohere|ai21|darkbloom|inception|sarvam|morph
          |fireworks_ai|databricks)/
    )""",
    re.X,
)
# Model-maker organisation segments ("meta-llama/", "@cf/meta/" -> "meta/"). Unknown
# organisations (fine-tuners such as "nousresearch/") are kept, so no rule matches.
_ORG = re.compile(
    r"^(?:meta-llama|meta|codellama|mistralai|mistral|openai|anthropic|google|deepseek-ai|deepseek|qwen|alibaba|x-ai|xai)/"
)
# Bedrock cross-region inference profiles and genai-prices' "regional." prefix.
_XREGION = re.compile(r"^(?:us|eu|apac|au|jp|ca|global|us-gov|regional)\.(?=[a-z0-9-]+\.)")
# Bedrock / OCI vendor namespaces ("meta.llama3-...", "openai.gpt-oss-..."); "deepseek." is
# kept because "deepseek.v3" needs the vendor to name the model.
_DOTTED_VENDOR = re.compile(r"^(?:meta|anthropic|mistral|openai|google|qwen|xai)\.")
_DASHED_VENDOR = re.compile(r"^(?:openai|anthropic|alibaba)-(?=gpt-|o\d|claude-|qwen)")
_OFFERING_SUFFIX = re.compile(r":(?:free|beta|extended|nitro|floor|exacto)$")
_BEDROCK_MISTRAL_VERSION = re.compile(r"-v0:(\d)$")  # mistral.mistral-7b-instruct-v0:2 is v0.2
_BEDROCK_VERSION = re.compile(r"(?:-v?\d+)?:\d+$")  # -v1:0, -1:0, :0
_BEDROCK_PLAIN_VERSION = re.compile(r"-v\d+$")  # meta.llama2-70b-chat-v1
_CONTEXT_SUFFIX = re.compile(r"-(?:2048|4096|8192|16384|32768)$")  # Groq: llama3-70b-8192
# Spellings of one name: Mistral's API serves Devstral Small 2 as "labs-devstral-small-2512"; LiteLLM
# routes Gemma through the Gemini API as "gemini-gemma-2-9b-it".
_RENAMES = {"labs-devstral-": "devstral-", "gemini-gemma-": "gemma-"}
# Undated names of models released exactly once (no second version to re-point to): the name of
# the release. Mistral Saba is 25.02 only; Codestral Mamba is 24.07 only (mamba-codestral-7B-v0.1).
_ONE_RELEASE = {"mistral-saba": "mistral-saba-2502", "codestral-mamba": "codestral-mamba-2407",
                "open-codestral-mamba": "codestral-mamba-2407", "mamba-codestral-7b-v0.1": "codestral-mamba-2407"}
_RENAMED_PREFIXES = tuple(_RENAMES)
_RENAMED = re.compile("^(?:" + "|".join(map(re.escape, _RENAMES)) + ")")
# Databricks writes GPT-5.1 "gpt-5-1" (as it writes Gemini 2.5 "gemini-2-5"); one digit, then the end
# or a tier, so that dated ids (gpt-4-0613) are left alone.
_DASHED_GPT = re.compile(r"^gpt-(\d)-(\d)(?=$|-(?:mini|nano|pro|codex|chat)(?:-|$))")


def normalise_id(raw_id: str) -> str:
    """The model name inside a raw id: lower case, routing, regions and deployment suffixes removed.

    >>> normalise_id("bedrock/us-east-1/meta.llama3-70b-instruct-v1:0")
    'llama3-70b-instruct'
    >>> normalise_id("fireworks_ai/accounts/fireworks/models/llama-v3-70b-instruct-hf")
    'llama-v3-70b-instruct-hf'
    """
    s = raw_id.strip().lower()
    # Each pattern is tried only when the character it needs is there (most ids have no ":" and no "."):
    # normalising was a fifth of resolving a LiteLLM file's 3,000 ids.
    if ":" in s:
        s = _OFFERING_SUFFIX.sub("", s)
    if "/" in s:
        s = _ROUTE.sub("", s, count=1)
        s = _ORG.sub("", s, count=1)
    vendor_namespaced = False
    if "." in s:
        s = _XREGION.sub("", s, count=1)
        vendor_namespaced = _DOTTED_VENDOR.match(s) is not None
        if vendor_namespaced:
            s = _DOTTED_VENDOR.sub("", s, count=1)
    if "-" in s:
        s = _DASHED_VENDOR.sub("", s, count=1)
    if s.endswith("@default"):
        s = s[: -len("@default")]
    s = s.replace("@", "-").replace("_", "-")
    if ":" in s:
        s = _BEDROCK_MISTRAL_VERSION.sub(r"-v0.\1", s)
        s = _BEDROCK_VERSION.sub("", s)
    if vendor_namespaced:
        s = _BEDROCK_PLAIN_VERSION.sub("", s)
    if s.endswith("-maas"):  # Vertex AI model-as-a-service
        s = s[: -len("-maas")]
    if s.startswith(_RENAMED_PREFIXES):
        s = _RENAMED.sub(lambda m: _RENAMES[m[0]], s, count=1)
    if s.startswith("gpt-"):
        s = _DASHED_GPT.sub(r"gpt-\1.\2", s, count=1)
    if s[-1:].isdigit():
        s = _CONTEXT_SUFFIX.sub("", s)
    return _ONE_RELEASE.get(s, s)


# Tokens after a fully named open-weight model that only say how it is served.
_SERVING = frozenset({"hf", "fp8", "fp16", "bf16", "int8", "turbo", "tput", "basic", "fast", "free", "dynamic"})


def _serving_only(rest: str | None) -> bool:
    return not rest or all(token in _SERVING for token in rest.split("-"))


def _dec(value: str | int | float) -> Decimal:
    return Decimal(str(value))


# --------------------------------------------------------------------------------------
# Rules. Each takes the normalised id and the provider key and returns an identity or None.
# --------------------------------------------------------------------------------------

# Llama 2 / 3 / 3.1 / 3.2 / 3.3: llama3, llama-3, llama-v3, meta-llama-3, llama3-1, llama-v3p1, llama3.1.
_LLAMA = re.compile(
    r"^(?:meta-)?llama-?v?(?P<major>[23])(?:[.p-](?P<minor>\d))?-(?P<size>\d+)b(?:-(?P<rest>[a-z0-9.-]+))?$"
)
_LLAMA_SIZES: dict[str, frozenset[int]] = {
    "2": frozenset({7, 13, 70}),
    "3": frozenset({8, 70}),
    "3.1": frozenset({8, 70, 405}),
    "3.2": frozenset({1, 3, 11, 90}),
    "3.3": frozenset({8, 70}),
}
_LLAMA_VISION = {("3.2", 11), ("3.2", 90)}  # 3.2 11B/90B exist only as vision models
_LLAMA_INSTRUCT_ONLY = frozenset({"3.3"})  # Meta released no base model for Llama 3.3


def _rule_llama(s: str, provider: str) -> ModelIdentity | None:
    m = _LLAMA.match(s)
    if not m:
        return None
    version = m["major"] + (f".{m['minor']}" if m["minor"] else "")
    size = int(m["size"])
    if size not in _LLAMA_SIZES.get(version, ()):
        return None
    tokens = m["rest"].split("-") if m["rest"] else []
    vision = (version, size) in _LLAMA_VISION
    if tokens and tokens[0] == "vision":
        if not vision:
            return None
        tokens = tokens[1:]
        if not tokens:  # "llama-3.2-11b-vision": base or instruct? unknown
            return None
    if not tokens:
        if version not in _LLAMA_INSTRUCT_ONLY:
            return None  # no variant marker: base or instruct depends on the source
        variant = "instruct"
    else:
        marker, tokens = tokens[0], tokens[1:]
        if marker == "instruct":
            variant = "instruct"
        elif marker == "chat":
            # Llama 2 shipped "chat" models; for Llama 3.x, "chat" (Together's Llama-3-70b-chat-hf)
            # can only be the instruct release: Meta published base and Instruct only.
            variant = "chat" if version == "2" else "instruct"
        elif marker == "base":
            variant = "base"
        else:
            return None
        if not _serving_only("-".join(tokens)):
            return None
    if variant == "base" and version in _LLAMA_INSTRUCT_ONLY:
        return None
    kind = "vision-" if vision and variant != "base" else ""
    slug = f"llama-{version}-{size}b" + (f"-{kind}{variant}" if variant != "base" else "")
    label = {"instruct": " Instruct", "chat": " Chat", "base": ""}[variant]
    name = f"Llama {version} {size}B" + (" Vision" if kind else "") + label
    return ModelIdentity(slug, name, "meta", "llama", version, _dec(size), variant, "llama")


# Llama 4: llama-4-scout-17b-16e-instruct, llama4-maverick-instruct-basic, meta.llama4-scout-17b-instruct.
_LLAMA4 = re.compile(
    r"^(?:meta-)?llama-?4-(?P<tier>scout|maverick)(?:-17b)?(?:-(?P<experts>\d+)e)?(?:-(?P<rest>[a-z0-9.-]+))?$"
)
_LLAMA4_MODELS = {"scout": (16, _dec(109)), "maverick": (128, _dec(400))}


def _rule_llama4(s: str, provider: str) -> ModelIdentity | None:
    m = _LLAMA4.match(s)
    if not m:
        return None
    experts, total = _LLAMA4_MODELS[m["tier"]]
    if m["experts"] and int(m["experts"]) != experts:
        return None  # e.g. "scout-17b-128e": a mislabelled id, not a model
    rest = m["rest"] or ""
    if not (rest == "instruct" or rest.startswith("instruct-")) or not _serving_only(rest[len("instruct-"):]):
        return None
    tier = m["tier"]
    slug = f"llama-4-{tier}-17b-{experts}e-instruct"
    name = f"Llama 4 {tier.title()} 17B-{experts}E Instruct"
    return ModelIdentity(slug, name, "meta", "llama", "4", total, "instruct", "llama4")


# Code Llama (7B, 13B, 34B, 70B): -Instruct and -Python are models of their own; the bare name is the
# pretrained model on Hugging Face but a provider's bare name may be either, so it is left to aliases.csv.
_CODE_LLAMA = re.compile(r"^code-?llama-(?P<size>7|13|34|70)b-(?P<variant>instruct|python)(?:-(?P<rest>[a-z0-9.-]+))?$")


def _rule_code_llama(s: str, provider: str) -> ModelIdentity | None:
    m = _CODE_LLAMA.match(s)
    if not m or not _serving_only(m["rest"]):
        return None
    size, variant = m["size"], m["variant"]
    # Code Llama - Python is a further-pretrained model, not an instruction-tuned one
    return ModelIdentity(f"code-llama-{size}b-{variant}", f"Code Llama {size}B {variant.title()}", "meta",
                         "code-llama", "", _dec(size), "instruct" if variant == "instruct" else "base",
                         "code-llama")


_MIXTRAL = re.compile(r"^mixtral-8x(?P<experts>7|22)b-instruct(?:-v0[.p-]?1)?(?:-(?P<rest>[a-z0-9.-]+))?$")
_MIXTRAL_PARAMS = {"7": _dec("46.7"), "22": _dec(141)}


def _rule_mixtral(s: str, provider: str) -> ModelIdentity | None:
    m = _MIXTRAL.match(s)
    if not m or not _serving_only(m["rest"]):
        return None
    e = m["experts"]
    return ModelIdentity(f"mixtral-8x{e}b-instruct", f"Mixtral 8x{e}B Instruct", "mistral", "mixtral", "0.1",
                         _MIXTRAL_PARAMS[e], "instruct", "mixtral")


_MISTRAL_7B = re.compile(r"^mistral-7b-instruct-v0[.p](?P<minor>[123])(?:-(?P<rest>[a-z0-9.-]+))?$")
_MISTRAL_NEMO = re.compile(r"^mistral-nemo-instruct(?:-2407)?(?:-(?P<rest>[a-z0-9.-]+))?$")


def _rule_mistral_open(s: str, provider: str) -> ModelIdentity | None:
    m = _MISTRAL_7B.match(s)
    if m and _serving_only(m["rest"]):
        v = f"0.{m['minor']}"
        return ModelIdentity(f"mistral-7b-instruct-v{v}", f"Mistral 7B Instruct v{v}", "mistral", "mistral", v,
                             _dec(7), "instruct", "mistral-7b")
    m = _MISTRAL_NEMO.match(s)
    if m and _serving_only(m["rest"]):
        return ModelIdentity("mistral-nemo-instruct", "Mistral NeMo 12B Instruct", "mistral", "mistral", "nemo",
                             _dec(12), "instruct", "mistral-nemo")
    return None


# Mistral API models named by release (YYMM). Dates are the identity; versions are
# cross-checked when an id also states one ("mistral-small-3.1-24b-instruct-2503").
_MISTRAL_RELEASES: dict[tuple[str, str], tuple[str, str, Decimal | None]] = {
    # (line, YYMM): (version, display name, parameters)
    ("large", "2402"): ("1", "Mistral Large (24.02)", None),
    ("large", "2407"): ("2", "Mistral Large 2 (24.07)", _dec(123)),
    ("large", "2411"): ("2.1", "Mistral Large 24.11", _dec(123)),
    ("large", "2512"): ("3", "Mistral Large 3 (25.12)", _dec(675)),
    ("small", "2402"): ("1", "Mistral Small (24.02)", None),
    ("small", "2409"): ("2", "Mistral Small 2 (24.09)", _dec(22)),
    ("small", "2501"): ("3", "Mistral Small 3 (25.01)", _dec(24)),
    ("small", "2503"): ("3.1", "Mistral Small 3.1 (25.03)", _dec(24)),
    ("small", "2506"): ("3.2", "Mistral Small 3.2 (25.06)", _dec(24)),
    ("small", "2603"): ("4", "Mistral Small 4 (26.03)", _dec(119)),  # Mistral-Small-4-119B-2603
    ("medium", "2312"): ("1", "Mistral Medium (23.12)", None),
    ("medium", "2505"): ("3", "Mistral Medium 3 (25.05)", None),
    ("medium", "2508"): ("3.1", "Mistral Medium 3.1 (25.08)", None),
    ("medium", "2604"): ("3.5", "Mistral Medium 3.5 (26.04)", _dec(128)),  # model card mistral-medium-3-5-26-04
}
_MISTRAL_BY_VERSION = {(line, v[0]): date for (line, date), v in _MISTRAL_RELEASES.items()}
_MISTRAL_DATED = re.compile(
    r"^mistral-(?P<line>large|small|medium)"
    r"(?:-(?P<version>\d(?:[.-]\d)?)(?=-|$))?"
    r"(?:-(?P<size>\d+)b)?"
    r"(?:-(?P<instruct>instruct))?"
    r"(?:-(?P<date>\d{4}))?"
    r"(?:-(?:00\d|v1))?$"
)


def _rule_mistral_dated(s: str, provider: str) -> ModelIdentity | None:
    m = _MISTRAL_DATED.match(s)
    if not m or not (m["version"] or m["date"]):
        return None  # "mistral-large": which one?
    line = m["line"]
    version = m["version"].replace("-", ".") if m["version"] else None
    date = m["date"] or _MISTRAL_BY_VERSION.get((line, version or ""))
    release = _MISTRAL_RELEASES.get((line, date or ""))
    if release is None:
        return None
    rel_version, name, params = release
    if version is not None and version != rel_version:
        return None  # version and date disagree
    if m["size"] and (params is None or int(m["size"]) != params):
        return None
    variant = "instruct" if params is not None else ""
    return ModelIdentity(f"mistral-{line}-{date}", name, "mistral", "mistral", rel_version, params, variant,
                         "mistral-dated")


# OpenAI. Bases are listed; anything else after them (audio, realtime, search, -latest) stays unresolved.
_OPENAI = re.compile(
    r"^(?P<base>gpt-3\.5-turbo(?:-16k)?|gpt-35-turbo(?:-16k)?|gpt-4(?:-32k|-turbo)?|gpt-4o(?:-mini)?"
    r"|gpt-4\.1(?:-mini|-nano)?|gpt-4\.5-preview"
    r"|gpt-5(?:\.\d)?(?:-(?:mini|nano|pro|codex-mini|codex-max|codex|chat|(?:sol|terra|luna)(?:-pro)?))?"
    r"|o1(?:-mini|-preview|-pro)?|o3(?:-mini(?:-high)?|-pro|-deep-research)?|o4-mini(?:-high|-deep-research)?)"
    r"(?:-(?P<date>\d{4}-\d{2}-\d{2}|\d{4}))?(?P<preview>-preview)?$"
)
_OPENAI_NAMES = {
    "gpt-3.5-turbo": "GPT-3.5 Turbo", "gpt-3.5-turbo-16k": "GPT-3.5 Turbo 16K", "gpt-4": "GPT-4",
    "gpt-4-32k": "GPT-4 32K", "gpt-4-turbo": "GPT-4 Turbo", "gpt-4o": "GPT-4o", "gpt-4o-mini": "GPT-4o mini",
    "gpt-4.1": "GPT-4.1", "gpt-4.1-mini": "GPT-4.1 mini", "gpt-4.1-nano": "GPT-4.1 nano",
    "gpt-4.5-preview": "GPT-4.5 Preview",
}
_OPENAI_MMDD_BASES = frozenset({"gpt-3.5-turbo", "gpt-3.5-turbo-16k", "gpt-4", "gpt-4-32k"})


def _openai_version(base: str) -> tuple[str, str]:
    """(family, version) of an OpenAI base name."""
    if base.startswith("o"):
        return "o-series", base[1]
    m = re.match(r"gpt-(\d(?:\.\d)?o?)", base)
    return "gpt", m[1] if m else ""


def _rule_openai(s: str, provider: str) -> ModelIdentity | None:
    m = _OPENAI.match(s)
    if not m:
        return None
    base = m["base"].replace("gpt-35-", "gpt-3.5-")
    date, preview = m["date"], m["preview"]
    if date and len(date) == 4 and base not in _OPENAI_MMDD_BASES:
        return None
    if preview and not (base == "gpt-4" and date and len(date) == 4):
        return None  # gpt-4-turbo-preview is a moving alias; gpt-4-1106-preview is a snapshot
    family, version = _openai_version(base)
    name = _OPENAI_NAMES.get(base)
    if name is None:  # gpt-5.x and o-series: "GPT-5.1 Codex mini", "o3-mini", "o4-mini Deep Research"
        if base.startswith("gpt-"):
            head, *tail = base[len("gpt-"):].split("-")
            name = "GPT-" + head + "".join(f" {t if t in ('mini', 'nano') else t.title()}" for t in tail)
        else:
            name = base.replace("-deep-research", " Deep Research").replace("-pro", " Pro").replace("-preview",
                                                                                                  " Preview")
            # OpenRouter's o3-mini-high / o4-mini-high: the model with reasoning_effort preset to high, sold
            # under its own id. Its own model here (it bills more reasoning tokens per request), never the model.
            name = name.replace("-high", " (high reasoning effort)")
    slug = base
    if date:
        slug += f"-{date}"
        name += f" ({date}{' Preview' if preview else ''})"
    if preview:
        slug += "-preview"
    return ModelIdentity(slug, name, "openai", family, version, None, "", "openai")


_GPT_OSS = re.compile(r"^gpt-oss-(?P<safeguard>safeguard-)?(?P<size>120|20)b(?:-(?P<rest>[a-z0-9.-]+))?$")
_GPT_OSS_PARAMS = {"120": _dec(117), "20": _dec(21)}


def _rule_gpt_oss(s: str, provider: str) -> ModelIdentity | None:
    m = _GPT_OSS.match(s)
    if not m or not _serving_only(m["rest"]):
        return None
    size = m["size"]
    if m["safeguard"]:  # the safety-classifier fine-tunes (gpt-oss-safeguard-20b / -120b): models of their own
        return ModelIdentity(f"gpt-oss-safeguard-{size}b", f"gpt-oss-safeguard-{size}b", "openai", "gpt-oss", "",
                             _GPT_OSS_PARAMS[size], "instruct", "gpt-oss")
    return ModelIdentity(f"gpt-oss-{size}b", f"gpt-oss-{size}b", "openai", "gpt-oss", "", _GPT_OSS_PARAMS[size],
                         "instruct", "gpt-oss")


# OpenAI's audio and search models: their own models (another modality, another product), never
# merged with the text model they are built on. A dated snapshot is its own model; an undated
# "-preview" is re-pointed (gpt-4o-audio-preview: 2024-10-01, 2024-12-17, 2025-06-03) and stays
# unresolved; the undated GA names (gpt-audio) are the moving alias, a model of its own as with gpt-4o.
_OPENAI_SPECIAL = re.compile(
    r"^(?P<base>gpt-audio(?:-mini|-1\.5)?|gpt-4o(?:-mini)?-(?:audio|search)-preview|gpt-3\.5-turbo-instruct"
    r"|gpt-5(?:\.\d)?-image(?:-mini|-2)?|gpt-5-search-api)"
    r"(?:-(?P<date>\d{4}-\d{2}-\d{2}))?$"
)
_OPENAI_SPECIAL_NAMES = {
    "gpt-audio": "gpt-audio", "gpt-audio-mini": "gpt-audio-mini", "gpt-audio-1.5": "gpt-audio-1.5",
    "gpt-4o-audio-preview": "GPT-4o Audio Preview", "gpt-4o-mini-audio-preview": "GPT-4o mini Audio Preview",
    "gpt-4o-search-preview": "GPT-4o Search Preview", "gpt-4o-mini-search-preview": "GPT-4o mini Search Preview",
    "gpt-3.5-turbo-instruct": "GPT-3.5 Turbo Instruct", "gpt-5-image": "GPT-5 Image",
    "gpt-5-image-mini": "GPT-5 Image mini", "gpt-5.4-image-2": "GPT-5.4 Image 2",
    "gpt-5-search-api": "GPT-5 Search API",
}


def _rule_openai_special(s: str, provider: str) -> ModelIdentity | None:
    m = _OPENAI_SPECIAL.match(s)
    if not m or m["base"] not in _OPENAI_SPECIAL_NAMES:
        return None
    base, date = m["base"], m["date"]
    if base.endswith("-preview") and not date:
        return None
    version = re.match(r"gpt-(\d(?:\.\d)?o?)", base)[1] if base[4:5].isdigit() else ""
    name = _OPENAI_SPECIAL_NAMES[base] + (f" ({date})" if date else "")
    return ModelIdentity(base + (f"-{date}" if date else ""), name, "openai", "gpt", version, None, "",
                         "openai-special")


# Llama Guard: safety classifiers fine-tuned from Llama, models of their own (never a Llama).
_LLAMA_GUARD = re.compile(r"^(?:meta-)?llama-guard-(?P<version>[234])-(?P<size>\d+)b(?P<vision>-vision)?$")
_LLAMA_GUARD_MODELS = {("2", "8", False), ("3", "1", False), ("3", "8", False), ("3", "11", True),
                       ("4", "12", False)}


def _rule_llama_guard(s: str, provider: str) -> ModelIdentity | None:
    m = _LLAMA_GUARD.match(s)
    if not m or (m["version"], m["size"], bool(m["vision"])) not in _LLAMA_GUARD_MODELS:
        return None
    version, size, vision = m["version"], m["size"], "-vision" if m["vision"] else ""
    return ModelIdentity(f"llama-guard-{version}-{size}b{vision}",
                         f"Llama Guard {version} {size}B" + (" Vision" if vision else ""), "meta", "llama-guard",
                         version, _dec(size), "instruct", "llama-guard")


# Anthropic: claude-3-5-sonnet, claude-3.5-sonnet, claude-sonnet-4-5, claude-4-sonnet, claude-4.5-haiku,
# with an optional date (-20250929, @20250929) and Bedrock/Vertex -v1/-v2.
_CLAUDE_VERSION_FIRST = re.compile(
    r"^claude-(?P<version>\d(?:[.-]\d)?)-(?P<tier>opus|sonnet|haiku|fable)"
    r"(?:-v(?P<v1>\d))?(?:-(?P<date>\d{8}))?(?:-v(?P<v2>\d))?(?P<fast>-fast)?$"
)
_CLAUDE_TIER_FIRST = re.compile(
    r"^claude-(?P<tier>opus|sonnet|haiku|fable)-(?P<version>\d(?:[.-]\d)?)"
    r"(?:-v(?P<v1>\d))?(?:-(?P<date>\d{8}))?(?:-v(?P<v2>\d))?(?P<fast>-fast)?$"
)
# (version, tier) -> the date stamp of its one snapshot. Only these resolve.
_CLAUDE_SNAPSHOTS: dict[tuple[str, str], str | None] = {
    ("3", "opus"): "20240229", ("3", "sonnet"): "20240229", ("3", "haiku"): "20240307",
    ("3.5", "sonnet"): "20240620", ("3.5", "haiku"): "20241022", ("3.7", "sonnet"): "20250219",
    ("4", "opus"): "20250514", ("4", "sonnet"): "20250514", ("4.1", "opus"): "20250805",
    ("4.5", "sonnet"): "20250929", ("4.5", "haiku"): "20251001", ("4.5", "opus"): "20251101",
    ("4.6", "opus"): "20260205", ("4.6", "sonnet"): None, ("4.7", "opus"): "20260416", ("4.8", "opus"): None,
    ("5", "opus"): None, ("5", "sonnet"): None, ("5", "fable"): None,
}
_CLAUDE_35_SONNET_V2 = "20241022"
# Fast mode (Opus 4.6 on): a premium-priced faster serving of the model, sold under its own id
# ("claude-opus-4.7-fast"): a model of its own here, so its price never sets the Opus price.
_CLAUDE_FAST = frozenset({("4.6", "opus"), ("4.7", "opus"), ("4.8", "opus"), ("5", "opus")})


def _rule_claude(s: str, provider: str) -> ModelIdentity | None:
    m = _CLAUDE_VERSION_FIRST.match(s) or _CLAUDE_TIER_FIRST.match(s)
    if not m:
        return None
    version = m["version"].replace("-", ".")
    if version.endswith(".0"):
        version = version[:-2]  # claude-opus-4-0 is Claude Opus 4
    tier = m["tier"]
    key = (version, tier)
    if key not in _CLAUDE_SNAPSHOTS:
        return None
    bedrock_v = m["v1"] or m["v2"]
    date = m["date"]
    fast = m["fast"] is not None
    if fast and (key not in _CLAUDE_FAST or date or bedrock_v):
        return None
    second = key == ("3.5", "sonnet") and (date == _CLAUDE_35_SONNET_V2 or (bedrock_v == "2" and date in (
        None, _CLAUDE_35_SONNET_V2)))
    if second:
        date = _CLAUDE_35_SONNET_V2
    else:
        if bedrock_v not in (None, "1"):
            return None
        if date is not None and date != _CLAUDE_SNAPSHOTS[key]:
            return None  # an unknown snapshot, or a mislabelled one (claude-3-7-sonnet-20240620)
        if date is None and key == ("3.5", "sonnet"):
            return None  # undated 3.5 Sonnet: June or October? decided per source (aliases.csv)
    dashed = version.replace(".", "-")
    slug = f"claude-{dashed}-{tier}" if float(version) < 4 else f"claude-{tier}-{dashed}"
    name = f"Claude {version} {tier.title()}" if float(version) < 4 else f"Claude {tier.title()} {version}"
    if second:
        slug += f"-{date}"
        name += " (2024-10-22)"
    if fast:
        slug += "-fast"
        name += " Fast"
    return ModelIdentity(slug, name, "anthropic", "claude", version, None, "", "claude")


# Gemini: gemini-2.5-flash, gemini-2-5-flash (Databricks), gemini-3-1-pro-preview, gemini-flash-1.5 (old OpenRouter).
_GEMINI = re.compile(
    r"^gemini-(?P<major>\d)(?:[.-](?P<minor>\d))?-(?P<tier>pro-image|pro|flash-lite-image|flash-lite|flash-8b|flash-image"
    r"|flash-native-audio|flash-live|computer-use|flash)"
    r"(?:-(?P<pin>\d{3})|-preview(?:-(?P<pdate>\d{2}-\d{2}|\d{4}|\d{2}-\d{4}))?(?P<preview>)(?P<custom>-customtools)?)?$"
)
_GEMINI_OLD_ORDER = re.compile(r"^gemini-(?P<tier>pro|flash)-(?P<major>1)\.(?P<minor>5)(?P<eightb>-8b)?$")
_GEMINI_TIER_NAMES = {"pro": "Pro", "flash": "Flash", "flash-lite": "Flash-Lite", "flash-8b": "Flash-8B",
                      "pro-image": "Pro Image", "flash-image": "Flash Image", "flash-lite-image": "Flash-Lite Image",
                      "flash-native-audio": "Flash Native Audio", "flash-live": "Flash Live",
                      "computer-use": "Computer Use"}
# The Live API, native-audio and computer-use models: other products than the text model, each its own
# model, resolved only as previews named with their date (or, from Gemini 3 on, their undated preview).
_GEMINI_PREVIEW_ONLY = frozenset({"flash-native-audio", "flash-live", "computer-use"})


def _rule_gemini(s: str, provider: str) -> ModelIdentity | None:
    m = _GEMINI.match(s)
    pin = pdate = None
    preview = custom = False
    if m:
        major, minor, tier, pin, pdate = m["major"], m["minor"], m["tier"], m["pin"], m["pdate"]
        preview = m["preview"] is not None
        custom = m["custom"] is not None  # gemini-3.1-pro-preview-customtools: a variant endpoint, its own model
    else:
        m = _GEMINI_OLD_ORDER.match(s)
        if not m:
            return None
        major, minor = m["major"], m["minor"]
        tier = "flash-8b" if m["eightb"] else m["tier"]
    version = major if minor is None else f"{major}.{minor}"
    if version in ("1", "1.0") or (tier == "flash-8b" and version != "1.5"):
        return None
    if minor is None and int(major) < 3:
        return None  # "gemini-2-flash"? not a Google id
    if preview and not pdate and int(major) < 3:
        return None  # undated 1.5/2.x preview: several dated previews existed
    if tier in _GEMINI_PREVIEW_ONLY and (not preview or custom):
        return None
    slug = f"gemini-{version}-{tier}"
    name = f"Gemini {version} {_GEMINI_TIER_NAMES[tier]}"
    if pin:
        slug += f"-{pin}"
        name += f" ({pin})"
    elif preview:
        slug += "-preview" + (f"-{pdate}" if pdate else "") + ("-customtools" if custom else "")
        name += " Preview" + (f" ({pdate})" if pdate else "") + (" Custom Tools" if custom else "")
    return ModelIdentity(slug, name, "google", "gemini", version, None, "", "gemini")


_GEMMA = re.compile(r"^gemma-?(?P<version>[23])?-(?P<size>\d+)b-(?P<variant>it|pt)(?:-(?P<rest>[a-z0-9.-]+))?$")
_GEMMA_SIZES = {"1": frozenset({2, 7}), "2": frozenset({2, 9, 27}), "3": frozenset({1, 4, 12, 27})}


def _rule_gemma(s: str, provider: str) -> ModelIdentity | None:
    m = _GEMMA.match(s)
    if not m or not _serving_only(m["rest"]):
        return None
    version = m["version"] or "1"
    size = int(m["size"])
    if size not in _GEMMA_SIZES[version]:
        return None
    prefix = "gemma" if version == "1" else f"gemma-{version}"
    instruct = m["variant"] == "it"
    name = f"Gemma {'' if version == '1' else version + ' '}{size}B" + (" Instruct" if instruct else "")
    return ModelIdentity(f"{prefix}-{size}b-{m['variant']}", name, "google", "gemma", version, _dec(size),
                         "instruct" if instruct else "base", "gemma")


# DeepSeek open-weight releases (the un-suffixed official name is the chat model; base is "-base").
_DEEPSEEK = re.compile(
    r"^deepseek-(?:chat-)?(?P<line>v3|r1)(?:[.p-](?P<minor>[12]))?"
    r"(?:-(?P<tag>0324|0528|terminus|exp|speciale))?(?:-671b)?(?:-(?P<rest>[a-z0-9.-]+))?$"
)
_DEEPSEEK_MODELS: dict[tuple[str, str | None, str | None], tuple[str, str]] = {
    # (line, minor, tag): (slug, name)
    ("v3", None, None): ("deepseek-v3", "DeepSeek V3"),
    ("v3", None, "0324"): ("deepseek-v3-0324", "DeepSeek V3 (0324)"),
    ("v3", "1", None): ("deepseek-v3.1", "DeepSeek V3.1"),
    ("v3", "1", "terminus"): ("deepseek-v3.1-terminus", "DeepSeek V3.1 Terminus"),
    ("v3", "2", None): ("deepseek-v3.2", "DeepSeek V3.2"),
    ("v3", "2", "exp"): ("deepseek-v3.2-exp", "DeepSeek V3.2 Exp"),
    ("v3", "2", "speciale"): ("deepseek-v3.2-speciale", "DeepSeek V3.2 Speciale"),
    ("r1", None, None): ("deepseek-r1", "DeepSeek R1"),
    ("r1", None, "0528"): ("deepseek-r1-0528", "DeepSeek R1 (0528)"),
}
_DEEPSEEK_DISTILL = re.compile(
    r"^deepseek-r1-distill-(?P<base>llama|qwen)-(?P<size>\d+(?:[.p]\d)?)b(?:-(?P<rest>[a-z0-9.-]+))?$"
)
_DEEPSEEK_DISTILL_SIZES = {"llama": frozenset({"8", "70"}), "qwen": frozenset({"1.5", "7", "14", "32"})}
# The first-party API names are moving aliases (V2 -> V2.5 -> V3 -> V3.1 -> V3.2 ...). They are
# canonical products of DeepSeek's own API only: OpenRouter's "deepseek/deepseek-chat" is V3.
_DEEPSEEK_FIRST_PARTY = {"deepseek-chat": "DeepSeek Chat (API)", "deepseek-reasoner": "DeepSeek Reasoner (API)"}


# Other DeepSeek releases, each named once on Hugging Face: normalised name -> (slug, name, parameters, variant).
_DEEPSEEK_OTHER: dict[str, tuple[str, str, Decimal, str]] = {
    "deepseek-v3-base": ("deepseek-v3-base", "DeepSeek V3 Base", _dec(671), "base"),
    "deepseek-r1-zero": ("deepseek-r1-zero", "DeepSeek R1 Zero", _dec(671), "instruct"),
    "deepseek-prover-v2-671b": ("deepseek-prover-v2-671b", "DeepSeek Prover V2 671B", _dec(671), "instruct"),
    "deepseek-ocr": ("deepseek-ocr", "DeepSeek-OCR", _dec(3), "instruct"),
    # DeepSeek-R1-0528 distilled into Qwen3 8B
    "deepseek-r1-0528-qwen3-8b": ("deepseek-r1-0528-qwen3-8b", "DeepSeek R1 0528 Qwen3 8B", _dec(8), "instruct"),
}


def _rule_deepseek(s: str, provider: str) -> ModelIdentity | None:
    s = s.replace("deepseek.", "deepseek-", 1)  # Bedrock: deepseek.v3, deepseek.r1
    if (other := _DEEPSEEK_OTHER.get(s)) is not None:
        slug, name, params, variant = other
        version = "r1" if "-r1" in slug else ("3" if "-v3" in slug else "")
        return ModelIdentity(slug, name, "deepseek", "deepseek", version, params, variant, "deepseek")
    if s in _DEEPSEEK_FIRST_PARTY:
        if provider.lower() != "deepseek":
            return None
        return ModelIdentity(s, _DEEPSEEK_FIRST_PARTY[s], "deepseek", "deepseek", "", None, "instruct",
                             "deepseek-first-party")
    m = _DEEPSEEK_DISTILL.match(s)
    if m:
        size = m["size"].replace("p", ".")
        if size not in _DEEPSEEK_DISTILL_SIZES[m["base"]] or not _serving_only(m["rest"]):
            return None
        base = m["base"]
        return ModelIdentity(f"deepseek-r1-distill-{base}-{size}b", f"DeepSeek R1 Distill {base.title()} {size}B",
                             "deepseek", "deepseek", "r1", _dec(size), "instruct", "deepseek-distill")
    m = _DEEPSEEK.match(s)
    if not m or not _serving_only(m["rest"]):
        return None
    found = _DEEPSEEK_MODELS.get((m["line"], m["minor"], m["tag"]))
    if found is None:
        return None
    slug, name = found
    version = "r1" if m["line"] == "r1" else "3" + (f".{m['minor']}" if m["minor"] else "")
    return ModelIdentity(slug, name, "deepseek", "deepseek", version, _dec(671), "instruct", "deepseek")


# Qwen open weights. Qwen2/2.5 need "-instruct" (the bare name is the base model); Qwen3's bare
# name is the post-trained (hybrid thinking) model, its 2507 refresh is split Instruct/Thinking.
_QWEN = re.compile(
    r"^qwen-?v?(?P<version>1\.5|1p5|2|2\.5|2p5|3)-(?:(?P<kind>coder|vl|math|next|omni|audio)-)?(?P<size>\d+(?:[.p]\d+)?)b"
    r"(?:-a(?P<active>\d+)b)?(?:-(?P<rest>[a-z0-9.-]+))?$"
)
_QWEN3_MOE = {("", "235"): "22", ("", "30"): "3", ("coder", "480"): "35", ("coder", "30"): "3",
              ("next", "80"): "3", ("vl", "235"): "22", ("vl", "30"): "3", ("omni", "30"): "3"}
_QWEN3_2507 = frozenset({("", "235"), ("", "30"), ("", "4")})
_QWEN_KIND_NAMES = {"coder": " Coder", "vl": " VL", "math": " Math", "next": " Next", "omni": " Omni",
                    "audio": " Audio"}
# Qwen1.5 came as base (bare name) and -Chat; only the chat models resolve by rule.
_QWEN15_SIZES = frozenset({"0.5", "1.8", "4", "7", "14", "32", "72", "110"})


def _rule_qwen(s: str, provider: str) -> ModelIdentity | None:
    m = _QWEN.match(s)
    if not m:
        return None
    version = m["version"].replace("p", ".")
    kind = m["kind"] or ""
    size = m["size"].replace("p", ".")
    tokens = m["rest"].split("-") if m["rest"] else []
    if version == "1.5":
        if kind or m["active"] or size not in _QWEN15_SIZES or tokens[:1] != ["chat"] \
                or not _serving_only("-".join(tokens[1:])):
            return None
        return ModelIdentity(f"qwen1.5-{size}b-chat", f"Qwen1.5 {size}B Chat", "qwen", "qwen", "1.5", _dec(size),
                             "chat", "qwen")
    if kind == "audio" and version != "2":
        return None
    if kind == "omni" and version != "3":
        return None
    if version == "3":
        active = _QWEN3_MOE.get((kind, size))
        if m["active"] and m["active"] != active:
            return None
        if tokens[:1] in (["instruct"], ["thinking"]):
            marker, tokens = tokens[0], tokens[1:]
            if tokens[:1] == ["2507"]:
                if (kind, size) not in _QWEN3_2507:
                    return None
                marker, tokens = f"{marker}-2507", tokens[1:]
            elif kind not in ("coder", "vl", "next", "omni"):
                return None  # Qwen3 instruct/thinking without 2507: not a release
        elif kind == "coder" and m["active"]:
            marker = "instruct"  # Qwen3-Coder 480B-A35B and 30B-A3B were released as -Instruct only
        elif kind in ("coder", "vl", "next", "omni"):
            return None  # VL, Next and Omni were released as -instruct and -thinking: a bare name is either
        else:
            marker = ""
        if kind == "math" or not _serving_only("-".join(tokens)):
            return None
        if active and not m["active"] and not marker:
            return None  # "qwen-3-235b": a provider shorthand that may mean the original or a 2507 model
        stem = f"qwen3-{kind + '-' if kind else ''}{size}b" + (f"-a{active}b" if active else "")
        slug = stem + (f"-{marker}" if marker else "")
        name = (f"Qwen3{_QWEN_KIND_NAMES.get(kind, '')} {size}B" + (f" A{active}B" if active else "")
                + (" " + marker.replace("-", " ").title() if marker else ""))
        return ModelIdentity(slug, name, "qwen", "qwen", "3", _dec(size), "instruct", "qwen")
    if m["active"] or kind == "next" or tokens[:1] != ["instruct"] or not _serving_only("-".join(tokens[1:])):
        return None
    slug = f"qwen{version}-{kind + '-' if kind else ''}{size}b-instruct"
    name = f"Qwen{version}{_QWEN_KIND_NAMES.get(kind, '')} {size}B Instruct"
    return ModelIdentity(slug, name, "qwen", "qwen", version, _dec(size), "instruct", "qwen")


_QWQ = re.compile(r"^(?:qwen-)?qwq-32b(?P<preview>-preview)?(?:-(?P<rest>[a-z0-9.-]+))?$")  # Fireworks: qwen-qwq-
_QWEN_CLOSED = re.compile(
    r"^(?P<base>qwen-max|qwen-plus|qwen-turbo|qwen-flash|qwen3-max|qwen-vl-max|qwen-vl-plus|qwq-plus)"
    r"(?:-(?P<date>\d{4}-\d{2}-\d{2}))?$"
)


_QWEN_API_NAMES = {"qwen-vl-max": "Qwen VL Max", "qwen-vl-plus": "Qwen VL Plus", "qwq-plus": "QwQ Plus"}


def _rule_qwen_other(s: str, provider: str) -> ModelIdentity | None:
    m = _QWQ.match(s)
    if m and _serving_only(m["rest"]):
        preview = bool(m["preview"])
        return ModelIdentity("qwq-32b-preview" if preview else "qwq-32b", "QwQ 32B Preview" if preview else "QwQ 32B",
                             "qwen", "qwq", "1", _dec(32), "instruct", "qwq")
    m = _QWEN_CLOSED.match(s)
    if not m:
        return None
    base, date = m["base"], m["date"]
    version = "3" if base.startswith("qwen3") else ""
    name = _QWEN_API_NAMES.get(base) or ("Qwen3 Max" if version else f"Qwen {base.split('-')[1].title()}")
    name += f" ({date})" if date else ""
    return ModelIdentity(base + (f"-{date}" if date else ""), name, "qwen", "qwen", version, None, "", "qwen-api")


# xAI Grok. "-beta"/"-latest" names, the bare "grok-4-fast" (reasoning or not?) and the 4.20
# agent/date forms stay unresolved; a date (grok-4-0709, grok-2-1212) is its own model, as with OpenAI.
_GROK = re.compile(
    r"^grok-(?P<version>\d(?:\.\d)?|\d-\d(?=-))(?P<tier>-mini|-vision)?(?P<fast>-fast)?"
    r"(?P<mode>-reasoning|-non-reasoning)?(?:-(?P<date>\d{4}))?$"
)
_GROK_CODE = re.compile(r"^grok-code-fast-1(?:-(?P<date>\d{4}))?$")
# Grok 4.20 comes as -reasoning, -non-reasoning and -multi-agent (three products), its snapshot date
# before or after the kind (grok-4.20-0309-reasoning, grok-4.20-multi-agent-0309); the bare "grok-4.20"
# and the "-beta-0309" names stay unresolved. Grok Build is named by version (grok-build-0.1).
_GROK_420 = re.compile(
    r"^grok-4\.20(?:-(?P<date>\d{4}))?-(?P<kind>reasoning|non-reasoning|multi-agent)(?:-(?P<date2>\d{4}))?$"
)
_GROK_420_NAMES = {"reasoning": "Reasoning", "non-reasoning": "Non-Reasoning", "multi-agent": "Multi-Agent"}
_GROK_BUILD = re.compile(r"^grok-build-(?P<version>\d\.\d)$")


def _rule_grok(s: str, provider: str) -> ModelIdentity | None:
    m = _GROK_CODE.match(s)
    if m:
        date = m["date"]
        return ModelIdentity("grok-code-fast-1" + (f"-{date}" if date else ""),
                             "Grok Code Fast 1" + (f" ({date})" if date else ""), "xai", "grok", "code-fast-1",
                             None, "", "grok")
    m = _GROK_420.match(s)
    if m:
        if m["date"] and m["date2"]:
            return None
        date, kind = m["date"] or m["date2"], m["kind"]
        return ModelIdentity(f"grok-4.20-{kind}" + (f"-{date}" if date else ""),
                             f"Grok 4.20 {_GROK_420_NAMES[kind]}" + (f" ({date})" if date else ""), "xai", "grok",
                             "4.20", None, "", "grok")
    m = _GROK_BUILD.match(s)
    if m:
        return ModelIdentity(s, f"Grok Build {m['version']}", "xai", "grok-build", m["version"], None, "", "grok")
    m = _GROK.match(s)
    if not m:
        return None
    version = m["version"].replace("-", ".")
    tier, fast, mode, date = m["tier"] or "", m["fast"] or "", m["mode"] or "", m["date"]
    if bool(mode) != (bool(fast) and version in ("4", "4.1")):
        return None  # Grok 4 / 4.1 Fast come as -reasoning and -non-reasoning only
    if fast and not mode and version not in ("3",):
        return None
    stem = f"grok-{version}{tier}{fast}{mode}"
    words = [w.title() for w in f"{tier}{fast}{mode}".split("-") if w and w != "non"]
    if mode == "-non-reasoning":
        words[-1] = "Non-Reasoning"
    name = " ".join([f"Grok {version}", *words]) + (f" ({date})" if date else "")
    return ModelIdentity(stem + (f"-{date}" if date else ""), name, "xai", "grok", version, None, "", "grok")


# --------------------------------------------------------------------------------------
# Named releases of makers without a rule of their own (Kimi, MiniMax, GLM, Nova, ...).
# These vendors name each release uniquely and never reuse a name for other weights, so the
# model name itself, once the routing is stripped, is the identity: two ids resolve to one
# model only when their names are identical after normalisation. Nothing that distinguishes
# models is dropped (size, version, date, tier, -fast, -thinking all stay in the slug);
# only the maker's organisation, Fireworks' "p" for "." (glm-4p5) and precision markers
# that the other rules also ignore (-fp8, -bf16) go. Moving aliases (-latest, an undated
# -preview, -exp, -beta), fine-tunes under another organisation, quantised products
# (NVFP4, GGUF, AWQ) and ids with an unknown token shape stay unresolved.
# --------------------------------------------------------------------------------------

# Family prefix of the normalised name -> (creator, family, display stem).
_NAMED_FAMILIES: tuple[tuple[str, str, str, str], ...] = (
    ("kimi-", "moonshot", "kimi", "Kimi"),
    ("moonshot-v1-", "moonshot", "moonshot", "Moonshot"),
    ("minimax-", "minimax", "minimax", "MiniMax"),
    ("glm-", "zhipu", "glm", "GLM"),
    ("nova-", "amazon", "nova", "Nova"),
    ("titan-text-", "amazon", "titan", "Titan Text"),
    ("command-", "cohere", "command", "Command"),
    ("jamba-", "ai21", "jamba", "Jamba"),
    ("phi-", "microsoft", "phi", "Phi"),
    ("granite-", "ibm", "granite", "Granite"),
    ("nemotron-", "nvidia", "nemotron", "Nemotron"),
    ("ernie-", "baidu", "ernie", "ERNIE"),
    ("mimo-", "xiaomi", "mimo", "MiMo"),
    ("seed-", "bytedance", "seed", "Seed"),
    ("doubao-seed-", "bytedance", "seed", "Doubao Seed"),
    ("step-", "stepfun", "step", "Step"),
    ("ling-", "inclusionai", "ling", "Ling"),
    ("ring-", "inclusionai", "ring", "Ring"),
    ("sonar", "perplexity", "sonar", "Sonar"),
    ("palmyra-", "writer", "palmyra", "Palmyra"),
    ("olmo-", "allenai", "olmo", "OLMo"),
    ("mercury", "inception", "mercury", "Mercury"),
    ("devstral-", "mistral", "devstral", "Devstral"),
    ("magistral-", "mistral", "magistral", "Magistral"),
    ("ministral-", "mistral", "ministral", "Ministral"),
    ("pixtral-", "mistral", "pixtral", "Pixtral"),
    ("codestral-", "mistral", "codestral", "Codestral"),
    ("voxtral-", "mistral", "voxtral", "Voxtral"),
    ("mistral-saba", "mistral", "mistral", "Mistral Saba"),
    ("qwen3.5-", "qwen", "qwen", "Qwen3.5"),
    ("qwen3.6-", "qwen", "qwen", "Qwen3.6"),
    ("qwen3.7-", "qwen", "qwen", "Qwen3.7"),
    ("qwen3-coder-", "qwen", "qwen", "Qwen3 Coder"),
    ("qwen3-max-", "qwen", "qwen", "Qwen3 Max"),
    ("qwen3-vl-", "qwen", "qwen", "Qwen3 VL"),
    ("gemma-4-", "google", "gemma", "Gemma 4"),
    ("deepseek-v4-", "deepseek", "deepseek", "DeepSeek V4"),
    ("hunyuan-", "tencent", "hunyuan", "Hunyuan"),
    ("hy3", "tencent", "hunyuan", "Hy3"),
    ("deepseek-coder-", "deepseek", "deepseek-coder", "DeepSeek Coder"),
    ("dbrx-", "databricks", "dbrx", "DBRX"),
    ("morph-", "morph", "morph", "Morph"),
    ("llama-3.1-nemotron-", "nvidia", "nemotron", "Llama 3.1 Nemotron"),
    ("llama-3.3-nemotron-", "nvidia", "nemotron", "Llama 3.3 Nemotron"),
    ("llama-3.1-sonar-", "perplexity", "sonar", "Llama 3.1 Sonar"),
    ("r1-1776", "perplexity", "r1-1776", "R1 1776"),
    ("pplx-", "perplexity", "pplx", "pplx"),
    ("j2-", "ai21", "jurassic", "Jurassic-2"),
    ("muse-spark-", "meta", "muse", "Muse Spark"),
    ("north-", "cohere", "north", "North"),
    ("gemma-3n-", "google", "gemma", "Gemma 3n"),
    ("wizardlm-2-", "microsoft", "wizardlm", "WizardLM-2"),
    ("lfm-", "liquid", "lfm", "LFM"),
    ("autoglm-", "zhipu", "autoglm", "AutoGLM"),
    ("moonlight-", "moonshot", "moonlight", "Moonlight"),
    ("pegasus-", "twelvelabs", "pegasus", "Pegasus"),
)
# Maker organisations and vendor namespaces in front of the name (Hugging Face, OpenRouter,
# Bedrock "moonshotai.", Nvidia NIM ...). A fine-tuner's organisation is never stripped.
_NAMED_ORG = re.compile(
    r"^(?:moonshotai|moonshot|minimaxai|minimax|zai-org|z-ai|zai|thudm|amazon-nova|amazon|cohere|ai21|microsoft"
    r"|ibm-granite|ibm|nvidia|baidu|xiaomimimo|xiaomi|bytedance-seed|bytedance|stepfun-ai|stepfun|inclusionai"
    r"|perplexity|writer|liquid|liquidai|allenai|inception|mistralai|mistral|qwen|alibaba|google|deepseek-ai"
    r"|deepseek|tencent|01-ai|meta|ai21labs|twelvelabs|morph)[./]"
)
# Cerebras zai-glm-4.6, nvidia-nemotron-...
_NAMED_GLUE = re.compile(r"^(?:zai-(?=glm-)|nvidia-(?=nemotron-)|ai21-(?=jamba-))")
_NAMED_DROP = frozenset({"fp8", "bf16", "fp16", "hf"})
_NAMED_MOVING = frozenset({"latest", "exp", "experimental", "beta", "base", "lora", "gguf", "awq", "nvfp4", "mxfp4",
                           "int4", "int8", "4bit", "8bit", "customtools", "internal", "ttm", "nightly"})
# Undated names that the maker re-points (Cohere's command-r -> command-r-08-2024) or that a
# normalisation step has cut short (Bedrock "nvidia.nemotron-nano-9b-v2:0" loses its "-v2").
# OpenRouter's "liquid/lfm-2.2-6b" is LFM2-2.6B (its hugging_face_id): the name misstates the size.
_NAMED_AMBIGUOUS = frozenset({"command-r", "command-r-plus", "command-a", "nemotron-nano-9b", "minimax-01",
                              "lfm-2.2-6b"})
_NAMED_DATE = re.compile(r"^(?:\d{4}|\d{6}|\d{8})$")
_NAMED_TOKEN = re.compile(r"^[a-z0-9.]+$")
_NAMED_SIZE = re.compile(r"^(\d+(?:\.\d+)?)b$")
_NAMED_NUMBER = re.compile(r"^[a-z]{0,5}(\d{1,3}(?:\.\d+)?)$")


def _named_version(tokens: list[str]) -> str:
    """The first version number of a name: kimi-k2.5 -> 2.5, glm-4-7-251222 -> 4.7, qwen3.5-27b -> 3.5."""
    for i, token in enumerate(tokens):
        m = _NAMED_NUMBER.match(token)
        if not m:
            continue
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if len(m[1]) == 2 and re.fullmatch(r"\d{4}", following):
            return ""  # command-r-08-2024: a month, not a version
        if re.fullmatch(r"\d", m[1]) and re.fullmatch(r"\d", following):
            return f"{m[1]}.{following}"
        return m[1]
    return ""


def _jamba_tokens(tokens: list[str]) -> list[str] | None:
    """jamba-large-1.6 / jamba-1-5-large / jamba-1.6-large -> jamba-<version>-<tier>; a bare jamba-1.5 is None."""
    if len(tokens) >= 4 and tokens[1].isdigit() and tokens[2].isdigit():
        tokens = [tokens[0], f"{tokens[1]}.{tokens[2]}", *tokens[3:]]
    if len(tokens) >= 3 and tokens[1] in ("large", "mini") and re.fullmatch(r"\d\.\d", tokens[2]):
        tokens = [tokens[0], tokens[2], tokens[1], *tokens[3:]]
    if tokens[1:2] != ["instruct"] and (len(tokens) < 3 or tokens[2] not in ("large", "mini")):
        return None
    return tokens


# Devstral 2 and Ministral 3 (open weights, 25.12) under their API and Hugging Face names:
# devstral-2512 = Devstral-2-123B-Instruct-2512, ministral-8b-2512 = Ministral-3-8B-Instruct-2512.
_MISTRAL_NAMED = re.compile(
    r"^(?P<line>devstral|ministral)(?:-(?P<gen>\d))?(?:-(?P<size>\d+)b)?(?:-instruct)?(?:-(?P<date>\d{4}))?$"
)
_MISTRAL_NAMED_RELEASES = {("devstral", "2", "123"): "2512", ("ministral", "3", "3"): "2512",
                           ("ministral", "3", "8"): "2512", ("ministral", "3", "14"): "2512"}


def _mistral_named_tokens(tokens: list[str]) -> list[str] | None:
    m = _MISTRAL_NAMED.match("-".join(tokens))
    if not m:
        return tokens if any(re.fullmatch(r"\d{4}", t) for t in tokens) else None  # devstral-small-2507
    line, gen, size, date = m["line"], m["gen"], m["size"], m["date"]
    if line == "devstral" and size is None and gen is None and date == "2512":
        gen, size = "2", "123"  # the API's devstral-2512 is Devstral 2
    if gen is None and date == "2512" and line == "ministral":
        gen = "3"
    if gen is None:
        return tokens if date else None  # ministral-8b: 24.10 or Ministral 3? unknown
    release = _MISTRAL_NAMED_RELEASES.get((line, gen, size))
    if release is None or (date and date != release):
        return None
    return [line, f"{size}b", release]


def _rule_named(s: str, provider: str) -> ModelIdentity | None:
    s = _NAMED_ORG.sub("", s, count=1)
    s = _NAMED_GLUE.sub("", s, count=1)
    if re.match(r"^llama-?v?3[.p-]\d-nemotron-", s):  # Llama-3_1-Nemotron, llama-v3p1-nemotron; HF's "v1_5" is v1.5
        s = re.sub(r"-v(\d)-(\d)$", r"-v\1.\2", re.sub(r"^llama-?v?3[.p-](\d)-", r"llama-3.\1-", s))
    if "/" in s or ":" in s or "~" in s:
        return None
    s = re.sub(r"(?<=\d)p(?=\d)", ".", s)  # Fireworks: glm-4p5, kimi-k2p5
    family = next((f for f in _NAMED_FAMILIES if s.startswith(f[0])), None)
    if family is None:
        return None
    prefix, creator, fam, stem = family
    tokens = s.split("-")
    if any(not _NAMED_TOKEN.match(t) or t in _NAMED_MOVING for t in tokens):
        return None
    if "preview" in tokens and not any(_NAMED_DATE.match(t) for t in tokens):
        return None  # an undated preview is re-pointed
    while tokens and tokens[-1] in _NAMED_DROP:
        tokens.pop()
    if fam == "ernie" and tokens[-1] in ("pt", "paddle"):
        tokens.pop()  # PyTorch / PaddlePaddle checkpoints of the same weights
    if fam == "jamba":
        tokens = _jamba_tokens(tokens)
        if tokens is None:
            return None
    if creator == "mistral" and fam in ("devstral", "ministral"):
        tokens = _mistral_named_tokens(tokens)
        if tokens is None:
            return None
    if tokens[:2] == ["pixtral", "12b"] and tokens[2:] == ["2409"]:
        tokens = tokens[:2]  # Pixtral 12B was released once (24.09)
    if tokens[:3] == ["phi", "3.5", "mini"] and "128k" in tokens:
        tokens.remove("128k")  # Phi-3.5-mini-instruct has the 128K context; there is no 4K variant
    if fam == "glm" and "32b" in tokens and "0414" in tokens:
        tokens.remove("0414")  # GLM-4-32B / GLM-Z1-32B were released once, as -0414
    if fam == "kimi" and tokens[:3] == ["kimi", "k2", "instruct"]:
        del tokens[2]  # Kimi K2 came as -Instruct and -Base; OpenRouter's kimi-k2 is Kimi-K2-Instruct
    if fam in ("nova", "titan") and tokens[-1] == "v1":  # OpenRouter amazon/nova-pro-v1 is Bedrock amazon.nova-pro-v1:0
        tokens.pop()
    if len(tokens) < 2 and not prefix.endswith(("sonar", "mercury", "mistral-saba", "hy3", "r1-1776")):
        return None
    slug = "-".join(tokens)
    if slug in _NAMED_AMBIGUOUS or not re.fullmatch(r"[a-z0-9][a-z0-9.-]*", slug) or slug.endswith("-"):
        return None
    sizes = [m[1] for t in tokens if (m := _NAMED_SIZE.match(t))]
    if creator == "mistral" and not sizes and not any(re.fullmatch(r"\d{4}", t) for t in tokens):
        return None  # Mistral's undated API names (magistral-small, pixtral-large) are moving aliases
    if fam == "deepseek-coder" and "instruct" not in tokens:
        return None  # deepseek-coder-6.7b: base or instruct?
    if fam == "gemma" and "it" not in tokens:
        return None  # gemma-4-31b without -it: pretrained or instruction-tuned?
    params = _dec(sizes[0]) if len(sizes) == 1 else None
    if fam == "qwen" and sizes and prefix in ("qwen3-coder-", "qwen3-vl-", "qwen3-max-"):
        return None  # sized Qwen3 Coder / VL ids are the Qwen rule's to decide (instruct or thinking?)
    version = _named_version(tokens)
    if fam in ("devstral", "ministral") and tokens[-1] == "2512" and sizes:
        version = {"devstral": "2", "ministral": "3"}[fam]  # Devstral 2, Ministral 3
    shown = [t.upper() if _NAMED_SIZE.match(t) else t.title() for t in slug[len(prefix):].split("-") if t]
    name = " ".join([stem, *shown]).strip()
    return ModelIdentity(slug, name, creator, fam, version, params, "instruct" if params is not None else "",
                         "named")


Rule = Callable[[str, str], ModelIdentity | None]

# Each rule is anchored at the start of the normalised id; the prefix gate skips the regexes early.
_RULES: tuple[tuple[tuple[str, ...], Rule], ...] = (
    (("llama", "meta-llama"), _rule_llama),
    (("llama", "meta-llama"), _rule_llama4),
    (("codellama", "code-llama"), _rule_code_llama),
    (("mixtral",), _rule_mixtral),
    (("mistral",), _rule_mistral_open),
    (("mistral",), _rule_mistral_dated),
    (("gpt-", "o1", "o3", "o4"), _rule_openai),
    (("gpt-oss",), _rule_gpt_oss),
    (("gpt-",), _rule_openai_special),
    (("llama-guard", "meta-llama-guard"), _rule_llama_guard),
    (("claude",), _rule_claude),
    (("gemini",), _rule_gemini),
    (("gemma",), _rule_gemma),
    (("deepseek",), _rule_deepseek),
    (("qwen",), _rule_qwen),
    (("qwq", "qwen"), _rule_qwen_other),
    (("grok",), _rule_grok),
    (("",), _rule_named),  # last: only makers that no rule above knows
)


# Bedrock's legacy Claude ids, read before normalisation (which would cut "-v2:1" as a Bedrock
# version): claude-v1 is Claude 1.3, claude-v2 Claude 2.0, claude-v2:1 Claude 2.1, claude-instant-v1
# Claude Instant 1.2 (AWS model catalogue). The un-namespaced "claude-2" / "claude-instant-1"
# API aliases were re-pointed and stay unresolved.
_CLAUDE_LEGACY = re.compile(r"(?:^|[/.])anthropic\.claude-(?P<model>v1|v2|v2:1|instant-v1)$")
_CLAUDE_LEGACY_MODELS = {
    "v1": ("claude-1.3", "Claude 1.3", "1.3"), "v2": ("claude-2.0", "Claude 2.0", "2.0"),
    "v2:1": ("claude-2.1", "Claude 2.1", "2.1"), "instant-v1": ("claude-instant-1.2", "Claude Instant 1.2", "1.2"),
}

# Models of makers no rule knows, named "maker/model" (OpenRouter's ids, Hugging Face repositories, also routed through
# LiteLLM and genai-prices): the maker and the model name together are the identity, so the slug
# keeps both ("sao10k-l3.3-euryale-70b"): a fine-tune never meets its base model or another maker's
# model of the same name. Makers that the rules know are excluded (their rules decided to leave the
# id alone), as are routers and moving aliases.
_MAKER_ID = re.compile(r"^(?P<maker>[a-z0-9][a-z0-9-]*[a-z0-9])/(?P<model>[a-z0-9][a-z0-9.-]*[a-z0-9])$")
_MAKER_EXCLUDED = frozenset({
    "openrouter", "meta", "meta-llama", "mistralai", "mistral", "openai", "anthropic", "google", "deepseek-ai",
    "deepseek", "qwen", "alibaba", "x-ai", "xai", "moonshotai", "moonshot", "minimaxai", "minimax", "zai-org",
    "z-ai", "zai", "thudm", "amazon", "amazon-nova", "cohere", "ai21", "microsoft", "ibm-granite", "ibm",
    "nvidia", "xiaomimimo", "bytedance-seed", "stepfun-ai", "perplexity", "liquid", "liquidai",
    "hf", "huggingface", "accounts", "models", "thebloke", "codellama", "palm",
})
# Organisations that publish fine-tunes of known families under their own names on Hugging Face
# ("neversleep/llama-3-lumimaid-70b", "aisingapore/gemma-sea-lion-v4-27b-it"): the tuner's name in the
# slug keeps the tune apart from its base model, so the known-family guard above does not apply.
_TUNERS = frozenset({
    "aisingapore", "arliai", "neversleep", "scb10x", "open-orca", "togethercomputer", "tokyotech-llm",
    "nousresearch", "huggingfaceh4", "agentica-org", "tngtech", "sao10k", "thedrummer", "eva-unit-01",
    "anthracite-org", "all-hands", "sentientagi", "aetherwiing", "deepcogito",
})
_QUANT_TOKEN = re.compile(r"^q\d")  # alia-40b-instruct_q8_0: a GGUF quantisation
_MAKER_MOVING = frozenset({"latest", "auto", "router", "free", "beta", "exp", "experimental", "lora", "gguf",
                           "awq", "gptq", "nvfp4", "mxfp4", "int4", "4bit", "nightly"})


_KNOWN_FAMILY_PREFIXES = ("llama", "meta-llama", "mistral", "mixtral", "gpt-", "o1", "o3", "o4", "claude", "gemini",
                           "gemma", "deepseek", "qwen", "qwq", "grok", *(f[0] for f in _NAMED_FAMILIES))
# Hugging Face organisations that differ from the maker's OpenRouter name.
_MAKER_ORGS = {"meituan-longcat": "meituan", "featherless-ai": "featherless", "primeintellect": "prime-intellect"}


def _rule_maker(s: str) -> ModelIdentity | None:
    m = _MAKER_ID.match(s)
    if not m or m["maker"] in _MAKER_EXCLUDED:
        return None
    model = re.sub(r"(?<=\d)p(?=\d)", ".", m["model"])
    if model.startswith("dolphin-mixtral"):
        return None  # OpenRouter's dolphin-mixtral ids drop the Dolphin version (8x22b is dolphin-2.9.2)
    tuner = m["maker"] in _TUNERS
    if model.startswith(_KNOWN_FAMILY_PREFIXES) and not tuner:
        # "xy/qwen3-coder-30b-a3b": a router's prefix or a tuner of a known family, unknown which
        return None
    if any(prefixes and model.startswith(prefixes) and rule(model, "") for prefixes, rule in _RULES[:-1]) \
            or _rule_named(model, ""):
        return None  # "xy/qwen3-30b-a3b": a router's prefix in front of a known model, not a maker
    tokens = model.split("-")
    # A tuner's "-preview" / "-beta" is part of a Hugging Face repository name, which never moves.
    moving = _MAKER_MOVING - {"beta"} if tuner else _MAKER_MOVING
    if any(t in moving or _QUANT_TOKEN.match(t) for t in tokens):
        return None
    if "preview" in tokens and not tuner and not any(_NAMED_DATE.match(t) for t in tokens):
        return None
    while len(tokens) > 1 and tokens[-1] in _NAMED_DROP:
        tokens.pop()
    maker, model = _MAKER_ORGS.get(m["maker"], m["maker"]), "-".join(tokens)
    sizes = [x[1] for t in tokens if (x := _NAMED_SIZE.match(t))]
    params = _dec(sizes[0]) if len(sizes) == 1 else None
    shown = " ".join(t.upper() if _NAMED_SIZE.match(t) else t.title() for t in tokens)
    return ModelIdentity(f"{maker}-{model}", shown, maker, tokens[0], _named_version(tokens[1:]), params,
                         "instruct" if params is not None else "", "maker")


# OpenAI's inference prices for a customer's fine-tune of a snapshot ("ft:gpt-4o-2024-08-06"): a product of
# its own (dearer than the snapshot), never the snapshot. Only dated bases: "ft:gpt-4o" or "ft:gpt-3.5-turbo"
# names whichever snapshot the fine-tune was trained from.
_OPENAI_FT = re.compile(r"^(?:openai/)?ft:(?P<base>[a-z0-9.-]+)$")


def _rule_openai_fine_tune(raw_id: str) -> ModelIdentity | None:
    m = _OPENAI_FT.match(raw_id)
    base = _rule_openai(m["base"], "openai") if m else None
    if base is None or not re.search(r"-\d{4}(?:-\d{2}-\d{2})?$", base.slug):
        return None
    return ModelIdentity(f"{base.slug}-ft", f"{base.name} fine-tuned", "openai", base.family, base.version, None,
                         "", "openai-fine-tune")


def _resolve_by_rules(raw_id: str, provider: str) -> ModelIdentity | None:
    lowered = raw_id.strip().lower()
    if (legacy := _CLAUDE_LEGACY.search(lowered)) is not None:
        slug, name, version = _CLAUDE_LEGACY_MODELS[legacy["model"]]
        return ModelIdentity(slug, name, "anthropic", "claude", version, None, "", "claude-legacy")
    if lowered.startswith(("ft:", "openai/ft:")):
        return _rule_openai_fine_tune(lowered)
    if lowered.endswith(":thinking"):
        # OpenRouter's ":thinking" offerings of a closed model (claude-3.7-sonnet:thinking,
        # qwen-plus-2025-07-28:thinking) bill the thinking mode at its own price: a model of its own.
        base = _resolve_by_rules(lowered[: -len(":thinking")], provider)
        if base is None or base.variant or base.slug.endswith("-thinking"):
            return None
        return ModelIdentity(f"{base.slug}-thinking", f"{base.name} Thinking", base.creator, base.family,
                             base.version, None, "", "thinking-mode")
    s = normalise_id(raw_id)
    for prefixes, rule in _RULES:
        if s.startswith(prefixes):
            found = rule(s, provider)
            if found is not None:
                return found
    # "maker/model" ids of makers no rule knows: OpenRouter's product ids and Hugging Face repository
    # names. Where OpenRouter renames a repository ("sao10k/l3.3-euryale-70b" for
    # Sao10K/L3.3-70B-Euryale-v2.3) the two stay two models of one maker: a missed merge, never a wrong one.
    return _rule_maker(s)


# --------------------------------------------------------------------------------------
# Curated table and the public API.
# --------------------------------------------------------------------------------------

CURATED_COLUMNS = ("source", "raw_id", "model_slug", "name", "creator", "family", "version", "parameter_count_b",
                   "variant", "note")


def load_curated(path: Path) -> dict[tuple[str, str], ModelIdentity]:
    """Read ``fixtures/aliases.csv``: ``(source, raw_id) -> ModelIdentity`` with ``rule="curated"``.

    ``source`` ``*`` matches every source. Raises ``ValueError`` on a malformed
    row, a duplicate key, a row without a note, or two rows that describe one
    slug differently.
    """
    table: dict[tuple[str, str], ModelIdentity] = {}
    by_slug: dict[str, ModelIdentity] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != CURATED_COLUMNS:
            raise ValueError(f"{path}: expected columns {','.join(CURATED_COLUMNS)}, got {reader.fieldnames}")
        for line, row in enumerate(reader, start=2):
            where = f"{path}:{line}"
            required = ("source", "raw_id", "model_slug", "name", "creator", "family", "note")
            if missing := [c for c in required if not (row[c] or "").strip()]:
                raise ValueError(f"{where}: empty {', '.join(missing)}")
            if row["variant"] not in VARIANTS:
                raise ValueError(f"{where}: variant {row['variant']!r} is not one of {sorted(VARIANTS)}")
            params = row["parameter_count_b"].strip()
            ident = ModelIdentity(
                slug=row["model_slug"].strip(), name=row["name"].strip(), creator=row["creator"].strip(),
                family=row["family"].strip(), version=row["version"].strip(),
                parameter_count_b=Decimal(params) if params else None, variant=row["variant"], rule="curated",
            )
            key = (row["source"].strip(), row["raw_id"])
            if key in table:
                raise ValueError(f"{where}: duplicate row for {key}")
            if (seen := by_slug.setdefault(ident.slug, ident)) != ident:
                raise ValueError(f"{where}: {ident.slug} is described differently on another row: {seen}")
            table[key] = ident
    return table


@lru_cache(maxsize=1)
def _default_curated() -> dict[tuple[str, str], ModelIdentity]:
    return load_curated(DEFAULT_ALIASES_PATH)


def _from_curated(value: ModelIdentity | str) -> ModelIdentity:
    if isinstance(value, ModelIdentity):
        return value if value.rule == "curated" else ModelIdentity(**{**value.__dict__, "rule": "curated"})
    # A bare slug (e.g. from the ModelAlias table): describe it from the rules or the bundled table.
    found = _resolve_by_rules(value, "")
    if found is None or found.slug != value:
        found = next((i for i in _default_curated().values() if i.slug == value), None)
    if found is None:
        raise ValueError(f"curated slug {value!r} is unknown to the rules and to {DEFAULT_ALIASES_PATH.name}")
    return ModelIdentity(**{**found.__dict__, "rule": "curated"})


# Ids under which a source prices several models at once (genai-prices' match rules list them):
# the id reads as one model, but the price it carries is the bucket's, so it stays unresolved, as
# "mistral-large" does. Curated rows still win.
_SOURCE_BUCKETS: dict[str, frozenset[str]] = {
    "genai-prices": frozenset({
        "MiniMax-M2",  # also M2.1 and M2.5
        "MiniMaxAI/MiniMax-M2",  # also M2.1 and M2.5
        "moonshotai/kimi-k2-instruct",  # Groq: also kimi-k2-instruct-0905
        "allenai/OLMo-7B",  # also OLMo-7B-Instruct and -Twin-2T
        "gpt-audio",  # also gpt-audio-2025-08-28 and gpt-audio-1.5
        "gpt-audio-mini",  # also its 2025-10-06 and 2025-12-15 snapshots
        "gpt-3.5-turbo-instruct",  # also gpt-3.5-turbo-instruct-0914
        "moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k",  # also their -vision-preview models
        "deepseek-v4-flash",  # also deepseek-v4-flash-0731
        "magistral-medium-2506",  # also magistral-medium-2506:thinking
    }),
}


def resolve(
    raw_id: str,
    *,
    source: str = "",
    provider: str = "",
    model_name: str = "",
    curated: Mapping[tuple[str, str], ModelIdentity | str] | None = None,
) -> ModelIdentity | None:
    """The canonical model a raw id names, or ``None`` when unresolved.

    The curated table is tried first: ``(source, raw_id)``, ``("*", raw_id)``, then
    the same two without an OpenRouter offering suffix (``:free``...). ``curated``
    maps ``(source, raw_id)`` to an identity or a canonical slug; ``None`` means the
    bundled ``fixtures/aliases.csv`` (read once), ``{}`` means no curated table.
    ``provider`` is the source's provider key (LiteLLM ``litellm_provider``,
    llm-prices vendor, genai-prices provider id); a few rules depend on it
    (DeepSeek's first-party aliases).
    """
    if not raw_id or not raw_id.strip():
        return None
    table = _default_curated() if curated is None else curated
    keys = [(source, raw_id), ("*", raw_id)]
    if (plain := _OFFERING_SUFFIX.sub("", raw_id)) != raw_id:  # "x:free" is curated with "x"
        keys += [(source, plain), ("*", plain)]
    for key in keys:
        hit = table.get(key)
        if hit is not None:
            return _from_curated(hit)
    if raw_id in _SOURCE_BUCKETS.get(source, ()):
        return None
    return _resolve_by_rules(raw_id, provider)


_SMALL_CLOSED = re.compile(r"(?:^|-)(?:mini|nano|haiku|flash|lite|small|3\.5-turbo|turbo)(?:-|$)")
_OPEN_CLASSES = ((Decimal(4), "small"), (Decimal(10), "7-8b-class"), (Decimal(20), "10-20b-class"),
                 (Decimal(40), "20-40b-class"), (Decimal(65), "40-65b-class"))


def size_class(identity: ModelIdentity) -> str:
    """A coarse size bucket for model-class charts.

    Open models by published parameters (total for mixture-of-experts):
    ``small`` (up to 4B), ``7-8b-class`` (4-10B), ``10-20b-class``, ``20-40b-class``,
    ``40-65b-class``, ``70b-class`` (65-75B), ``75-300b-class``, ``300b-plus-class``.
    Closed models: ``small-closed`` for the small tiers (mini, nano, haiku, flash,
    lite, small, GPT-3.5 Turbo, Qwen Turbo), ``frontier-closed`` otherwise.
    ``unknown``: an open model (or moving alias of one) of undisclosed size.
    """
    p = identity.parameter_count_b
    if p is None:
        if identity.variant:
            return "unknown"
        small = _SMALL_CLOSED.search(identity.slug) and not identity.slug.startswith("gpt-4-turbo")
        return "small-closed" if small else "frontier-closed"
    if p <= 4:
        return "small"
    for upper, label in _OPEN_CLASSES[1:]:
        if p < upper:
            return label
    if p <= 75:
        return "70b-class"
    return "75-300b-class" if p < 300 else "300b-plus-class"
