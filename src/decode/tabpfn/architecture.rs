//! TabPFN v2: architecture (being written).
