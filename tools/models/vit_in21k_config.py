#!/usr/bin/env python3
"""Rebuilds `config.json` of google/vit-base-patch16-224-in21k and checks it against the hub.

The file is not stored with Git LFS, so the hub's ETag for it is its Git blob id (SHA-1 of
"blob <size>\\0" + content), not a SHA-256: that id, 254071bbf72dd0fd535b61768d9cd87adcb776f4,
is what a Hugging Face cache of revision b4569560a39a0f1af58e3ddaf17facf20ab919b0 names the
blob. This script writes the JSON `save_pretrained` produced (two-space indent, sorted keys, a
final newline), checks that its Git blob id is exactly that one, and prints the size and
SHA-256 that `src/models/registry.rs` pins. Standard library only:

    python3 tools/models/vit_in21k_config.py [OUT]
"""

import hashlib
import sys

HUB_BLOB_ID = "254071bbf72dd0fd535b61768d9cd87adcb776f4"

FIELDS = [
    ("_name_or_path", '"google/vit-base-patch16-224-in21k"'),
    ("architectures", '[\n    "ViTModel"\n  ]'),
    ("attention_probs_dropout_prob", "0.0"),
    ("hidden_act", '"gelu"'),
    ("hidden_dropout_prob", "0.0"),
    ("hidden_size", "768"),
    ("image_size", "224"),
    ("initializer_range", "0.02"),
    ("intermediate_size", "3072"),
    ("layer_norm_eps", "1e-12"),
    ("model_type", '"vit"'),
    ("num_attention_heads", "12"),
    ("num_channels", "3"),
    ("num_hidden_layers", "12"),
    ("patch_size", "16"),
    ("qkv_bias", "true"),
    ("transformers_version", '"4.13.0.dev0"'),
]


def main() -> None:
    text = "{\n" + ",\n".join(f'  "{k}": {v}' for k, v in FIELDS) + "\n}\n"
    data = text.encode()
    blob_id = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    if blob_id != HUB_BLOB_ID:
        sys.exit(f"Git blob id {blob_id} is not the hub's {HUB_BLOB_ID}")
    print(f"size {len(data)} bytes, git blob {blob_id}, sha256 {hashlib.sha256(data).hexdigest()}")
    if len(sys.argv) > 1:
        with open(sys.argv[1], "wb") as out:
            out.write(data)


if __name__ == "__main__":
    main()
