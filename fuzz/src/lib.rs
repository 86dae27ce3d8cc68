//! Fuzz targets for the protocol layer of actix-mysql: every function takes arbitrary bytes,
//! drives one decoder with them, and checks invariants that must hold for any input. A panic
//! is a finding.
//!
//! The targets are run by `cargo fuzz` (libFuzzer, `fuzz_targets/`) or, without a nightly
//! toolchain, by the `random` binary (`src/bin/random.rs`). `scripts/fuzz.sh` picks one.
use actix_mysql::codec::PacketCodec;
use actix_mysql::protocol::auth::{AuthFlow, AuthParams, AuthStep};
use actix_mysql::protocol::constants::capabilities::*;
use actix_mysql::protocol::constants::ColumnType;
use actix_mysql::protocol::handshake::{Handshake, HandshakeResponse};
use actix_mysql::protocol::response::{self, EofPacket, ErrPacket, OkPacket};
use actix_mysql::protocol::resultset::{QueryEvent, TextResultDecoder};
use actix_mysql::protocol::session::parse_session_changes;
use actix_mysql::protocol::value::decode_text;
use actix_mysql::{Date, DateTime, Decimal, Time, Value};
use bytes::{Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// A fuzz target: takes any bytes, panics on a finding.
pub type Target = fn(&[u8]);

/// The targets, by name.
pub const TARGETS: &[(&str, Target)] = &[
    ("codec", codec),
    ("handshake", handshake),
    ("auth", auth),
    ("resultset", resultset),
    ("value", value),
    ("packets", packets),
];

/// Splits `data` into packets, each prefixed by its length: one byte, or `0xFF` followed by a
/// little-endian `u16`. A short last packet takes what is left.
pub fn split_packets(mut data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while let Some((&first, rest)) = data.split_first() {
        let (len, rest) = match (first, rest) {
            (0xFF, [a, b, rest @ ..]) => (usize::from(u16::from_le_bytes([*a, *b])), rest),
            (0xFF, rest) => (rest.len(), rest),
            (n, rest) => (usize::from(n), rest),
        };
        let len = len.min(rest.len());
        let (packet, tail) = rest.split_at(len);
        out.push(packet);
        data = tail;
    }
    out
}

/// The inverse of [`split_packets`], for building seeds.
pub fn join_packets(packets: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in packets {
        if p.len() < 0xFF {
            out.push(p.len() as u8);
        } else {
            out.push(0xFF);
            out.extend_from_slice(&(p.len() as u16).to_le_bytes());
        }
        out.extend_from_slice(p);
    }
    out
}

// ------------------------------------------------------------------ codec

/// The packet codec: arbitrary bytes, delivered in chunks, under a small `max_allowed_packet`.
/// No payload may exceed the bound; a payload encoded by the codec decodes back to itself.
pub fn codec(data: &[u8]) {
    let Some((&cfg, rest)) = data.split_first() else {
        return;
    };
    const MAX: [usize; 8] = [0, 1, 4, 16, 255, 1024, 0xFF_FFFF, 1 << 25];
    let max = MAX[usize::from(cfg & 7)];
    let chunk = usize::from(cfg >> 3) + 1;
    let mut codec = PacketCodec::new(max);
    codec.set_seq(cfg.rotate_left(3));
    let mut src = BytesMut::new();
    let mut broken = false;
    'feed: for piece in rest.chunks(chunk) {
        src.extend_from_slice(piece);
        loop {
            match codec.decode(&mut src) {
                Ok(Some(payload)) => assert!(payload.len() <= max, "payload over the bound"),
                Ok(None) => break,
                Err(_) => {
                    broken = true;
                    break 'feed;
                }
            }
        }
    }
    if !broken {
        if let Ok(Some(payload)) = codec.decode_eof(&mut src) {
            assert!(payload.len() <= max);
        }
    }

    let mut enc = PacketCodec::new(usize::MAX);
    let mut wire = BytesMut::new();
    enc.encode(rest, &mut wire).expect("encoding cannot fail");
    let mut dec = PacketCodec::new(rest.len());
    let back = dec
        .decode(&mut wire)
        .expect("own packets decode")
        .expect("complete");
    assert_eq!(&back[..], rest);
    assert!(wire.is_empty());
    assert_eq!(dec.seq(), enc.seq());
}

// ------------------------------------------------------------------ handshake

const PASSWORD: &[u8] = b"fuzz-password-\xe2\x82\xac";

/// The server greeting, then what the client would answer to it.
pub fn handshake(data: &[u8]) {
    let Ok(hs) = Handshake::parse(data) else {
        return;
    };
    assert_eq!(hs.protocol_version, 10);
    let _ = hs.version();
    let _ = hs.is_mariadb();
    let params = AuthParams {
        password: PASSWORD,
        secure_transport: false,
        server_public_key: None,
        allow_public_key_retrieval: false,
    };
    let Ok((_flow, plugin, auth_response)) =
        AuthFlow::start(&hs.auth_plugin, &hs.scramble, &params)
    else {
        return;
    };
    assert!(!contains(&auth_response, PASSWORD), "password in clear");
    let response = HandshakeResponse {
        capabilities: hs.capabilities,
        max_packet_size: 1 << 24,
        collation: hs.collation,
        username: "fuzz",
        auth_response: &auth_response,
        database: Some("db"),
        auth_plugin: &plugin,
        connect_attrs: &[("_client_name", "fuzz")],
        mariadb_capabilities: 0,
    };
    let mut buf = BytesMut::new();
    response.encode(&mut buf);
    assert!(buf.len() >= 32);
}

// ------------------------------------------------------------------ auth

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

const PLUGINS: [&str; 7] = [
    "mysql_native_password",
    "caching_sha2_password",
    "sha256_password",
    "mysql_clear_password",
    "client_ed25519",
    "",
    "dialog",
];

/// The authentication exchange: a configuration byte (plugin, transport, key retrieval), the
/// scramble, then server packets. Over an insecure transport the password must never be sent
/// in clear; after OK or ERR the exchange is finished.
pub fn auth(data: &[u8]) {
    let Some((&cfg, rest)) = data.split_first() else {
        return;
    };
    let plugin = PLUGINS[usize::from(cfg & 7) % PLUGINS.len()];
    let params = AuthParams {
        password: PASSWORD,
        secure_transport: cfg & 8 != 0,
        server_public_key: None,
        allow_public_key_retrieval: cfg & 16 != 0,
    };
    let caps = CLIENT_PROTOCOL_41
        | CLIENT_TRANSACTIONS
        | if cfg & 32 != 0 {
            CLIENT_SESSION_TRACK
        } else {
            0
        };
    let packets = split_packets(rest);
    let scramble = packets.first().copied().unwrap_or_default();
    let Ok((mut flow, _, first)) = AuthFlow::start(plugin, scramble, &params) else {
        return;
    };
    let insecure = !params.secure_transport;
    assert!(
        !(insecure && contains(&first, PASSWORD)),
        "password in clear"
    );
    for packet in packets.iter().skip(1) {
        match flow.next(packet, caps, &params) {
            Ok(AuthStep::Send(data)) => {
                assert!(
                    !(insecure && contains(&data, PASSWORD)),
                    "password in clear"
                );
                assert!(!flow.is_finished());
            }
            Ok(AuthStep::Done(_)) | Ok(AuthStep::Failed(_)) => {
                assert!(flow.is_finished());
                assert!(flow.next(packet, caps, &params).is_err());
                return;
            }
            Ok(_) => {}
            Err(_) => return,
        }
    }
}

// ------------------------------------------------------------------ result sets and values

/// Converts a value to every type it might be read as; none may panic.
pub fn convert_all(v: &Value) {
    macro_rules! try_all {
        ($($t:ty),* $(,)?) => {$( let _ = v.clone().into_typed::<$t>(); )*};
    }
    try_all!(
        i8,
        i16,
        i32,
        i64,
        i128,
        isize,
        u8,
        u16,
        u32,
        u64,
        u128,
        usize,
        f32,
        f64,
        bool,
        String,
        Vec<u8>,
        Bytes,
        Date,
        DateTime,
        Time,
        std::time::Duration,
        Value,
        Option<i64>,
        Option<String>,
        chrono::NaiveDate,
        chrono::NaiveDateTime,
        chrono::DateTime<chrono::Utc>,
        chrono::NaiveTime,
        chrono::TimeDelta,
        time::Date,
        time::PrimitiveDateTime,
        time::OffsetDateTime,
        time::Time,
        time::Duration,
        rust_decimal::Decimal,
        serde_json::Value,
    );
    if let Ok(d) = v.clone().into_typed::<Decimal>() {
        let _ = (
            d.to_f64(),
            d.scale(),
            d.is_integer(),
            d.is_negative(),
            d.as_str(),
        );
    }
    let _ = format!("{v:?}");
}

/// The text-protocol response decoder over a sequence of payloads: a configuration byte
/// (capabilities), then packets. Rows always have as many values as the result has columns.
pub fn resultset(data: &[u8]) {
    let Some((&cfg, rest)) = data.split_first() else {
        return;
    };
    let mut caps = CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS;
    if cfg & 1 != 0 {
        caps |= CLIENT_DEPRECATE_EOF;
    }
    if cfg & 2 != 0 {
        caps |= CLIENT_OPTIONAL_RESULTSET_METADATA;
    }
    if cfg & 4 != 0 {
        caps |= CLIENT_SESSION_TRACK;
    }
    let mut decoder = TextResultDecoder::new(caps);
    let mut columns = 0;
    for packet in split_packets(rest) {
        if decoder.is_done() {
            assert!(decoder.feed(Bytes::copy_from_slice(packet)).is_err());
            return;
        }
        match decoder.feed(Bytes::copy_from_slice(packet)) {
            Ok(Some(QueryEvent::Columns(cols))) => {
                assert!(!cols.is_empty());
                columns = cols.len();
            }
            Ok(Some(QueryEvent::Row(values))) => {
                assert_eq!(values.len(), columns, "row width");
                for v in &values {
                    convert_all(v);
                }
            }
            Ok(_) => {}
            Err(_) => return,
        }
    }
}

/// One text value: type byte, flags (u16), charset (u16), then the value's bytes.
pub fn value(data: &[u8]) {
    let [ty, f0, f1, c0, c1, raw @ ..] = data else {
        return;
    };
    let Some(column_type) = ColumnType::from_u8(*ty) else {
        return;
    };
    let flags = u16::from_le_bytes([*f0, *f1]);
    let charset = u16::from_le_bytes([*c0, *c1]);
    if let Ok(v) = decode_text(Bytes::copy_from_slice(raw), column_type, flags, charset) {
        convert_all(&v);
    }
}

/// OK, ERR and EOF packets, and session-state change records.
pub fn packets(data: &[u8]) {
    let Some((&cfg, rest)) = data.split_first() else {
        return;
    };
    let mut caps = CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS;
    if cfg & 1 != 0 {
        caps |= CLIENT_SESSION_TRACK;
    }
    if cfg & 2 != 0 {
        caps &= !CLIENT_PROTOCOL_41;
    }
    let _ = OkPacket::parse(rest, caps);
    let _ = ErrPacket::parse(rest, caps);
    let _ = EofPacket::parse(rest);
    let _ = parse_session_changes(rest);
    let _ = (
        response::is_ok(rest),
        response::is_err(rest),
        response::is_eof(rest, cfg & 4 != 0),
    );
}

// ------------------------------------------------------------------ seeds

fn greeting(version: &str, caps: u32, plugin: &str) -> Vec<u8> {
    let scramble = b"abcdefgh0123456789AB";
    let mut p = vec![10];
    p.extend_from_slice(version.as_bytes());
    p.push(0);
    p.extend_from_slice(&42u32.to_le_bytes());
    p.extend_from_slice(&scramble[..8]);
    p.push(0);
    p.extend_from_slice(&(caps as u16).to_le_bytes());
    p.push(45);
    p.extend_from_slice(&2u16.to_le_bytes());
    p.extend_from_slice(&((caps >> 16) as u16).to_le_bytes());
    p.push(21);
    p.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0x1d, 0, 0, 0]);
    p.extend_from_slice(&scramble[8..]);
    p.push(0);
    p.extend_from_slice(plugin.as_bytes());
    p.push(0);
    p
}

fn column(name: &str, ty: u8) -> Vec<u8> {
    let mut p = Vec::new();
    for s in [
        &b"def"[..],
        b"db",
        b"t",
        b"t",
        name.as_bytes(),
        name.as_bytes(),
    ] {
        p.push(s.len() as u8);
        p.extend_from_slice(s);
    }
    p.push(0x0c);
    p.extend_from_slice(&45u16.to_le_bytes());
    p.extend_from_slice(&20u32.to_le_bytes());
    p.push(ty);
    p.extend_from_slice(&0u16.to_le_bytes());
    p.push(2);
    p.extend_from_slice(&[0, 0]);
    p
}

/// Realistic inputs to start each target from.
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    const OK: &[u8] = &[0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00];
    const EOF: &[u8] = &[0xFE, 0x00, 0x00, 0x02, 0x00];
    let err = b"\xff\x15\x04#28000Access denied for user 'u'@'h' (using password: YES)".to_vec();
    let mysql = greeting("9.7.0", 0xDFFF_FFFF, "caching_sha2_password");
    let mariadb = greeting(
        "5.5.5-10.11.6-MariaDB",
        0xC1FF_F7FE,
        "mysql_native_password",
    );
    match target {
        "codec" => {
            let mut framed = vec![0x05];
            let mut seq = 0u8;
            for p in [&mysql[..], OK, EOF, &err[..]] {
                framed.extend_from_slice(&(p.len() as u32).to_le_bytes()[..3]);
                framed.push(seq);
                seq = seq.wrapping_add(1);
                framed.extend_from_slice(p);
            }
            vec![framed, vec![0x06, 0xFF, 0xFF, 0xFF, 0x00, 1, 2, 3]]
        }
        "handshake" => vec![
            mysql,
            mariadb,
            greeting("8.0.40", 0xDFFF_FFFF, "client_ed25519"),
        ],
        "auth" => {
            let scramble = b"abcdefgh0123456789AB".as_slice();
            let nonce = [7u8; 32];
            let mut switch_ed = b"\xfeclient_ed25519\0".to_vec();
            switch_ed.extend_from_slice(&nonce);
            let mut switch_native = b"\xfemysql_native_password\0".to_vec();
            switch_native.extend_from_slice(scramble);
            switch_native.push(0);
            vec![
                [vec![1], join_packets(&[scramble, &[1, 3], OK])].concat(),
                [
                    vec![1],
                    join_packets(&[scramble, &[1, 4], b"\x01-----BEGIN PUBLIC KEY-----\n"]),
                ]
                .concat(),
                [
                    vec![17],
                    join_packets(&[scramble, &[1, 4], b"\x01not a key", OK]),
                ]
                .concat(),
                [vec![0], join_packets(&[scramble, &switch_ed, OK])].concat(),
                [vec![2], join_packets(&[scramble, &switch_native, &err])].concat(),
                [
                    vec![0],
                    join_packets(&[scramble, b"\xfemysql_clear_password\0", OK]),
                ]
                .concat(),
            ]
        }
        "resultset" => {
            let cols = [column("id", 0x08), column("d", 0xF6), column("ts", 0x0C)];
            let row = b"\x0242\x071234.50\x132024-02-29 23:59:59".to_vec();
            let null_row = b"\xfb\xfb\xfb".to_vec();
            vec![
                [
                    vec![0],
                    join_packets(&[
                        &[3],
                        &cols[0],
                        &cols[1],
                        &cols[2],
                        EOF,
                        &row,
                        &null_row,
                        EOF,
                    ]),
                ]
                .concat(),
                [
                    vec![1],
                    join_packets(&[
                        &[3],
                        &cols[0],
                        &cols[1],
                        &cols[2],
                        &row,
                        b"\xfe\0\0\x02\0\0\0",
                    ]),
                ]
                .concat(),
                [vec![0], join_packets(&[b"\xfb/etc/passwd", OK])].concat(),
                [
                    vec![4],
                    join_packets(&[b"\x00\x00\x00\x0a\x40\x00\x00\x00\x08\x01\x06\x05\x04test"]),
                ]
                .concat(),
            ]
        }
        "value" => {
            let v = |ty: u8, raw: &[u8]| [vec![ty, 0, 0, 45, 0], raw.to_vec()].concat();
            vec![
                v(0x08, b"-9223372036854775808"),
                v(0xF6, b"-12345678901234567890.123456789"),
                v(0x0C, b"2024-02-29 23:59:59.999999"),
                v(0x0B, b"-838:59:59.000001"),
                v(0x0A, b"0000-00-00"),
                v(0xF5, b"{\"a\":[1,2.5,null]}"),
                v(0x05, b"1.7976931348623157e308"),
                v(0x10, b"\x01\x02"),
                v(0x0D, b"2155"),
            ]
        }
        "packets" => vec![
            [
                vec![1],
                b"\x00\x00\x00\x02\x40\x00\x00\x00\x0b\x01\x09\x0aautocommit\x03OFF".to_vec(),
            ]
            .concat(),
            [vec![0], OK.to_vec()].concat(),
            [vec![0], err.clone()].concat(),
            [vec![0], EOF.to_vec()].concat(),
        ],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_reach_deep_into_their_decoders() {
        for seed in seeds("handshake") {
            Handshake::parse(&seed).unwrap();
        }
        let seed = &seeds("resultset")[0];
        let mut decoder = TextResultDecoder::new(CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS);
        let mut rows = 0;
        for p in split_packets(&seed[1..]) {
            if let Some(QueryEvent::Row(values)) = decoder.feed(Bytes::copy_from_slice(p)).unwrap()
            {
                assert_eq!(values.len(), 3);
                rows += 1;
            }
        }
        assert_eq!(rows, 2);
        assert!(decoder.is_done());
        for seed in seeds("value") {
            let ty = ColumnType::from_u8(seed[0]).unwrap();
            decode_text(Bytes::copy_from_slice(&seed[5..]), ty, 0, 45).unwrap();
        }
        for (name, target) in TARGETS {
            assert!(!seeds(name).is_empty(), "{name}");
            for seed in seeds(name) {
                target(&seed);
            }
        }
    }

    #[test]
    fn packets_split_and_join() {
        let big = vec![1u8; 300];
        let packets: Vec<&[u8]> = vec![b"", b"abc", &big];
        assert_eq!(split_packets(&join_packets(&packets)), packets);
    }
}
