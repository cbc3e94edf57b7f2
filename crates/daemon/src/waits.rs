//! Persists the governors' rate-limit waits in the store's metadata (one key holding every
//! open wait), so that a restart honours a `ToWait` that is still open.

use crate::governor::WaitStore;
use baseliner_core::store::Store;
use baseliner_core::time::Timestamp;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

const KEY: &str = "rate-limit-waits";

/// The store, seen as a [`WaitStore`].
pub struct StoreWaits {
    store: Arc<Store>,
    // Serializes read-modify-write of the one key.
    lock: Mutex<()>,
}

impl StoreWaits {
    /// Waits kept in `store`.
    pub fn new(store: Arc<Store>) -> StoreWaits {
        StoreWaits {
            store,
            lock: Mutex::new(()),
        }
    }

    fn read(&self) -> BTreeMap<String, i64> {
        match self.store.meta_get(KEY) {
            Ok(Some(bytes)) => serde_json::from_slice(&bytes).unwrap_or_default(),
            Ok(None) => BTreeMap::new(),
            Err(e) => {
                tracing::warn!("could not read persisted rate-limit waits: {e}");
                BTreeMap::new()
            }
        }
    }
}

impl WaitStore for StoreWaits {
    fn save_wait(&self, api: &str, until: Option<Timestamp>) {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let now = Timestamp::now();
        let mut waits = self.read();
        waits.retain(|_, t| Timestamp(*t) > now);
        match until {
            Some(t) => waits.insert(api.to_string(), t.millis()),
            None => waits.remove(api),
        };
        let bytes = serde_json::to_vec(&waits).unwrap_or_default();
        if let Err(e) = self.store.meta_put(KEY, &bytes) {
            tracing::warn!("could not persist the wait of {api}: {e}");
        }
    }

    fn load_waits(&self) -> Vec<(String, Timestamp)> {
        let now = Timestamp::now();
        self.read()
            .into_iter()
            .map(|(api, t)| (api, Timestamp(t)))
            .filter(|(_, t)| *t > now)
            .collect()
    }
}
