"""A tiny Hugging Face TrOCR checkpoint folder, built offline: a ViT encoder and TrOCR decoder of
~80k parameters, a character-level tokenizer made with ``tokenizers``, a 32 x 32 ViT image
processor, saved as ``save_pretrained`` writes them (what ``--init hf:DIR`` reads). Needs the
``trocr`` extra: importers skip without it."""

from __future__ import annotations

import torch
import transformers

CHARS = "abcdefghijklmnopqrstuvwxyz0123456789 "
SPECIALS = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}  # RoBERTa's ids, as TrOCR's tokenizer


def char_tokenizer():
    """A character-level ``PreTrainedTokenizerFast`` that writes ``<s> c h a r s </s>``."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors

    vocab = dict(SPECIALS) | {c: len(SPECIALS) + i for i, c in enumerate(CHARS)}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    tokenizer.decoder = decoders.Fuse()
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
    )


def save_tiny_trocr(folder, seed: int = 0) -> None:
    """A randomly initialised tiny TrOCR, its tokenizer and image processor, saved as HF does."""
    encoder = transformers.ViTConfig(
        image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=64,
    )  # fmt: skip
    decoder = transformers.TrOCRConfig(
        vocab_size=len(SPECIALS) + len(CHARS), d_model=48, decoder_layers=2,
        decoder_attention_heads=2, decoder_ffn_dim=64, max_position_embeddings=24,
    )  # fmt: skip
    config = transformers.VisionEncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)
    config.decoder_start_token_id, config.pad_token_id, config.eos_token_id = 2, 1, 2
    torch.manual_seed(seed)
    transformers.VisionEncoderDecoderModel(config).save_pretrained(folder)
    char_tokenizer().save_pretrained(folder)
    transformers.ViTImageProcessor(
        size={"height": 32, "width": 32}, image_mean=[0.5] * 3, image_std=[0.5] * 3
    ).save_pretrained(folder)
