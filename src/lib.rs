//! An asynchronous MySQL/MariaDB client built as supervised actix actors.
#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

pub mod codec;
pub mod protocol;
