//! Group commit for registrations. Under `synchronous = FULL` every commit waits for an fsync, and
//! one fsync per registration caps registration at the disk's fsync rate (about 3 000/s here). So
//! registrations go to one writer thread, which takes every registration waiting when it starts
//! a transaction (up to [`MAX_BATCH`]), stores them all in that one transaction and answers each
//! only after the commit: a 201 still means the credential is on disk. While a commit waits for
//! its fsync the next batch gathers, so the batch grows with the load and stays at one under none.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use et_store::{CredentialRecord, CredentialStore, NewCredential, StoreError};
use tokio::sync::oneshot;

use crate::error::ApiError;
use crate::slot::StoreSlot;

/// Most registrations stored in one transaction.
pub const MAX_BATCH: usize = 256;

/// How long a batch waits for more registrations while registrations are arriving.
const GATHER: Duration = Duration::from_micros(200);

type Answer = Result<CredentialRecord, StoreError>;

struct Job {
    credential: NewCredential,
    reply: oneshot::Sender<Answer>,
}

/// The registration writer. Its thread starts with the first registration and ends when this is
/// dropped.
pub struct Registrar {
    /// Read per batch: the watcher swaps the store when the database file is replaced.
    store: Arc<StoreSlot>,
    /// `LEDGERD_MAX_ACTIVE_CREDENTIALS`, enforced in each batch's transaction.
    max_active: Option<u64>,
    queue: OnceLock<Result<Sender<Job>, String>>,
}

impl std::fmt::Debug for Registrar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registrar").finish_non_exhaustive()
    }
}

impl Registrar {
    pub fn new(store: Arc<StoreSlot>, max_active: Option<u64>) -> Self {
        Registrar { store, max_active, queue: OnceLock::new() }
    }

    fn start(&self) -> Result<Sender<Job>, String> {
        let (tx, rx) = mpsc::channel();
        let (store, max_active) = (self.store.clone(), self.max_active);
        std::thread::Builder::new()
            .name("ledgerd-registrar".into())
            .spawn(move || run(&store, max_active, &rx))
            .map_err(|e| format!("cannot start the registration writer: {e}"))?;
        Ok(tx)
    }

    /// Stores `credential`; answers once its transaction has committed.
    pub async fn register(&self, credential: NewCredential) -> Result<Answer, ApiError> {
        let queue = self.queue.get_or_init(|| self.start()).as_ref().map_err(ApiError::internal)?;
        let (reply, answer) = oneshot::channel();
        queue.send(Job { credential, reply }).map_err(|_| ApiError::internal("the registration writer stopped"))?;
        answer.await.map_err(|_| ApiError::internal("the registration writer dropped a registration"))
    }
}

fn drain(queue: &Receiver<Job>, batch: &mut Vec<Job>) {
    while batch.len() < MAX_BATCH {
        match queue.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
}

fn run(store: &StoreSlot, max_active: Option<u64>, queue: &Receiver<Job>) {
    let mut last_batch = 0;
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        drain(queue, &mut batch);
        // Under load (the last batch was more than one) the rest of this batch is on its way: the
        // answers to the last one went out together and their clients send again together. Waiting
        // a fraction of an fsync for them costs less than an fsync for a batch of one.
        if last_batch > 1 && batch.len() < last_batch {
            std::thread::sleep(GATHER);
            drain(queue, &mut batch);
        }
        last_batch = batch.len();
        let credentials: Vec<NewCredential> = batch.iter().map(|job| job.credential.clone()).collect();
        // A panic fails this batch (its senders are dropped: 500s), not every later registration.
        let store: Arc<dyn CredentialStore> = store.get();
        let answers = catch_unwind(AssertUnwindSafe(|| store.register_many(&credentials, max_active)));
        let Ok(mut answers) = answers else {
            tracing::error!("the registration writer panicked; {} registrations failed", batch.len());
            continue;
        };
        // Committed to a file that is no longer at the path (moved away by a restore meanwhile):
        // not acknowledged, since the file operators see does not hold it. The client sends again.
        if answers.iter().any(Result::is_ok) && !store.is_current() {
            let path = store.path_shown();
            answers = answers.into_iter().map(|_| Err(StoreError::FileReplaced { path: path.clone() })).collect();
        }
        for (job, answer) in batch.into_iter().zip(answers) {
            // The client may have gone away meanwhile; its credential is stored all the same.
            let _ = job.reply.send(answer);
        }
    }
}
