//! Typed rows against real servers: `FromRow` for tuples and `#[derive(FromRow)]` structs.
mod support;

use std::error::Error as _;

use actix_mysql::{Client, Date, DateTime, Decimal, ErrorKind, FromRow, Row, Value};
use support::{client, servers, table_name};

/// The error and its source, as one string.
fn full_message(err: &actix_mysql::Error) -> String {
    match err.source() {
        Some(source) => format!("{err}: {source}"),
        None => err.to_string(),
    }
}

#[derive(Debug, PartialEq, FromRow)]
struct Audit {
    created_at: DateTime,
    #[mysql(rename = "created_by")]
    author: Option<String>,
}

#[derive(Debug, PartialEq, FromRow)]
struct Item {
    id: u32,
    name: String,
    #[mysql(rename = "unit_price")]
    price: Decimal,
    qty: i16,
    weight: Option<f64>,
    note: Option<String>,
    added: Option<Date>,
    #[mysql(default)]
    discount: Option<u8>,
    #[mysql(default)]
    tags: String,
    #[mysql(skip)]
    cached: Vec<String>,
    #[mysql(flatten)]
    audit: Audit,
}

#[derive(Debug, PartialEq, FromRow)]
#[mysql(rename_all = "camelCase")]
struct Camel {
    item_id: u32,
    item_name: String,
}

#[derive(Debug, PartialEq, FromRow)]
#[mysql(rename_all = "UPPERCASE")]
struct Upper {
    item_id: u32,
    r#type: String,
}

#[derive(Debug, PartialEq, FromRow)]
#[mysql(rename_all = "lowercase")]
#[allow(non_snake_case)]
struct Lower {
    ItemId: u32,
}

#[derive(Debug, PartialEq, FromRow)]
#[mysql(rename_all = "snake_case")]
struct Snake {
    item_id: u32,
}

#[derive(Debug, PartialEq, FromRow)]
struct Pair(u32, Option<String>);

#[derive(Debug, PartialEq, FromRow)]
struct Wrapped<T> {
    id: T,
}

async fn create_items(c: &Client, t: &str) {
    c.execute(format!("DROP TABLE IF EXISTS {t}"))
        .await
        .unwrap();
    c.execute(format!(
        "CREATE TABLE {t} (
            id INT UNSIGNED PRIMARY KEY, name VARCHAR(40) NOT NULL, unit_price DECIMAL(10,2),
            qty SMALLINT, weight DOUBLE NULL, note TEXT NULL, added DATE NULL,
            created_at DATETIME(6), created_by VARCHAR(20) NULL
        ) DEFAULT CHARSET = utf8mb4"
    ))
    .await
    .unwrap();
    c.execute(format!(
        "INSERT INTO {t} VALUES
            (1, 'bolt', 0.25, -3, 1.5, 'zinc ✓', '2024-02-29', '2024-03-01 10:20:30.000004', 'ann'),
            (2, 'nut', 12.00, 7, NULL, NULL, NULL, '1999-12-31 23:59:59', NULL)"
    ))
    .await
    .unwrap();
}

#[actix_rt::test]
async fn should_read_derived_structs_by_column_name() {
    for srv in servers() {
        let c = client(srv);
        let t = table_name("t_fr", srv, "derive");
        create_items(&c, &t).await;

        let rows = c
            .query(format!("SELECT * FROM {t} ORDER BY id"))
            .await
            .unwrap();
        let items = rows
            .into_iter()
            .map(Item::from_row)
            .collect::<actix_mysql::Result<Vec<_>>>()
            .unwrap();
        assert_eq!(items.len(), 2, "{}", srv.name);

        let bolt = &items[0];
        assert_eq!(bolt.id, 1);
        assert_eq!(bolt.name, "bolt");
        assert_eq!(bolt.price.to_string(), "0.25");
        assert_eq!(bolt.qty, -3);
        assert_eq!(bolt.weight, Some(1.5));
        assert_eq!(bolt.note.as_deref(), Some("zinc ✓"));
        assert_eq!(
            bolt.added,
            Some(Date {
                year: 2024,
                month: 2,
                day: 29
            })
        );
        assert_eq!(bolt.discount, None);
        assert_eq!(bolt.tags, "");
        assert!(bolt.cached.is_empty());
        assert_eq!(
            bolt.audit.created_at.to_string(),
            "2024-03-01 10:20:30.000004"
        );
        assert_eq!(bolt.audit.author.as_deref(), Some("ann"));

        let nut = &items[1];
        assert_eq!(nut.price.to_string(), "12.00");
        assert_eq!(
            (nut.weight, nut.note.as_deref(), nut.added),
            (None, None, None)
        );
        assert_eq!(nut.audit.author, None);

        // Present columns marked `default` are read; `skip` ignores a column of that name.
        let row = c
            .query_first(format!(
                "SELECT *, 15 AS discount, 'a,b' AS tags, 'x' AS cached FROM {t} WHERE id = 2"
            ))
            .await
            .unwrap()
            .unwrap();
        let nut = Item::from_row(row).unwrap();
        assert_eq!(nut.discount, Some(15));
        assert_eq!(nut.tags, "a,b");
        assert!(nut.cached.is_empty());

        // rename_all, raw identifiers and generics.
        let row = c
            .query_first(format!(
                "SELECT id AS itemId, name AS itemName, id AS ITEM_ID, name AS `TYPE`,
                        id AS itemid, id AS item_id, id
                 FROM {t} WHERE id = 1"
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            Camel::from_row(row.clone()).unwrap(),
            Camel {
                item_id: 1,
                item_name: "bolt".into()
            }
        );
        assert_eq!(
            Upper::from_row(row.clone()).unwrap(),
            Upper {
                item_id: 1,
                r#type: "bolt".into()
            }
        );
        assert_eq!(Lower::from_row(row.clone()).unwrap(), Lower { ItemId: 1 });
        assert_eq!(Snake::from_row(row.clone()).unwrap(), Snake { item_id: 1 });
        assert_eq!(Wrapped::<u64>::from_row(row).unwrap(), Wrapped { id: 1 });

        c.execute(format!("DROP TABLE {t}")).await.unwrap();
    }
}

#[actix_rt::test]
async fn should_read_tuples_and_tuple_structs_by_position() {
    for srv in servers() {
        let c = client(srv);
        let t = table_name("t_fr", srv, "tuples");
        create_items(&c, &t).await;

        let rows = c
            .query(format!("SELECT id, note FROM {t} ORDER BY id"))
            .await
            .unwrap();
        let pairs: Vec<(u32, Option<String>)> = rows
            .iter()
            .cloned()
            .map(FromRow::from_row)
            .collect::<actix_mysql::Result<_>>()
            .unwrap();
        assert_eq!(
            pairs,
            [(1, Some("zinc ✓".to_string())), (2, None)],
            "{}",
            srv.name
        );
        let structs: Vec<Pair> = rows
            .iter()
            .cloned()
            .map(Pair::from_row)
            .collect::<actix_mysql::Result<_>>()
            .unwrap();
        assert_eq!(structs, [Pair(1, Some("zinc ✓".into())), Pair(2, None)]);

        let row = rows[0].clone();
        let (one,) =
            <(Value,)>::from_row(c.query_first("SELECT 1").await.unwrap().unwrap()).unwrap();
        assert_eq!(one, Value::Int(1));
        assert_eq!(
            Vec::<Value>::from_row(row.clone()).unwrap(),
            row.values().to_vec()
        );
        assert_eq!(Row::from_row(row.clone()).unwrap(), row);

        // All sixteen positions.
        let row = c
            .query_first("SELECT 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 'sixteen'")
            .await
            .unwrap()
            .unwrap();
        #[allow(clippy::type_complexity)]
        let wide: (
            u8,
            u16,
            u32,
            u64,
            i8,
            i16,
            i32,
            i64,
            u8,
            u8,
            u8,
            u8,
            u8,
            u8,
            f64,
            String,
        ) = FromRow::from_row(row).unwrap();
        assert_eq!((wide.0, wide.7, wide.14), (1, 8, 15.0));
        assert_eq!(wide.15, "sixteen");

        c.execute(format!("DROP TABLE {t}")).await.unwrap();
    }
}

#[actix_rt::test]
async fn should_report_conversion_and_shape_errors() {
    for srv in servers() {
        let c = client(srv);
        let t = table_name("t_fr", srv, "errors");
        create_items(&c, &t).await;
        let row = c
            .query_first(format!("SELECT * FROM {t} WHERE id = 2"))
            .await
            .unwrap()
            .unwrap();

        // A value that does not convert: the column, the value and both types are named.
        #[derive(Debug, FromRow)]
        #[allow(dead_code)]
        struct BadType {
            id: u32,
            name: i64,
        }
        let err = BadType::from_row(row.clone()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "{}", srv.name);
        let msg = full_message(&err);
        assert!(msg.contains("\"name\""), "{msg}");
        assert!(msg.contains("Bytes") && msg.contains("i64"), "{msg}");

        let err = <(u32, u8)>::from_row(
            c.query_first(format!("SELECT id, unit_price FROM {t} WHERE id = 1"))
                .await
                .unwrap()
                .unwrap(),
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
        let msg = full_message(&err);
        assert!(msg.contains("\"unit_price\""), "{msg}");
        assert!(msg.contains("Decimal") && msg.contains("u8"), "{msg}");
        assert!(msg.contains("not an integer"), "{msg}");

        // NULL into a non-Option field.
        #[derive(Debug, FromRow)]
        #[allow(dead_code)]
        struct NotNull {
            weight: f64,
        }
        let msg = full_message(&NotNull::from_row(row.clone()).unwrap_err());
        assert!(
            msg.contains("\"weight\"") && msg.contains("unexpected NULL"),
            "{msg}"
        );

        // A missing column (without `default`) is a usage error naming it.
        #[derive(Debug, FromRow)]
        #[allow(dead_code)]
        struct Missing {
            id: u32,
            colour: String,
        }
        let err = Missing::from_row(row.clone()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage);
        assert!(err.to_string().contains("colour"), "{err}");

        // `default` covers a missing column only: a present one must still convert.
        #[derive(Debug, FromRow)]
        #[allow(dead_code)]
        struct PresentBad {
            #[mysql(default)]
            name: u64,
        }
        let err = PresentBad::from_row(row.clone()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);

        // Tuple arity: both counts are named.
        let err = <(u32, String)>::from_row(row.clone()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage);
        let msg = err.to_string();
        assert!(msg.contains("2 columns for a 2-tuple"), "{msg}");
        assert!(msg.contains("got 9 columns"), "{msg}");
        let err = Pair::from_row(row).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Usage);
        assert!(err.to_string().contains("got 9 columns"), "{err}");

        c.execute(format!("DROP TABLE {t}")).await.unwrap();
    }
}

#[actix_rt::test]
async fn should_convert_rows_as_they_arrive_and_keep_the_connection_in_step() {
    for srv in servers() {
        let c = client(srv);
        let t = table_name("t_fr", srv, "streamed");
        create_items(&c, &t).await;

        // 5,000 rows converted while they are read, text and binary.
        let digits = |n: u32| {
            (0..n)
                .map(|d| format!("SELECT {d} d"))
                .collect::<Vec<_>>()
                .join(" UNION ALL ")
        };
        let (ten, five) = (digits(10), digits(5));
        let sql = format!(
            "SELECT seq, CONCAT('n', seq) FROM (SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 1 \
             AS seq FROM ({ten}) a, ({ten}) b, ({ten}) c, ({five}) e) x ORDER BY seq"
        );
        let rows: Vec<(u32, String)> = c.query_as(sql).await.unwrap();
        assert_eq!(rows.len(), 5000, "{}", srv.name);
        assert_eq!(rows[4999], (5000, "n5000".to_string()), "{}", srv.name);
        let stmt = c
            .prepare(format!("SELECT id, name FROM {t} ORDER BY id"))
            .await
            .unwrap();
        let typed: Vec<(u32, String)> = c.exec_as(&stmt, ()).await.unwrap();
        assert_eq!(
            typed,
            vec![(1, "bolt".into()), (2, "nut".into())],
            "{}",
            srv.name
        );

        // The second row fails to convert (NULL into f64): the error names it, the rest of
        // the reply is still read and the next command gets its own answer.
        let err = c
            .query_as::<(u32, f64)>(format!("SELECT id, weight FROM {t} ORDER BY id"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "{}", srv.name);
        assert!(full_message(&err).contains("weight"), "{err}");
        let err = c.exec_as::<(u32, u8)>(&stmt, ()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "{}", srv.name);
        let n: Vec<(i64,)> = c.query_as("SELECT 41 + 1").await.unwrap();
        assert_eq!(n, vec![(42,)], "{}", srv.name);

        // A server error ends the conversion with the server's error.
        let err = c
            .query_as::<(u32,)>("SELECT id FROM no_such_table_here")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server, "{}", srv.name);
    }
}
