//! The library side of the `posture` binary: the part of a scan that runs after collection
//! ([`pipeline`]), shared with the benchmark that measures its memory.

pub mod pipeline;
