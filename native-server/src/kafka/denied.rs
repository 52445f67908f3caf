//! Requests refused whole by the ACLs before their handler runs, with the answer Kafka's
//! `KafkaApis` gives each (the error in the response's own error field):
//! - JoinGroup, SyncGroup, Heartbeat, LeaveGroup: Read on the group
//!   (GROUP_AUTHORIZATION_FAILED);
//! - InitProducerId: Write on the transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
//!   without one (an idempotent producer, KIP-679) IdempotentWrite on the cluster or Write on
//!   some topic (CLUSTER_AUTHORIZATION_FAILED);
//! - AddOffsetsToTxn: Write on the transactional id, then Read on the group; EndTxn: Write on
//!   the transactional id;
//! - DescribeLogDirs (v3+ carries the error; older versions get an empty answer) and
//!   DescribeQuorum: Describe on the cluster (CLUSTER_AUTHORIZATION_FAILED).
//!
//! Requests checked per topic, group or resource do so in their own files.

use kafka_protocol::messages::{
    AddOffsetsToTxnResponse, DescribeLogDirsResponse, DescribeQuorumResponse, EndTxnResponse,
    HeartbeatResponse, InitProducerIdResponse, JoinGroupResponse, LeaveGroupResponse, ProducerId,
    RequestKind, ResponseKind, SyncGroupResponse,
};
use partita_core::ErrorCode;
use partita_core::acl::{AclOperation, ResourceType};

use super::authz::Authz;
use super::convert::str_bytes;

const GROUP: i16 = ErrorCode::GROUP_AUTHORIZATION_FAILED.code();
const CLUSTER: i16 = ErrorCode::CLUSTER_AUTHORIZATION_FAILED.code();
const TXN_ID: i16 = ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code();

/// The answer to a request the caller may not make at all, or `None` to handle it.
pub fn refusal(request: &RequestKind, version: i16, authz: &Authz) -> Option<ResponseKind> {
    use AclOperation::*;
    use RequestKind as Req;
    use ResponseKind as Res;
    let response = match request {
        Req::JoinGroup(r) if !authz.group(Read, &r.group_id) => Res::JoinGroup(
            JoinGroupResponse::default()
                .with_error_code(GROUP)
                .with_generation_id(-1)
                .with_protocol_name((version < 7).then(|| str_bytes("")))
                .with_member_id(r.member_id.clone()),
        ),
        Req::SyncGroup(r) if !authz.group(Read, &r.group_id) => {
            Res::SyncGroup(SyncGroupResponse::default().with_error_code(GROUP))
        }
        Req::Heartbeat(r) if !authz.group(Read, &r.group_id) => {
            Res::Heartbeat(HeartbeatResponse::default().with_error_code(GROUP))
        }
        Req::LeaveGroup(r) if !authz.group(Read, &r.group_id) => {
            Res::LeaveGroup(LeaveGroupResponse::default().with_error_code(GROUP))
        }
        Req::InitProducerId(r) => {
            let code = match &r.transactional_id {
                Some(id) if !authz.transactional_id(Write, id) => TXN_ID,
                None if !authz.cluster(IdempotentWrite)
                    && !authz.any(Write, ResourceType::Topic) =>
                {
                    CLUSTER
                }
                _ => return None,
            };
            Res::InitProducerId(
                InitProducerIdResponse::default()
                    .with_error_code(code)
                    .with_producer_id(ProducerId(-1))
                    .with_producer_epoch(-1),
            )
        }
        Req::AddOffsetsToTxn(r) => {
            let code = if !authz.transactional_id(Write, &r.transactional_id) {
                TXN_ID
            } else if !authz.group(Read, &r.group_id) {
                GROUP
            } else {
                return None;
            };
            Res::AddOffsetsToTxn(AddOffsetsToTxnResponse::default().with_error_code(code))
        }
        Req::EndTxn(r) if !authz.transactional_id(Write, &r.transactional_id) => {
            Res::EndTxn(EndTxnResponse::default().with_error_code(TXN_ID))
        }
        Req::DescribeLogDirs(_) if !authz.cluster(Describe) => {
            let response = DescribeLogDirsResponse::default();
            Res::DescribeLogDirs(if version >= 3 {
                response.with_error_code(CLUSTER)
            } else {
                response
            })
        }
        Req::DescribeQuorum(_) if !authz.cluster(Describe) => {
            let response = DescribeQuorumResponse::default().with_error_code(CLUSTER);
            Res::DescribeQuorum(if version >= 2 {
                response.with_error_message(Some(str_bytes("Cluster authorization failed.")))
            } else {
                response
            })
        }
        _ => return None,
    };
    Some(response)
}
