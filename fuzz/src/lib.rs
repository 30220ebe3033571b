//! # A call fuzzer over the real AgentChain runtime
//!
//! Any byte string is read as a sequence of steps: "close this block and open the next (k
//! times)" or "this signer submits this call". Calls are built from the bytes by [`calls`],
//! signed with the signer's (ed25519, so deterministic) key, and applied through [`Executive`] as
//! a block author builds a block: `initialize_block` (with an Aura slot), the timestamp inherent,
//! `apply_extrinsic` for each signed extrinsic (rolled back when refused), `finalize_block`; so
//! every hook of every pallet runs as on a node (off-chain workers excepted). The runtime is
//! `agentchain-runtime` itself with its `development` genesis preset (and the signers'
//! endowments), natively.
//!
//! A sequence starts from one of the [`seeds`] (genesis, registered agents, tasks in flight, an
//! open dispute), so it starts deep in the state machine.
//!
//! After every extrinsic and every block, [`invariants`] are checked; a panic anywhere, an
//! invariant broken, or an error logged by the runtime (a `defensive!` failure, an extrinsic
//! whose actual weight exceeds its declared weight) ends the sequence with a [`Failure`].
//!
//! Two ways to run it: [`run_random`] (random sequences from a seed; the bounded run in the test
//! suite, and `agentchain-fuzz run`, which `scripts/fuzz.sh` runs at length), and [`run`] on given
//! bytes (replays and regressions; the entry point a coverage-guided engine would call). A run is
//! deterministic: the same bytes give the same blocks, down to their hashes.

pub mod calls;
pub mod chain;
pub mod input;
pub mod invariants;
pub mod logs;
pub mod seeds;
pub mod storage;

pub use agentchain_runtime::Executive;
use chain::Chain;
use input::{Rng, Source};
use std::{fmt, sync::OnceLock};

/// Most steps of one sequence.
pub const MAX_STEPS: usize = 64;
/// Most blocks one sequence runs.
pub const MAX_BLOCKS: u32 = 240;

/// What one or more sequences did.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Stats {
	/// Sequences run.
	pub sequences: u64,
	/// Blocks finalized.
	pub blocks: u64,
	/// Signed extrinsics applied (included in a block).
	pub extrinsics: u64,
	/// Of those, the ones whose call succeeded.
	pub succeeded: u64,
	/// Extrinsics the runtime refused to include (bad nonce, no funds for the fee, a duty that
	/// is not the signer's, a full block).
	pub refused: u64,
	/// Invariant checks that passed.
	pub checks: u64,
	/// The hash of the last block (of the last sequence): equal for two runs of one input.
	pub head: [u8; 32],
}

impl Stats {
	/// Adds `other` to these.
	pub fn add(&mut self, other: &Stats) {
		self.sequences += other.sequences;
		self.blocks += other.blocks;
		self.extrinsics += other.extrinsics;
		self.succeeded += other.succeeded;
		self.refused += other.refused;
		self.checks += other.checks;
		self.head = other.head;
	}
}

impl fmt::Display for Stats {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		write!(
			f,
			"{} sequences, {} blocks, {} extrinsics ({} succeeded, {} refused), {} invariant checks",
			self.sequences, self.blocks, self.extrinsics, self.succeeded, self.refused, self.checks
		)
	}
}

/// Why a sequence failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
	/// The block it failed in.
	pub block: u32,
	/// What went wrong.
	pub message: String,
}

impl fmt::Display for Failure {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		write!(f, "block #{}: {}", self.block, self.message)
	}
}

/// The seeds' states, built once per process.
pub fn seed_states() -> &'static [seeds::Seed] {
	static SEEDS: OnceLock<Vec<seeds::Seed>> = OnceLock::new();
	SEEDS.get_or_init(seeds::build)
}

/// Runs the sequence that `data` describes; its first byte chooses the seed.
pub fn run(data: &[u8]) -> Result<Stats, Failure> {
	logs::install();
	let seeds = seed_states();
	let mut src = Source::new(data);
	let seed = &seeds[src.below(seeds.len())];
	let mut chain = Chain::from_seed(seed);
	let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
		let result = steps(&mut chain, &mut src);
		let mut stats = chain.stats;
		stats.head = chain.head().0;
		(result, stats)
	}));
	match outcome {
		Ok((Ok(()), mut stats)) => {
			stats.sequences = 1;
			Ok(stats)
		},
		Ok((Err(failure), _)) => {
			// What was logged with it is in the failure, or irrelevant: not the next sequence's.
			logs::take();
			Err(failure)
		},
		Err(payload) => {
			let message = payload
				.downcast_ref::<&str>()
				.map(|s| s.to_string())
				.or_else(|| payload.downcast_ref::<String>().cloned())
				.unwrap_or_else(|| "a panic without a message".into());
			logs::take();
			Err(Failure { block: chain.number(), message: format!("panic: {message}") })
		},
	}
}

fn steps(chain: &mut Chain, src: &mut Source) -> Result<(), Failure> {
	chain.open_block(0)?;
	let mut blocks = 0;
	for _ in 0..MAX_STEPS {
		if src.is_empty() {
			break;
		}
		if src.below(5) == 0 {
			let count = src.pick(&[1u32, 1, 1, 2, 3, 5, 10, 21]);
			let mut skipped = src.pick(&[0u64, 0, 0, 0, 1, 3]);
			for _ in 0..count.min(MAX_BLOCKS - blocks) {
				chain.close_block()?;
				chain.open_block(skipped)?;
				skipped = 0;
				blocks += 1;
			}
		} else {
			chain.submit(src)?;
		}
	}
	chain.close_block()?;
	chain.check_storage()
}

/// Runs `count` sequences of random bytes from `seed`, each up to `max_len` bytes long. Stops
/// at the first failure, with the bytes that caused it.
pub fn run_random(seed: u64, count: u64, max_len: usize) -> Result<Stats, (Failure, Vec<u8>)> {
	let mut rng = Rng::new(seed);
	let mut total = Stats::default();
	for _ in 0..count {
		let len = (rng.next_u64() as usize) % max_len.max(1) + 1;
		let data = rng.bytes(len);
		match run(&data) {
			Ok(stats) => total.add(&stats),
			Err(failure) => return Err((failure, data)),
		}
	}
	Ok(total)
}
