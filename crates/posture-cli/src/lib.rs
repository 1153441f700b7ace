//! The library side of the `posture` binary: the part of a scan that runs after collection
//! ([`pipeline`]), shared with the benchmark that measures its memory.

pub mod pipeline;

/// The process's peak resident memory, from /proc (Linux).
pub fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some((kib / 1024.0 * 10.0).round() / 10.0)
}
