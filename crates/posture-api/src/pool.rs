//! Open stores kept for reuse. The store is blocking (and its PostgreSQL client runs its
//! own runtime), so every read runs on Tokio's blocking threads, never on a worker; a
//! semaphore bounds how many run at once, and at most [`IDLE`] open stores are kept.

use std::sync::{Arc, Mutex};

use posture_store::{Store, StoreError, StoreLocation};
use tokio::sync::Semaphore;

use crate::error::Failure;

/// Open stores kept between requests.
const IDLE: usize = 4;
/// Store reads running at once; more wait for a permit.
const CONCURRENT: usize = 8;

#[derive(Debug)]
pub(crate) struct StorePool {
    location: StoreLocation,
    idle: Mutex<Vec<Store>>,
    permits: Arc<Semaphore>,
}

impl StorePool {
    pub fn new(location: StoreLocation) -> Arc<Self> {
        Arc::new(Self {
            location,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(CONCURRENT)),
        })
    }

    /// Runs `read` with an open store on a blocking thread.
    pub async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        read: impl FnOnce(&mut Store) -> Result<T, Failure> + Send + 'static,
    ) -> Result<T, Failure> {
        // The permit goes with the blocking read: a request that timed out leaves its read
        // running, and it still counts until it ends.
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| {
                Failure::new(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "the API is shutting down",
                )
            })?;
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let result = pool.with_store(read);
            drop(permit);
            result
        })
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "store read task failed");
            Err(Failure::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "the store read failed; see the daemon's log",
            ))
        })
    }

    fn with_store<T>(
        &self,
        read: impl FnOnce(&mut Store) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        let taken = self.lock().pop();
        let mut store = match taken {
            Some(store) => store,
            None => Store::open_existing(&self.location).map_err(|e| Failure::store(&e))?,
        };
        let result = read(&mut store);
        // A store whose read failed on the server side may hold a broken connection: drop
        // it and open a fresh one next time.
        if !matches!(&result, Err(f) if f.status.is_server_error()) {
            let mut idle = self.lock();
            if idle.len() < IDLE {
                idle.push(store);
            }
        }
        result
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Store>> {
        // The list stays valid if a holder panicked: it is only pushed to and popped from.
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A store error as a [`Failure`] (for `?` inside reads).
pub(crate) fn store_err(error: StoreError) -> Failure {
    Failure::store(&error)
}
