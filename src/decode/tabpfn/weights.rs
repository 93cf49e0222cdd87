//! TabPFN v2: weights (being written).
