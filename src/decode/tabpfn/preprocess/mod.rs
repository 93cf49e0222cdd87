//! TabPFN v2: the preprocessing around the model (being written).
