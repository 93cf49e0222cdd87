"""ViT parity fixtures (tests/fixtures/vit/): a small random Hugging Face `ViTModel`, its
inputs and reference outputs, and a reference for the bilinear resize.

- `tiny/`: `ViTModel(config, add_pooling_layer=True)` (hidden 48, 2 layers, 4 heads, MLP 96,
  image 32, patch 8, layer_norm_eps 1e-6), initialised with `initializer_range` 0.2 so that
  attention is far from uniform, then every LayerNorm weight and every bias moved away from
  its 1 / 0 initialisation, so that each tensor changes the outputs. Saved by `save_pretrained`
  twice into the same folder: `model.safetensors` and (`safe_serialization=False`)
  `pytorch_model.bin`.
- `classifier/`: the same encoder inside `ViTForImageClassification` (keys prefixed `vit.`,
  no pooler, plus a `classifier` head that a ViT encoder ignores), `model.safetensors`.
- `pixels.npy` (3 x 3 x 32 x 32, uniform in [-1, 1]) and the model's `last_hidden_state.npy`
  (3 x 17 x 48) and `pooler_output.npy` (3 x 48), float32, computed in eval mode under
  `torch.inference_mode()` in float64 (the weights are float32; float64 arithmetic makes the
  reference exact to far below the tests' 1e-4 tolerance).
- `resize_input.npy` (2 x 3 x 5 x 5) and its `F.interpolate(mode="bilinear",
  align_corners=False, antialias=False)` to 7 x 7 (`resize_7.npy`) and 12 x 12
  (`resize_12.npy`).

A venv for it: python -m venv venv && venv/bin/pip install torch==2.9.0 transformers==4.57.6
safetensors numpy. Run: venv/bin/python tools/parity/make_vit.py
"""

import json
import pathlib

import numpy as np
import torch
import torch.nn.functional as F
from transformers import ViTConfig, ViTForImageClassification, ViTModel

OUT = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "vit"


def main():
    torch.manual_seed(15)
    config = ViTConfig(
        hidden_size=48,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=96,
        image_size=32,
        patch_size=8,
        num_channels=3,
        layer_norm_eps=1e-6,
        hidden_act="gelu",
        qkv_bias=True,
        initializer_range=0.2,
    )
    model = ViTModel(config, add_pooling_layer=True).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".bias"):
                p.copy_(0.1 * torch.randn_like(p))
            elif "layernorm" in name:
                p.copy_(1.0 + 0.2 * torch.randn_like(p))

    tiny = OUT / "tiny"
    model.save_pretrained(tiny)
    model.save_pretrained(tiny, safe_serialization=False)

    classifier = ViTForImageClassification(config).eval()
    classifier.vit.load_state_dict(
        {k: v for k, v in model.state_dict().items() if not k.startswith("pooler.")},
        strict=True,
    )
    classifier.save_pretrained(OUT / "classifier")

    rng = np.random.default_rng(15)
    pixels = rng.uniform(-1.0, 1.0, size=(3, 3, 32, 32)).astype(np.float32)
    np.save(OUT / "pixels.npy", pixels)
    reference = ViTModel(config, add_pooling_layer=True).eval()
    reference.load_state_dict(model.state_dict())
    reference = reference.double()
    with torch.inference_mode():
        out = reference(pixel_values=torch.from_numpy(pixels).double())
    np.save(OUT / "last_hidden_state.npy", out.last_hidden_state.float().numpy())
    np.save(OUT / "pooler_output.npy", out.pooler_output.float().numpy())

    small = rng.standard_normal((2, 3, 5, 5)).astype(np.float32)
    np.save(OUT / "resize_input.npy", small)
    for size in (7, 12):
        resized = F.interpolate(
            torch.from_numpy(small),
            size=(size, size),
            mode="bilinear",
            align_corners=False,
            antialias=False,
        )
        np.save(OUT / f"resize_{size}.npy", resized.numpy())

    sizes = {p.name: p.stat().st_size for p in OUT.rglob("*") if p.is_file()}
    print(json.dumps(sizes, indent=1), sum(sizes.values()), "bytes")


if __name__ == "__main__":
    main()
