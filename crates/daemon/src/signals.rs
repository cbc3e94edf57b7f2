//! Process signals, via signal-hook: SIGTERM/SIGINT ask for a clean stop (a second one
//! exits at once), SIGHUP asks for a config reload. The flags are polled by the run loop.

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// The signal flags the run loop polls.
#[derive(Clone, Debug)]
pub struct Signals {
    stop: Arc<AtomicUsize>,
    reload: Arc<AtomicBool>,
}

impl Signals {
    /// Installs the handlers. The first SIGTERM/SIGINT sets the stop flag; a second one
    /// terminates the process at once with status 1 (signal-hook's conditional shutdown).
    pub fn install() -> io::Result<Signals> {
        let stop = Arc::new(AtomicUsize::new(0));
        let stopping = Arc::new(AtomicBool::new(false));
        let reload = Arc::new(AtomicBool::new(false));
        for sig in [SIGTERM, SIGINT] {
            // Registered first, so it sees the flag as it was before this signal.
            signal_hook::flag::register_conditional_shutdown(sig, 1, stopping.clone())?;
            signal_hook::flag::register(sig, stopping.clone())?;
            signal_hook::flag::register_usize(sig, stop.clone(), 1)?;
        }
        signal_hook::flag::register(SIGHUP, reload.clone())?;
        Ok(Signals { stop, reload })
    }

    /// Flags that nothing sets (for `demo`, where the caller stops the loop itself).
    pub fn none() -> Signals {
        Signals {
            stop: Arc::new(AtomicUsize::new(0)),
            reload: Arc::new(AtomicBool::new(false)),
        }
    }

    /// True once a stop was asked for.
    pub fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::SeqCst) != 0
    }

    /// Asks for a stop from inside the process.
    pub fn request_stop(&self) {
        self.stop.store(1, Ordering::SeqCst);
    }

    /// True (once) when a reload was asked for since the last call.
    pub fn take_reload(&self) -> bool {
        self.reload.swap(false, Ordering::SeqCst)
    }
}
