//! TabPFN v2: torch_randn (being written).
