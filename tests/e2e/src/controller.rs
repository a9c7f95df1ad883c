//! A provider process of a test's or benchmark's own, watching one namespace, that it may
//! kill and restart at will, and whose memory and CPU it can read from `/proc`.

use std::{path::PathBuf, process::Child, time::Duration};

use crate::provider;

/// One provider process (and the ones that replace it after a kill).
pub struct Controller {
    child: Option<Child>,
    args: Vec<String>,
    log: PathBuf,
    restarts: u32,
}

impl Controller {
    /// A provider watching `ns`, serving metrics on `127.0.0.1:port`, polling every 30 s.
    pub fn start(ns: &str, port: u16) -> anyhow::Result<Self> {
        Self::start_with(ns, port, &["--poll-interval", "30s"])
    }

    /// A provider watching `ns`, serving metrics on `127.0.0.1:port`, with `extra` flags.
    pub fn start_with(ns: &str, port: u16, extra: &[&str]) -> anyhow::Result<Self> {
        let mut args = [
            "--namespace",
            ns,
            "--metrics-address",
            &format!("127.0.0.1:{port}"),
        ]
        .map(String::from)
        .to_vec();
        args.extend(extra.iter().map(|s| s.to_string()));
        let log = provider::repo_root().join(format!("target/e2e/controller-{ns}.log"));
        let mut controller = Controller {
            child: None,
            args,
            log,
            restarts: 0,
        };
        controller.spawn()?;
        Ok(controller)
    }

    fn spawn(&mut self) -> anyhow::Result<()> {
        // Each start logs to a file of its own: a restarted provider must not hide the
        // last one's log.
        let log = self.log.with_extension(format!("{}.log", self.restarts));
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        self.child = Some(provider::spawn(&args, &log)?);
        Ok(())
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.kill();
        self.restarts += 1;
        self.spawn()
    }

    /// Every log this controller wrote, for the panic check.
    pub fn logs(&self) -> String {
        (0..=self.restarts)
            .filter_map(|i| {
                std::fs::read_to_string(self.log.with_extension(format!("{i}.log"))).ok()
            })
            .collect()
    }

    /// Fails when any of its processes panicked.
    pub fn assert_no_panic(&self) {
        let logs = self.logs();
        assert!(
            !logs.contains("panicked"),
            "the provider panicked: {}",
            self.log.display()
        );
    }

    /// The running process's id.
    pub fn pid(&self) -> anyhow::Result<u32> {
        self.child
            .as_ref()
            .map(Child::id)
            .ok_or_else(|| anyhow::anyhow!("the controller is not running"))
    }

    /// Resident and peak resident memory of the running process, in bytes.
    pub fn memory(&self) -> anyhow::Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?))?;
        let kib = |key: &str| -> anyhow::Result<u64> {
            let line = status
                .lines()
                .find(|l| l.starts_with(key))
                .ok_or_else(|| anyhow::anyhow!("no {key} in /proc/PID/status"))?;
            Ok(line
                .split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| anyhow::anyhow!("cannot read {line:?}"))?
                * 1024)
        };
        Ok(Memory {
            rss: kib("VmRSS:")?,
            peak_rss: kib("VmHWM:")?,
        })
    }

    /// CPU time (user and system) the running process has used so far.
    pub fn cpu_time(&self) -> anyhow::Result<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()?))?;
        stat_cpu_time(&stat)
            .map(|(_, cpu)| cpu)
            .ok_or_else(|| anyhow::anyhow!("cannot read /proc/PID/stat"))
    }
}

/// The command name and the CPU time (user and system) in one `/proc/PID/stat`.
pub fn stat_cpu_time(stat: &str) -> Option<(&str, Duration)> {
    // The command sits in parentheses and may hold spaces; the fields after it start
    // after the last ')'.
    let (head, rest) = stat.rsplit_once(") ")?;
    let (_, command) = head.split_once(" (")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat(5); `rest` starts at field 3.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i).and_then(|v| v.parse::<u64>().ok()))
        .sum();
    Some((
        command,
        Duration::from_secs_f64(ticks as f64 / ticks_per_second()),
    ))
}

/// The kernel's clock ticks per second, the unit of `/proc`'s CPU times.
pub fn ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a constant of the running kernel; it has no preconditions.
    unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64
}

/// Memory of a process, in bytes.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Memory {
    pub rss: u64,
    pub peak_rss: u64,
}

impl Drop for Controller {
    fn drop(&mut self) {
        self.kill();
    }
}
