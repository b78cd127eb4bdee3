//! Group commit: concurrent `insert_response` calls share one transaction.
//!
//! One task takes requests from a queue; each batch runs on its own pooled connection, at
//! most `IN_FLIGHT` at once. While they are all busy, requests queue up and the next batch
//! takes all of them (up to `MAX_BATCH`), so there is no waiting window: a lone request is
//! written at once, and under load each COMMIT covers many responses. A batch that fails is
//! written again one request per transaction, so one bad request fails only itself. Every
//! caller is answered after the COMMIT that covers it.

use super::{insert, with_retries};
use crate::store::{Inserted, NewResponse, StoreError};
use deadpool_postgres::Pool;
use tokio::sync::{mpsc, oneshot};

/// Most requests one transaction writes.
const MAX_BATCH: usize = 256;

struct Request {
    new: NewResponse,
    reply: oneshot::Sender<Result<Inserted, StoreError>>,
}

pub(super) struct Batcher {
    queue: mpsc::UnboundedSender<Request>,
}

impl Batcher {
    /// Starts the batching task on the current runtime (the store's).
    pub fn start(pool: Pool, pool_size: usize) -> Batcher {
        let (queue, rx) = mpsc::unbounded_channel();
        // Batches in flight: one committing while the next is written, and room for more
        // when the pool is larger. Each holds a slot number while it runs (its rows of the
        // report counts: see counts.rs).
        let in_flight = (pool_size / 4).clamp(2, 8);
        let (free, slots) = mpsc::channel(in_flight);
        for slot in 0..in_flight as i16 {
            let _ = free.try_send(slot);
        }
        tokio::spawn(run(pool, rx, slots, free));
        Batcher { queue }
    }

    /// Writes a response with the next batch; returns after its COMMIT.
    pub async fn insert(&self, new: NewResponse) -> Result<Inserted, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Request { new, reply })
            .map_err(|_| StoreError::Backend("the store is shutting down".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Backend("the store is shutting down".into()))?
    }
}

async fn run(
    pool: Pool,
    mut rx: mpsc::UnboundedReceiver<Request>,
    mut slots: mpsc::Receiver<i16>,
    free: mpsc::Sender<i16>,
) {
    while let Some(first) = rx.recv().await {
        // Wait for a free slot before taking more: what queues meanwhile joins this batch.
        let Some(slot) = slots.recv().await else {
            return;
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        let (pool, free) = (pool.clone(), free.clone());
        tokio::spawn(async move {
            write(&pool, batch, slot).await;
            let _ = free.send(slot).await;
        });
    }
}

async fn write_items(
    pool: &Pool,
    items: &[NewResponse],
    slot: i16,
) -> Result<Vec<Inserted>, StoreError> {
    with_retries(|| async {
        let mut client = pool.get().await?;
        insert::write(&mut client, items, slot).await
    })
    .await
}

async fn write(pool: &Pool, batch: Vec<Request>, slot: i16) {
    let (items, replies): (Vec<NewResponse>, Vec<_>) =
        batch.into_iter().map(|r| (r.new, r.reply)).unzip();
    match write_items(pool, &items, slot).await {
        Ok(outcomes) => {
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                let _ = reply.send(Ok(outcome));
            }
        }
        Err(e) if items.len() == 1 => {
            if let Some(reply) = replies.into_iter().next() {
                let _ = reply.send(Err(e));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, requests = items.len(), "a batch failed; writing its requests one by one");
            for (item, reply) in items.into_iter().zip(replies) {
                let one = write_items(pool, std::slice::from_ref(&item), slot)
                    .await
                    .map(|mut v| v.remove(0));
                let _ = reply.send(one);
            }
        }
    }
}
