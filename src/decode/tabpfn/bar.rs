//! TabPFN v2: bar (being written).
