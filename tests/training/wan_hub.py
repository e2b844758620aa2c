"""A tiny stand-in of the Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers folder (every subfolder the preset reads), so the
wan-lora config runs end to end on CPU: FLF2V transformer with image tokens, Wan VAE, CLIP, umT5 + tokenizer."""

from pathlib import Path

import torch


def make_wan_hub(root: Path) -> Path:
    from diffusers import AutoencoderKLWan, WanTransformer3DModel
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import (CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel, PreTrainedTokenizerFast,
                              UMT5Config, UMT5EncoderModel)

    torch.manual_seed(0)
    root = Path(root)
    AutoencoderKLWan(base_dim=8, num_res_blocks=1, dim_mult=[1, 1, 1, 1]).save_pretrained(root / "vae")
    WanTransformer3DModel(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=8, in_channels=36,
                          out_channels=16, text_dim=16, freq_dim=16, ffn_dim=32, num_layers=1, image_dim=32,
                          added_kv_proj_dim=16, rope_max_seq_len=64, pos_embed_seq_len=10,
                          ).save_pretrained(root / "transformer")
    CLIPVisionModel(CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                                     image_size=28, patch_size=14)).save_pretrained(root / "image_encoder")
    CLIPImageProcessor(size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28}
                       ).save_pretrained(root / "image_processor")
    UMT5EncoderModel(UMT5Config(vocab_size=8, d_model=16, d_kv=4, d_ff=32, num_layers=1, num_heads=2)
                     ).save_pretrained(root / "text_encoder")
    vocab = {w: i for i, w in enumerate(["<pad>", "</s>", "<unk>", "a", "red", "cat", "runs", "fast"])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
                            ).save_pretrained(root / "tokenizer")
    return root


def wan_overrides(hub: Path, video_folder: Path, output_dir: Path, **extra) -> list[str]:
    """`--set` arguments that point configs/wan-lora.yaml at the tiny hub and make it a seconds-long CPU run."""
    keys = {"model.vae.pretrained": str(hub), "model.generator.pretrained": str(hub),
            "model.generator.image_encoder": str(hub), "model.generator.text_encoder": str(hub),
            "model.sampling_steps": 2, "output_dir": str(output_dir), "mixed_precision": "\"no\"",
            "data.folder": str(video_folder), "data.resize": 40, "data.crop": [32, 32], "data.clip_frames": 5,
            "data.val_clips": 1, "data.num_workers": 0, "optim.warmup_steps": 0, "schedule.batch_size": 2,
            "schedule.max_steps": 2, "schedule.log_every": 1, "schedule.val_every": 2, "schedule.ckpt_every": 2}
    keys.update(extra)
    return [f"{k}={v}" if not isinstance(v, list) else f"{k}=[{','.join(map(str, v))}]" for k, v in keys.items()]
