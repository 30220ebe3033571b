//! `agentchain-fuzz`: runs the runtime call fuzzer without a coverage-guided engine, or replays
//! inputs.
//!
//! ```text
//! agentchain-fuzz run [--seed S] [--sequences N] [--max-len BYTES] [--crashes DIR]
//! agentchain-fuzz replay FILE...
//! ```
//!
//! `run` plays N random sequences from seed S (by default 1,000 from seed 0, inputs of up to
//! 512 bytes), prints a progress line every 10,000 sequences and a summary line, and on a failure
//! writes the failing input to DIR (by default `fuzz/crashes`) and exits with status 1. `replay`
//! runs each file as one sequence and reports each outcome.

use agentchain_fuzz::{run, run_random, Stats};
use std::{path::PathBuf, process::ExitCode, time::Instant};

fn usage() -> ExitCode {
	eprintln!(
		"usage: agentchain-fuzz run [--seed S] [--sequences N] [--max-len BYTES] [--crashes DIR]\n       agentchain-fuzz replay FILE..."
	);
	ExitCode::from(2)
}

fn main() -> ExitCode {
	let args: Vec<String> = std::env::args().skip(1).collect();
	match args.first().map(String::as_str) {
		Some("run") => random(&args[1..]),
		Some("replay") if args.len() > 1 => replay(&args[1..]),
		_ => usage(),
	}
}

fn random(args: &[String]) -> ExitCode {
	let (mut seed, mut sequences, mut max_len) = (0u64, 1_000u64, 512usize);
	let mut crashes = PathBuf::from("fuzz/crashes");
	let mut it = args.iter();
	while let Some(flag) = it.next() {
		let Some(value) = it.next() else { return usage() };
		let parsed = match flag.as_str() {
			"--seed" => value.parse().map(|v| seed = v).is_ok(),
			"--sequences" => value.parse().map(|v| sequences = v).is_ok(),
			"--max-len" => value.parse().map(|v| max_len = v).is_ok(),
			"--crashes" => {
				crashes = PathBuf::from(value);
				true
			},
			_ => false,
		};
		if !parsed {
			eprintln!("agentchain-fuzz: bad value {value:?} for {flag}");
			return usage();
		}
	}
	let started = Instant::now();
	let mut total = Stats::default();
	const CHUNK: u64 = 10_000;
	let mut done = 0;
	while done < sequences {
		let count = CHUNK.min(sequences - done);
		// Each chunk has its own stream, so a run can be split across processes by seed.
		match run_random(seed.wrapping_mul(1_000_003).wrapping_add(done), count, max_len) {
			Ok(stats) => total.add(&stats),
			Err((failure, data)) => {
				let _ = std::fs::create_dir_all(&crashes);
				let name = format!("crash-{:016x}.bin", fnv(&data));
				let path = crashes.join(name);
				let written = std::fs::write(&path, &data).is_ok();
				eprintln!(
					"agentchain-fuzz: FAILURE after {} sequences: {failure}",
					total.sequences
				);
				if written {
					eprintln!("agentchain-fuzz: input written to {}", path.display());
				}
				println!("fuzz summary: {total}, 1 failure");
				return ExitCode::from(1);
			},
		}
		done += count;
		if done < sequences {
			eprintln!("agentchain-fuzz: {total} in {:.0} s", started.elapsed().as_secs_f64());
		}
	}
	println!(
		"fuzz summary: {total}, 0 failures, seed {seed}, in {:.1} s",
		started.elapsed().as_secs_f64()
	);
	ExitCode::SUCCESS
}

fn replay(files: &[String]) -> ExitCode {
	let mut failed = false;
	for file in files {
		match std::fs::read(file) {
			Ok(data) => match run(&data) {
				Ok(stats) => println!("{file}: ok ({stats})"),
				Err(failure) => {
					println!("{file}: FAILURE: {failure}");
					failed = true;
				},
			},
			Err(error) => {
				println!("{file}: unreadable: {error}");
				failed = true;
			},
		}
	}
	if failed {
		ExitCode::from(1)
	} else {
		ExitCode::SUCCESS
	}
}

/// FNV-1a, to name an input by its bytes.
fn fnv(data: &[u8]) -> u64 {
	data.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| {
		(hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
	})
}
