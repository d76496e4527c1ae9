"""Identity coverage on each source's newest file, without a wrong merge.

Three checks over the real files in ../shared/data:

* keep-apart pairs: ids of the families resolved by the named-release, maker and legacy
  rules that look alike but are different models (size, version, date, tier, speed, thinking);
* a property test: over every resolved chat id of the three newest files, no canonical model
  mixes parameter counts, versions or dated snapshots, as read from the raw ids by a parser
  independent of ``apps.catalog.identity``;
* the coverage floor per source (chat offerings of the newest file), so a regression shows.
"""

from __future__ import annotations

import collections
import csv
import json
import re
from pathlib import Path

import pytest

from apps.catalog.identity import DEFAULT_ALIASES_PATH, resolve
from scrapers import genai_prices, litellm, openrouter
from tests.catalog.test_identity import assert_real

LITELLM_NEWEST = "litellm/model_prices_2026-07-24_rocry-8442b93.json"
OPENROUTER_NEWEST = "openrouter/openrouter_models_2026-08-01_token-tariff-90407eb.json"
GENAI_PRICES = "genai-prices/data_v2.json"

_FW = "fireworks_ai/accounts/fireworks/models/"

# (source, id a, id b): both resolve, to different models.
KEEP_APART = [
    # Kimi / Moonshot: versions, dated snapshots, thinking, speed tiers
    ("litellm", "azure_ai/kimi-k2.5", "azure_ai/kimi-k2.6"),
    ("litellm", "deepinfra/moonshotai/Kimi-K2-Instruct", "deepinfra/moonshotai/Kimi-K2-Instruct-0905"),
    ("litellm", "moonshot/kimi-k2-0711-preview", "moonshot/kimi-k2-0905-preview"),
    ("litellm", "moonshot/kimi-k2-thinking-turbo", "bedrock/ap-northeast-1/moonshotai.kimi-k2-thinking"),
    ("litellm", "kimi-k2-thinking-251104", "bedrock/ap-northeast-1/moonshotai.kimi-k2-thinking"),
    ("litellm", "fireworks_ai/kimi-k2p6-fast", "azure_ai/kimi-k2.6"),
    ("litellm", "fireworks_ai/kimi-k2p7-code-fast", "cloudflare/@cf/moonshotai/kimi-k2.7-code"),
    ("openrouter", "moonshotai/kimi-k2", "moonshotai/kimi-k2-0905"),
    ("openrouter", "moonshotai/kimi-k2-thinking", "moonshotai/kimi-k2"),
    ("genai-prices", "kimi-k3", "kimi-k3-fast"),
    ("litellm", "moonshot/moonshot-v1-8k", "moonshot/moonshot-v1-32k"),
    # MiniMax
    ("litellm", "minimax.minimax-m2", "bedrock/ap-northeast-1/minimax.minimax-m2.1"),
    ("litellm", "bedrock/ap-northeast-1/minimax.minimax-m2.1", "bedrock/ap-northeast-1/minimax.minimax-m2.5"),
    ("litellm", "minimax/MiniMax-M2.5-lightning", "bedrock/ap-northeast-1/minimax.minimax-m2.5"),
    ("litellm", "fireworks_ai/accounts/fireworks/models/minimax-m1-80k", "minimax.minimax-m2"),
    ("openrouter", "minimax/minimax-m2-her", "minimax/minimax-m2"),
    ("genai-prices", "MiniMax-M2.7", "MiniMax-M2.7-highspeed"),
    # GLM
    ("litellm", "deepinfra/zai-org/GLM-4.5", "fireworks_ai/accounts/fireworks/models/glm-4p5-air"),
    ("litellm", "zai/glm-4.5-airx", "fireworks_ai/accounts/fireworks/models/glm-4p5-air"),
    ("litellm", "zai/glm-4.5v", "deepinfra/zai-org/GLM-4.5"),
    ("litellm", "cerebras/zai-glm-4.6", "cerebras/zai-glm-4.7"),
    ("litellm", "cerebras/zai-glm-4.7", "cloudflare/@cf/zai-org/glm-4.7-flash"),
    ("litellm", "fireworks_ai/accounts/fireworks/models/glm-5p1", "fireworks_ai/glm-5p1-fast"),
    ("litellm", "baseten/zai-org/GLM-5", "zai/glm-5-code"),
    ("litellm", "glm-4-7-251222", "cerebras/zai-glm-4.7"),
    ("openrouter", "z-ai/glm-4.6", "z-ai/glm-4.6v"),
    ("openrouter", "z-ai/glm-5", "z-ai/glm-5-turbo"),
    ("openrouter", "z-ai/glm-5-turbo", "z-ai/glm-5v-turbo"),
    ("genai-prices", "glm-z1-32b", "glm-z1-rumination-32b"),
    ("genai-prices", "glm-4-32b", "glm-z1-32b"),
    # Amazon Nova and Titan
    ("litellm", "amazon.nova-lite-v1:0", "amazon.nova-pro-v1:0"),
    ("litellm", "amazon.nova-micro-v1:0", "amazon.nova-lite-v1:0"),
    ("litellm", "amazon.nova-2-lite-v1:0", "amazon.nova-lite-v1:0"),
    ("litellm", "amazon.nova-2-pro-preview-20251202-v1:0", "amazon.nova-pro-v1:0"),
    ("openrouter", "amazon/nova-premier-v1", "amazon/nova-2-lite-v1"),
    ("genai-prices", "amazon.nova-sonic-v1:0", "amazon.nova-2-sonic-v1:0"),
    # Qwen 3.5 / 3.6 / 3.7 and the Qwen3 Coder API models
    ("openrouter", "qwen/qwen3.5-27b", "qwen/qwen3.6-27b"),
    ("openrouter", "qwen/qwen3.5-35b-a3b", "qwen/qwen3.6-35b-a3b"),
    ("openrouter", "qwen/qwen3.5-122b-a10b", "qwen/qwen3.5-397b-a17b"),
    ("openrouter", "qwen/qwen3.5-9b", "qwen/qwen3.5-27b"),
    ("openrouter", "qwen/qwen3.5-plus-02-15", "qwen/qwen3.5-plus-20260420"),
    ("openrouter", "qwen/qwen3.6-plus", "qwen/qwen3.7-plus"),
    ("openrouter", "qwen/qwen3.6-flash", "qwen/qwen3.6-plus"),
    ("openrouter", "qwen/qwen3-coder-plus", "qwen/qwen3-coder-flash"),
    ("litellm", "dashscope/qwen3-coder-plus", "dashscope/qwen3-coder-plus-2025-07-22"),
    ("litellm", "dashscope/qwen3-coder-flash", "dashscope/qwen3-coder-flash-2025-07-28"),
    ("litellm", "libertai/qwen3.6-27b", "libertai/qwen3.6-27b-thinking"),
    ("litellm", "libertai/qwen3.5-122b-a10b-thinking", "openrouter/qwen/qwen3.5-122b-a10b"),
    # DeepSeek V4
    ("openrouter", "deepseek/deepseek-v4-flash", "deepseek/deepseek-v4-pro"),
    ("openrouter", "deepseek/deepseek-v4-flash", "deepseek/deepseek-v4-flash-0731"),
    ("litellm", "libertai/deepseek-v4-flash-thinking", "azure_ai/deepseek-v4-flash"),
    # Gemma 4
    ("openrouter", "google/gemma-4-26b-a4b-it", "google/gemma-4-31b-it"),
    ("litellm", "libertai/gemma-4-31b-it-thinking", "sambanova/gemma-4-31B-it"),
    # Nemotron: sizes and generations
    ("openrouter", "nvidia/nemotron-3-nano-30b-a3b", "nvidia/nemotron-3-super-120b-a12b"),
    ("openrouter", "nvidia/nemotron-3-super-120b-a12b", "nvidia/nemotron-3-ultra-550b-a55b"),
    ("openrouter", "nvidia/nemotron-nano-12b-v2-vl:free", "nvidia/nemotron-nano-9b-v2:free"),
    ("litellm", "nvidia.nemotron-nano-12b-v2", "fireworks_ai/accounts/fireworks/models/nemotron-nano-v2-12b-vl"),
    ("genai-prices", "nvidia/llama-3.3-nemotron-super-49b-v1.5", "nvidia/llama-3.3-nemotron-super-49b-v1:free"),
    ("genai-prices", "nvidia/llama-3.1-nemotron-70b-instruct", "nvidia/llama-3.1-nemotron-ultra-253b-v1:free"),
    ("litellm", "deepinfra/nvidia/Llama-3.1-Nemotron-70B-Instruct", "deepinfra/meta-llama/Meta-Llama-3.1-70B-Instruct"),
    ("genai-prices", "perplexity/llama-3.1-sonar-large-128k-online", "perplexity/llama-3.1-sonar-small-128k-online"),
    # Phi: sizes, context variants, vision, reasoning
    ("litellm", "azure_ai/Phi-3-mini-4k-instruct", "azure_ai/Phi-3-mini-128k-instruct"),
    ("litellm", "azure_ai/Phi-3-mini-128k-instruct", "azure_ai/Phi-3-medium-128k-instruct"),
    ("litellm", "azure_ai/Phi-3.5-mini-instruct", "azure_ai/Phi-3.5-vision-instruct"),
    ("litellm", "azure_ai/Phi-3.5-mini-instruct", "azure_ai/Phi-3-mini-128k-instruct"),
    ("litellm", "azure_ai/Phi-4", "azure_ai/Phi-4-reasoning"),
    ("litellm", "azure_ai/Phi-4-mini-instruct", "azure_ai/Phi-4-mini-reasoning"),
    # Jamba, Command
    ("litellm", "jamba-large-1.6", "jamba-large-1.7"),
    ("litellm", "jamba-mini-1.7", "jamba-large-1.7"),
    ("litellm", "jamba-1.5-large@001", "ai21.jamba-1-5-large-v1:0"),
    ("litellm", "command-r-08-2024", "command-r-plus-08-2024"),
    ("litellm", "oci/cohere.command-a-vision", "oci/cohere.command-a-vision-07-2025"),
    # Mistral's named lines
    ("litellm", "mistral/devstral-small-2505", "mistral/devstral-small-2507"),
    ("litellm", "mistral/devstral-small-2507", "mistral/devstral-medium-2507"),
    ("litellm", "mistral.ministral-3-3b-instruct", "mistral.ministral-3-8b-instruct"),
    ("litellm", "mistral.ministral-3-14b-instruct", "mistral.devstral-2-123b"),
    # Legacy and new Claude, GPT-5.6 tiers
    ("litellm", "anthropic.claude-v1", "anthropic.claude-v2:1"),
    ("litellm", "anthropic.claude-instant-v1", "anthropic.claude-v1"),
    ("litellm", "anthropic.claude-fable-5", "anthropic.claude-v2:1"),
    ("openrouter", "openai/gpt-5.6-sol-pro", "openai/gpt-5.6-terra-pro"),
    ("openrouter", "anthropic/claude-opus-4.7-fast", "anthropic/claude-opus-4.8-fast"),
    ("openrouter", "anthropic/claude-opus-4.7-fast", "anthropic/claude-opus-4.7"),
    ("litellm", "azure/gpt-5.6-luna", "azure/gpt-5.6-sol"),
    # Guard models, safeguard models, audio / search models, API-only Qwen: never their base model
    ("litellm", "deepinfra/meta-llama/Llama-Guard-3-8B", "deepinfra/meta-llama/Meta-Llama-3.1-8B-Instruct"),
    ("litellm", "fireworks_ai/accounts/fireworks/models/llama-guard-3-8b",
     "fireworks_ai/accounts/fireworks/models/llama-guard-2-8b"),
    ("litellm", "fireworks_ai/accounts/fireworks/models/llama-guard-3-1b",
     "fireworks_ai/accounts/fireworks/models/llama-guard-3-8b"),
    ("litellm", "deepinfra/meta-llama/Llama-Guard-4-12B", "watsonx/meta-llama/llama-guard-3-11b-vision"),
    ("litellm", "openai.gpt-oss-safeguard-20b", "openai.gpt-oss-safeguard-120b"),
    ("litellm", "groq/openai/gpt-oss-safeguard-20b", "groq/openai/gpt-oss-20b"),
    ("litellm", "gpt-4o-audio-preview-2024-12-17", "gpt-4o-audio-preview-2025-06-03"),
    ("litellm", "gpt-4o-audio-preview-2024-12-17", "gpt-4o-mini-audio-preview-2024-12-17"),
    ("litellm", "gpt-4o-search-preview-2025-03-11", "gpt-4o-2024-08-06"),
    ("litellm", "gpt-audio", "gpt-audio-2025-08-28"),
    ("litellm", "gpt-audio-mini-2025-10-06", "gpt-audio-mini-2025-12-15"),
    ("litellm", "gpt-3.5-turbo-instruct", "gpt-3.5-turbo"),
    ("litellm", "dashscope/qwq-plus", "dashscope/qwen-plus"),
    ("litellm", "ollama/deepseek-coder-v2-instruct", "ollama/deepseek-coder-v2-lite-instruct"),
    ("litellm", "perplexity/pplx-7b-chat", "perplexity/pplx-7b-online"),
    # Gemini image models are not the text models
    ("openrouter", "google/gemini-3-pro-image-preview", "google/gemini-3-pro-image"),
    ("openrouter", "google/gemini-3.1-flash-image", "google/gemini-3.1-flash-lite-image"),
    ("openrouter", "google/gemini-2.5-flash-image", "google/gemini-2.5-flash"),
    ("litellm", "gemini/gemini-3.1-pro-preview-customtools", "gemini/gemini-3.1-pro-preview"),
    # Makers without a rule: fine-tunes are their own models, sizes and versions apart
    ("openrouter", "nousresearch/hermes-4-70b", "nousresearch/hermes-4-405b"),
    ("openrouter", "aion-labs/aion-3.0", "aion-labs/aion-3.0-mini"),
    ("openrouter", "poolside/laguna-s-2.1", "poolside/laguna-xs-2.1"),
    ("openrouter", "kwaipilot/kat-coder-pro-v2", "kwaipilot/kat-coder-pro-v2.5"),
    ("openrouter", "thinkingmachines/inkling", "thinkingmachines/inkling-small"),
    ("openrouter", "sao10k/l3.1-euryale-70b", "sao10k/l3.3-euryale-70b"),
    ("openrouter", "perplexity/sonar-pro", "perplexity/sonar-reasoning-pro"),
    ("openrouter", "xiaomi/mimo-v2.5", "xiaomi/mimo-v2.5-pro"),
    ("openrouter", "inclusionai/ling-2.6-1t", "inclusionai/ring-2.6-1t"),
    ("openrouter", "bytedance-seed/seed-2.0-lite", "bytedance-seed/seed-2.0-mini"),
    ("openrouter", "gryphe/mythomax-l2-13b", "undi95/remm-slerp-l2-13b"),
    ("genai-prices", "bytedance/ui-tars-1.5-7b", "bytedance-research/ui-tars-72b:free"),
    ("openrouter", "morph/morph-v3-fast", "morph/morph-v3-large"),
    ("openrouter", "openai/gpt-5-image", "openai/gpt-5-image-mini"),
    ("genai-prices", "cognitivecomputations/dolphin3.0-mistral-24b:free",
     "cognitivecomputations/dolphin3.0-r1-mistral-24b:free"),
    # Code Llama: base, Instruct, Python and sizes; never Llama 2
    ("litellm", f"{_FW}code-llama-34b", f"{_FW}code-llama-34b-instruct"),
    ("litellm", f"{_FW}code-llama-34b-instruct", f"{_FW}code-llama-34b-python"),
    ("litellm", f"{_FW}code-llama-13b-instruct", f"{_FW}code-llama-34b-instruct"),
    ("litellm", f"{_FW}code-llama-70b", f"{_FW}llama-v2-70b"),
    # Fireworks' pretrained checkpoints (Hugging Face names) beside their tuned models
    ("litellm", f"{_FW}llama-v3-8b", f"{_FW}llama-v3-8b-instruct-hf"),
    ("litellm", f"{_FW}llama-v3p2-3b", f"{_FW}llama-v3p2-3b-instruct"),
    ("litellm", f"{_FW}mixtral-8x7b", f"{_FW}mixtral-8x7b-instruct"),
    ("litellm", f"{_FW}mixtral-8x7b", f"{_FW}mixtral-8x22b"),
    ("litellm", f"{_FW}qwen2p5-72b", f"{_FW}qwen2p5-72b-instruct"),
    ("litellm", f"{_FW}qwen2p5-coder-32b", f"{_FW}qwen2p5-coder-32b-instruct"),
    ("litellm", f"{_FW}qwen2p5-coder-7b", f"{_FW}qwen2p5-coder-14b"),
    ("litellm", f"{_FW}mistral-7b", f"{_FW}mistral-7b-v0p2"),
    ("litellm", f"{_FW}mistral-7b-instruct-v3", f"{_FW}mistral-7b-v0p2"),
    ("litellm", f"{_FW}mistral-nemo-base-2407", "mistral/open-mistral-nemo"),
    ("litellm", f"{_FW}gemma-7b", "snowflake/gemma-7b"),
    ("litellm", f"{_FW}yi-34b", f"{_FW}yi-34b-chat"),
    ("litellm", f"{_FW}starcoder2-7b", f"{_FW}starcoder2-15b"),
    ("litellm", f"{_FW}deepseek-v2-lite-chat", f"{_FW}deepseek-v2p5"),
    ("litellm", f"{_FW}llamaguard-7b", "deepinfra/meta-llama/Llama-Guard-3-8B"),
    ("litellm", f"{_FW}nous-hermes-llama2-13b", f"{_FW}nous-hermes-llama2-70b"),
    ("litellm", f"{_FW}openhermes-2-mistral-7b", f"{_FW}openhermes-2p5-mistral-7b"),
    ("litellm", f"{_FW}phind-code-llama-34b-v1", f"{_FW}phind-code-llama-34b-v2"),
    ("litellm", f"{_FW}cogito-v1-preview-llama-8b", f"{_FW}cogito-v1-preview-llama-70b"),
    ("litellm", f"{_FW}internvl3-8b", f"{_FW}internvl3-38b"),
    ("litellm", f"{_FW}qwen1p5-72b-chat", f"{_FW}qwen2p5-72b-instruct"),
    # Qwen: Omni instruct vs thinking, Qwen1.5 sizes, Bedrock's VL vs text
    ("litellm", "novita/qwen/qwen3-omni-30b-a3b-instruct", "novita/qwen/qwen3-omni-30b-a3b-thinking"),
    ("genai-prices", "Qwen/Qwen1.5-7B", "Qwen/Qwen1.5-14B"),
    ("litellm", "qwen.qwen3-vl-235b-a22b", "qwen.qwen3-235b-a22b-2507-v1:0"),
    ("litellm", "sambanova/Qwen2-Audio-7B-Instruct", "nebius/Qwen/Qwen2.5-Coder-7B"),
    # OpenAI: fine-tunes, effort presets, search and image products
    ("litellm", "ft:gpt-4o-2024-08-06", "gpt-4o-2024-08-06"),
    ("litellm", "ft:gpt-4o-mini-2024-07-18", "ft:gpt-4o-2024-08-06"),
    ("litellm", "ft:gpt-4.1-2025-04-14", "ft:gpt-4.1-mini-2025-04-14"),
    ("litellm", "ft:gpt-3.5-turbo-0125", "ft:gpt-3.5-turbo-1106"),
    ("openrouter", "openai/o3-mini-high", "openai/o3-mini"),
    ("openrouter", "openai/o4-mini-high", "openai/o4-mini"),
    ("litellm", "gpt-5-search-api", "gpt-5-search-api-2025-10-14"),
    ("openrouter", "openai/gpt-5.4-image-2", "openai/gpt-5.4"),
    # Thinking modes are models of their own
    ("openrouter", "qwen/qwen-plus-2025-07-28:thinking", "qwen/qwen-plus-2025-07-28"),
    ("openrouter", "anthropic/claude-3.7-sonnet:thinking", "anthropic/claude-3.7-sonnet"),
    # Gemini native-audio / computer-use / Live previews
    ("litellm", "gemini/gemini-2.5-flash-native-audio-preview-09-2025",
     "gemini/gemini-2.5-flash-native-audio-preview-12-2025"),
    ("litellm", "gemini-2.5-computer-use-preview-10-2025", "gemini-2.5-flash"),
    ("litellm", "gemini/gemini-3.1-flash-live-preview", "gemini/gemini-3.1-flash-lite-preview"),
    # Grok 4.20 kinds and snapshots, Grok Build
    ("litellm", "xai/grok-4.20-0309-reasoning", "vertex_ai/xai/grok-4.20-reasoning"),
    ("litellm", "vertex_ai/xai/grok-4.20-reasoning", "vertex_ai/xai/grok-4.20-non-reasoning"),
    ("openrouter", "x-ai/grok-4.20-multi-agent", "x-ai/grok-build-0.1"),
    # Mistral: Small 4 and Medium 3.5 by date, Saba, Codestral Mamba
    ("litellm", "mistral/mistral-medium-2604", "mistral/mistral-medium-2508"),
    ("openrouter", "mistralai/mistral-small-2603", "mistralai/mistral-small-3.2-24b-instruct"),
    ("openrouter", "mistralai/mistral-saba", "mistralai/mistral-small-2603"),
    ("litellm", "ovhcloud/mamba-codestral-7B-v0.1", "mistral/codestral-2405"),
    ("genai-prices", "mistralai/ministral-8b", "mistralai/ministral-8b-2512"),
    ("genai-prices", "mistralai/ministral-3b", "mistralai/ministral-8b"),
    # DeepSeek: base, zero, prover, distill, OCR
    ("genai-prices", "deepseek/deepseek-v3-base:free", "deepseek/deepseek-chat"),
    ("genai-prices", "deepseek/deepseek-r1-zero:free", "deepseek/deepseek-r1"),
    ("litellm", "novita/deepseek/deepseek-r1-0528-qwen3-8b", "novita/deepseek/deepseek-r1-0528"),
    ("litellm", "novita/deepseek/deepseek-prover-v2-671b", "novita/deepseek/deepseek-v3-0324"),
    ("litellm", "novita/deepseek/deepseek-ocr", "novita/deepseek/deepseek-v3-0324"),
    # Liquid LFM: sizes, instruct vs thinking
    ("genai-prices", "liquid/lfm-2.5-1.2b-instruct:free", "liquid/lfm-2.5-1.2b-thinking:free"),
    ("genai-prices", "liquid/lfm-7b", "liquid/lfm-40b"),
    # Fine-tuner organisations: never the base model, versions and sizes apart
    ("genai-prices", "neversleep/llama-3-lumimaid-70b", "neversleep/llama-3.1-lumimaid-70b"),
    ("genai-prices", "scb10x/llama3.1-typhoon2-8b-instruct", "scb10x/llama3.1-typhoon2-70b-instruct"),
    ("litellm", "publicai/aisingapore/Gemma-SEA-LION-v4-27B-IT", "publicai/aisingapore/Qwen-SEA-LION-v4-32B-IT"),
    ("litellm", "lambda_ai/hermes3-70b", "lambda_ai/hermes3-405b"),
    ("litellm", "snowflake/snowflake-llama-3.3-70b", "snowflake/llama3.3-70b"),
    ("litellm", "lambda_ai/deepseek-llama3.3-70b", "lambda_ai/llama3.3-70b-instruct-fp8"),
    # Groq previews and Groq's own tune; pretrained repositories beside their tuned ones
    ("genai-prices", "llama3-groq-70b-8192-tool-use-preview", "llama3-70b-8192"),
    ("genai-prices", "llama-3.2-1b-preview", "llama-3.2-3b-preview"),
    ("genai-prices", "mistralai/Mixtral-8x7B-v0.1", "mistralai/Mixtral-8x7B-Instruct-v0.1"),
    ("genai-prices", "google/gemma-7b", "gemma-7b-it"),
    ("genai-prices", "meta-llama/llama-3.1-405b", "meta-llama/llama-3.1-405b-instruct"),
]

# Ids that must stay unresolved: moving aliases, quantised products, bare names of several models.
STAY_UNRESOLVED = [
    ("openrouter", "~moonshotai/kimi-latest"),
    ("openrouter", "~anthropic/claude-fable-latest"),
    ("openrouter", "minimax/minimax-01"),  # MiniMax-01 names the Text-01 and VL-01 series
    ("openrouter", "openrouter/auto"),
    ("openrouter", "cohere/command-a"),  # an alias Cohere re-points
    ("litellm", "command-r"),
    ("litellm", "command-nightly"),
    ("litellm", "mistral/magistral-medium-latest"),
    ("genai-prices", "thinkingmachines/Inkling-NVFP4"),  # a 4-bit product
    ("genai-prices", "nvidia.nemotron-nano-9b-v2:0"),  # Bedrock's ":0" strip would also cut "-v2"
    ("genai-prices", "magistral-small"),  # undated Mistral API name
    ("genai-prices", "kimi-k2-turbo-preview"),  # undated preview
    ("genai-prices", "baidu/ERNIE-4.5-300B-A47B-Base-PT"),  # base model
    ("litellm", "gpt-4o-audio-preview"),  # re-pointed between three snapshots
    ("genai-prices", "MiniMax-M2"),  # genai-prices prices M2, M2.1 and M2.5 under this id
    ("genai-prices", "moonshot-v1-8k"),  # a bucket with moonshot-v1-8k-vision-preview
    ("genai-prices", "allenai/OLMo-7B"),  # a bucket with OLMo-7B-Instruct
    ("openrouter", "cognitivecomputations/dolphin-mixtral-8x22b"),  # drops the Dolphin version (2.9.2)
    ("litellm", "ollama/deepseek-coder-v2-base"),  # base model
    ("litellm", "bedrock/us-east-1/anthropic.claude-v2:1-foo"),  # not a real id: the legacy pattern is exact
    ("litellm", "gemini/gemini-exp-1206"),  # Google re-pointed it to Gemini 2.0 Pro Experimental
    ("genai-prices", "google/gemini-2.5-pro-exp-03-25:free"),  # re-pointed to the 05-06 preview
    ("openrouter", "x-ai/grok-4.20"),  # reasoning or not? (its canonical_slug names only a date)
    ("litellm", "xai/grok-4.20-beta-0309-reasoning"),  # a beta name
    ("litellm", "ft:gpt-3.5-turbo"),  # a fine-tune of whichever snapshot was current
    ("genai-prices", "ft:gpt-4o"),  # genai-prices' bucket of every gpt-4o fine-tune
    ("genai-prices", "anthropic/claude-3.5-sonnet"),  # genai-prices matches the June and October models
    ("genai-prices", "mistralai/mistral-large"),  # genai-prices matches 2407 and 2411
    ("genai-prices", "devstral-small"),  # 2505 prices; OpenRouter re-pointed the name to 2507
    ("litellm", "mistral/open-mistral-7b"),  # re-pointed v0.1 -> v0.2 -> v0.3
    ("litellm", "fireworks_ai/accounts/fireworks/models/deepseek-prover-v2"),  # 7B or 671B?
    ("litellm", "fireworks_ai/accounts/fireworks/models/qwen3-1p7b-fp8-draft"),  # a speculative-decoding draft
    ("litellm", "llamagate/llama-3.1-8b"),  # no variant marker
    ("litellm", "gemini-2.5-flash-native-audio-latest"),
    ("litellm", "mistral/codestral-mamba-latest"),
    ("openrouter", "liquid/lfm-2.2-6b"),  # OpenRouter's name misstates LFM2-2.6B's size
]


def _slug(source: str, raw: str) -> str | None:
    found = resolve(raw, source=source)
    return None if found is None else found.slug


@pytest.mark.parametrize(("source", "a", "b"), KEEP_APART, ids=[f"{a}|{b}" for _, a, b in KEEP_APART])
def test_it_keeps_look_alikes_of_the_new_families_apart(shared_data, source, a, b):
    assert_real(shared_data, source, a)
    assert_real(shared_data, source, b)
    slug_a, slug_b = _slug(source, a), _slug(source, b)
    assert slug_a is not None and slug_b is not None, (a, slug_a, b, slug_b)
    assert slug_a != slug_b


def test_it_has_enough_keep_apart_pairs():
    assert len(KEEP_APART) >= 60
    assert len(set(KEEP_APART)) == len(KEEP_APART)


@pytest.mark.parametrize(("source", "raw"), STAY_UNRESOLVED, ids=[r for _, r in STAY_UNRESOLVED])
def test_it_leaves_moving_aliases_and_quantised_products_unresolved(shared_data, source, raw):
    if not raw.endswith("-foo"):
        assert_real(shared_data, source, raw)
    assert _slug(source, raw) is None


@pytest.mark.parametrize(("source", "raw", "expected"), [
    ("litellm", "anthropic.claude-v2:1", "claude-2.1"),
    ("litellm", "bedrock/us-east-1/6-month-commitment/anthropic.claude-instant-v1", "claude-instant-1.2"),
    ("litellm", "fireworks_ai/accounts/fireworks/models/glm-4p5-air", "glm-4.5-air"),
    ("openrouter", "z-ai/glm-4.5-air", "glm-4.5-air"),
    ("genai-prices", "zai-org/GLM-4.5-Air-FP8", "glm-4.5-air"),
    ("genai-prices", "moonshotai/Kimi-K2-Instruct-0905", "kimi-k2-0905"),
    ("openrouter", "moonshotai/kimi-k2-0905", "kimi-k2-0905"),
    ("openrouter", "amazon/nova-pro-v1", "nova-pro"),
    ("genai-prices", "amazon.nova-pro-v1:0", "nova-pro"),
    ("openrouter", "mistralai/ministral-8b-2512", "ministral-8b-2512"),
    ("litellm", "mistral.ministral-3-8b-instruct", "ministral-8b-2512"),
    ("genai-prices", "Qwen/Qwen3.5-397B-A17B", "qwen3.5-397b-a17b"),
    ("openrouter", "qwen/qwen3.5-397b-a17b", "qwen3.5-397b-a17b"),
    ("litellm", "mistral/mistral-medium-3-5", "mistral-medium-2604"),
    ("litellm", "scaleway/mistralai/mistral-medium-3.5-128b", "mistral-medium-2604"),
    ("openrouter", "mistralai/mistral-medium-3-5", "mistral-medium-2604"),
    ("openrouter", "mistralai/mistral-small-2603", "mistral-small-2603"),
    ("genai-prices", "mistral-small-2603", "mistral-small-2603"),
    ("openrouter", "mistralai/mistral-saba", "mistral-saba-2502"),
    ("litellm", "mistral/open-codestral-mamba", "codestral-mamba-2407"),
    ("litellm", "ovhcloud/mamba-codestral-7B-v0.1", "codestral-mamba-2407"),
    ("litellm", "anyscale/codellama/CodeLlama-34b-Instruct-hf", "code-llama-34b-instruct"),
    ("genai-prices", "codellama/CodeLlama-34b-Instruct-hf", "code-llama-34b-instruct"),
    ("litellm", "perplexity/codellama-34b-instruct", "code-llama-34b-instruct"),
    ("litellm", "fireworks_ai/accounts/fireworks/models/llama-v2-70b", "llama-2-70b"),
    ("litellm", "replicate/meta/llama-2-70b", "llama-2-70b"),
    ("litellm", f"{_FW}deepseek-r1-0528-distill-qwen3-8b", "deepseek-r1-0528-qwen3-8b"),
    ("genai-prices", "deepseek-r1-0528-qwen3-8b", "deepseek-r1-0528-qwen3-8b"),
    ("litellm", "novita/deepseek/deepseek-prover-v2-671b", "deepseek-prover-v2-671b"),
    ("genai-prices", "deepseek-ai/DeepSeek-Prover-V2-671B", "deepseek-prover-v2-671b"),
    ("litellm", "lambda_ai/hermes3-405b", "nousresearch-hermes-3-llama-3.1-405b"),
    ("openrouter", "nousresearch/hermes-3-llama-3.1-405b", "nousresearch-hermes-3-llama-3.1-405b"),
    ("litellm", "cloudflare/@cf/aisingapore/gemma-sea-lion-v4-27b-it", "aisingapore-gemma-sea-lion-v4-27b-it"),
    ("genai-prices", "aisingapore/Gemma-SEA-LION-v4-27B-IT", "aisingapore-gemma-sea-lion-v4-27b-it"),
    ("litellm", "pinstripes/ps/glm-4.5-air", "glm-4.5-air"),
    ("litellm", "azure_ai/MAI-DS-R1", "mai-ds-r1"),
    ("genai-prices", "mai-ds-r1:free", "mai-ds-r1"),
    ("litellm", "vertex_ai/xai/grok-4.20-reasoning", "grok-4.20-reasoning"),
    ("litellm", "oci/xai.grok-4.20-multi-agent", "grok-4.20-multi-agent"),
    ("openrouter", "x-ai/grok-4.20-multi-agent", "grok-4.20-multi-agent"),
    ("openrouter", "google/gemini-2.5-pro-preview", "gemini-2.5-pro-preview-06-05"),  # canonical_slug
    ("litellm", "gemini-2.5-pro-preview-06-05", "gemini-2.5-pro-preview-06-05"),
])
def test_it_merges_one_model_across_sources(shared_data, source, raw, expected):
    assert_real(shared_data, source, raw)
    assert _slug(source, raw) == expected


# ------------------------------------------------------------------------------------------
# Property: no canonical group mixes sizes, versions or dated snapshots
# ------------------------------------------------------------------------------------------

_PARSERS = {"litellm": (litellm, LITELLM_NEWEST), "openrouter": (openrouter, OPENROUTER_NEWEST),
            "genai-prices": (genai_prices, GENAI_PRICES)}


def _chat_offerings(shared_data: Path, source: str) -> dict[tuple, object]:
    module, name = _PARSERS[source]
    offerings = {}
    for record in module.parse((shared_data / name).read_bytes()).records:
        if record.mode == "chat":
            key = (record.provider_key, record.source_model_id, record.region, record.service_tier,
                   record.min_prompt_tokens)
            offerings[key] = record
    return offerings


# An independent reading of a raw id: only the model name (last path segment, Bedrock
# namespace and version removed), then dates, sizes and the version number.
_DATE = re.compile(r"(?<!\d)(\d{4}-\d{2}-\d{2}|\d{8}|\d{6}|\d{2}-\d{4}|\d{2}-\d{2}|\d{4})(?!\d)")
_SIZE_IN_ID = re.compile(r"(?<![a-z0-9.])(\d+(?:\.\d+)?)b(?![a-z0-9])")
_VERSION_IN_ID = re.compile(r"(?<![\d.])(\d{1,2})(?:[.p-](\d)(?![\d]))?")


def _model_part(raw: str) -> str:
    s = raw.lower().split("/")[-1]
    s = re.sub(r":(free|beta|extended|nitro|floor|exacto|\d+)$", "", s)
    s = re.sub(r"^(?:[a-z]{2,7}(?:-gov)?\.)?(?:[a-z0-9-]+\.)(?=[a-z])", "", s) if "." in s.split("-")[0] else s
    s = re.sub(r"-v\d+(?::\d+)?$", "", s) if re.search(r"-v\d+:\d+$", raw.lower()) else s
    s = s.replace("@", "-").replace("_", "-").replace("gpt-35-", "gpt-3.5-")  # Azure spells GPT-3.5 "gpt-35"
    s = re.sub(r"-(?:2048|4096|8192|16384|32768)$", "", s)  # Groq's context suffix: mixtral-8x7b-32768
    return re.sub(r"-(?:fp8|bf16|fp16|hf|maas|default|fast|turbo)$", "", s)


def attributes(raw: str) -> tuple[str | None, str | None, str | None]:
    """(date, size, version) stated by a raw id, each None when the id does not state it."""
    s = _model_part(raw)
    date = None
    dates = [d for d in _DATE.findall(s) if not re.fullmatch(r"\d{2}-\d{2}", d) or "preview" in s]
    if dates:
        date = dates[-1].replace("-", "")
        if len(date) == 8 and date.startswith("20"):
            date = date[2:]  # 2024-08-06 and 240806 are one date
        s = s.replace(dates[-1], " ")
    sizes = _SIZE_IN_ID.findall(s)
    size = str(float(sizes[0])) if sizes else None
    s = _SIZE_IN_ID.sub(" ", s)
    s = re.sub(r"\d+k\b", " ", s)  # context lengths: 128k, 8k
    s = re.sub(r"\ba\d+b\b|\d+x\d+b|\d+e\b|-00\d\b", " ", s)  # active parameters, experts, pins
    m = _VERSION_IN_ID.search(s)
    version = None
    if m:
        version = m[1] + (f".{m[2]}" if m[2] else "")
        version = re.sub(r"\.0$", "", version)
    return date, size, version


@pytest.mark.parametrize(("raw", "expected"), [
    ("claude-3-5-sonnet-20240620", ("240620", None, "3.5")),
    ("gpt-4o-2024-08-06", ("240806", None, "4")),
    ("bedrock/us-east-1/meta.llama3-1-70b-instruct-v1:0", (None, "70.0", "3.1")),
    ("fireworks_ai/accounts/fireworks/models/glm-4p5-air", (None, None, "4.5")),
    ("Qwen/Qwen3.5-397B-A17B", (None, "397.0", "3.5")),
    ("mistral-large-2407", ("2407", None, None)),
])
def test_the_independent_parser_reads_dates_sizes_and_versions(raw, expected):
    assert attributes(raw) == expected


def test_no_canonical_model_mixes_sizes_versions_or_dated_snapshots(shared_data):
    groups: dict[str, set[str]] = collections.defaultdict(set)
    for source in _PARSERS:
        for (provider, raw, *_), _record in _chat_offerings(shared_data, source).items():
            found = resolve(raw, source=source, provider=provider)
            # Curated rows are exempt: they exist for ids whose own words mislead (Vertex's
            # "llama3-405b-instruct-maas" is Llama 3.1 405B), each with its reason in aliases.csv.
            if found is not None and found.rule != "curated":
                groups[found.slug].add(raw)
    assert len(groups) > 500
    mixed = []
    for slug, raws in groups.items():
        seen = [attributes(raw) for raw in raws]
        for index, what in enumerate(("date", "size", "version")):
            stated = {attrs[index] for attrs in seen if attrs[index] is not None}
            if len(stated) > 1:
                mixed.append((slug, what, sorted(stated), sorted(raws)[:4]))
    assert not mixed, "\n".join(map(str, mixed))


# ------------------------------------------------------------------------------------------
# Coverage floor: chat offerings of each source's newest file
# ------------------------------------------------------------------------------------------

COVERAGE_FLOOR = {"litellm": 0.90, "openrouter": 0.92, "genai-prices": 0.90}


@pytest.mark.parametrize("source", sorted(COVERAGE_FLOOR))
def test_the_newest_file_resolves_at_least_the_floor(shared_data, source):
    offerings = _chat_offerings(shared_data, source)
    resolved = sum(1 for (provider, raw, *_), _r in offerings.items()
                   if resolve(raw, source=source, provider=provider) is not None)
    share = resolved / len(offerings)
    print(f"{source}: {resolved}/{len(offerings)} = {share:.1%}")
    assert share >= COVERAGE_FLOOR[source]


# ------------------------------------------------------------------------------------------
# Curated OpenRouter rows rest on OpenRouter's own hints: they must still hold in every snapshot
# ------------------------------------------------------------------------------------------

_HINT = re.compile(r"\b(canonical_slug|hugging_face_id) ([A-Za-z0-9][\w./-]*[\w])")


def test_curated_openrouter_rows_agree_with_the_hints_they_cite(shared_data):
    """A row that says "canonical_slug X" or "hugging_face_id Y" is checked against every snapshot listing
    the id: when OpenRouter re-points a name, this fails and the row must be revisited."""
    with open(DEFAULT_ALIASES_PATH, newline="", encoding="utf-8") as fh:
        cited = [(row["raw_id"], _HINT.findall(row["note"])) for row in csv.DictReader(fh)
                 if row["source"] == "openrouter"]
    cited = [(raw, hints) for raw, hints in cited if hints]
    assert len(cited) >= 8
    checked = 0
    for path in sorted((shared_data / "openrouter").glob("*.json")):
        models = {m["id"]: m for m in json.loads(path.read_bytes())["data"]}
        for raw, hints in cited:
            model = models.get(raw)
            if model is None:
                continue
            for field, value in hints:
                if model.get(field):  # older snapshots lack canonical_slug, some models lack an HF id
                    assert model[field] == value, (path.name, raw, field, model[field])
                    checked += 1
    print(f"{len(cited)} curated OpenRouter rows cite hints; {checked} hint checks")
    assert checked >= 20
