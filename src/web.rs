//! actix-web integration (feature `actix-web`): [`Error`] as an
//! [`actix_web::ResponseError`].
//!
//! The mapping is documented on the impl (see `Error` in the API docs).
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

use crate::error::{Error, ErrorKind};

/// Server error codes answered with `409 Conflict`.
const CONFLICT_CODES: &[u16] = &[
    1022, // ER_DUP_KEY
    1062, // ER_DUP_ENTRY
    1586, // ER_DUP_ENTRY_WITH_KEY_NAME
    1451, // ER_ROW_IS_REFERENCED_2: a foreign key still points at the row
];

/// Server error codes caused by the values sent, answered with `400 Bad Request`.
const BAD_INPUT_CODES: &[u16] = &[
    1048, // ER_BAD_NULL_ERROR
    1264, // ER_WARN_DATA_OUT_OF_RANGE
    1265, // WARN_DATA_TRUNCATED
    1292, // ER_TRUNCATED_WRONG_VALUE
    1366, // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
    1367, // ER_ILLEGAL_VALUE_FOR_TYPE
    1406, // ER_DATA_TOO_LONG
    1452, // ER_NO_REFERENCED_ROW_2
    3819, // ER_CHECK_CONSTRAINT_VIOLATED (MySQL)
    4025, // ER_CONSTRAINT_FAILED (MariaDB)
];

/// Server error codes meaning "try again later", answered with `503 Service Unavailable`.
const UNAVAILABLE_CODES: &[u16] = &[
    1040, // ER_CON_COUNT_ERROR
    1053, // ER_SERVER_SHUTDOWN
    1205, // ER_LOCK_WAIT_TIMEOUT
    1213, // ER_LOCK_DEADLOCK
    1927, // ER_CONNECTION_KILLED (MariaDB)
    4031, // ER_CLIENT_INTERACTION_TIMEOUT (MySQL)
];

impl Error {
    fn http_status(&self) -> StatusCode {
        match self.kind() {
            ErrorKind::Io
            | ErrorKind::ConnectionLost
            | ErrorKind::Timeout
            | ErrorKind::QueueFull
            | ErrorKind::Closed
            | ErrorKind::TransactionAborted => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Server => match self.code() {
                Some(c) if CONFLICT_CODES.contains(&c) => StatusCode::CONFLICT,
                Some(c) if BAD_INPUT_CODES.contains(&c) => StatusCode::BAD_REQUEST,
                Some(c) if UNAVAILABLE_CODES.contains(&c) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ErrorKind::RowCount if self.is_no_row() => StatusCode::NOT_FOUND,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The body's category for a status.
fn category(status: StatusCode) -> &'static str {
    match status {
        StatusCode::CONFLICT => "conflict",
        StatusCode::NOT_FOUND => "not found",
        StatusCode::BAD_REQUEST => "invalid input",
        StatusCode::SERVICE_UNAVAILABLE => "database unavailable",
        _ => "internal error",
    }
}

/// Feature `actix-web`.
///
/// A handler can return `Result<_, actix_mysql::Error>` (or use `?` on the crate's calls inside
/// a handler returning `actix_web::Result`), and the error becomes an HTTP response:
///
/// | error | status |
/// |---|---|
/// | server error 1062, 1022, 1586 (duplicate key), 1451 (row is still referenced) | `409 Conflict` |
/// | [`ErrorKind::RowCount`] from `query_one` when the query returned no row ([`Error::is_no_row`]) | `404 Not Found` |
/// | server error caused by the data: 1048 (NULL in a `NOT NULL` column), 1264 (out of range), 1265, 1292, 1366, 1367 (bad or truncated value), 1406 (too long), 1452 (referenced row missing), 3819, 4025 (`CHECK` constraint) | `400 Bad Request` |
/// | [`ErrorKind::Io`], [`ErrorKind::ConnectionLost`], [`ErrorKind::Timeout`], [`ErrorKind::QueueFull`], [`ErrorKind::Closed`], [`ErrorKind::TransactionAborted`]; server errors 1040 (too many connections), 1053 (shutdown), 1205 (lock wait timeout), 1213 (deadlock), 1927 (connection killed), 4031 (idle timeout) | `503 Service Unavailable` |
/// | anything else (other server errors, [`ErrorKind::Auth`], [`ErrorKind::Tls`], [`ErrorKind::Config`], [`ErrorKind::Decode`], [`ErrorKind::Protocol`], [`ErrorKind::Usage`], more than one row for `query_one`) | `500 Internal Server Error` |
///
/// The response body is a short JSON object naming the category only, e.g.
/// `{"error":"conflict"}`: it never contains the SQL text, the server's message (which may quote
/// row data), the connection URL or a password. Log the [`Error`] itself (its `Display` has the
/// details) where the operator can see it.
impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        self.http_status()
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let mut res = HttpResponse::build(status);
        res.insert_header((header::CONTENT_TYPE, "application/json"));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            res.insert_header((header::RETRY_AFTER, "1"));
        }
        res.body(format!(r#"{{"error":"{}"}}"#, category(status)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::exactly_one;
    use crate::protocol::response::ErrPacket;

    fn server(code: u16, message: &str) -> Error {
        Error::server(ErrPacket {
            code,
            sql_state: "23000".into(),
            message: message.into(),
        })
        .with_query("INSERT INTO users (name, password) VALUES ('bob', 'hunter2')")
    }

    fn body(e: &Error) -> String {
        let res = e.error_response();
        let body = actix_web::body::to_bytes(res.into_body());
        let bytes = futures_util::FutureExt::now_or_never(body)
            .expect("the body is ready")
            .expect("the body can be read");
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn maps_errors_to_statuses() {
        let cases: Vec<(Error, StatusCode)> = vec![
            (
                server(1062, "Duplicate entry 'bob' for key 'name'"),
                StatusCode::CONFLICT,
            ),
            (server(1451, "Cannot delete"), StatusCode::CONFLICT),
            (exactly_one(Vec::new()).unwrap_err(), StatusCode::NOT_FOUND),
            (server(1406, "Data too long"), StatusCode::BAD_REQUEST),
            (server(1048, "cannot be null"), StatusCode::BAD_REQUEST),
            (server(1366, "Incorrect integer"), StatusCode::BAD_REQUEST),
            (server(4025, "CONSTRAINT failed"), StatusCode::BAD_REQUEST),
            (server(3819, "Check constraint"), StatusCode::BAD_REQUEST),
            (server(1213, "Deadlock"), StatusCode::SERVICE_UNAVAILABLE),
            (server(1040, "Too many"), StatusCode::SERVICE_UNAVAILABLE),
            (
                Error::connection_lost(true),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                Error::transaction_aborted(false),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (Error::timeout("queue"), StatusCode::SERVICE_UNAVAILABLE),
            (Error::closed(), StatusCode::SERVICE_UNAVAILABLE),
            (
                Error::new(ErrorKind::QueueFull),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                std::io::Error::from(std::io::ErrorKind::ConnectionRefused).into(),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                server(1064, "You have an error in your SQL syntax"),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            (
                server(1146, "Table doesn't exist"),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            (
                Error::usage("expected 2 parameters, got 1"),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            (Error::config("bad URL"), StatusCode::INTERNAL_SERVER_ERROR),
            (
                Error::new(ErrorKind::Auth),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            (Error::tls("no TLS"), StatusCode::INTERNAL_SERVER_ERROR),
        ];
        for (err, status) in cases {
            assert_eq!(err.status_code(), status, "{err}");
            assert_eq!(err.error_response().status(), status, "{err}");
        }
    }

    #[test]
    fn body_names_the_category_and_leaks_nothing() {
        let e = server(1062, "Duplicate entry 'bob' for key 'name'");
        let b = body(&e);
        assert_eq!(b, r#"{"error":"conflict"}"#);
        for secret in ["INSERT", "hunter2", "bob", "Duplicate", "1062"] {
            assert!(!b.contains(secret), "{b}");
        }
        assert_eq!(
            body(&Error::closed()),
            r#"{"error":"database unavailable"}"#
        );
        assert_eq!(
            body(&exactly_one(Vec::new()).unwrap_err()),
            r#"{"error":"not found"}"#
        );
        let res = Error::connection_lost(false).error_response();
        assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "1");
        assert_eq!(
            res.headers().get(header::CONTENT_TYPE).unwrap(),
            "application/json"
        );
    }
}
