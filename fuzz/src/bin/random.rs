//! A stable-toolchain fallback for `cargo fuzz`: runs each target on random mutations of its
//! seeds (bit flips, byte changes, insertions, deletions, truncations, splices) and on random
//! bytes, for a given time. No coverage feedback: it finds shallow bugs only.
//!
//! ```text
//! cargo run --release --no-default-features --bin random -- SECONDS [TARGET...]
//! cargo run --release --no-default-features --bin random -- --replay TARGET FILE...
//! cargo run --release --no-default-features --bin random -- --write-seeds DIR
//! ```
//!
//! `--write-seeds DIR` writes every target's seeds to `DIR/TARGET/seed-N` (the initial corpus for
//! `cargo fuzz`).
//!
//! A panicking input is written to `artifacts/TARGET/crash-N` and the exit status is 1.
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use actix_mysql_fuzz::{seeds, TARGETS};

/// xorshift64*: enough randomness for mutations, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

const INTERESTING: &[u8] = &[0x00, 0x01, 0x7F, 0x80, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF];

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, pool: &[Vec<u8>]) {
    for _ in 0..=rng.below(4) {
        match rng.below(8) {
            0 if !input.is_empty() => {
                let i = rng.below(input.len());
                input[i] ^= 1 << rng.below(8);
            }
            1 if !input.is_empty() => {
                let i = rng.below(input.len());
                input[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => {
                let i = rng.below(input.len() + 1);
                input.insert(i, rng.byte());
            }
            3 if !input.is_empty() => {
                let i = rng.below(input.len());
                input.remove(i);
            }
            4 => {
                let n = rng.below(input.len() + 1);
                input.truncate(n);
            }
            5 if !pool.is_empty() => {
                let other = &pool[rng.below(pool.len())];
                let at = rng.below(input.len() + 1);
                let from = rng.below(other.len() + 1);
                input.truncate(at);
                input.extend_from_slice(&other[from..]);
            }
            6 if !input.is_empty() => {
                let i = rng.below(input.len());
                input[i] = input[i].wrapping_add(rng.byte() % 5).wrapping_sub(2);
            }
            _ => {
                let n = rng.below(8);
                for _ in 0..n {
                    input.push(rng.byte());
                }
            }
        }
    }
}

fn run_one(target: fn(&[u8]), input: &[u8]) -> bool {
    catch_unwind(AssertUnwindSafe(|| target(input))).is_ok()
}

fn save_crash(name: &str, n: usize, input: &[u8]) -> String {
    let dir = format!("artifacts/{name}");
    let _ = std::fs::create_dir_all(&dir);
    let path = format!("{dir}/crash-{n}");
    let _ = std::fs::write(&path, input);
    path
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--replay") {
        let name = args.get(1).expect("--replay TARGET FILE...");
        let (_, target) = TARGETS
            .iter()
            .find(|(n, _)| n == name)
            .expect("unknown target");
        for file in &args[2..] {
            let input = std::fs::read(file).expect("readable input");
            target(&input);
            println!("{file}: ok");
        }
        return;
    }
    if args.first().map(String::as_str) == Some("--write-seeds") {
        let dir = args.get(1).expect("--write-seeds DIR");
        for (name, _) in TARGETS {
            let target_dir = format!("{dir}/{name}");
            std::fs::create_dir_all(&target_dir).expect("corpus directory");
            for (i, seed) in seeds(name).iter().enumerate() {
                std::fs::write(format!("{target_dir}/seed-{i}"), seed).expect("seed written");
            }
        }
        return;
    }
    let seconds: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(10);
    let wanted: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    // Panics are findings, reported once per input below; keep the default hook quiet.
    std::panic::set_hook(Box::new(|_| {}));
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        | 1;
    let mut failed = false;
    for (name, target) in TARGETS {
        if !wanted.is_empty() && !wanted.contains(name) {
            continue;
        }
        let mut rng = Rng(seed ^ name.len() as u64);
        let mut pool = seeds(name);
        let start = Instant::now();
        let mut execs = 0u64;
        let mut crashes = 0usize;
        while start.elapsed() < Duration::from_secs(seconds) {
            for _ in 0..256 {
                let mut input = if pool.is_empty() || rng.below(10) == 0 {
                    (0..rng.below(64)).map(|_| rng.byte()).collect()
                } else {
                    pool[rng.below(pool.len())].clone()
                };
                mutate(&mut rng, &mut input, &pool);
                execs += 1;
                if !run_one(*target, &input) {
                    crashes += 1;
                    let path = save_crash(name, crashes, &input);
                    eprintln!("{name}: panic on input saved to fuzz/{path}");
                    failed = true;
                } else if pool.len() < 4096 && rng.below(64) == 0 {
                    // Keep some mutants as new starting points.
                    pool.push(input);
                }
            }
        }
        println!(
            "{name}: {execs} execs in {:.0} s ({:.0}/s), {crashes} crashes",
            start.elapsed().as_secs_f64(),
            execs as f64 / start.elapsed().as_secs_f64()
        );
    }
    if failed {
        std::process::exit(1);
    }
}
