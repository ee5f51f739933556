//! Operators' notifications: validated, logged durably, then applied, with
//! group commit (many requests, one log append, one registry transaction).

use crate::error::{from_input, internal, ApiError};
use crate::{Inner, Node};
use accord_api::Accepted;
use accord_log::{canonical_entry, EntryError};
use accord_registry::notification::parse_one;
use accord_registry::{Notification, StoreError};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use std::sync::Arc;

/// Posts notifications: one JSON object, or an array of them. All or
/// nothing: a bad one refuses the request and stores nothing.
#[utoipa::path(
    post,
    path = "/notifications",
    tag = "intake",
    request_body(
        content = Object,
        description = "A notification or an array of them (see the README's notification format)",
        content_type = "application/json"
    ),
    security(("operator" = [])),
    responses(
        (status = 201, description = "Logged durably, then applied", body = Accepted),
        (status = 400, description = "Malformed; `field` names it", body = accord_api::ErrorBody),
        (status = 401, description = "No operator token", body = accord_api::ErrorBody),
        (status = 403, description = "Not an operator token, or another party's notification", body = accord_api::ErrorBody),
        (status = 409, description = "A notification number already used", body = accord_api::ErrorBody),
        (status = 413, description = "Body over 1 MiB, or a notification whose log entry would exceed 65,535 bytes", body = accord_api::ErrorBody),
        (status = 422, description = "Impossible under the treaty or the registry, or `sent` after the node's date", body = accord_api::ErrorBody),
    )
)]
pub(crate) async fn post_notifications(
    State(node): State<Arc<Node>>,
    body: Bytes,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let answer = intake(&node, body).await;
    match &answer {
        Ok((status, Json(a))) => node.metrics.intake(*status, a.numbers.len()),
        Err(e) => node.metrics.intake(e.status(), 0),
    }
    answer
}

async fn intake(node: &Arc<Node>, body: Bytes) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::BadRequest {
        message: "the body is not UTF-8".into(),
        field: None,
    })?;
    // Split an array into its elements' raw text (no re-serialising): each
    // is then parsed strictly, once, by `parse_one`.
    let not_json = |e: serde_json::Error| ApiError::BadRequest {
        message: format!("not JSON: {e}"),
        field: None,
    };
    let items: Vec<&serde_json::value::RawValue> = if text.trim_start().starts_with('[') {
        serde_json::from_str(text).map_err(not_json)?
    } else {
        vec![serde_json::from_str(text).map_err(not_json)?]
    };
    if items.is_empty() {
        return Err(ApiError::BadRequest {
            message: "no notifications".into(),
            field: None,
        });
    }
    let mut batch: Vec<(String, Notification)> = vec![];
    let mut entries = vec![];
    let today = node.clock.today();
    for (i, v) in items.iter().enumerate() {
        let at = format!("notification {i}");
        let n = parse_one(v.get(), &at).map_err(from_input)?;
        // A notification cannot have been sent after the date the node
        // lives on (its clock, UTC unless simulated): one that says so is
        // refused before it can count against any deadline.
        if n.sent > today {
            return Err(ApiError::Unprocessable {
                message: format!("{at}: sent {} is after this node's date, {today}", n.sent),
                field: Some("sent".into()),
            });
        }
        // Its log entry, now: one that can never be logged is refused alone,
        // before it joins (and could spoil) a group commit.
        entries.push(canonical_entry(&n.to_json()).map_err(|e| match e {
            EntryError::TooLong { .. } => ApiError::TooLarge(format!("{at}: {e}")),
            other => ApiError::bad(".", format!("{at}: {other}")),
        })?);
        batch.push((at, n));
    }
    // Group commit: the request joins the queue; whichever request holds the
    // node's lock takes everything queued, checks each batch on its own,
    // appends all that pass to the log in one durable write, and answers
    // each. SQLite work is blocking: off the async threads.
    let (reply, answer) = tokio::sync::oneshot::channel();
    crate::relock(&node.queue).push(Job {
        batch,
        entries,
        reply,
    });
    let node2 = node.clone();
    tokio::task::spawn_blocking(move || node2.drain())
        .await
        .map_err(internal)?;
    answer
        .await
        .map_err(|_| internal("the request was dropped unanswered"))?
        .map(|a| (StatusCode::CREATED, Json(a)))
}

/// A batch of notifications waiting for the group commit, and where to send
/// its answer.
pub(crate) struct Job {
    batch: Vec<(String, Notification)>,
    /// Their log entries (canonical JSON), in the same order.
    entries: Vec<Vec<u8>>,
    reply: tokio::sync::oneshot::Sender<Result<Accepted, ApiError>>,
}

impl Node {
    /// Takes the queue's jobs under the node's lock until it is empty.
    fn drain(&self) {
        let mut inner = self.state();
        loop {
            let jobs = std::mem::take(&mut *crate::relock(&self.queue));
            if jobs.is_empty() {
                return;
            }
            let (committed, refold) = inner.commit_group(jobs);
            if refold {
                self.untrack();
            }
            self.tracked(&committed);
            self.log_grew();
        }
    }

    /// Wakes every push loop (the log grew).
    pub(crate) fn log_grew(&self) {
        for t in &self.targets {
            t.wake.signal();
        }
    }
}

impl Inner {
    /// Catches the registry up with the log if a registry write failed.
    pub(crate) fn catch_up_if_lagging(&mut self) -> Result<(), ApiError> {
        if self.lagging {
            crate::catch_up(&self.log, &mut self.registry, &self.treaty).map_err(internal)?;
            self.lagging = false;
        }
        Ok(())
    }

    /// Checks, logs (one durable append) and applies a group of jobs,
    /// answering each. A refused batch is answered alone and changes nothing.
    /// Returns the batches committed (with whether each folded onto the
    /// registry's tip), and whether the registry was caught up from its log
    /// (then everything must be refolded).
    #[allow(clippy::type_complexity)]
    fn commit_group(&mut self, jobs: Vec<Job>) -> (Vec<(Vec<Notification>, bool)>, bool) {
        let mut jobs: std::collections::VecDeque<Job> = jobs.into();
        let mut committed = vec![];
        let mut refold = false;
        while !jobs.is_empty() {
            refold |= self.lagging;
            if let Err(e) = self.catch_up_if_lagging() {
                let detail = format!("{e:?}");
                for j in jobs.drain(..) {
                    let _ = j.reply.send(Err(internal(&detail)));
                }
                return (committed, true);
            }
            let Inner {
                registry,
                treaty,
                log,
                lagging,
                ..
            } = self;
            let party = registry.meta().party.clone();
            // 1. Everything the registry would refuse is refused before any
            //    write (in time proportional to the batch: `Store::stage`).
            let mut staged = vec![];
            let mut passed = vec![];
            while let Some(job) = jobs.pop_front() {
                if let Some((_, n)) = job.batch.iter().find(|(_, n)| n.party != party) {
                    let e = ApiError::Forbidden(format!(
                        "this node takes {party}'s notifications, not {}'s",
                        n.party
                    ));
                    let _ = job.reply.send(Err(e));
                    continue;
                }
                match registry.stage_chained(treaty, &job.batch) {
                    Ok(s) => {
                        staged.push(s);
                        passed.push(job);
                    }
                    // Needs the full refold: after this group is committed.
                    Err(StoreError::Deferred) if !staged.is_empty() => {
                        jobs.push_front(job);
                        break;
                    }
                    Err(StoreError::Input(i)) => {
                        let _ = job.reply.send(Err(from_input(i)));
                    }
                    Err(other) => {
                        let _ = job.reply.send(Err(internal(other)));
                    }
                }
            }
            if passed.is_empty() {
                continue;
            }
            // 2. The log is the record: durable before it is acknowledged.
            let entries: Vec<Vec<u8>> = passed
                .iter()
                .flat_map(|j| j.entries.iter().cloned())
                .collect();
            let range = match log.append(&entries) {
                Ok(r) => r,
                Err(e) => {
                    registry.abort();
                    for j in passed {
                        let _ = j.reply.send(Err(internal(&e)));
                    }
                    continue;
                }
            };
            // 3. The registry follows (it can always be rebuilt from the log,
            //    and is caught up from it when the node starts).
            let folded: Vec<(Vec<Notification>, bool)> = staged
                .iter()
                .map(|s| (s.notifications().to_vec(), s.folds_onto_the_tip()))
                .collect();
            if let Err(e) = registry.commit_all(treaty, staged) {
                *lagging = true;
                refold = true;
                tracing::error!(error = %e, "registry write after log append failed (will catch up)");
            } else {
                committed.extend(folded);
            }
            let tree_size = log.size();
            let mut index = range.start;
            for j in passed {
                let k = j.batch.len() as u64;
                let _ = j.reply.send(Ok(Accepted {
                    numbers: j.batch.iter().map(|(_, n)| n.number).collect(),
                    indexes: (index..index + k).collect(),
                    tree_size,
                }));
                index += k;
            }
        }
        (committed, refold)
    }
}
