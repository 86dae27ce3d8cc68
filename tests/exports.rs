//! The public surface, named in one place: a change to it shows up here.
#![allow(unused_imports)]

use actix_mysql::messages::{
    Close, CloseStatement, ConnectionInfo, ConnectionState, ConnectionStats, Exec, Execute,
    GetInfo, GetState, Ping, Prepare, Query, QueryMulti, QueryStream, ResetConnection,
    ResetStatement, SelectDb,
};
use actix_mysql::protocol::value::escape::{interpolate, EscapeContext, InterpolateError};
use actix_mysql::protocol::{auth, buf, command, constants, handshake, packet, response};
use actix_mysql::protocol::{resultset, session, statement, value, ProtocolError};
use actix_mysql::{
    codec, params, Client, Column, ColumnIndex, Connection, Date, DateTime, Decimal, Error,
    ErrorKind, ExecResult, FromRow, FromValue, FromValueError, IsolationLevel, Opts, Params, Pool,
    PoolOpts, PoolStats, PooledConn, QueryResult, ReconnectPolicy, Result, Row, RowStream,
    ServerError, SslMode, Statement, Time, Transaction, TransactionOpts, Value,
    DEFAULT_TEMPORARY_ERROR_CODES, DEFAULT_TEMPORARY_ERROR_STRINGS,
};

fn assert_send_sync<T: Send + Sync + 'static>() {}
fn assert_send<T: Send + 'static>() {}

#[test]
fn public_types_can_cross_threads() {
    assert_send_sync::<Error>();
    assert_send_sync::<Client>();
    assert_send_sync::<Pool>();
    assert_send_sync::<Opts>();
    assert_send_sync::<PoolOpts>();
    assert_send_sync::<Row>();
    assert_send_sync::<Value>();
    assert_send_sync::<Statement>();
    assert_send::<RowStream>();
    assert_send::<Transaction<'static>>();
}

#[test]
fn params_macro_builds_values() {
    let v: Vec<Value> = params![1, "two", 3.5, None::<i32>];
    assert_eq!(v.len(), 4);
    assert_eq!(v[3], Value::Null);
}
