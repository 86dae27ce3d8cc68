//! The practical limit: a client that handshakes with the crate's sans-IO protocol code, then
//! writes pre-encoded commands and only walks packet headers to find the end of each reply.
//! Nothing is decoded into values.
use actix_mysql::protocol::auth::{AuthFlow, AuthParams, AuthStep};
use actix_mysql::protocol::constants::capabilities::*;
use actix_mysql::protocol::handshake::{Handshake, HandshakeResponse};
use actix_mysql::protocol::statement::PrepareOk;
use bytes::{Buf, BufMut, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct Raw {
    sock: TcpStream,
    buf: BytesMut,
    deprecate_eof: bool,
}

pub type Res<T> = Result<T, String>;

impl Raw {
    pub async fn connect(host: &str, port: u16, user: &str, pass: &str, db: &str) -> Res<Raw> {
        let sock = TcpStream::connect((host, port))
            .await
            .map_err(|e| e.to_string())?;
        sock.set_nodelay(true).map_err(|e| e.to_string())?;
        let mut raw = Raw {
            sock,
            buf: BytesMut::with_capacity(64 * 1024),
            deprecate_eof: false,
        };
        let (_, greeting) = raw.packet().await?;
        let hs = Handshake::parse(&greeting).map_err(|e| e.to_string())?;
        let wanted = CLIENT_LONG_PASSWORD
            | CLIENT_LONG_FLAG
            | CLIENT_CONNECT_WITH_DB
            | CLIENT_PROTOCOL_41
            | CLIENT_TRANSACTIONS
            | CLIENT_SECURE_CONNECTION
            | CLIENT_MULTI_RESULTS
            | CLIENT_PS_MULTI_RESULTS
            | CLIENT_PLUGIN_AUTH
            | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
            | CLIENT_DEPRECATE_EOF;
        let caps = hs.capabilities & wanted;
        raw.deprecate_eof = caps & CLIENT_DEPRECATE_EOF != 0;
        let params = AuthParams {
            password: pass.as_bytes(),
            secure_transport: false,
            server_public_key: None,
            allow_public_key_retrieval: true,
        };
        let (mut flow, plugin, response) =
            AuthFlow::start(&hs.auth_plugin, &hs.scramble, &params).map_err(|e| e.to_string())?;
        let mut payload = BytesMut::new();
        HandshakeResponse {
            capabilities: caps,
            max_packet_size: 16 * 1024 * 1024,
            collation: 45,
            username: user,
            auth_response: &response,
            database: Some(db),
            auth_plugin: &plugin,
            connect_attrs: &[],
            mariadb_capabilities: 0,
        }
        .encode(&mut payload);
        let mut seq = 1u8;
        raw.send(&payload, seq).await?;
        loop {
            let (s, p) = raw.packet().await?;
            match flow.next(&p, caps, &params).map_err(|e| e.to_string())? {
                AuthStep::Send(data) => {
                    seq = s.wrapping_add(1);
                    raw.send(&data, seq).await?;
                }
                AuthStep::Continue => {}
                AuthStep::Done(_) => break,
                AuthStep::Failed(e) => return Err(format!("{e:?}")),
                _ => return Err("unknown auth step".into()),
            }
        }
        Ok(raw)
    }

    async fn send(&mut self, payload: &[u8], seq: u8) -> Res<()> {
        let mut pkt = Vec::with_capacity(payload.len() + 4);
        pkt.extend_from_slice(&(payload.len() as u32).to_le_bytes()[..3]);
        pkt.push(seq);
        pkt.extend_from_slice(payload);
        self.sock.write_all(&pkt).await.map_err(|e| e.to_string())
    }

    /// Reads one whole packet (used during setup only).
    async fn packet(&mut self) -> Res<(u8, Vec<u8>)> {
        loop {
            if self.buf.len() >= 4 {
                let len = u32::from_le_bytes([self.buf[0], self.buf[1], self.buf[2], 0]) as usize;
                if self.buf.len() >= 4 + len {
                    let seq = self.buf[3];
                    self.buf.advance(4);
                    let p = self.buf.split_to(len).to_vec();
                    return Ok((seq, p));
                }
            }
            self.fill().await?;
        }
    }

    async fn fill(&mut self) -> Res<()> {
        if self.buf.capacity() - self.buf.len() < 16 * 1024 {
            self.buf.reserve(64 * 1024);
        }
        let n = self
            .sock
            .read_buf(&mut self.buf)
            .await
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("closed".into());
        }
        Ok(())
    }

    /// A command packet (sequence id 0) for `payload`, to be sent with [`Raw::run`].
    pub fn command(payload: &[u8]) -> Vec<u8> {
        let mut pkt = Vec::with_capacity(payload.len() + 4);
        pkt.extend_from_slice(&(payload.len() as u32).to_le_bytes()[..3]);
        pkt.push(0);
        pkt.extend_from_slice(payload);
        pkt
    }

    /// `COM_QUERY`.
    pub fn query_packet(sql: &str) -> Vec<u8> {
        let mut p = vec![0x03];
        p.extend_from_slice(sql.as_bytes());
        Raw::command(&p)
    }

    /// `COM_STMT_EXECUTE` of `id` with one INT parameter (at byte 15 + nulls..; see
    /// [`Raw::patch_i32`]) or none.
    pub fn execute_packet(id: u32, int_params: usize, str_param: Option<&str>) -> Vec<u8> {
        let mut p = BytesMut::new();
        p.put_u8(0x17);
        p.put_u32_le(id);
        p.put_u8(0);
        p.put_u32_le(1);
        let n = int_params + str_param.is_some() as usize;
        if n > 0 {
            p.put_bytes(0, n.div_ceil(8));
            p.put_u8(1);
            for _ in 0..int_params {
                p.put_u8(3); // LONG
                p.put_u8(0);
            }
            if str_param.is_some() {
                p.put_u8(0xfd); // VAR_STRING
                p.put_u8(0);
            }
            for _ in 0..int_params {
                p.put_i32_le(0);
            }
            if let Some(s) = str_param {
                p.put_u8(s.len() as u8);
                p.put_slice(s.as_bytes());
            }
        }
        Raw::command(&p)
    }

    /// Offset in an [`Raw::execute_packet`] of the first INT parameter.
    pub fn int_offset(n_params: usize) -> usize {
        4 + 10 + n_params.div_ceil(8) + 1 + 2 * n_params
    }

    pub async fn prepare(&mut self, sql: &str) -> Res<(u32, usize)> {
        let mut p = vec![0x16];
        p.extend_from_slice(sql.as_bytes());
        self.send(&p, 0).await?;
        let (_, first) = self.packet().await?;
        if first.first() == Some(&0xff) {
            return Err(String::from_utf8_lossy(&first).into_owned());
        }
        let ok = PrepareOk::parse(&first).map_err(|e| e.to_string())?;
        let eofs = if self.deprecate_eof {
            0
        } else {
            (ok.num_params > 0) as usize + (ok.num_columns > 0) as usize
        };
        for _ in 0..ok.num_params as usize + ok.num_columns as usize + eofs {
            self.packet().await?;
        }
        Ok((ok.statement_id, ok.num_params as usize))
    }

    /// Sends a pre-encoded command and reads its reply; returns the number of packets of the
    /// reply (rows + metadata + end).
    pub async fn run(&mut self, pkt: &[u8]) -> Res<usize> {
        self.sock.write_all(pkt).await.map_err(|e| e.to_string())?;
        self.skip_reply().await
    }

    async fn skip_reply(&mut self) -> Res<usize> {
        let mut packets = 0usize;
        // EOF packets still to see before the end (without CLIENT_DEPRECATE_EOF: 2).
        let mut eofs_left = if self.deprecate_eof { 1 } else { 2 };
        loop {
            let mut pos = 0;
            let data = &self.buf[..];
            let mut done = false;
            while data.len() - pos >= 4 {
                let len = u32::from_le_bytes([data[pos], data[pos + 1], data[pos + 2], 0]) as usize;
                if data.len() - pos - 4 < len {
                    break;
                }
                let first = data.get(pos + 4).copied();
                pos += 4 + len;
                packets += 1;
                if packets == 1 && first == Some(0xff) {
                    let msg = String::from_utf8_lossy(&data[pos - len..pos]).into_owned();
                    self.buf.advance(pos);
                    return Err(msg);
                }
                if packets == 1 && first == Some(0x00) {
                    done = true;
                    break;
                }
                if first == Some(0xfe) && len < 0xff_ffff && len < 9 + 256 {
                    eofs_left -= 1;
                    if eofs_left == 0 {
                        done = true;
                        break;
                    }
                }
            }
            self.buf.advance(pos);
            if done {
                return Ok(packets);
            }
            self.fill().await?;
        }
    }

    pub fn deprecate_eof(&self) -> bool {
        self.deprecate_eof
    }
}
