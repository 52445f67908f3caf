//! The controller: a state machine over a metadata log of records, in KRaft's style.
