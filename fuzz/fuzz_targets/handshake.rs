#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| actix_mysql_fuzz::handshake(data));
