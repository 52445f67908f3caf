//! CreatePartitions: raise a topic's partition count (keys move to other partitions, as in
//! Kafka; existing data stays where it is).

use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::{CreatePartitionsRequest, CreatePartitionsResponse};
use partita_core::ErrorCode;

use super::convert::str_bytes;
use super::node::Node;

pub async fn handle(
    request: CreatePartitionsRequest,
    node: &Node,
) -> anyhow::Result<CreatePartitionsResponse> {
    let validate_only = request.validate_only;
    node.engine
        .call(move |state| {
            let results = request
                .topics
                .into_iter()
                .map(|topic| {
                    let name = topic.name.to_string();
                    let assignment: Option<Vec<Vec<i32>>> = topic.assignments.map(|a| {
                        a.iter()
                            .map(|p| p.broker_ids.iter().map(|id| id.0).collect())
                            .collect()
                    });
                    let outcome = match u32::try_from(topic.count) {
                        Ok(count) => state.control(validate_only, |c| {
                            c.create_partitions(&name, count, assignment.as_deref())
                                .map_err(|e| (e.code(), e.to_string()))
                        }),
                        Err(_) => Err((
                            ErrorCode::INVALID_PARTITIONS,
                            format!("{} partitions", topic.count),
                        )),
                    };
                    let result = CreatePartitionsTopicResult::default().with_name(topic.name);
                    match outcome {
                        Ok(()) => result,
                        Err((code, message)) => result
                            .with_error_code(code.code())
                            .with_error_message(Some(str_bytes(message))),
                    }
                })
                .collect();
            CreatePartitionsResponse::default().with_results(results)
        })
        .await
}
