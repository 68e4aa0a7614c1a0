//! Medians, and running a program while measuring its wall time and peak memory.

use anyhow::{bail, Context, Result};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The median (the mean of the middle two for an even count); NaN when empty.
pub fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    }
}

/// One run of a program: wall time and the peak resident memory the kernel recorded for it.
#[derive(Debug)]
pub struct Usage {
    pub wall_s: f64,
    pub peak_bytes: u64,
}

/// Runs `command` to completion (output discarded) and reports what it used;
/// a failure is an error with its stderr.
pub fn measure(command: &mut Command) -> Result<Usage> {
    let started = Instant::now();
    let child = command.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().with_context(|| format!("cannot run {command:?}"))?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills in; pid is our own child, waited for once here.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall_s = started.elapsed().as_secs_f64();
    if waited != pid {
        bail!("wait4 failed for {command:?}: {}", std::io::Error::last_os_error());
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        let mut stderr = String::new();
        if let Some(mut pipe) = child.stderr {
            std::io::Read::read_to_string(&mut pipe, &mut stderr).ok();
        }
        bail!("{command:?} failed: {}", stderr.trim());
    }
    // ru_maxrss is in KiB on Linux.
    Ok(Usage { wall_s, peak_bytes: usage.ru_maxrss as u64 * 1024 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(Vec::new()).is_nan());
    }

    #[test]
    fn measures_a_child_and_reports_its_failure() {
        let usage = measure(Command::new("sh").args(["-c", "head -c 50000000 /dev/zero | tail -c 1 >/dev/null"])).unwrap();
        assert!(usage.wall_s > 0.0 && usage.peak_bytes > 0);
        let error = measure(Command::new("sh").args(["-c", "echo nope >&2; exit 3"])).unwrap_err().to_string();
        assert!(error.contains("nope"), "{error}");
    }
}
