//! Requests waiting for something to happen: acks=all produces for the high watermark, fetches
//! for `fetch.min.bytes` of data. Each waits at most until its deadline.

use crate::Millis;
use crate::group::RequestId;

use super::fetch::FetchRequest;
use super::produce::ProducedPartition;

/// At most this many requests wait at once; a fetch beyond it is answered at once with what
/// there is, so memory stays bounded whatever clients do.
pub const PARKED_REQUESTS_MAX: usize = 10_000;

pub(super) enum Waiting {
    Done(ProducedPartition),
    /// Appended by the leader in `leader_epoch`: if leadership changed since, the records
    /// may have been cut and their offsets reused, so they are never acknowledged.
    Pending {
        result: ProducedPartition,
        last_offset: i64,
        leader_epoch: i32,
    },
}

pub(super) struct ParkedProduce {
    pub request: RequestId,
    pub deadline: Millis,
    pub acks: i16,
    pub partitions: Vec<Waiting>,
}

pub(super) struct ParkedFetch {
    pub request: RequestId,
    pub deadline: Millis,
    pub fetch: FetchRequest,
}

#[derive(Default)]
pub(super) struct Purgatory {
    pub produces: Vec<ParkedProduce>,
    pub fetches: Vec<ParkedFetch>,
}

impl Purgatory {
    pub fn next_deadline(&self) -> Option<Millis> {
        let produces = self.produces.iter().map(|p| p.deadline);
        produces
            .chain(self.fetches.iter().map(|f| f.deadline))
            .min()
    }

    pub fn is_full(&self) -> bool {
        self.produces.len() + self.fetches.len() >= PARKED_REQUESTS_MAX
    }
}

impl<F: super::StorageFactory> super::Broker<F> {
    /// Answers every parked request whose condition now holds.
    pub(super) fn complete_waiting(&mut self, _now: Millis) {
        let produces = std::mem::take(&mut self.purgatory.produces);
        for mut parked in produces {
            for waiting in &mut parked.partitions {
                if let Waiting::Pending {
                    result,
                    last_offset,
                    leader_epoch,
                } = waiting
                {
                    let partition = self.partitions.get(&result.tp);
                    let acks = parked.acks;
                    if let Some(done) = super::produce::check_acks(
                        partition,
                        acks,
                        result,
                        *last_offset,
                        *leader_epoch,
                    ) {
                        *waiting = Waiting::Done(done);
                    }
                }
            }
            if parked
                .partitions
                .iter()
                .all(|w| matches!(w, Waiting::Done(_)))
            {
                self.answer_produce(parked);
            } else {
                self.purgatory.produces.push(parked);
            }
        }
        let fetches = std::mem::take(&mut self.purgatory.fetches);
        for parked in fetches {
            let response = self.read(&parked.fetch);
            let has_error = response
                .partitions
                .iter()
                .any(|p| p.error != crate::ErrorCode::NONE);
            if response.size_bytes() >= parked.fetch.min_bytes || has_error {
                self.outputs.push_back(super::Output::Fetched {
                    request: parked.request,
                    response,
                });
            } else {
                self.purgatory.fetches.push(parked);
            }
        }
    }

    /// Answers every parked request whose deadline has passed: produces still waiting get
    /// REQUEST_TIMED_OUT, fetches get what there is.
    pub(super) fn expire_waiting(&mut self, now: Millis) {
        let (expired, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.purgatory.produces)
            .into_iter()
            .partition(|p| p.deadline <= now);
        self.purgatory.produces = kept;
        for mut parked in expired {
            for waiting in &mut parked.partitions {
                if let Waiting::Pending { result, .. } = waiting {
                    let error = crate::ErrorCode::REQUEST_TIMED_OUT;
                    *waiting =
                        Waiting::Done(ProducedPartition::failed(result.tp.clone(), error, None));
                }
            }
            self.answer_produce(parked);
        }
        let (expired, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.purgatory.fetches)
            .into_iter()
            .partition(|f| f.deadline <= now);
        self.purgatory.fetches = kept;
        for parked in expired {
            let response = self.read(&parked.fetch);
            self.outputs.push_back(super::Output::Fetched {
                request: parked.request,
                response,
            });
        }
    }

    fn answer_produce(&mut self, parked: ParkedProduce) {
        let partitions = parked
            .partitions
            .into_iter()
            .map(|w| match w {
                Waiting::Done(result) => result,
                Waiting::Pending { .. } => {
                    unreachable!("answered only when every partition is done")
                }
            })
            .collect();
        let response = super::ProduceResponse { partitions };
        self.outputs.push_back(super::Output::Produced {
            request: parked.request,
            response,
        });
    }
}
