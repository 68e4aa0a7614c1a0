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

/// The flag that makes the bench binary a measuring helper (see [`measure`]).
pub const MEASURE_CHILD: &str = "--measure-child";

/// Runs `command` to completion (output discarded) and reports what it used;
/// a failure is an error with its stderr.
///
/// Linux carries a process's peak memory across exec from the memory it had
/// before: a child spawned straight from this harness, which holds generated
/// inputs of hundreds of megabytes, would report the harness's peak, not its own.
/// So a fresh copy of this binary (`--measure-child`), small, starts the command
/// and reports on its stdout what wait4 said.
pub fn measure(command: &mut Command) -> Result<Usage> {
    let mut helper = Command::new(std::env::current_exe().context("cannot find the bench binary")?);
    helper.arg(MEASURE_CHILD).arg(command.get_program()).args(command.get_args());
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => helper.env(name, value),
            None => helper.env_remove(name),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        helper.current_dir(dir);
    }
    let output = helper.stderr(Stdio::piped()).stdout(Stdio::piped()).output().with_context(|| format!("cannot run {command:?}"))?;
    if !output.status.success() {
        bail!("{command:?} failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let (wall_s, peak_bytes) = text.trim().split_once(' ').context("the measuring helper printed nothing")?;
    Ok(Usage { wall_s: wall_s.parse()?, peak_bytes: peak_bytes.parse()? })
}

/// The helper's side: runs the program given after [`MEASURE_CHILD`] and prints
/// `wall_seconds peak_bytes`; its exit code and stderr are the program's.
pub fn measure_child(program_and_args: &[String]) -> ! {
    let Some((program, args)) = program_and_args.split_first() else { std::process::exit(2) };
    match measure_directly(Command::new(program).args(args)) {
        Ok(usage) => {
            println!("{} {}", usage.wall_s, usage.peak_bytes);
            std::process::exit(0)
        }
        Err(error) => {
            eprintln!("{error:#}");
            std::process::exit(1)
        }
    }
}

fn measure_directly(command: &mut Command) -> Result<Usage> {
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

    // The helper process needs the bench binary itself; the test binary measures directly.
    #[test]
    fn measures_a_child_and_reports_its_failure() {
        let usage = measure_directly(Command::new("sh").args(["-c", "head -c 50000000 /dev/zero | tail -c 1 >/dev/null"])).unwrap();
        assert!(usage.wall_s > 0.0 && usage.peak_bytes > 0);
        let error = measure_directly(Command::new("sh").args(["-c", "echo nope >&2; exit 3"])).unwrap_err().to_string();
        assert!(error.contains("nope"), "{error}");
    }
}
