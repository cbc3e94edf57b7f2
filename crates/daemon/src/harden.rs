//! What `baseliner run` does to its own process before it reads a secret: it marks itself
//! non-dumpable (`prctl(PR_SET_DUMPABLE, 0)`). The password may be in its environment
//! (`BASELINER_QUALYS_PASSWORD`) or its memory; a process of the same user — the alert
//! command it starts, or anything that command starts — could otherwise read
//! `/proc/PID/environ` and `/proc/PID/mem`, or attach with ptrace. Non-dumpable, those
//! files belong to root and no core dump is written. Only a process with CAP_SYS_PTRACE
//! (root) can still read them.

use std::io;

/// Marks this process non-dumpable.
pub fn forbid_dumps() -> io::Result<()> {
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        .map_err(io::Error::from)
}
