//! TabPFN v2: model (being written).
