//! What an agent node tells its off-chain workers: the inference endpoint to call.
//!
//! The node writes an [`EndpointConfig`] into offchain local storage (persistent kind) under
//! [`ENDPOINT_CONFIG_KEY`] at start-up, from its `--inference-*` options; the off-chain workers
//! read it there. It never enters chain state, and its API key is never logged.

use alloc::vec::Vec;
use codec::{Decode, Encode};

use crate::ModelId;

/// Offchain local storage key (persistent kind) of the node's [`EndpointConfig`].
pub const ENDPOINT_CONFIG_KEY: &[u8] = b"agentchain::inference::endpoint";

/// Offchain local storage key (persistent kind) of where an agent node publishes the outputs of
/// the batches it runs: an `http(s)://` URL ending in `/`, under which each outputs document is
/// written with `PUT` and read by anyone with `GET` (`--inference-outputs-url`). Kept apart from
/// the [`EndpointConfig`], whose encoding stays the one nodes of every version write, so that a
/// runtime reads the configuration of a node older than itself. Absent: the node runs no batch.
pub const OUTPUTS_URL_KEY: &[u8] = b"agentchain::inference::outputs-url";

/// Offchain local storage key (persistent kind) of the node's start marker: random bytes the
/// node writes at every start, which tell one run of the node process from the next.
pub const NODE_START_KEY: &[u8] = b"agentchain::node-start";

/// A node's start marker (stored as its 16 bytes, under [`NODE_START_KEY`]).
pub type NodeStart = [u8; 16];

/// The key of the lock an off-chain worker takes while it works on `work` (a task to execute, a
/// dispute to vote on): `prefix ‖ the node's start marker ‖ work`.
///
/// Workers of consecutive blocks run in parallel, so a worker that calls the inference endpoint
/// holds a lock, until past the work's deadline, that keeps the others off the same work. A lock
/// lives in offchain storage, which outlives the process: a node killed in the middle of a call
/// (a crash, SIGKILL, a power cut) would leave it held, and, restarted within seconds, would
/// still wait for it and miss the deadline. Keyed by the start marker, the lock of a dead process
/// is one the next process never looks at: its workers take the work again at once. (Within one
/// process the lock holds as before.)
pub fn work_lock_key(prefix: &[u8], work: &[u8]) -> Vec<u8> {
	use sp_runtime::offchain::storage::StorageValueRef;
	let start = StorageValueRef::persistent(NODE_START_KEY).get::<NodeStart>().ok().flatten();
	[prefix, start.as_ref().map_or(&[][..], |s| &s[..]), work].concat()
}

/// Offchain local storage key (persistent kind) of the node's salt secret: 32 random bytes the
/// node writes at its first start and keeps from then on.
pub const SALT_SECRET_KEY: &[u8] = b"agentchain::salt-secret";

/// The salt an off-chain worker commits with to its answer for `work` (a task's assignment, a
/// dispute's round: the key of its record): `blake2_256("agentchain/salt" ‖ secret ‖ work)`,
/// from the node's salt secret ([`SALT_SECRET_KEY`]).
///
/// A salt must stay secret until the reveal (with it, anyone could try outputs against the
/// commitment), and is otherwise arbitrary. Derived rather than drawn, it is the same each time
/// the node answers the same work: a node killed just after it sent a commitment, whose record
/// of the answer the database had not yet written, answers again after its restart with the same
/// salt, and so, when the answer is the same, with the same commitment, which it can then open.
/// With a random salt it could not, and was slashed for the missed reveal. A node that has no
/// secret stored (never started by a node that writes one) draws the salt at random, as before.
pub fn commitment_salt(work: &[u8]) -> [u8; 32] {
	use sp_runtime::offchain::storage::StorageValueRef;
	match StorageValueRef::persistent(SALT_SECRET_KEY).get::<[u8; 32]>() {
		Ok(Some(secret)) => {
			sp_io::hashing::blake2_256(&[&b"agentchain/salt"[..], &secret[..], work].concat())
		},
		_ => sp_io::offchain::random_seed(),
	}
}

pub use agentchain_execution::EndpointApi;

/// An agent node's inference endpoint.
#[derive(Encode, Decode, Clone, PartialEq, Eq)]
pub struct EndpointConfig {
	/// Base URL of the OpenAI-compatible API, such as `http://127.0.0.1:8080/v1`.
	pub base_url: Vec<u8>,
	/// Which API to call.
	pub api: EndpointApi,
	/// Sent as `Authorization: Bearer <key>` when set.
	pub api_key: Option<Vec<u8>>,
	/// The on-chain models this node serves, each with the name the endpoint knows it by.
	pub models: Vec<(ModelId, Vec<u8>)>,
	/// Longest time one call may take, in milliseconds (the task's deadline may cut it shorter).
	pub timeout_ms: u64,
	/// Largest response body accepted, in bytes.
	pub max_response_bytes: u32,
	/// The chain's block time, in milliseconds: turns block deadlines into call deadlines.
	pub block_time_ms: u64,
}

impl EndpointConfig {
	/// The endpoint's name for an on-chain model, if this node serves it.
	pub fn model_name(&self, model: &ModelId) -> Option<&[u8]> {
		self.models.iter().find(|(id, _)| id == model).map(|(_, name)| &name[..])
	}
}

/// Never prints the API key.
impl core::fmt::Debug for EndpointConfig {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		f.debug_struct("EndpointConfig")
			.field("base_url", &core::str::from_utf8(&self.base_url).unwrap_or("<not UTF-8>"))
			.field("api", &self.api)
			.field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
			.field("models", &self.models.len())
			.field("timeout_ms", &self.timeout_ms)
			.field("max_response_bytes", &self.max_response_bytes)
			.field("block_time_ms", &self.block_time_ms)
			.finish()
	}
}

pub use agentchain_execution::{model_id_of_name, parse_model_mapping, ModelMapping};

/// Offchain local storage prefix of the nonces tracked per operator key.
pub const OPERATOR_NONCE_PREFIX: &[u8] = b"agentchain::operator-nonce::";

pub use agentchain_execution::NONCE_MEMORY;

/// What is kept per operator key in offchain local storage: the nonce tracked for it (the next one
/// not handed out, and the block it was last handed out at) and the cursor of the resends of the
/// last block that made any ([`agentchain_execution::ResendCursor`]). One value, so that one
/// compare-and-set updates both.
type NonceState = ((u64, u64), Option<agentchain_execution::ResendCursor>);

/// Reserves the nonce of the next transaction an off-chain worker signs with `account` (its
/// encoding) at block `now`, given the chain's next nonce for it
/// ([`agentchain_execution::reserve_nonce`]'s rule, shared with the edge agent).
///
/// Off-chain workers of consecutive blocks run in parallel and each sees only its own block's
/// state: without this, a worker would reuse the nonce of a transaction another worker sent a
/// moment ago, still in the pool, and the pool would refuse it. The reservation is a
/// compare-and-set on offchain local storage, shared by every pallet that signs with operator
/// keys. Returns `None` if the storage could not be updated.
pub fn reserve_nonce(account: &[u8], chain_next: u64, now: u64) -> Option<u64> {
	nonce_state(account, |tracked, resent| {
		let (nonce, track) = agentchain_execution::reserve_nonce(tracked, chain_next, now);
		Ok((nonce, (track, resent)))
	})
}

/// The nonce for sending again, at block `now`, a transaction of `account` (its encoding) that
/// has not reached a block ([`agentchain_execution::resend_nonce`]'s rule): the chain's next
/// nonce for the block's first resend, the nonces after it for the next ones while they are
/// below what was handed out before, a fresh nonce past that. With whether it is fresh: a
/// transaction refused at a fresh nonce gives it back ([`release_nonce`]). Returns `None` if the
/// storage could not be updated.
pub fn resend_nonce(account: &[u8], chain_next: u64, now: u64) -> Option<(u64, bool)> {
	nonce_state(account, |tracked, resent| {
		let (nonce, track, cursor, fresh) =
			agentchain_execution::resend_nonce(tracked, resent, chain_next, now);
		Ok(((nonce, fresh), (track, Some(cursor))))
	})
}

/// Gives back a fresh nonce (reserved with [`reserve_nonce`], or a fresh one of
/// [`resend_nonce`]) whose transaction was not sent, if no later one was handed out meanwhile.
pub fn release_nonce(account: &[u8], reserved: u64) {
	let _ = nonce_state(account, |tracked, resent| {
		let track = agentchain_execution::release_nonce(tracked, reserved).ok_or(())?;
		Ok(((), (track, resent)))
	});
}

/// Applies `update` to the nonce state of `account` in offchain local storage (the tracked nonce
/// and the resend cursor, each `None` when there is none), as a compare-and-set: what it returns,
/// or `None` if it declined (`Err`) or the storage could not be updated. A state that does not
/// decode (as stored by an older runtime) counts as none.
fn nonce_state<R>(
	account: &[u8],
	update: impl FnOnce(
		Option<(u64, u64)>,
		Option<agentchain_execution::ResendCursor>,
	) -> Result<(R, NonceState), ()>,
) -> Option<R> {
	use sp_runtime::offchain::storage::StorageValueRef;
	let key = [OPERATOR_NONCE_PREFIX, account].concat();
	let mut result = None;
	StorageValueRef::persistent(&key)
		.mutate::<NonceState, (), _>(|state| {
			let (tracked, resent) = state
				.ok()
				.flatten()
				.map_or((None, None), |(tracked, resent)| (Some(tracked), resent));
			let (value, state) = update(tracked, resent)?;
			result = Some(value);
			Ok(state)
		})
		.ok()
		.and(result)
}

/// Offchain local storage key of when the off-chain workers of the latest block started: its
/// number, and the time in milliseconds.
pub const BLOCK_WORK_START_KEY: &[u8] = b"agentchain::block-work-start";

/// When the off-chain work of block `now` started: the time the first of its workers to ask
/// asked (the executor's and the juror's run one after the other in the same worker), so that
/// every worker counts its calls' budgets from the block's start, not from its own, which a
/// long run before it has moved on. A worker of an older block, still running, gets its own
/// time.
pub fn block_work_started(now: u64) -> sp_runtime::offchain::Timestamp {
	use sp_runtime::offchain::{storage::StorageValueRef, Timestamp};
	let clock = sp_io::offchain::timestamp();
	let mut started = clock;
	let _ =
		StorageValueRef::persistent(BLOCK_WORK_START_KEY).mutate::<(u64, u64), (), _>(|stored| {
			match stored.ok().flatten() {
				Some((block, at)) if block == now => {
					started = Timestamp::from_unix_millis(at).min(clock);
					Err(())
				},
				Some((block, _)) if block > now => Err(()),
				_ => Ok((now, clock.unix_millis())),
			}
		});
	started
}

/// Offchain local storage key of the block whose juror's worker last found jury duties to sit
/// ([`note_block`]): while [`noted_lately`], the executor's worker, which runs before the juror's
/// in the same block, leaves it part of the block.
pub const JURY_DUTIES_SEEN_KEY: &[u8] = b"agentchain::jury-duties-seen";

/// Notes under `key` (offchain local storage) that the worker of block `now` saw something.
pub fn note_block(key: &[u8], now: u64) {
	sp_runtime::offchain::storage::StorageValueRef::persistent(key).set(&now);
}

/// Whether what `key` notes ([`note_block`]) was seen by the worker of block `now` or of the
/// block before.
pub fn noted_lately(key: &[u8], now: u64) -> bool {
	sp_runtime::offchain::storage::StorageValueRef::persistent(key)
		.get::<u64>()
		.ok()
		.flatten()
		.is_some_and(|at| at.saturating_add(1) >= now)
}

/// Whether the off-chain work of a block after `now` has started: a worker of block `now` still
/// running leaves the work that can wait (a batch's next items) to the newer block's, so that
/// runs do not pile up on a node slower than its blocks.
pub fn newer_block_started(now: u64) -> bool {
	use sp_runtime::offchain::storage::StorageValueRef;
	StorageValueRef::persistent(BLOCK_WORK_START_KEY)
		.get::<(u64, u64)>()
		.ok()
		.flatten()
		.is_some_and(|(block, _)| block > now)
}

/// Stores `value` as `record` (offchain local storage) only if nothing is stored there yet: a
/// compare-and-set. Returns whether it was stored.
///
/// Off-chain workers store a result (or a vote) before they commit to it, and commit only what
/// they stored: two workers that both computed one (under different locks: during a runtime
/// upgrade, a worker of the previous runtime keys its lock the old way) cannot both commit.
pub fn store_if_absent<V: Encode + Decode>(
	record: &sp_runtime::offchain::storage::StorageValueRef,
	value: V,
) -> bool {
	record
		.mutate::<V, (), _>(|current| match current {
			Ok(None) => Ok(value),
			_ => Err(()),
		})
		.is_ok()
}

/// Adds `key` to the list of live records kept under `index_key` in offchain local storage,
/// clearing the oldest records beyond `max`. Returns the keys of the records it cleared, so
/// that the caller clears what it stored beside them.
///
/// Off-chain workers keep one record per piece of work (what they computed, what they sent);
/// the index lets them clear the records of finished work without scanning storage.
pub fn remember_record(index_key: &[u8], key: &[u8], max: usize) -> Vec<Vec<u8>> {
	use sp_runtime::offchain::storage::StorageValueRef;
	let mut dropped = Vec::new();
	let _ = StorageValueRef::persistent(index_key).mutate::<Vec<Vec<u8>>, (), _>(|keys| {
		let mut keys = keys.ok().flatten().unwrap_or_default();
		dropped.clear();
		if !keys.iter().any(|known| known == key) {
			keys.push(key.to_vec());
		}
		while keys.len() > max {
			dropped.push(keys.remove(0));
		}
		Ok(keys)
	});
	for key in &dropped {
		StorageValueRef::persistent(key).clear();
	}
	dropped
}

/// Clears the records listed under `index_key` for which `finished(key)` holds, and takes them
/// out of the list. Should another worker change the list meanwhile, the next call tries again.
pub fn forget_records(index_key: &[u8], finished: impl Fn(&[u8]) -> bool) {
	use sp_runtime::offchain::storage::StorageValueRef;
	let index = StorageValueRef::persistent(index_key);
	let Ok(Some(keys)) = index.get::<Vec<Vec<u8>>>() else { return };
	let done: Vec<Vec<u8>> = keys.into_iter().filter(|key| finished(key)).collect();
	if done.is_empty() {
		return;
	}
	let _ = index.mutate::<Vec<Vec<u8>>, (), _>(|keys| {
		let keys = keys.ok().flatten().unwrap_or_default();
		Ok(keys.into_iter().filter(|key| !done.contains(key)).collect())
	});
	for key in &done {
		StorageValueRef::persistent(key).clear();
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	/// Test externalities with offchain local storage and a worker's clock (set through the
	/// returned handle's state).
	fn offchain_ext() -> (sp_io::TestExternalities, sp_core::offchain::testing::TestOffchainExt) {
		let mut ext = sp_io::TestExternalities::default();
		let (offchain, _) = sp_core::offchain::testing::TestOffchainExt::new();
		ext.register_extension(sp_core::offchain::OffchainDbExt::new(offchain.clone()));
		ext.register_extension(sp_core::offchain::OffchainWorkerExt::new(offchain.clone()));
		(ext, offchain)
	}

	#[test]
	fn a_work_lock_is_keyed_by_the_node_start() {
		use sp_core::offchain::{testing::TestOffchainExt, OffchainDbExt};
		use sp_runtime::offchain::storage::StorageValueRef;
		let (offchain, _state) = TestOffchainExt::new();
		let mut ext = sp_io::TestExternalities::default();
		ext.register_extension(OffchainDbExt::new(offchain));
		ext.execute_with(|| {
			// No marker (a node older than the marker): the prefix and the work alone.
			assert_eq!(work_lock_key(b"lock::", b"task 7"), b"lock::task 7".to_vec());
			StorageValueRef::persistent(NODE_START_KEY).set(&[1u8; 16]);
			let first = work_lock_key(b"lock::", b"task 7");
			assert_eq!(first, [&b"lock::"[..], &[1u8; 16], b"task 7"].concat());
			// The same run of the node: the same lock.
			assert_eq!(work_lock_key(b"lock::", b"task 7"), first);
			// The next run: another lock for the same work.
			StorageValueRef::persistent(NODE_START_KEY).set(&[2u8; 16]);
			assert_ne!(work_lock_key(b"lock::", b"task 7"), first);
		});
	}

	#[test]
	fn debug_output_never_contains_the_api_key() {
		let config = EndpointConfig {
			base_url: b"http://127.0.0.1:8080/v1".to_vec(),
			api: EndpointApi::Chat,
			api_key: Some(b"sk-secret-key".to_vec()),
			models: vec![(model_id_of_name("ngram-en"), b"ngram-en".to_vec())],
			timeout_ms: 1_000,
			max_response_bytes: 1024,
			block_time_ms: 3_000,
		};
		let printed = format!("{config:?}");
		assert!(!printed.contains("sk-secret-key"), "{printed}");
		assert!(printed.contains("<redacted>"));
		assert_eq!(config.model_name(&model_id_of_name("ngram-en")), Some(&b"ngram-en"[..]));
		assert_eq!(config.model_name(&model_id_of_name("other")), None);
	}

	#[test]
	fn nonces_are_reserved_once_and_forgotten_after_a_while() {
		let (mut ext, _) = offchain_ext();
		ext.execute_with(|| {
			let who = b"operator";
			// Two workers at block 10 that both see the chain's next nonce 3.
			assert_eq!(reserve_nonce(who, 3, 10), Some(3));
			assert_eq!(reserve_nonce(who, 3, 10), Some(4));
			// The chain has caught up with more: its nonce wins.
			assert_eq!(reserve_nonce(who, 7, 11), Some(7));
			// A reservation given back is reused; an older one cannot be.
			release_nonce(who, 8);
			assert_eq!(reserve_nonce(who, 7, 11), Some(8));
			release_nonce(who, 8);
			release_nonce(who, 5);
			assert_eq!(reserve_nonce(who, 7, 11), Some(8));
			// Transactions lost for NONCE_MEMORY blocks: back to the chain's nonce.
			assert_eq!(reserve_nonce(who, 7, 11 + NONCE_MEMORY), Some(7));
		});
	}

	#[test]
	fn a_resend_fills_the_lowest_unused_nonce_and_later_reservations_go_above_it() {
		let (mut ext, _) = offchain_ext();
		ext.execute_with(|| {
			let who = b"operator";
			// Nonces 3, 4 and 5 sent; 3 was lost, so the chain's next nonce stays 3.
			for expected in 3..=5 {
				assert_eq!(reserve_nonce(who, 3, 10), Some(expected));
			}
			// The resend takes 3 (filling the gap), and does not move the reservations back.
			assert_eq!(resend_nonce(who, 3, 12), Some((3, false)));
			assert_eq!(reserve_nonce(who, 3, 12), Some(6));
			// With nothing tracked, a resend still leaves its own nonce out of later ones.
			assert_eq!(resend_nonce(b"fresh", 9, 12), Some((9, true)));
			assert_eq!(reserve_nonce(b"fresh", 9, 12), Some(10));
		});
	}

	#[test]
	fn every_worker_of_a_block_counts_from_the_blocks_start() {
		use sp_runtime::offchain::Timestamp;
		let (mut ext, offchain) = offchain_ext();
		ext.execute_with(|| {
			let at = |ms| {
				offchain.0.write().timestamp = Timestamp::from_unix_millis(ms);
			};
			at(1_000);
			assert_eq!(block_work_started(5), Timestamp::from_unix_millis(1_000));
			// The juror's worker of block 5, after a run of 2.5 s: the block's start.
			at(3_500);
			assert_eq!(block_work_started(5), Timestamp::from_unix_millis(1_000));
			// Block 6's workers start their own.
			at(4_000);
			assert_eq!(block_work_started(6), Timestamp::from_unix_millis(4_000));
			// A worker of block 5 still running after that: its own time, block 6's kept.
			at(4_200);
			assert_eq!(block_work_started(5), Timestamp::from_unix_millis(4_200));
			at(4_500);
			assert_eq!(block_work_started(6), Timestamp::from_unix_millis(4_000));
			// Block 5's worker knows a newer block's work started; block 6's does not.
			assert!(newer_block_started(5));
			assert!(!newer_block_started(6));
		});
	}

	#[test]
	fn resends_of_one_block_take_consecutive_nonces() {
		let (mut ext, _) = offchain_ext();
		ext.execute_with(|| {
			let who = b"operator";
			// Nonces 15..=22 sent at block 33 did not reach block 34: sent again, at 15..=22,
			// not all at 15 (of which one only would land a block).
			for expected in 15..=22 {
				assert_eq!(reserve_nonce(who, 15, 33), Some(expected));
			}
			for expected in 15..=22 {
				assert_eq!(resend_nonce(who, 15, 34), Some((expected, false)));
			}
			assert_eq!(reserve_nonce(who, 15, 34), Some(23));
			// Past the window, a resend is fresh, and is given back if refused.
			assert_eq!(resend_nonce(who, 15, 34), Some((24, true)));
			release_nonce(who, 24);
			assert_eq!(reserve_nonce(who, 15, 34), Some(24));
			// The next block's resends start again from the chain's next nonce.
			assert_eq!(resend_nonce(who, 20, 35), Some((20, false)));
			assert_eq!(resend_nonce(who, 20, 35), Some((21, false)));
			// Another key's resends are its own.
			assert_eq!(resend_nonce(b"other", 4, 35), Some((4, true)));
		});
	}

	#[test]
	fn records_are_indexed_bounded_and_forgotten_when_finished() {
		use sp_runtime::offchain::storage::StorageValueRef;
		let (mut ext, _) = offchain_ext();
		ext.execute_with(|| {
			let index = b"test::index";
			let mut dropped = Vec::new();
			for key in [&b"r1"[..], b"r2", b"r3"] {
				StorageValueRef::persistent(key).set(&1u8);
				dropped.extend(remember_record(index, key, 2));
			}
			assert_eq!(remember_record(index, b"r3", 2), Vec::<Vec<u8>>::new());
			// The caller learns which records went, to clear what it kept beside them.
			assert_eq!(dropped, vec![b"r1".to_vec()]);
			// The oldest is dropped beyond the bound, and its record cleared.
			let listed = StorageValueRef::persistent(index).get::<Vec<Vec<u8>>>().unwrap();
			assert_eq!(listed, Some(vec![b"r2".to_vec(), b"r3".to_vec()]));
			assert_eq!(StorageValueRef::persistent(b"r1").get::<u8>().unwrap(), None);
			forget_records(index, |key| key == b"r2");
			let listed = StorageValueRef::persistent(index).get::<Vec<Vec<u8>>>().unwrap();
			assert_eq!(listed, Some(vec![b"r3".to_vec()]));
			assert_eq!(StorageValueRef::persistent(b"r2").get::<u8>().unwrap(), None);
			assert_eq!(StorageValueRef::persistent(b"r3").get::<u8>().unwrap(), Some(1));
		});
	}
}
