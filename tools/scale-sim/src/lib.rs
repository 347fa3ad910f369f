//! `make scale-sim`: the check function's real code (the `Checker` over the
//! production `DynamoStore`, its requests built by the SDK) driven by a
//! synthetic population at a target rate, against an in-memory DynamoDB
//! that charges every read and write to the partition key it touched, in
//! the table and in each index. No network, no emulator.

pub mod connector;
pub mod expr;
pub mod json;
pub mod load;
pub mod memdb;
pub mod population;
pub mod report;
pub mod sim;
