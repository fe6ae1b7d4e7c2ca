//! A process's memory as Linux reports it, for the benches that measure a
//! running binary. Included with `#[path]`.

/// A field of `/proc/PID/status` in KiB (`VmRSS:`, `VmHWM:`); 0 when the
/// process is gone or the field is absent.
pub fn memory_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
