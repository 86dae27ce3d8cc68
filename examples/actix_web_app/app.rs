//! The service of the `actix_web_app` example: routes, handlers, and the error type. The
//! example's `main` and `tests/example_actix_web.rs` both build the app from [`configure`].
use actix_mysql::{FromRow, Pool};
use actix_web::http::StatusCode;
use actix_web::{error, web, HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};

/// Creates the table the service uses (idempotent).
pub async fn init_schema(pool: &Pool) -> Result<(), actix_mysql::Error> {
    pool.execute(
        "CREATE TABLE IF NOT EXISTS items (
            id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
            name VARCHAR(64) NOT NULL UNIQUE,
            quantity INT NOT NULL DEFAULT 0,
            CONSTRAINT quantity_not_negative CHECK (quantity >= 0)
        )",
    )
    .await?;
    Ok(())
}

/// Registers the routes. `pool` must already be in the app data (`web::Data<Pool>`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::JsonConfig::default().error_handler(|err, _req| {
        // A malformed body is the client's fault: 400 with the same JSON shape as every
        // other error.
        let res = HttpResponse::BadRequest().json(ErrorBody {
            error: "invalid input",
            detail: Some(err.to_string()),
        });
        error::InternalError::from_response(err, res).into()
    }))
    .service(
        web::resource("/items")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        web::resource("/items/{id}")
            .route(web::get().to(get))
            .route(web::put().to(update))
            .route(web::delete().to(delete)),
    );
}

/// A row of `items`, as stored and as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct Item {
    pub id: u64,
    pub name: String,
    pub quantity: i32,
}

/// What a client sends to create or replace an item.
#[derive(Debug, Deserialize)]
pub struct NewItem {
    pub name: String,
    #[serde(default)]
    pub quantity: i32,
}

#[derive(Serialize)]
struct ErrorBody {
    error: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

/// The handlers' error: a database error keeps the crate's own HTTP mapping (feature
/// `actix-web`: 409 for a duplicate key, 400 for values the table refuses, 503 when the
/// database is unreachable, 500 otherwise); the rest are decided here.
#[derive(Debug)]
pub enum ApiError {
    Db(actix_mysql::Error),
    NotFound,
    BadRequest(&'static str),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Db(e) => e.fmt(f),
            ApiError::NotFound => f.write_str("not found"),
            ApiError::BadRequest(why) => write!(f, "invalid input: {why}"),
        }
    }
}

impl From<actix_mysql::Error> for ApiError {
    fn from(e: actix_mysql::Error) -> Self {
        ApiError::Db(e)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Db(e) => e.status_code(),
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Db(e) => {
                // The response says only what kind of failure it was; the details (SQL text,
                // server message) go to the log.
                eprintln!("request failed: {e}");
                e.error_response()
            }
            ApiError::NotFound => HttpResponse::NotFound().json(ErrorBody {
                error: "not found",
                detail: None,
            }),
            ApiError::BadRequest(why) => HttpResponse::BadRequest().json(ErrorBody {
                error: "invalid input",
                detail: Some((*why).to_string()),
            }),
        }
    }
}

fn validate(item: &NewItem) -> Result<(), ApiError> {
    let name = item.name.trim();
    if name.is_empty() {
        return Err(ApiError::BadRequest("name must not be empty"));
    }
    if name.chars().count() > 64 {
        return Err(ApiError::BadRequest("name is longer than 64 characters"));
    }
    Ok(())
}

async fn fetch(pool: &Pool, id: u64) -> Result<Item, ApiError> {
    let row = pool
        .query_with("SELECT id, name, quantity FROM items WHERE id = ?", (id,))
        .await?
        .into_iter()
        .next()
        .ok_or(ApiError::NotFound)?;
    Ok(Item::from_row(row)?)
}

async fn list(pool: web::Data<Pool>) -> Result<web::Json<Vec<Item>>, ApiError> {
    let rows = pool
        .query("SELECT id, name, quantity FROM items ORDER BY id")
        .await?;
    let items = rows
        .into_iter()
        .map(Item::from_row)
        .collect::<Result<_, _>>()?;
    Ok(web::Json(items))
}

async fn create(pool: web::Data<Pool>, body: web::Json<NewItem>) -> Result<HttpResponse, ApiError> {
    validate(&body)?;
    let name = body.name.trim();
    let res = pool
        .execute_with(
            "INSERT INTO items (name, quantity) VALUES (?, ?)",
            (name, body.quantity),
        )
        .await?;
    let item = Item {
        id: res.insert_id,
        name: name.to_string(),
        quantity: body.quantity,
    };
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/items/{}", item.id)))
        .json(item))
}

async fn get(pool: web::Data<Pool>, id: web::Path<u64>) -> Result<web::Json<Item>, ApiError> {
    Ok(web::Json(fetch(&pool, id.into_inner()).await?))
}

async fn update(
    pool: web::Data<Pool>,
    id: web::Path<u64>,
    body: web::Json<NewItem>,
) -> Result<web::Json<Item>, ApiError> {
    validate(&body)?;
    let id = id.into_inner();
    pool.execute_with(
        "UPDATE items SET name = ?, quantity = ? WHERE id = ?",
        (body.name.trim(), body.quantity, id),
    )
    .await?;
    // `affected_rows` is 0 both for a missing row and for an update that changed nothing, so
    // read the row back: that tells the two apart and returns what is stored.
    Ok(web::Json(fetch(&pool, id).await?))
}

async fn delete(pool: web::Data<Pool>, id: web::Path<u64>) -> Result<HttpResponse, ApiError> {
    let res = pool
        .execute_with("DELETE FROM items WHERE id = ?", (id.into_inner(),))
        .await?;
    if res.affected_rows == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}
