"""The shared core of the trainers: tiny test models, assistant-turn token masks, masked log-probs."""

from trainers.core.logprobs import collate, masked_logprobs
from trainers.core.masks import ChatTemplateError, tokenize_conversation

__all__ = ["ChatTemplateError", "collate", "masked_logprobs", "tokenize_conversation"]
