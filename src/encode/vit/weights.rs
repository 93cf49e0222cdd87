//! A ViT's tensors: from a checkpoint (shapes checked) or a seeded random initialisation.
